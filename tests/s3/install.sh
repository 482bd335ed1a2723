#!/usr/bin/env bash
# Installs moto's S3-compatible server for the slow tier's object-storage test
# (tests/tests/object_storage.rs) into a virtualenv of its own, target/s3-venv. Pinned: the
# generated projects' object_store client is tested against this server. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/s3-venv
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.2.5"
"$venv/bin/moto_server" --help >/dev/null

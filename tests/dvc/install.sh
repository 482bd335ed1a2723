#!/usr/bin/env bash
# Installs DVC for the slow tier's DVC test (tests/tests/dvc.rs) into a virtualenv, target/dvc-venv,
# of its own: DVC's dependencies and the linters' or MLflow's need not agree. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${DVC_VENV:-target/dvc-venv}
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check dvc==3.67.1
"$venv/bin/dvc" --version >/dev/null

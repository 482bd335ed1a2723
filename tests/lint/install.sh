#!/usr/bin/env bash
# Installs the linters tests/lint/run-linters.sh uses, on a fresh Debian machine with Rust:
# PyPI packages in a virtualenv (target/lint-venv), shellcheck from Debian, and from crates.io mdbook
# and the evcxr Jupyter kernel that executes the notebooks (its first build takes 10-15 minutes).
# Idempotent: what is already installed is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${LINT_VENV:-target/lint-venv}
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/lint/requirements.txt

if ! command -v shellcheck >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi

if ! command -v mdbook >/dev/null; then
    cargo install mdbook --version 0.5.4 --locked --no-default-features --features search
fi

if ! command -v evcxr_jupyter >/dev/null; then
    cargo install evcxr_jupyter --version 0.22.0 --locked
fi
# Registers the `rust` kernel for Jupyter clients such as nbclient (idempotent).
evcxr_jupyter --install >/dev/null

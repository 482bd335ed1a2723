#!/usr/bin/env bash
# Installs MLflow for the slow tier's tracking test (tests/tests/mlflow.rs) into a virtualenv,
# target/mlflow-venv, of its own: MLflow's dependencies and the linters' or DVC's need not agree.
# Pinned: the generated projects' REST client is tested against this server, and their README
# installs the same version. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/mlflow-venv
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check mlflow==3.17.2
"$venv/bin/mlflow" --version >/dev/null

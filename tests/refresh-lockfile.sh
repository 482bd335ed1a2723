#!/usr/bin/env bash
# Regenerates template/Cargo.lock, the exact dependency versions every generated project starts
# from (the Rust counterpart of a pinned requirements.txt). It is resolved for the full preset with
# the Ballista engine, the largest set of dependencies; cargo drops the entries a smaller project
# does not use at its first build.
# Run it after changing a dependency in template/**/Cargo.toml; the fast tier checks it is current.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/source"
cp -R template hooks "$work/source/"
rm -f "$work/source/template/Cargo.lock"

cargo generate --path "$work/source" --name lockfile-probe --destination "$work" --silent --vcs none \
    --values-file examples/full.toml -d engine=ballista >/dev/null
(cd "$work/lockfile-probe" && cargo generate-lockfile --quiet)
# Package names are the only project-specific text in the lock file.
sed -e 's/lockfile-probe/{{project-name}}/g' "$work/lockfile-probe/Cargo.lock" > template/Cargo.lock
echo "template/Cargo.lock: $(grep -c '^name = ' template/Cargo.lock) packages"

#!/usr/bin/env bash
# Builds the release artifacts of {{project-name}}.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: deployment/scripts/build.sh [binaries{% if api and with_docker %}|images{% endif %}] [options]

Targets:
  binaries        cargo build --release --locked of the whole workspace (the default)
{%- if api and with_docker %}
  images          the container image{% if web_ui %}s (api, ui){% else %} of the api{% endif %}, from deployment/docker/
                  (needs a promoted model: make all promote)

Options (images):
  --tag TAG           image tag (default: git describe, else "dev")
  --registry PREFIX   prefix the image names, e.g. ghcr.io/acme
  --push              push the images after building them
{%- endif %}
  -h, --help      show this help
USAGE
}

die() {
    echo "build.sh: $*" >&2
    exit 2
}

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
{%- if api and with_docker %}

# The services of the project, each with an image and a deployment.
components=(api{% if web_ui %} ui{% endif %})
{%- endif %}

target=binaries
if [[ $# -gt 0 && $1 != -* ]]; then
    target=$1
    shift
fi
{%- if api and with_docker %}
tag=""
registry=""
push=false
{%- endif %}
while [[ $# -gt 0 ]]; do
    case $1 in
{%- if api and with_docker %}
        --tag)
            [[ $# -ge 2 ]] || die "--tag needs a value"
            tag=$2
            shift 2
            ;;
        --registry)
            [[ $# -ge 2 ]] || die "--registry needs a value"
            registry=${2%/}
            shift 2
            ;;
        --push)
            push=true
            shift
            ;;
{%- endif %}
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument: $1"
            ;;
    esac
done

build_binaries() {
    cargo build --release --locked --workspace
    echo "Binaries are in target/release/"
}
{%- if api and with_docker %}

build_images() {
    command -v docker >/dev/null || die "docker is not installed"
    if ! find api/models -mindepth 1 ! -name .gitkeep -print -quit | grep -q .; then
        die "api/models/ holds no model: run 'make all promote' first"
    fi
    if [[ -z $tag ]]; then
        tag=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
        tag=${tag#v}
    fi
    local prefix=""
    [[ -n $registry ]] && prefix="$registry/"
    local component image
    for component in "${components[@]}"; do
        image="${prefix}{{project-name}}-${component}:${tag}"
        echo "Building ${image}"
        docker build --file "deployment/docker/${component}/Dockerfile" --tag "$image" .
        if [[ $push == true ]]; then
            docker push "$image"
        fi
    done
}
{%- endif %}

case $target in
    binaries) build_binaries ;;
{%- if api and with_docker %}
    images) build_images ;;
{%- endif %}
    *)
        usage >&2
        die "unknown target: $target"
        ;;
esac

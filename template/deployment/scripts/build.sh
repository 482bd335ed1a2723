#!/usr/bin/env bash
# Builds the release artifacts of {{project-name}}.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: deployment/scripts/build.sh [binaries{% if api and with_docker %}|images|push{% endif %}] [options]

Targets:
  binaries        cargo build --release --locked of the whole workspace (the default)
{%- if api and with_docker %}
  images          the container images (api{% if web_ui %}, ui{% endif %}, pipeline{% if ballista %}, ballista{% endif %}), from deployment/docker/
                  (needs a promoted model: make all promote), then starts each one
                  and smoke-tests it (smoke_test.sh for the api{% if web_ui %}, GET /health for the ui{% endif %},
                  the schema's data dictionary for the pipeline)
  push            pushes the images that `images` built with the same --tag and
                  --registry; refuses a tag that exists in the registry or ends in -dirty

Options (images, push):
  --tag TAG           image tag (default: git describe, else "dev")
  --registry PREFIX   prefix the image names, e.g. ghcr.io/acme
  --push              images only: push the images once they passed the smoke test
  --smoke-host HOST   where the started images' ports are reached (default: 127.0.0.1;
                      another host, e.g. `docker` for a docker:dind service, publishes
                      them on every interface)
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
components=(api{% if web_ui %} ui{% endif %} pipeline{% if ballista %} ballista{% endif %})
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
smoke_host=127.0.0.1
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
        --smoke-host)
            [[ $# -ge 2 ]] || die "--smoke-host needs a value"
            smoke_host=$2
            shift 2
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

# The image name of a component, with the registry prefix and the tag.
image_name() {
    local prefix=""
    [[ -n $registry ]] && prefix="$registry/"
    echo "${prefix}{{project-name}}-$1:${tag}"
}

resolve_tag() {
    if [[ -z $tag ]]; then
        tag=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
        tag=${tag#v}
    fi
}

# The host port a started container publishes for PORT.
published_port() {
    docker port "$1" "$2/tcp" | head -n 1 | sed 's/.*://'
}

# Starts each built image on a network of its own and checks that it serves, then removes it.
smoke_test_images() {
    local network="{{project-name}}-smoke-$$"
    local bind=127.0.0.1
    [[ $smoke_host == 127.0.0.1 || $smoke_host == localhost ]] || bind=0.0.0.0
    # Removed on any exit, a failed check included.
    # shellcheck disable=SC2064 # expanded now, on purpose: the names are fixed
    trap "docker rm --force $network-api{% if web_ui %} $network-ui{% endif %} >/dev/null 2>&1; docker network rm $network >/dev/null 2>&1" EXIT
    docker network create "$network" >/dev/null
    docker run --detach --name "$network-api" --network "$network" --network-alias api \
        --read-only --cap-drop ALL --publish "$bind::8080" "$(image_name api)" >/dev/null
    if ! deployment/scripts/smoke_test.sh --wait 60 "http://$smoke_host:$(published_port "$network-api" 8080)"; then
        docker logs "$network-api" >&2 || true
        die "the api image failed its smoke test"
    fi
{%- if web_ui %}
    docker run --detach --name "$network-ui" --network "$network" --env UI_API_URL=http://api:8080 \
        --read-only --cap-drop ALL --publish "$bind::3000" "$(image_name ui)" >/dev/null
    if ! curl --silent --show-error --fail --retry 30 --retry-connrefused --retry-delay 1 --max-time 5 \
        --output /dev/null "http://$smoke_host:$(published_port "$network-ui" 3000)/health"; then
        docker logs "$network-ui" >&2 || true
        die "the ui image failed its smoke test"
    fi
    echo "ok    the ui image answers GET /health"
{%- endif %}
    # The pipeline image: its first step reads the bundled schema and writes the data dictionary.
    if ! docker run --rm --read-only --tmpfs /tmp --cap-drop ALL "$(image_name pipeline)" --dictionary-only; then
        die "the pipeline image failed its smoke test"
    fi
    echo "ok    the pipeline image writes the data dictionary"
{%- if ballista %}
    local binary
    for binary in ballista-scheduler ballista-executor; do
        if ! docker run --rm --read-only --cap-drop ALL --entrypoint "/app/bin/$binary" "$(image_name ballista)" --version; then
            die "the ballista image's $binary does not start"
        fi
    done
    echo "ok    the ballista image's scheduler and executor start"
{%- endif %}
}

build_images() {
    command -v docker >/dev/null || die "docker is not installed"
    if ! find api/models -mindepth 1 ! -name .gitkeep -print -quit | grep -q .; then
        die "api/models/ holds no model: run 'make all promote' first"
    fi
    resolve_tag
    local component image
    for component in "${components[@]}"; do
        image=$(image_name "$component")
        echo "Building ${image}"
        docker build --file "deployment/docker/${component}/Dockerfile" --tag "$image" .
    done
    smoke_test_images
    if [[ $push == true ]]; then
        push_images
    fi
}

push_images() {
    command -v docker >/dev/null || die "docker is not installed"
    resolve_tag
    [[ $tag != *-dirty ]] || die "refusing to push $tag: the working tree has uncommitted changes"
    [[ -n $registry ]] || die "push needs --registry"
    local component image
    for component in "${components[@]}"; do
        image=$(image_name "$component")
        docker image inspect "$image" >/dev/null 2>&1 || die "no local image $image: run 'build.sh images' first"
        # Release tags are never overwritten: a deployment pinned to one keeps getting the same image.
        if docker manifest inspect "$image" >/dev/null 2>&1; then
            die "$image exists in the registry already: release tags are never overwritten"
        fi
    done
    for component in "${components[@]}"; do
        docker push "$(image_name "$component")"
    done
}
{%- endif %}

case $target in
    binaries) build_binaries ;;
{%- if api and with_docker %}
    images) build_images ;;
    push) push_images ;;
{%- endif %}
    *)
        usage >&2
        die "unknown target: $target"
        ;;
esac

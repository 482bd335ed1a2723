#!/usr/bin/env bash
# Deploys {{project-name}}{% if with_infrastructure %} to a Kubernetes environment (an overlay of infrastructure/){% endif %}{% if with_infrastructure and with_docker %} or{% endif %}{% if with_docker %} to this machine with docker compose{% endif %}.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: deployment/scripts/deploy.sh ENVIRONMENT [options]

Environments:
{%- if with_infrastructure %}
  dev, prod         kubectl apply -k infrastructure/overlays/ENVIRONMENT, then wait for the rollouts
{%- endif %}
{%- if with_docker %}
  compose           docker compose up on this machine (deployment/docker/compose.yaml), health-gated
{%- endif %}

Options:
  --tag TAG           image tag to deploy (default: the one in the overlay{% if with_docker %}, "dev" for compose{% endif %})
{%- if with_infrastructure %}
  --registry PREFIX   registry prefix of the images, e.g. ghcr.io/acme (Kubernetes only)
  --context NAME      kubectl context to use (default: the current one)
{%- endif %}
  --dry-run           print what would be applied, change nothing
  -h, --help          show this help

Run deployment/scripts/smoke_test.sh against the service afterwards.
USAGE
}

die() {
    echo "deploy.sh: $*" >&2
    exit 2
}

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
{%- if with_infrastructure %}

# The services of the project, each with an image and a deployment.
components=(api{% if web_ui %} ui{% endif %})
{%- endif %}

[[ $# -gt 0 ]] || {
    usage >&2
    exit 2
}
environment=$1
shift
case $environment in
    -h | --help)
        usage
        exit 0
        ;;
{%- if with_infrastructure %}
    dev | prod) ;;
{%- endif %}
{%- if with_docker %}
    compose) ;;
{%- endif %}
    *)
        usage >&2
        die "unknown environment: $environment"
        ;;
esac

tag=""
dry_run=false
{%- if with_infrastructure %}
registry=""
kubectl_args=()
tmp=""
trap '[[ -z $tmp ]] || rm -rf "$tmp"' EXIT
{%- endif %}
while [[ $# -gt 0 ]]; do
    case $1 in
        --tag)
            [[ $# -ge 2 ]] || die "--tag needs a value"
            tag=$2
            shift 2
            ;;
{%- if with_infrastructure %}
        --registry)
            [[ $# -ge 2 ]] || die "--registry needs a value"
            registry=${2%/}
            shift 2
            ;;
        --context)
            [[ $# -ge 2 ]] || die "--context needs a value"
            kubectl_args+=(--context "$2")
            shift 2
            ;;
{%- endif %}
        --dry-run)
            dry_run=true
            shift
            ;;
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
{%- if with_infrastructure %}

deploy_kubernetes() {
    command -v kubectl >/dev/null || die "kubectl is not installed"
    local overlay="infrastructure/overlays/$environment"
    local namespace="{{project-name}}"
    [[ $environment == dev ]] && namespace="{{project-name}}-dev"
    local source=$overlay

    # An image override goes into a throw-away kustomization on top of the overlay, so the
    # committed overlay stays untouched.
    if [[ -n $tag || -n $registry ]]; then
        tmp=$(mktemp -d)
        {
            echo "apiVersion: kustomize.config.k8s.io/v1beta1"
            echo "kind: Kustomization"
            echo "resources:"
            echo "  - $(realpath --relative-to="$tmp" "$overlay")"
            echo "images:"
            local component
            for component in "${components[@]}"; do
                echo "  - name: {{project-name}}-$component"
                [[ -n $registry ]] && echo "    newName: $registry/{{project-name}}-$component"
                [[ -n $tag ]] && echo "    newTag: \"$tag\""
            done
        } >"$tmp/kustomization.yaml"
        source=$tmp
    fi

    if [[ $dry_run == true ]]; then
        kubectl "${kubectl_args[@]}" kustomize "$source"
        return
    fi
    kubectl "${kubectl_args[@]}" apply -k "$source"
    local component
    for component in "${components[@]}"; do
        kubectl "${kubectl_args[@]}" --namespace "$namespace" rollout status \
            "deployment/{{project-name}}-$component" --timeout=300s
    done
    echo "Deployed to namespace $namespace"
}
{%- endif %}
{%- if with_docker %}

deploy_compose() {
    command -v docker >/dev/null || die "docker is not installed"
    local compose=(docker compose --file deployment/docker/compose.yaml)
    export IMAGE_TAG=${tag:-dev}
    if [[ $dry_run == true ]]; then
        "${compose[@]}" config
        return
    fi
    "${compose[@]}" up --detach --wait
    echo "Running: API on http://127.0.0.1:${API_PUBLISHED_PORT:-8080}{% if web_ui %}, UI on http://127.0.0.1:${UI_PUBLISHED_PORT:-3000}{% endif %}"
}
{%- endif %}

case $environment in
{%- if with_infrastructure %}
    dev | prod) deploy_kubernetes ;;
{%- endif %}
{%- if with_docker %}
    compose) deploy_compose ;;
{%- endif %}
esac

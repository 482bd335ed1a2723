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
{%- if with_infrastructure %}
  --dry-run           change nothing: kubectl diff against the cluster when one answers,
                      else print the manifests{% if with_docker %} (compose: print the configuration){% endif %}
{%- else %}
  --dry-run           print the configuration, change nothing
{%- endif %}
  -h, --help          show this help

{%- if with_infrastructure %}

Kubernetes secrets: when infrastructure/overlays/ENVIRONMENT/api-secrets.env exists
(git-ignored; lines of NAME=value, e.g. API_ADMIN_TOKEN=...), its values become the
Secret {{project-name}}-api-secrets that the API pods read.
{%- endif %}

Run deployment/scripts/smoke_test.sh against the service afterwards.
USAGE
}

die() {
    echo "deploy.sh: $*" >&2
    exit 2
}

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
{%- if with_infrastructure %}

# The services of the project, each with an image and a deployment; and every image, the pipeline's
# (a CronJob, started on demand) included.
components=(api{% if web_ui %} ui{% endif %})
images=("${components[@]}" pipeline{% if ballista %} ballista{% endif %})
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
context=""
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
            context=$2
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

# kubectl, with --context when one was given (no array: bash 3.2 rejects "${empty[@]}" under set -u).
kube() {
    if [[ -n $context ]]; then
        kubectl --context "$context" "$@"
    else
        kubectl "$@"
    fi
}

deploy_kubernetes() {
    command -v kubectl >/dev/null || die "kubectl is not installed"
    local overlay="infrastructure/overlays/$environment"
    local namespace="{{project-name}}"
    [[ $environment == dev ]] && namespace="{{project-name}}-dev"
    local secrets="$overlay/api-secrets.env"
    local source=$overlay
    if [[ $environment == prod && -z $registry ]] && grep -q 'newName: .*your-org/' "$overlay/kustomization.yaml"; then
        die "$overlay/kustomization.yaml still names the registry 'your-org': set newName to the registry the release pushes to, or pass --registry"
    fi

    # Image overrides and the secrets go into a throw-away kustomization on top of the overlay, so
    # the committed overlay stays untouched. It sits next to the overlays, so its path to the
    # overlay is always ../ENVIRONMENT.
    if [[ -n $tag || -n $registry || -f $secrets ]]; then
        tmp=$(mktemp -d "infrastructure/overlays/.deploy.XXXXXX")
        {
            echo "apiVersion: kustomize.config.k8s.io/v1beta1"
            echo "kind: Kustomization"
            echo "namespace: $namespace"
            echo "resources:"
            echo "  - ../$environment"
            if [[ -n $tag || -n $registry ]]; then
                echo "images:"
                local component name renamed
                for component in "${images[@]}"; do
                    # Matched by the name the overlay gives the image, if it renames it.
                    name="{{project-name}}-$component"
                    renamed=$(sed -n "s|^ *newName: *\(.*/$name\) *\$|\1|p" "$overlay/kustomization.yaml")
                    echo "  - name: ${renamed:-$name}"
                    [[ -n $registry ]] && echo "    newName: $registry/$name"
                    [[ -n $tag ]] && echo "    newTag: \"$tag\""
                done
            fi
            if [[ -f $secrets ]]; then
                # The name gets a hash of the values, so changing a value rolls the pods.
                cp "$secrets" "$tmp/api-secrets.env"
                echo "secretGenerator:"
                echo "  - name: {{project-name}}-api-secrets"
                echo "    envs:"
                echo "      - api-secrets.env"
            fi
        } >"$tmp/kustomization.yaml"
        source=$tmp
    fi

    if [[ $dry_run == true ]]; then
        if kube get --raw=/readyz --request-timeout=5s >/dev/null 2>&1; then
            # Exit status 1 only means that there are differences.
            kube diff -k "$source" || [[ $? -eq 1 ]]
        else
            echo "deploy.sh: no cluster answers; printing the manifests instead of a diff" >&2
            kube kustomize "$source"
        fi
        return
    fi
    kube apply -k "$source"
    local component
    for component in "${components[@]}"; do
        kube --namespace "$namespace" rollout status \
            "deployment/{{project-name}}-$component" --timeout=300s
    done
    if [[ $environment == prod ]]; then
        # Without its certificate Secret the Ingress serves the controller's self-signed default:
        # wait for cert-manager to write it (or for it to have been created by hand).
        local waited=0
        until kube --namespace "$namespace" get secret {{project-name}}-tls >/dev/null 2>&1; do
            if [[ $waited -ge 300 ]]; then
                die "no Secret {{project-name}}-tls in $namespace after 300 s: the Ingress serves a self-signed certificate. Install cert-manager and its ClusterIssuer, or create the Secret (see $overlay/kustomization.yaml)"
            fi
            sleep 5
            waited=$((waited + 5))
        done
    fi
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

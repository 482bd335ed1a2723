#!/usr/bin/env bash
# Checks a running {{project-name}} API: liveness, readiness and one real prediction.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: deployment/scripts/smoke_test.sh [options] [BASE_URL]

Checks GET /health, GET /ready, GET /v1/model and POST /v1/predict against
BASE_URL (default: http://127.0.0.1:8080), and that an invalid record gets a 4xx.
The record sent is built from the served model's own fields and their typical
values (GET /v1/model), so the script works whatever dataset the model learned.
Runs every check; exits non-zero if any failed. Needs curl and jq.

Options:
  --wait SECONDS   wait up to SECONDS for /ready before checking (default: 0)
  --pid PID        stop waiting, and fail, as soon as process PID (the server, or the
                   `make serve` that builds and starts it) has exited
  -h, --help       show this help
USAGE
}

die() {
    echo "smoke_test.sh: $*" >&2
    exit 2
}

base_url="http://127.0.0.1:8080"
wait_seconds=0
pid=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --wait)
            [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || die "--wait needs a number of seconds"
            wait_seconds=$2
            shift 2
            ;;
        --pid)
            [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || die "--pid needs a process id"
            pid=$2
            shift 2
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*)
            usage >&2
            die "unknown option: $1"
            ;;
        *)
            [[ $1 =~ ^https?:// ]] || die "BASE_URL must start with http:// or https://: $1"
            base_url=${1%/}
            shift
            ;;
    esac
done

command -v curl >/dev/null || die "curl is not installed"
command -v jq >/dev/null || die "jq is not installed (it reads the model's fields from GET /v1/model)"

failures=0
check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok    $name"
    else
        echo "FAIL  $name" >&2
        failures=$((failures + 1))
    fi
}

http_ok() {
    curl --silent --show-error --fail --max-time 5 --output /dev/null "$base_url$1"
}

if [[ $wait_seconds -gt 0 ]]; then
    deadline=$((SECONDS + wait_seconds))
    until http_ok /ready 2>/dev/null; do
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            echo "smoke_test.sh: process $pid exited before $base_url/ready answered 200" >&2
            exit 1
        fi
        if [[ $SECONDS -ge $deadline ]]; then
            echo "smoke_test.sh: $base_url/ready did not answer 200 within ${wait_seconds}s" >&2
            exit 1
        fi
        sleep 1
    done
fi

model=""
describes_model() {
    model=$(curl --silent --show-error --fail --max-time 5 "$base_url/v1/model") || return 1
    jq --exit-status '.target and (.fields | length > 0)
        and (.task == "regression" or (.task == "classification" and (.classes | length > 1)))' \
        <<<"$model" >/dev/null
}

# POST JSON to a path; prints the status code, then the body on the next line.
post() {
    curl --silent --show-error --max-time 5 --write-out '\n%{http_code}' \
        --header 'Content-Type: application/json' --data "$2" "$base_url$1"
}

predict() {
    local record response
    # Every field at its typical value (the training median or most frequent category).
    record=$(jq --compact-output '[.fields[] | {key: .name, value: .default}] | from_entries' \
        <<<"$model") || return 1
    response=$(post /v1/predict "$record") || return 1
    echo "      $record -> ${response%$'\n'*}"
    [[ ${response##*$'\n'} == 200 ]] &&
        jq --exit-status --argjson model "$model" \
            '.target == $model.target and
             if $model.task == "regression" then (.prediction | type) == "number"
             else (.prediction as $p | $model.classes | index($p) != null)
                  and (.probabilities | length) == ($model.classes | length) end' \
            <<<"${response%$'\n'*}" >/dev/null
}

rejects_bad_input() {
    local record response
    # The first field with a value no field accepts: a JSON object.
    record=$(jq --compact-output '{(.fields[0].name): {}}' <<<"$model") || return 1
    response=$(post /v1/predict "$record") || return 1
    [[ ${response##*$'\n'} == 4?? ]]
}

echo "Smoke-testing $base_url"
check "GET /health answers 200" http_ok /health
check "GET /ready answers 200 (model loaded)" http_ok /ready
check "GET /v1/model describes the served model" describes_model
check "POST /v1/predict answers a class with every probability, or a number" predict
check "POST /v1/predict rejects an invalid record with a 4xx" rejects_bad_input

if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "All checks passed"

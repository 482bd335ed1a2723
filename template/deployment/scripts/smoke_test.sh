#!/usr/bin/env bash
# Checks a running {{project-name}} API: liveness, readiness and one real prediction.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: deployment/scripts/smoke_test.sh [options] [BASE_URL]

Checks GET /health, GET /ready and POST /v1/predict against BASE_URL
(default: http://127.0.0.1:8080), and that an invalid penguin gets a 4xx.
Runs every check; exits non-zero if any failed.

Options:
  --wait SECONDS   wait up to SECONDS for /ready before checking (default: 0)
  -h, --help       show this help
USAGE
}

die() {
    echo "smoke_test.sh: $*" >&2
    exit 2
}

base_url="http://127.0.0.1:8080"
wait_seconds=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --wait)
            [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || die "--wait needs a number of seconds"
            wait_seconds=$2
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
        if [[ $SECONDS -ge $deadline ]]; then
            echo "smoke_test.sh: $base_url/ready did not answer 200 within ${wait_seconds}s" >&2
            exit 1
        fi
        sleep 1
    done
fi

predict() {
    local body
    body=$(curl --silent --show-error --fail --max-time 5 \
        --header 'Content-Type: application/json' \
        --data '{"island":"Biscoe","bill_length_mm":45.1,"bill_depth_mm":14.5,"flipper_length_mm":215,"body_mass_g":5000,"sex":"female","year":2008}' \
        "$base_url/v1/predict") || return 1
    echo "      $body"
    [[ $body == *'"species"'* && $body == *'"probabilities"'* ]]
}

rejects_bad_input() {
    local status
    status=$(curl --silent --max-time 5 --output /dev/null --write-out '%{http_code}' \
        --header 'Content-Type: application/json' --data '{"island":"Atlantis"}' \
        "$base_url/v1/predict") || return 1
    [[ $status == 4?? ]]
}

echo "Smoke-testing $base_url"
check "GET /health answers 200" http_ok /health
check "GET /ready answers 200 (model loaded)" http_ok /ready
check "POST /v1/predict returns a species with probabilities" predict
check "POST /v1/predict rejects an invalid penguin with a 4xx" rejects_bad_input

if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "All checks passed"

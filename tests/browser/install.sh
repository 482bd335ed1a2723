#!/usr/bin/env bash
# Installs what tests/tests/browser.rs drives: headless Chromium and its WebDriver server, from
# Debian (packages chromium and chromium-driver: /usr/bin/chromium, /usr/bin/chromedriver), plus a
# font so that screenshots show text. Idempotent: nothing is downloaded when all are installed.
set -euo pipefail

packages=(chromium chromium-driver fonts-dejavu-core)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
/usr/bin/chromium --version
/usr/bin/chromedriver --version

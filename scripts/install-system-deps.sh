#!/usr/bin/env bash
# System packages the tests need beyond Python: Debian's chromium for the browser test
# (Playwright drives it; never `playwright install`, which downloads its own browser), and a C/C++
# toolchain + cmake for building llama-cpp-python from source (the `llamacpp` extra).
# Idempotent and quick when everything is there already. Run as root (or with sudo).
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v c++ >/dev/null 2>&1 || need+=(build-essential)
command -v cmake >/dev/null 2>&1 || need+=(cmake)

if [ ${#need[@]} -eq 0 ]; then
    echo "system dependencies present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"

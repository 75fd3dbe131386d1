#!/usr/bin/env bash
# Prepares a Debian 12 machine to build and run rvs: system packages (clang-19 for the BPF
# programs, libbpf headers, iproute2, curl, nftables, socat; dnsmasq and python3 as DNS and SMTP
# peers of the health-check tests), a Rust toolchain if none is installed, and a release build
# of the three binaries; with RVS_BROWSER_TESTS=1 (test.sh sets it) also Chromium, fonts and a
# Python venv with Playwright for the web console's browser tests, which the demo does not need.
# Sourced by demo.sh and test.sh; needs root.
set -euo pipefail

RVS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RVS_ROOT

if [ "$(id -u)" -ne 0 ]; then
    echo "rvs: this needs root (XDP programs, network namespaces): run it with sudo" >&2
    exit 1
fi

# Debian packages rvs needs to build and to run its lab and tests.
PACKAGES=(clang-19 llvm-19 libbpf-dev linux-libc-dev gcc libc6-dev make pkg-config
          iproute2 curl nftables procps ca-certificates socat dnsmasq-base python3 keepalived)
# (chromium: the browser tests drive Debian's build, as Playwright cannot download its own here;
# the fonts are what it only recommends, which --no-install-recommends leaves out, and without
# them screenshots show boxes instead of text. python3-venv: the Playwright venv below.)
BROWSER_PACKAGES=(chromium python3-venv fonts-dejavu-core fonts-liberation)
if [ "${RVS_BROWSER_TESTS:-0}" = 1 ]; then
    PACKAGES+=("${BROWSER_PACKAGES[@]}")
fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "rvs: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Playwright for the browser tests (tests/src/browser.rs), pinned, in a venv of its own made
# with Debian's interpreter by its full path: a pyenv or other python3 earlier on PATH must not
# become the venv's base. Only the Python package: its `playwright install` would download a
# browser build, and the tests use Debian's /usr/bin/chromium instead. Redone only when the venv
# is missing or holds another version.
if [ "${RVS_BROWSER_TESTS:-0}" = 1 ]; then
    PLAYWRIGHT_VERSION=1.64.1
    PLAYWRIGHT_VENV=/opt/rvs/playwright-venv
    if [ "$("$PLAYWRIGHT_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("playwright"))' 2>/dev/null)" != "$PLAYWRIGHT_VERSION" ]; then
        echo "rvs: installing playwright $PLAYWRIGHT_VERSION into $PLAYWRIGHT_VENV"
        rm -rf "$PLAYWRIGHT_VENV"
        mkdir -p "$(dirname "$PLAYWRIGHT_VENV")"
        /usr/bin/python3 -m venv "$PLAYWRIGHT_VENV"
        "$PLAYWRIGHT_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
            "playwright==$PLAYWRIGHT_VERSION"
    fi
    export RVS_PLAYWRIGHT_PYTHON="$PLAYWRIGHT_VENV/bin/python"
fi

# Rust: rvs needs 1.95 or newer (aya 0.14, edition 2024).
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "rvs: no Rust toolchain found; installing one with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95.0
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

cd "$RVS_ROOT"
echo "rvs: building (cargo build --release --locked --bins)"
cargo build --release --locked --bins
export RVS_BIN_DIR="$RVS_ROOT/target/release"

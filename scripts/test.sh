#!/usr/bin/env bash
# The whole test suite: sets this machine up (setup.sh), then runs every test of the workspace
# in release mode, root-only ones included (unit tests, data-plane fixtures through
# BPF_PROG_TEST_RUN, golden ipvsadm transcripts, end-to-end suites in network namespaces).
# Fails if any test leaves a network namespace or pinned map behind.
set -euo pipefail
# The browser tests' Chromium and Playwright too (the demo does without them).
export RVS_BROWSER_TESTS=1
# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Root tests must run here: never skip them.
unset RVS_SKIP_ROOT_TESTS

before=$(ip netns list | awk '{print $1}' | sort)
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --release --locked --workspace --no-fail-fast "$@"
else
    cargo test --release --locked --workspace --no-fail-fast "$@"
fi

after=$(ip netns list | awk '{print $1}' | sort)
leftover=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)
pins=$(find /sys/fs/bpf/rvs -mindepth 1 -maxdepth 1 2>/dev/null || true)
if [ -n "$leftover" ] || [ -n "$pins" ]; then
    echo "rvs: tests left things behind: namespaces [$leftover] pins [$pins]" >&2
    exit 1
fi
echo "rvs: all tests passed and nothing was left behind"

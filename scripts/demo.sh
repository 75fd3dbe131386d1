#!/usr/bin/env bash
# The main job: sets this machine up (setup.sh), then runs seed 000's experiment in network
# namespaces: a client curls the VIP ten times through an rvs director in Direct Routing mode,
# the answers alternate between webserver1 and webserver2, and the tables are shown.
# `demo.sh nat` runs seed 002's NAT experiment instead (`tun`, `tun-routed`: seed 004's).
set -euo pipefail
# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
topology=dr
case "${1:-}" in
    dr|nat|tun|tun-routed) topology=$1; shift ;;
esac
exec "$RVS_BIN_DIR/rvs" lab demo "$topology" "$@"

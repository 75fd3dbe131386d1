#!/usr/bin/env bash
# The main job: sets this machine up (setup.sh), then runs seed 000's experiment in network
# namespaces: a client curls the VIP ten times through an rvs director in Direct Routing mode,
# the answers alternate between webserver1 and webserver2, and the tables are shown.
set -euo pipefail
# shellcheck source=scripts/setup.sh
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec "$RVS_BIN_DIR/rvs" lab demo dr "$@"

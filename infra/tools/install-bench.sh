#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# wrk from Debian's packages: the HTTP load generator `npm run bench:overhead`
# drives each variant with (one thread, pinned to its own core). Prints the
# wrk binary.
source "$(dirname "$0")/lib.sh"
apt_packages wrk
command -v wrk

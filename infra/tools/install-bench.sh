#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# From Debian's packages: wrk, the HTTP load generator `npm run bench:overhead`
# drives each variant with (one thread, pinned to its own core), and valgrind,
# whose callgrind counts instructions for `npm run bench:instructions`. Prints
# the wrk and callgrind_control binaries.
source "$(dirname "$0")/lib.sh"
apt_packages wrk valgrind
command -v wrk
command -v callgrind_control

# shellcheck shell=bash disable=SC2034  # variables are for the scripts that source this
# Shared settings for the container scripts in this folder. Source it; don't run it.
#
# This machine has no Docker engine and no reachable container registry, so the
# image is built and run with rootful podman. Two host quirks are handled here,
# once, for every caller:
# - crun fails on this host's cgroup layout: always use runc.
# - the default rlimits podman hands a container are refused here: ask for low ones.
set -euo pipefail

CONTAINER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CONTAINER_DIR/../.." && pwd)"

# The Dockerfile's default base, fully qualified as podman stores it.
BASE_IMAGE="${BASE_IMAGE:-docker.io/library/node:24-bookworm-slim}"
# The tag the test builds and runs.
PERISCOPE_IMAGE="${PERISCOPE_IMAGE:-localhost/periscope:test}"

PODMAN=(podman --runtime runc)
CONTAINER_LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

csay() { printf '[container] %s\n' "$*" >&2; }

# Installs podman, runc and debootstrap from Debian's packages when missing.
ensure_podman() {
  bash "$REPO_ROOT/infra/tools/install-podman.sh" >/dev/null
}

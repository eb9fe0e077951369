# Shared helpers for the tool installers in this folder. Source it; don't run it.
#
# Tools land in $PERISCOPE_TOOLS_DIR (default ~/.cache/periscope/tools), outside
# the checkout, so a clean clone (and CI) reuses what an earlier run built.
# Every version is pinned here or in a committed go.mod/go.sum.
set -euo pipefail

TOOLS_DIR="${PERISCOPE_TOOLS_DIR:-$HOME/.cache/periscope/tools}"
TOOLS_BIN="$TOOLS_DIR/bin"
TOOLS_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$TOOLS_BIN"

say() { printf '[tools] %s\n' "$*" >&2; }

# go_tool NAME PACKAGE
# Builds PACKAGE from the pinned module in infra/tools/go/NAME (go.mod with a
# `tool` line and its go.sum) into $TOOLS_BIN/NAME. Skips the build when the
# binary was built from the same go.sum.
go_tool() {
  local name="$1" pkg="$2" dir="$TOOLS_SRC/go/$1"
  local stamp="$TOOLS_BIN/.$name.gosum"
  if [[ -x "$TOOLS_BIN/$name" && -f "$stamp" ]] && cmp -s "$stamp" "$dir/go.sum"; then
    return 0
  fi
  command -v go >/dev/null || { say "Go is needed to build $name (https://go.dev/dl/)"; return 1; }
  say "building $name from $(grep -m1 "$(dirname "$pkg" | cut -d/ -f1-3)" "$dir/go.mod" | xargs) (first time only) ..."
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -o "$TOOLS_BIN/$name" "$pkg")
  cp "$dir/go.sum" "$stamp"
}

# apt_packages PKG...: installs Debian packages that are missing (needs root or sudo).
apt_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  # One apt at a time (several installers may run in parallel), waiting for dpkg's lock.
  (
    flock 9
    if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]]; then
      $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  ) 9>/tmp/periscope-apt.lock
}

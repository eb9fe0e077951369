#!/usr/bin/env bash
# 0x and clinic.js for `npm run profile:*`, at the versions pinned in
# load/profiling/tools/package-lock.json. They live outside the checkout
# ($PERISCOPE_TOOLS_DIR, default ~/.cache/periscope/tools) and outside the
# project's own dependencies: together they are ~700 packages (clinic is no
# longer maintained and drags in old ones) that the service, its tests and its
# image never need. Installed once per lockfile; prints the install directory.
source "$(dirname "$0")/../../infra/tools/lib.sh"
manifest="$(cd "$(dirname "$0")/tools" && pwd)"
lock_hash="$(sha256sum "$manifest/package-lock.json" | cut -c1-12)"
dir="$TOOLS_DIR/profiling-$lock_hash"
# One installer at a time (parallel test files, two terminals).
exec 9>"$TOOLS_DIR/.profiling-install.lock"
flock 9
if [[ ! -x "$dir/node_modules/.bin/0x" || ! -x "$dir/node_modules/.bin/clinic" ]]; then
  say "installing 0x and clinic.js (pinned in load/profiling/tools/package-lock.json; first time only) ..."
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  cp "$manifest/package.json" "$manifest/package-lock.json" "$dir.partial/"
  # npm ci in that directory only (never in the checkout); quiet unless it fails.
  if ! (cd "$dir.partial" && npm ci --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1); then
    cat "$dir.partial/npm-ci.log" >&2
    say "npm ci failed for the profiling tools (log above)"
    exit 1
  fi
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
fi
echo "$dir"

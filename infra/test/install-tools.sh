#!/usr/bin/env bash
# Installs the tools the infra tests use, pinned, outside the checkout:
#   prometheus      Debian's prometheus package: prometheus and promtool
#                   (test:rules, test:dashboards, test:stack)
#   compose-config  `docker compose config` without Docker: compose-go
#                   (pinned in infra/test/tools/compose-config/go.mod) built
#                   into the tools dir (test:stack)
#   redis           Debian's redis-server (the shared rate-limit store test)
#   jaeger          Jaeger v2, an OpenTelemetry Collector build of the same
#                   collector version as the compose file's collector image,
#                   to `validate` the collector config (test:stack; built by
#                   infra/tools/install-jaeger.sh, several minutes the first time)
#
#   bash infra/test/install-tools.sh                 # all of them
#   bash infra/test/install-tools.sh prometheus      # only some
# Prints nothing on success but what it installs; safe to re-run.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../tools/lib.sh"

compose_config() {
  local dir="$HERE/tools/compose-config" bin="$TOOLS_BIN/compose-config" stamp="$TOOLS_BIN/.compose-config.stamp"
  local want
  want="$(cat "$dir/go.mod" "$dir/go.sum" "$dir/main.go" | sha256sum | cut -d' ' -f1)"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v go >/dev/null || { say "Go is needed to build compose-config (https://go.dev/dl/)"; return 1; }
  say "building compose-config (compose-go $(grep -m1 compose-go "$dir/go.mod" | awk '{print $NF}')) ..."
  (cd "$dir" && go build -trimpath -o "$bin" .)
  echo "$want" >"$stamp"
}

for tool in "${@:-prometheus redis compose-config jaeger}"; do
  for t in $tool; do
    case "$t" in
      prometheus) apt_packages prometheus ;;
      redis) apt_packages redis-server ;;
      compose-config) compose_config ;;
      jaeger) bash "$HERE/../tools/install-jaeger.sh" >/dev/null ;;
      *) say "unknown tool: $t (prometheus, redis, compose-config, jaeger)"; exit 2 ;;
    esac
  done
done

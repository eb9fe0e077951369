#!/usr/bin/env bash
# npm run test:rules — promtool on the one set of rule files:
#   check config  the local stack's prometheus.yml (and the rule files it globs)
#   check rules   every rule file (syntax, PromQL, templates)
#   test rules    the unit tests in rules/tests/: every alert fires when it
#                 should and stays quiet when it should not
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v promtool >/dev/null || {
  echo "promtool not found: run bash infra/test/install-tools.sh prometheus" >&2
  exit 1
}
promtool --version 2>&1 | head -1
promtool check config infra/prometheus/prometheus.yml
promtool check rules infra/prometheus/rules/*.yaml
promtool test rules infra/prometheus/rules/tests/*.yaml

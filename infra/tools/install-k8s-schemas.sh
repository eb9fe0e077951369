#!/usr/bin/env bash
# Strict JSON schemas for kubeconform, generated offline from upstream sources
# fetched through the Go module proxy (the modules' own files, not a mirror):
#   - Kubernetes: api/openapi-spec/swagger.json in the k8s.io/kubernetes module,
#     one set per version in K8S_SCHEMA_VERSIONS (oldest supported and newest).
#   - ServiceMonitor, PrometheusRule (and PodMonitor): the CRDs in
#     example/prometheus-operator-crd/ of the prometheus-operator module.
#   - HTTPRoute: the standard-channel CRDs in config/crd/standard/ of the
#     sigs.k8s.io/gateway-api module.
# Converted by k8s-schemas/openapi2jsonschema.mjs (needs node_modules: `yaml`).
# About 10 s and ~30 MB of downloads the first time; later runs reuse the cache.
# Prints the schema directory, which holds versions.json, one
# v<version>-standalone-strict/ folder per Kubernetes version, and crds/.
source "$(dirname "$0")/lib.sh"

K8S_SCHEMA_VERSIONS="1.32.13 1.37.2"
PROMETHEUS_OPERATOR_VERSION="v0.85.0"
GATEWAY_API_VERSION="v1.6.3"

repo="$(cd "$TOOLS_SRC/../.." && pwd)"
generator="$TOOLS_SRC/k8s-schemas/openapi2jsonschema.mjs"
out="$TOOLS_DIR/k8s-schemas"
stamp="$K8S_SCHEMA_VERSIONS $PROMETHEUS_OPERATOR_VERSION $GATEWAY_API_VERSION $(sha256sum "$generator" | cut -c1-16)"
if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" ]]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { say "Go is needed to fetch the schema sources (https://go.dev/dl/)"; exit 1; }
[[ -d "$repo/node_modules/yaml" ]] || { say "run npm install first (the converter uses the yaml package)"; exit 1; }

# go mod download <module@version> → the extracted module directory (read-only, in GOMODCACHE).
module_dir() {
  (cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "$1") |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const m=JSON.parse(s);if(m.Error||!m.Dir){console.error(m.Error);process.exit(1)}console.log(m.Dir)})'
}

tmp="$(mktemp -d "$TOOLS_DIR/k8s-schemas.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
for v in $K8S_SCHEMA_VERSIONS; do
  say "generating Kubernetes $v schemas (k8s.io/kubernetes@v$v api/openapi-spec/swagger.json) ..."
  dir="$(module_dir "k8s.io/kubernetes@v$v")"
  node "$generator" kubernetes "$dir/api/openapi-spec/swagger.json" "$tmp/v$v-standalone-strict"
done

say "generating CRD schemas (prometheus-operator $PROMETHEUS_OPERATOR_VERSION, gateway-api $GATEWAY_API_VERSION) ..."
po="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
gw="$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"
node "$generator" crd "$tmp/crds" \
  "$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
  "$po/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" \
  "$po/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" \
  "$gw/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"

printf '{"kubernetes":[%s],"prometheusOperator":"%s","gatewayApi":"%s"}\n' \
  "$(printf '"%s",' $K8S_SCHEMA_VERSIONS | sed 's/,$//')" "$PROMETHEUS_OPERATOR_VERSION" "$GATEWAY_API_VERSION" \
  >"$tmp/versions.json"
echo "$stamp" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"

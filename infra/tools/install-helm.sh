#!/usr/bin/env bash
# Helm v3.22.0, built from the Go module proxy at the version pinned in
# go/helm/go.mod (helm.sh/helm/v3 v3.22.0 and its go.sum), with the link
# flags of Helm's own release build (its Makefile): `helm version` says
# v3.22.0, and the default Kubernetes version for `helm template`, `helm lint`
# deprecation checks and client-side dry runs is the one its client-go
# targets (1.37), as with the official binary. Used by `npm run test:k8s` and
# `npm run k8s:manifests`. First build: about 3 minutes on 2 cores; later runs
# reuse the binary. Prints the binary's path.
source "$(dirname "$0")/lib.sh"

dir="$TOOLS_SRC/go/helm"
client_go="$(awk '$1 == "k8s.io/client-go" { print $2 }' "$dir/go.mod")" # v0.37.0 → Kubernetes 1.37
k8s_minor="$(cut -d. -f2 <<<"$client_go")"
ldflags="-w -s -X helm.sh/helm/v3/internal/version.version=v3.22.0"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

stamp="$TOOLS_BIN/.helm.build"
want="$(sha256sum "$dir/go.sum" | cut -c1-16) $ldflags"
if [[ ! -x "$TOOLS_BIN/helm" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  command -v go >/dev/null || { say "Go is needed to build helm (https://go.dev/dl/)"; exit 1; }
  say "building helm v3.22.0 (first time only) ..."
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$TOOLS_BIN/helm" helm.sh/helm/v3/cmd/helm)
  echo "$want" >"$stamp"
fi
echo "$TOOLS_BIN/helm"

#!/usr/bin/env bash
# kustomize v5.8.2 (what `kubectl apply -k` runs), built from the Go module
# proxy at the version pinned in go/kustomize/go.mod (v5.8.3 needs Go 1.27).
# `npm run test:k8s` builds k8s/manifests with it to prove the plain manifests
# apply as a kustomization. First build: about a minute. Prints the binary's path.
source "$(dirname "$0")/lib.sh"
go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5
echo "$TOOLS_BIN/kustomize"

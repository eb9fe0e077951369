#!/usr/bin/env bash
# kubeconform v0.8.0 (strict Kubernetes manifest validation against JSON
# schemas), built from the Go module proxy at the version pinned in
# go/kubeconform/go.mod. The schemas it needs come from install-k8s-schemas.sh
# (offline; kubeconform is always run with local -schema-location paths).
# Prints the binary's path.
source "$(dirname "$0")/lib.sh"
go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform
echo "$TOOLS_BIN/kubeconform"

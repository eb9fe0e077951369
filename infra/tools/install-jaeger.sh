#!/usr/bin/env bash
# Jaeger v2 (an OpenTelemetry-Collector-based build with OTLP receivers and an
# in-memory store), built from the Go module proxy at the version pinned in
# go/jaeger/go.mod (github.com/jaegertracing/jaeger v1.76.0 carries the v2
# binary). The first build takes several minutes; later runs reuse it.
source "$(dirname "$0")/lib.sh"
go_tool jaeger github.com/jaegertracing/jaeger/cmd/jaeger
echo "$TOOLS_BIN/jaeger"

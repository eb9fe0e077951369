#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds the production image from the repository's Dockerfile with podman, the
# way `docker build` would, and reports its size and layer count.
#
#   bash infra/container/build-image.sh [TAG]      (default localhost/periscope:test)
#
# Installs podman when missing and builds the stand-in base image when the
# official one is not present (see build-base-standin.sh). Build secrets:
# - npm_ca: the host's CA bundle, because HTTPS to the npm registry from inside
#   a build here passes a TLS-intercepting proxy whose CA only the host trusts;
# - npmrc:  $NPMRC when set (a .npmrc with a private registry and its token).
# Neither is written to a layer (the test checks).
# Figures go to stdout and results/container-image.json.
source "$(dirname "$0")/lib.sh"
tag="${1:-$PERISCOPE_IMAGE}"
HOST_CA="${HOST_CA:-/etc/ssl/certs/ca-certificates.crt}"

ensure_podman
bash "$CONTAINER_DIR/build-base-standin.sh"

secrets=()
[[ -s "$HOST_CA" ]] && secrets+=(--secret "id=npm_ca,src=$HOST_CA")
[[ -n "${NPMRC:-}" ]] && secrets+=(--secret "id=npmrc,src=$NPMRC")

version="$(node -p "require('$REPO_ROOT/package.json').version")"
revision="$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
# The commit's time, not the clock's: the same commit gives the same label.
created="$(git -C "$REPO_ROOT" log -1 --format=%cI 2>/dev/null || echo unknown)"

csay "building $tag from $REPO_ROOT/Dockerfile ..."
start=$SECONDS
# --pull=never: the base is local (the stand-in, or a real one pulled earlier);
# there is no registry to ask. The ulimits are the ones this host accepts for
# the build's RUN containers.
(cd "$REPO_ROOT" && "${PODMAN[@]}" build --pull=never "${CONTAINER_LIMITS[@]}" "${secrets[@]}" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
  --tag "$tag" --file Dockerfile .)
build_seconds=$((SECONDS - start))
# Each changed build leaves its stages behind as untagged images; they are the
# layer cache for the next build, so only those older than a day are dropped.
"${PODMAN[@]}" image prune --force --filter until=24h >/dev/null

# Size as `docker images` reports it (uncompressed), and the filesystem layers a
# registry stores; metadata-only steps (ENV, USER, CMD, LABEL) add no layer.
inspect() { "${PODMAN[@]}" image inspect --format "$1" "$2"; }
size="$(inspect '{{.Size}}' "$tag")"
layers="$(inspect '{{len .RootFS.Layers}}' "$tag")"
base="$(awk -F= '/^ARG NODE_IMAGE=/{print $2; exit}' "$REPO_ROOT/Dockerfile")"
base_size="$(inspect '{{.Size}}' "$BASE_IMAGE")"
base_layers="$(inspect '{{len .RootFS.Layers}}' "$BASE_IMAGE")"
standin="$(inspect '{{ index .Labels "org.periscope.standin.recipe" }}' "$BASE_IMAGE")"
[[ -n "$standin" && "$standin" != "<no value>" ]] && standin=true || standin=false

# Compressed size: what a registry stores and a node pulls (gzip layers, as
# `docker push` writes them), summed from an OCI layout written to a temp dir.
oci="$(mktemp -d /var/tmp/periscope-oci.XXXXXX)"
trap 'rm -rf "$oci"' EXIT
"${PODMAN[@]}" push --quiet --compression-format gzip "$tag" "oci:$oci:image"
# shellcheck disable=SC2016 # the single quotes hold JavaScript, not shell
read -r compressed base_compressed < <(node -e '
  const { readFileSync } = require("node:fs");
  const dir = process.argv[1], baseLayers = Number(process.argv[2]);
  const blob = (d) => JSON.parse(readFileSync(`${dir}/blobs/${d.replace(":", "/")}`, "utf8"));
  const layers = blob(JSON.parse(readFileSync(`${dir}/index.json`, "utf8")).manifests[0].digest).layers;
  const sum = (ls) => ls.reduce((n, l) => n + l.size, 0);
  console.log(sum(layers), sum(layers.slice(0, baseLayers)));
' "$oci" "$base_layers")

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
csay "image $tag: $(mb "$size") MB ($(mb "$compressed") MB compressed), $layers layers; base $base: $(mb "$base_size") MB ($(mb "$base_compressed") MB compressed), $base_layers layers, stand-in: $standin; built in ${build_seconds}s"
mkdir -p "$REPO_ROOT/results"
cat >"$REPO_ROOT/results/container-image.json" <<JSON
{
  "image": "$tag",
  "size_bytes": $size,
  "compressed_bytes": $compressed,
  "layers": $layers,
  "app_layers": $((layers - base_layers)),
  "app_compressed_bytes": $((compressed - base_compressed)),
  "base": { "name": "$base", "size_bytes": $base_size, "compressed_bytes": $base_compressed, "layers": $base_layers, "standin": $standin },
  "build_seconds": $build_seconds,
  "revision": "$revision"
}
JSON

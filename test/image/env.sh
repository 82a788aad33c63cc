# Sourced by the image scripts: where buildah keeps its images (inside .ferry/, not the machine's
# /var/lib/containers) and how it runs here (vfs storage, chroot isolation: no Docker engine, no
# overlay mounts, no user namespaces needed).
ferry_root=${ferry_root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FERRY_IMAGE_DIR=${FERRY_IMAGE_DIR:-$ferry_root/.ferry/image}
FERRY_NODE_VERSION=${FERRY_NODE_VERSION:-24.21.0}
FERRY_NPM_VERSION=${FERRY_NPM_VERSION:-11.19.1}
FERRY_BASE_IMAGE=${FERRY_BASE_IMAGE:-localhost/ferry-base:bookworm-node$FERRY_NODE_VERSION}
mkdir -p "$FERRY_IMAGE_DIR"

ferry_buildah() {
  buildah --root "$FERRY_IMAGE_DIR/storage" --runroot "$FERRY_IMAGE_DIR/run" --storage-driver vfs "$@"
}

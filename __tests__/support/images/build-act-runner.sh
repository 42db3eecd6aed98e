#!/usr/bin/env bash
# Builds go-dagger-action-test/act-runner: the toolbox plus the Node.js that runs the tests, a
# docker CLI and bash. It plays the job container of `act`, which runs the action inside a
# container that shares the host's Docker socket. Usage: build-act-runner.sh /path/to/node
set -euo pipefail
node_bin=$(readlink -f "$1")
image=${ACT_RUNNER_IMAGE:-go-dagger-action-test/act-runner:latest}
# Rebuilt when the Node.js or this recipe changes.
recipe="$("$node_bin" --version)-$(sha256sum "$0" | cut -c1-12)"
if [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect --format '{{index .Config.Labels "recipe"}}' "$image" 2>/dev/null)" = "$recipe" ]; then
  exit 0
fi
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
rootfs=$context/rootfs
copy_with_libs() {
  local bin=$1 dest=$2
  mkdir -p "$rootfs$(dirname "$dest")"
  cp "$bin" "$rootfs$dest"
  # A static binary has no libraries to copy.
  local libs
  libs=$(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' || true)
  for lib in $libs; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}
copy_with_libs "$node_bin" /usr/local/bin/node
copy_with_libs "$(readlink -f "$(command -v docker)")" /usr/local/bin/docker
copy_with_libs "$(readlink -f "$(command -v bash)")" /bin/bash
mkdir -p "$rootfs/usr/bin"
ln -s /bin/bash "$rootfs/usr/bin/bash"
ln -s /bin/busybox "$rootfs/usr/bin/env"
# @actions/cache compresses with `zstdmt` and expands with `unzstd`, as on the runner images.
ln -s /bin/zstd "$rootfs/usr/bin/zstdmt"
ln -s /bin/zstd "$rootfs/usr/bin/unzstd"
cat >"$context/Dockerfile" <<DOCKERFILE
FROM go-dagger-action-test/toolbox:latest
COPY rootfs/ /
LABEL recipe=$recipe
DOCKERFILE
docker build --quiet --tag "$image" "$context" >/dev/null
echo "built $image"

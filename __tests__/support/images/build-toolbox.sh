#!/usr/bin/env bash
# Builds go-dagger-action-test/toolbox: a small local image (nothing can be pulled in the test
# environment) with busybox for the shell utilities plus GNU tar and GNU find with their shared
# libraries, which the engine-state helper needs (xattrs, sparse files, -printf listings).
# Idempotent: it rebuilds only when the image is missing or FORCE=1.
set -euo pipefail
image=${TOOLBOX_IMAGE:-go-dagger-action-test/toolbox:latest}
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi
busybox=$(command -v busybox)
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/lib,root,proc,sys,dev}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
copy_with_libs() {
  local bin=$1 dest=$2
  rm -f "$rootfs$dest"
  cp "$bin" "$rootfs$dest"
  ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}
# dash as /bin/sh: busybox's own shell runs its applets before PATH, which would shadow GNU tar.
copy_with_libs "$(readlink -f /bin/dash)" /bin/sh
copy_with_libs "$(readlink -f "$(command -v tar)")" /bin/tar
copy_with_libs "$(readlink -f "$(command -v find)")" /bin/find
for tool in setfattr getfattr; do
  if command -v $tool >/dev/null; then copy_with_libs "$(readlink -f "$(command -v $tool)")" /bin/$tool; fi
done
if command -v zstd >/dev/null; then copy_with_libs "$(readlink -f "$(command -v zstd)")" /bin/zstd; fi
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "built $image"

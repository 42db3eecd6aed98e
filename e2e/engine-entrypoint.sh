#!/bin/sh
# Entrypoint of the test world's engine image: the official one's, plus what --privileged would have
# given. The tests run the engine with every capability but CAP_SYS_RESOURCE instead (the test
# daemon cannot grant it), and then Docker mounts the cgroup hierarchies read-only.
set -e
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2 (GitHub's runners): writable again, then the nesting the official entrypoint does.
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null ||
    { umount /sys/fs/cgroup && mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup; } ||
    echo "WARN: /sys/fs/cgroup is not writable" >&2
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs || :
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control || :
else
  # cgroup v1: each hierarchy can be made writable only as a bind remount; name=systemd is mounted anew.
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || :
  for hierarchy in /sys/fs/cgroup/*; do
    [ -d "$hierarchy" ] && [ ! -L "$hierarchy" ] || continue
    case "$hierarchy" in
      */systemd) umount "$hierarchy" 2>/dev/null && mount -t cgroup -o none,name=systemd cgroup "$hierarchy" || : ;;
      *) mount -o remount,bind,rw "$hierarchy" 2>/dev/null || echo "WARN: $hierarchy is not writable" >&2 ;;
    esac
  done
fi
# Without CAP_SYS_RESOURCE only the soft limit can be raised, to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
exec tini -- /usr/local/bin/dagger-engine --config /etc/dagger/engine.toml "$@"

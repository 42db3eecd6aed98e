#!/bin/sh
# Behaves like the Dagger engine where the action depends on it:
# - reads /etc/dagger/engine.json and refuses to start without a gc.maxUsedSpace in it;
# - keeps its state in /var/lib/dagger with the real layout (worker/ databases, snapshots and
#   content blobs, dagql-cache.db);
# - records clean_shutdown in dagql-cache.db on SIGTERM, and wipes all state on the next start
#   when it is missing (after a SIGKILL), as the real engine does;
# - refuses to start on a corrupt dagql-cache.db (a bad restored state).
# Every start adds snapshot <n> (n = start counter) holding the special files an overlay
# snapshotter relies on, a content blob, and rewrites the databases.
# STAND_IN_BEHAVIOUR: normal | fail-start (exit 42 at once) | ignore-sigterm.
set -eu
state=/var/lib/dagger
config=/etc/dagger/engine.json
db=$state/dagql-cache.db
header='stand-in-dagql-cache v1'
log() { echo "stand-in-engine: $*"; }

if [ "$STAND_IN_BEHAVIOUR" = fail-start ]; then
  log "refusing to start (STAND_IN_BEHAVIOUR=fail-start)"
  exit 42
fi
if [ ! -s "$config" ]; then
  log "missing $config"
  exit 2
fi
if ! grep -q '"maxUsedSpace"' "$config"; then
  log "invalid $config: no gc.maxUsedSpace"
  exit 2
fi
log "config $(tr -d '\n' <"$config")"

mkdir -p "$state"
if [ -e "$db" ]; then
  if [ "$(head -n 1 "$db")" != "$header" ]; then
    log "corrupt $db"
    exit 3
  fi
  if ! grep -qx 'clean_shutdown=1' "$db"; then
    log "unclean shutdown: wiping cache"
    # The real engine's words for it, which the action reads from the log.
    echo 'time=2026-01-01T00:00:00.000Z level=WARN msg="local cache state invalid; resetting worker and dagql persistence state" reason=dagql_unclean_shutdown error=<nil>'
    find "$state" -mindepth 1 -delete
  fi
fi
starts=$(sed -n 's/^starts=//p' "$db" 2>/dev/null || true)
starts=$((${starts:-0} + 1))
# clean_shutdown goes away while the engine runs: a kill from here on leaves it missing.
printf '%s\nstarts=%s\n' "$header" "$starts" >"$db.tmp"
mv "$db.tmp" "$db"

snapshot=$state/worker/snapshots/snapshots/$starts/fs
mkdir -p "$snapshot" "$state/worker/content/blobs/sha256" "$state/worker/content/ingest"
(
  cd "$snapshot"
  printf 'start %s\n' "$starts" >plain
  printf '#!/bin/sh\n' >setuid && chmod 4755 setuid
  printf 'secret\n' >private && chmod 0600 private
  printf 'owned\n' >owned && chown 1000:1001 owned
  printf 'nobody\n' >nobody && chown 65534:65534 nobody
  ln -s plain symlink
  ln -s missing/target dangling-symlink
  ln plain hardlink
  mkdir -p empty-dir sticky-dir opaque-dir/child
  chmod 1777 sticky-dir
  # overlayfs whiteout: a 0/0 character device
  mknod whiteout c 0 0
  setfattr -n trusted.overlay.opaque -v y opaque-dir
  printf 'ping\n' >capable
  # cap_net_bind_service, VFS_CAP_REVISION_2 with the effective bit
  setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 capable
  # sparse: 64 MiB apparent, a few bytes of data at the start and near the end
  printf 'head' >sparse
  printf 'tail' | dd of=sparse bs=1 seek=67108860 conv=notrunc 2>/dev/null
  head -c 4194304 /dev/urandom >large
)

blob=$(mktemp "$state/worker/content/ingest/blob.XXXXXX")
printf 'layer of start %s\n' "$starts" >"$blob"
digest=$(sha256sum "$blob" | cut -d ' ' -f 1)
chmod 0444 "$blob"
mv "$blob" "$state/worker/content/blobs/sha256/$digest"
for database in worker/metadata_v2.db worker/snapshots/metadata.db worker/containerdmeta.db; do
  printf 'start %s snapshot %s blob %s\n' "$starts" "$starts" "$digest" >>"$state/$database"
done
sync
log "started (start $starts)"

shutdown() {
  printf 'clean_shutdown=1\n' >>"$db"
  sync
  log "clean shutdown"
  exit 0
}
if [ "$STAND_IN_BEHAVIOUR" = ignore-sigterm ]; then
  trap '' TERM
else
  trap shutdown TERM
fi
# The line the real engine logs once its API listens, which the action waits for.
echo 'time="2026-01-01T00:00:00Z" level=info msg="running server on /run/dagger/engine.sock"'
while :; do
  sleep 3600 &
  wait $! || true
done

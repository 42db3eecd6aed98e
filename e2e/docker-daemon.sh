# Sourced by .ci/run and e2e/setup.sh: starts a Docker daemon when none answers. Left running on
# purpose: the tests need it until the end, and the real-engine world stays up for later runs.
ensure_docker_daemon() {
  if docker info >/dev/null 2>&1; then return; fi
  local log=${DOCKERD_LOG:-/tmp/dockerd.log}
  echo "starting dockerd (log: $log)" >&2
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then return; fi
    sleep 1
  done
  echo "dockerd did not come up within 60 s; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  return 1
}

#!/usr/bin/env bash
# The local command (dist/cli) on this machine's real-engine world (npm run e2e:setup): the world's
# dagger CLI on PATH, the docker wrapper first (this daemon refuses --privileged), and the world's
# engine config (registry mirrors to the local registry), so the command starts its own engine.
#   npm run pipeline:world -- --stage build
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
world=${GDA_E2E_WORLD:-/var/cache/go-dagger-action-e2e}/world.json
[ -s "$world" ] || { echo "no real-engine world at $world: run npm run e2e:setup first" >&2; exit 1; }
cli=$(jq -r .daggerCli "$world")
export PATH="$repo/__tests__/support/bin:$(dirname "$cli"):$PATH"
export DAGGER_NO_NAG=1 DO_NOT_TRACK=1 DAGGER_NO_UPDATE_CHECK=1
exec node "$repo/dist/cli/index.js" --engine-config "$(jq -c .engineConfig "$world")" "$@"

#!/usr/bin/env bash
# Builds act (nektos/act, the local GitHub Actions runner) at the version that go.mod beside this
# script pins, from the Go module proxy, into $GDA_E2E_WORLD/act-<version>/act, and prints that path.
# Idempotent: an act that is there and reports that version is kept (FORCE=1 builds it anew, as in
# e2e/setup.sh). Progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD=${GDA_E2E_WORLD:-/var/cache/go-dagger-action-e2e}
version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/nektos/act)
out="$WORLD/act-$version"
reports_version() { [ -x "$out/act" ] && [ "$("$out/act" --version 2>/dev/null)" = "act version ${version#v}" ]; }
if [ "${FORCE:-0}" = 1 ] || ! reports_version; then
  echo "[e2e:act] building act $version into $out" >&2
  started=$(date +%s)
  mkdir -p "$WORLD"
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  # -trimpath and no VCS stamp: the binary depends on the pinned module graph alone.
  (cd "$here" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" -o "$out.tmp/act" github.com/nektos/act) >&2
  rm -rf "$out" && mv "$out.tmp" "$out"
  reports_version || { echo "[e2e:act] $out/act does not report version ${version#v}" >&2; exit 1; }
  echo "[e2e:act] built in $(($(date +%s) - started)) s" >&2
fi
echo "$out/act"

#!/usr/bin/env bash
# npm run e2e:setup — builds or refreshes the real-engine world on this machine, idempotently:
#   - the Dagger CLI and engine at the version the bundled @dagger.io/dagger pins, from the Go module
#     proxy (e2e/daggerbuild), in an engine image tagged registry.dagger.io/engine:v<version>;
#   - a local registry (0.0.0.0:5000) that serves, under their real names, the images the pipeline
#     pulls, through the engine's registry mirrors;
#   - debian:bookworm-slim in the daemon, for the state helper.
# Each artifact is keyed by its version and recipe; a rerun reuses what is there. The daemon and the
# registry are left running. Progress goes to stderr; the last line of stdout is one JSON object
# with what a run of the bundle needs to use this world (see e2e/README.md).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=docker-daemon.sh
. "$repo/e2e/docker-daemon.sh"

WORLD=${GDA_E2E_WORLD:-/var/cache/go-dagger-action-e2e}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
REGISTRY_PORT=${GDA_E2E_REGISTRY_PORT:-5000}
DAGGER_VERSION=$(node -p "require('$repo/node_modules/@dagger.io/dagger/package.json').version")
CNI_VERSION=v1.9.0
CRANE_VERSION=v0.21.9
GOLANGCI_LINT_VERSION=$(sed -n "s/^export const DEFAULT_GOLANGCI_LINT_VERSION = '\(.*\)'$/\1/p" "$repo/src/inputs/pipeline-config.ts")
TRIVY_VERSION=$(sed -n "s/^  trivy: 'aquasec\/trivy:\(.*\)',\{0,1\}$/\1/p" "$repo/src/inputs/pipeline-config.ts")
# The golang images the examples build with: each example's `toolchain` (or `go`) line.
GO_VERSIONS=$(sed -n 's/^toolchain go\([0-9.]*\)$/\1/p' "$repo"/examples/*/go.mod | sort -u)
HOST_GO=$(go env GOVERSION | sed 's/^go//')
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

mkdir -p "$WORLD"/{bin,keys,rootfs,layers,tmp}
log() { echo "[e2e:setup] $*" >&2; }
started=$(date +%s)
timings=()
# step NAME KEY FUNCTION: runs FUNCTION unless the key recorded for NAME is KEY already.
step() {
  local name=$1 key=$2 fn=$3 t0
  t0=$(date +%s)
  # ONLY="a b": build just those steps (to work on one artifact); the JSON is then not written.
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  if [ "${FORCE:-0}" != 1 ] && [ -f "$WORLD/keys/$name" ] && [ "$(cat "$WORLD/keys/$name")" = "$key" ] && check_"$fn"; then
    timings+=("\"$name\":{\"reused\":true,\"seconds\":$(($(date +%s) - t0))}")
    return
  fi
  log "$name ($key)"
  rm -f "$WORLD/keys/$name"
  "$fn"
  check_"$fn" || { log "$name: built, but its check fails"; exit 1; }
  echo "$key" >"$WORLD/keys/$name"
  timings+=("\"$name\":{\"reused\":false,\"seconds\":$(($(date +%s) - t0))}")
}
hash_of() { (cd "$repo" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
script_hash=$(sed -n '/^# ---- recipes/,$p' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)

# ---- host -------------------------------------------------------------------------------------
install_host_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  command -v jq >/dev/null || missing+=(jq)
  command -v file >/dev/null || missing+=(file)
  command -v sqlite3 >/dev/null || missing+=(sqlite3)
  command -v curl >/dev/null || missing+=(curl)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
  # Debian's package starts a registry of its own on :5000 under systemd; ours is the one to use.
  if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
    systemctl stop docker-registry
  fi
}

# ---- act --------------------------------------------------------------------------------------
# act (nektos/act) for e2e/act.test.ts, at the version e2e/act/go.mod pins; above the recipes, so it
# is no part of the images' keys.
ACT_VERSION=$(cd "$repo/e2e/act" && go list -m -f '{{.Version}}' github.com/nektos/act)
build_act() { GDA_E2E_WORLD="$WORLD" bash "$repo/e2e/act/build.sh" >/dev/null; }
check_build_act() { [ "$("$WORLD/act-$ACT_VERSION/act" --version 2>/dev/null)" = "act version ${ACT_VERSION#v}" ]; }

# ---- recipes (everything below is part of each artifact's key) ---------------------------------

# Go programs, one directory each, keyed by version.
go_tool() { # go_tool NAME MODULE@VERSION [go install flags...]
  local name=$1 pkg=$2
  shift 2
  GOBIN="$WORLD/tmp/gobin-$name" go install "$@" "$pkg" >&2
  install -m755 "$WORLD/tmp/gobin-$name/$(basename "${pkg%@*}")" "$WORLD/bin/$name"
  rm -rf "$WORLD/tmp/gobin-$name"
}
build_crane() { go_tool "crane-$CRANE_VERSION" "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" -ldflags "-s -w"; }
check_build_crane() { [ -x "$WORLD/bin/crane-$CRANE_VERSION" ]; }
build_golangci_lint() {
  go_tool "golangci-lint-$GOLANGCI_LINT_VERSION" "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION" \
    -ldflags "-s -w -X main.version=${GOLANGCI_LINT_VERSION#v}"
}
check_build_golangci_lint() { [ -x "$WORLD/bin/golangci-lint-$GOLANGCI_LINT_VERSION" ]; }
build_trivy() {
  GOEXPERIMENT=jsonv2 go_tool "trivy-$TRIVY_VERSION" "github.com/aquasecurity/trivy/cmd/trivy@v$TRIVY_VERSION" \
    -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=$TRIVY_VERSION"
}
check_build_trivy() { [ -x "$WORLD/bin/trivy-$TRIVY_VERSION" ]; }
build_cni() {
  local p
  for p in main/bridge main/loopback meta/firewall ipam/host-local; do
    GOBIN="$WORLD/cni-$CNI_VERSION" go install -ldflags "-s -w" "github.com/containernetworking/plugins/plugins/$p@$CNI_VERSION" >&2
  done
}
check_build_cni() { [ -x "$WORLD/cni-$CNI_VERSION/host-local" ]; }

dagger_key=""
build_dagger() {
  local out="$WORLD/dagger-$dagger_key" stamp tags=dfexcludepatterns,dfparents
  stamp="-X 'github.com/dagger/dagger/engine.Version=v$DAGGER_VERSION' -X 'github.com/dagger/dagger/engine.Tag=v$DAGGER_VERSION'"
  mkdir -p "$out.tmp"
  (
    cd "$repo/e2e/daggerbuild"
    go build -tags $tags -ldflags "-s -w $stamp" -o "$out.tmp/dagger-engine" github.com/dagger/dagger/cmd/engine
    go build -ldflags "-s -w $stamp" -o "$out.tmp/dagger" github.com/dagger/dagger/cmd/dagger
    go build -tags $tags -ldflags "-s -w" -o "$out.tmp/dagger-init" github.com/dagger/dagger/cmd/init
    go build -tags $tags -ldflags "-s -w" -o "$out.tmp/dial-stdio" github.com/dagger/dagger/cmd/dialstdio
    go build -tags $tags -ldflags "-s -w" -o "$out.tmp/dnsname" github.com/dagger/dagger/cmd/dnsname
  ) >&2
  rm -rf "$out" && mv "$out.tmp" "$out"
}
check_build_dagger() { "$WORLD/dagger-$dagger_key/dagger" version 2>/dev/null | grep -q "v$DAGGER_VERSION"; }

# Debian root file systems as tarballs, one per package list.
rootfs() { # rootfs NAME PACKAGES [mmdebstrap options...] -> prints the tarball path
  local name=$1 packages=$2 key tar
  shift 2
  key=$(printf '%s %s %s' "$packages" "$*" "$SUITE" | sha256sum | cut -c1-12)
  tar="$WORLD/rootfs/$name-$key.tar"
  if [ ! -s "$tar" ]; then
    log "rootfs $name"
    mmdebstrap --quiet --format=tar --variant=minbase ${packages:+--include="$packages"} "$@" \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
      "$SUITE" "$tar.tmp" "$MIRROR" >&2
    mv "$tar.tmp" "$tar"
  fi
  echo "$tar"
}

# A Go toolchain from the module proxy as an image layer at /usr/local/go.
go_layer() { # go_layer VERSION ARCH -> prints the tarball path
  local version=$1 arch=$2 tar="$WORLD/layers/go$1.linux-$2.tar" dir copy="$WORLD/tmp/go$1.linux-$2"
  if [ ! -s "$tar" ]; then
    dir=$(cd "$WORLD/tmp" && GOFLAGS=-mod=mod go mod download -json "golang.org/toolchain@v0.0.1-go$version.linux-$arch" | jq -r .Dir)
    # The module cache keeps every file read-only and without its executable bit; the go command
    # restores the bits of bin/ and pkg/tool/ when it switches to a toolchain, and so does this.
    rm -rf "$copy" && mkdir -p "$copy/usr/local" && cp -r "$dir" "$copy/usr/local/go" && chmod -R u+w "$copy"
    chmod 755 "$copy"/usr/local/go/bin/* "$copy"/usr/local/go/pkg/tool/*/*
    tar --numeric-owner --owner=0 --group=0 -C "$copy" -cf "$tar.tmp" usr
    rm -rf "$copy"
    mv "$tar.tmp" "$tar"
  fi
  echo "$tar"
}

# ---- registry -------------------------------------------------------------------------------
REG_LOCAL="127.0.0.1:$REGISTRY_PORT"
crane() { "$WORLD/bin/crane-$CRANE_VERSION" "$@"; }
registry_up() { curl -fsS "http://$REG_LOCAL/v2/" >/dev/null 2>&1; }
start_registry() {
  mkdir -p "$WORLD/registry/data"
  cat >"$WORLD/registry/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $WORLD/registry/data }
  delete: { enabled: true }
http: { addr: "0.0.0.0:$REGISTRY_PORT" }
EOF
  nohup docker-registry serve "$WORLD/registry/config.yml" >"$WORLD/registry/registry.log" 2>&1 &
  for _ in $(seq 1 50); do registry_up && return; sleep 0.2; done
  log "the registry did not answer on $REG_LOCAL; $WORLD/registry/registry.log:"
  tail -n 20 "$WORLD/registry/registry.log" >&2
  return 1
}
# An image whose config carries the key it was built from, so a rerun can tell it is current.
has_image_key() { [ "$(crane config "$REG_LOCAL/$1" 2>/dev/null | jq -r '.config.Labels["io.github.go-dagger-action.e2e-key"] // ""')" = "$2" ]; }
image_key() { printf '%s' "$*" | sha256sum | cut -c1-16; }

# push_image REF PLATFORM KEY CONFIG-FLAGS... -- LAYERS...: one single-platform image
push_image() {
  local ref=$1 platform=$2 key=$3 flags=() layers=()
  shift 3
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  for l in "$@"; do layers+=(-f "$l"); done
  crane append --oci-empty-base "${layers[@]}" -t "$REG_LOCAL/$ref" >/dev/null
  crane mutate "$REG_LOCAL/$ref" --set-platform "$platform" -l "io.github.go-dagger-action.e2e-key=$key" "${flags[@]}" -t "$REG_LOCAL/$ref" >/dev/null
}
# push_index REF PLATFORM-REFS...: an OCI index over single-platform images
push_index() {
  local ref=$1 args=()
  shift
  for m in "$@"; do args+=(-m "$REG_LOCAL/$m"); done
  crane index append "${args[@]}" -t "$REG_LOCAL/$ref" >/dev/null
}

GOLANG_PACKAGES=ca-certificates,curl,wget,git,openssh-client,gnupg,procps,g++,gcc,libc6-dev,make,pkg-config,xz-utils,unzip
golang_env() { # the official golang image's config, with this machine's module proxy
  echo -w /go --cmd bash -e "GOLANG_VERSION=$1" -e GOTOOLCHAIN=local -e GOPATH=/go \
    -e PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    -e "GOPROXY=$(go env GOPROXY)" -e "GOSUMDB=$(go env GOSUMDB)"
}
gopath_layer() {
  local tar="$WORLD/layers/gopath.tar" d="$WORLD/tmp/gopath"
  if [ ! -s "$tar" ]; then
    rm -rf "$d" && mkdir -p "$d/go/src" "$d/go/bin" && chmod -R 1777 "$d/go"
    tar --numeric-owner --owner=0 --group=0 -C "$d" -cf "$tar" go
  fi
  echo "$tar"
}

# This machine reaches the module proxy through a TLS-intercepting egress, whose CA only the host's
# bundle has: the golang images carry that bundle, so `go mod download` in the engine works as on a runner.
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
ca_layer() {
  local tar="$WORLD/layers/ca-certificates.tar" d="$WORLD/tmp/ca"
  rm -rf "$d" && mkdir -p "$d/etc/ssl/certs" && cp "$HOST_CA_BUNDLE" "$d/etc/ssl/certs/ca-certificates.crt"
  tar --numeric-owner --owner=0 --group=0 -C "$d" -cf "$tar" etc
  echo "$tar"
}
golang_key() { image_key golang "$1" "$GOLANG_PACKAGES" "$script_hash" "$(sha256sum <"$HOST_CA_BUNDLE" | cut -c1-12)"; }
build_golang_images() {
  local v base
  base=$(rootfs golang "$GOLANG_PACKAGES")
  for v in $GO_VERSIONS; do
    has_image_key "library/golang:$v" "$(golang_key "$v")" && continue
    log "golang:$v"
    # shellcheck disable=SC2046
    push_image "library/golang:$v-amd64" linux/amd64 "$(golang_key "$v")" $(golang_env "$v") -- "$base" "$(go_layer "$v" amd64)" "$(gopath_layer)" "$(ca_layer)"
    push_index "library/golang:$v" "library/golang:$v-amd64"
  done
}
check_build_golang_images() { local v; for v in $GO_VERSIONS; do has_image_key "library/golang:$v" "$(golang_key "$v")" || return 1; done; }

# Served under the path that the gcr.io mirror (REG/gcr.io) maps it to.
DISTROLESS=gcr.io/distroless/static-debian12:nonroot
distroless_key() { image_key distroless "$script_hash"; }
build_distroless() {
  local d="$WORLD/tmp/distroless" tar="$WORLD/layers/distroless.tar" p a
  rm -rf "$d" && mkdir -p "$d"/{tmp,home/nonroot,etc/ssl/certs,var/lib/dpkg/status.d} "$WORLD/tmp/debs"
  (cd "$WORLD/tmp/debs" && rm -f ./*.deb && apt-get download base-files netbase tzdata >&2)
  for p in "$WORLD"/tmp/debs/*.deb; do
    dpkg-deb -x "$p" "$d"
    { dpkg-deb -f "$p"; echo "Status: install ok installed"; } >"$d/var/lib/dpkg/status.d/$(dpkg-deb -f "$p" Package)"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$d/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$d/etc/group"
  echo 'hosts: files dns' >"$d/etc/nsswitch.conf"
  chmod 1777 "$d/tmp" && chown 65532:65532 "$d/home/nonroot"
  tar --numeric-owner -C "$d" -cf "$tar" .
  # No executables: the same layer serves both platforms, as in the real image.
  for a in amd64 arm64; do
    push_image "$DISTROLESS-$a" "linux/$a" "$(distroless_key)" -u 65532 -w /home/nonroot \
      -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt -- "$tar"
  done
  push_index "$DISTROLESS" "$DISTROLESS-amd64" "$DISTROLESS-arm64"
}
check_build_distroless() {
  [ "$(crane manifest "$REG_LOCAL/$DISTROLESS" 2>/dev/null | jq -r '[.manifests[].platform.architecture] | sort | join(",")')" = amd64,arm64 ] &&
    has_image_key "$DISTROLESS-arm64" "$(distroless_key)"
}

# golangci-lint's image is the golang image (of this machine's Go) with the binary and a git config
# that trusts every directory, as the official one.
LINT_IMAGE=golangci/golangci-lint:$GOLANGCI_LINT_VERSION
lint_key() { image_key lint "$GOLANGCI_LINT_VERSION" "$HOST_GO" "$GOLANG_PACKAGES" "$script_hash" "$(sha256sum <"$HOST_CA_BUNDLE" | cut -c1-12)"; }
build_lint_image() {
  local d="$WORLD/tmp/lint" tar="$WORLD/layers/golangci-lint-$GOLANGCI_LINT_VERSION.tar"
  rm -rf "$d" && mkdir -p "$d/usr/bin" "$d/root"
  install -m755 "$WORLD/bin/golangci-lint-$GOLANGCI_LINT_VERSION" "$d/usr/bin/golangci-lint"
  printf '[safe]\n\tdirectory = *\n' >"$d/root/.gitconfig"
  tar --numeric-owner --owner=0 --group=0 -C "$d" -cf "$tar" .
  # shellcheck disable=SC2046
  push_image "$LINT_IMAGE-amd64" linux/amd64 "$(lint_key)" $(golang_env "$HOST_GO") -e GOROOT=/usr/local/go -e GOTOOLCHAIN=auto --cmd golangci-lint -- \
    "$(rootfs golang "$GOLANG_PACKAGES")" "$(go_layer "$HOST_GO" amd64)" "$(gopath_layer)" "$(ca_layer)" "$tar"
  push_index "$LINT_IMAGE" "$LINT_IMAGE-amd64"
}
check_build_lint_image() { has_image_key "$LINT_IMAGE" "$(lint_key)"; }

# trivy, and its vulnerability database as the OCI artifact trivy downloads: one advisory that the
# tests planted (e2e/trivy-db). trivy fetches it from inside the scan's container, where the
# engine's mirrors do not apply, so the image points trivy at this registry.
TRIVY_IMAGE=aquasec/trivy:$TRIVY_VERSION
TRIVY_DB=aquasec/trivy-db:2
trivy_key() { image_key trivy "$TRIVY_VERSION" "$REG_GATEWAY" "$script_hash" "$(hash_of e2e/trivy-db)"; }
build_trivy_image() {
  local d="$WORLD/tmp/trivy" tar="$WORLD/layers/trivy-$TRIVY_VERSION.tar" db="$WORLD/tmp/trivy-db"
  rm -rf "$d" "$db" && mkdir -p "$d/usr/local/bin"
  install -m755 "$WORLD/bin/trivy-$TRIVY_VERSION" "$d/usr/local/bin/trivy"
  tar --numeric-owner --owner=0 --group=0 -C "$d" -cf "$tar" .
  push_image "$TRIVY_IMAGE-amd64" linux/amd64 "$(trivy_key)" --entrypoint trivy \
    -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    -e "TRIVY_DB_REPOSITORY=$REG_GATEWAY/$TRIVY_DB" -e TRIVY_INSECURE=true \
    -e TRIVY_SKIP_JAVA_DB_UPDATE=true -e TRIVY_SKIP_CHECK_UPDATE=true -e TRIVY_SKIP_VERSION_CHECK=true \
    -e TRIVY_DISABLE_TELEMETRY=true -- "$(rootfs trivy ca-certificates,git)" "$tar"
  push_index "$TRIVY_IMAGE" "$TRIVY_IMAGE-amd64"
  (cd "$repo/e2e/trivy-db" && go run . -oci "$db/layout" "$db/out") >&2
  crane push "$db/layout" "$REG_LOCAL/$TRIVY_DB" >/dev/null
}
check_build_trivy_image() { has_image_key "$TRIVY_IMAGE" "$(trivy_key)" && crane manifest "$REG_LOCAL/$TRIVY_DB" >/dev/null 2>&1; }

# The state helper's image, in the daemon itself: Docker, not the engine, runs the helper.
HELPER_IMAGE=debian:bookworm-slim
helper_key() { image_key helper "$script_hash"; }
build_helper_image() {
  docker import -c "LABEL io.github.go-dagger-action.e2e-key=$(helper_key)" -c 'CMD ["bash"]' "$(rootfs helper "")" "$HELPER_IMAGE" >/dev/null
}
check_build_helper_image() { [ "$(docker image inspect -f '{{index .Config.Labels "io.github.go-dagger-action.e2e-key"}}' "$HELPER_IMAGE" 2>/dev/null)" = "$(helper_key)" ]; }

# The engine image, as the official one (REAL-ENGINE.md) on Debian, in the daemon under the name the
# action pulls by default, so the action's own lifecycle code starts it unchanged.
ENGINE_PACKAGES=ca-certificates,openssl,git,openssh-client,pigz,xz-utils,iptables,nftables,dnsmasq-base,tini,mount,e2fsprogs,ripgrep,sqlite3,libseccomp2,runc,iproute2,procps,curl
engine_key() { image_key engine "$dagger_key" "$CNI_VERSION" "$ENGINE_PACKAGES" "$script_hash" "$(hash_of e2e/engine-entrypoint.sh)"; }
ENGINE_IMAGE=""
build_engine_image() {
  local b="$WORLD/dagger-$dagger_key" c="$WORLD/cni-$CNI_VERSION" tar
  tar=$(rootfs engine "$ENGINE_PACKAGES" \
    --customize-hook="install -m755 $b/dagger-engine $b/dagger-init $b/dagger \"\$1/usr/local/bin/\"" \
    --customize-hook="install -m755 $b/dial-stdio \"\$1/usr/bin/dial-stdio\" && ln -sf dial-stdio \"\$1/usr/bin/buildctl\"" \
    --customize-hook="ln -sf /usr/sbin/runc \"\$1/usr/local/bin/runc\" && ln -sf /usr/bin/tini \"\$1/usr/local/bin/tini\"" \
    --customize-hook="mkdir -p \"\$1/opt/cni/bin\" && install -m755 $b/dnsname $c/bridge $c/loopback $c/firewall $c/host-local \"\$1/opt/cni/bin/\"" \
    --customize-hook="ln -sf /usr/sbin/xtables-legacy-multi \"\$1/usr/bin/xtables-legacy-multi\" && ln -sf /usr/sbin/xtables-nft-multi \"\$1/usr/bin/xtables-nft-multi\"" \
    --customize-hook="mkdir -p \"\$1/etc/dagger\" \"\$1/var/lib/dagger\" \"\$1/usr/local/share/dagger/content\" && echo '{}' > \"\$1/etc/dagger/engine.json\" && : > \"\$1/etc/dagger/engine.toml\"" \
    --customize-hook="install -m755 $repo/e2e/engine-entrypoint.sh \"\$1/usr/local/bin/dagger-entrypoint.sh\"" \
    --customize-hook="echo $(engine_key) > \"\$1/etc/dagger/e2e-key\"")
  docker import \
    -c 'ENTRYPOINT ["/usr/local/bin/dagger-entrypoint.sh"]' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin' \
    -c 'ENV _EXPERIMENTAL_DAGGER_RUNNER_HOST=unix:///run/dagger/engine.sock' \
    -c "LABEL io.github.go-dagger-action.e2e-key=$(engine_key) org.opencontainers.image.version=v$DAGGER_VERSION" \
    "$tar" "$ENGINE_IMAGE" >/dev/null
}
check_build_engine_image() { [ "$(docker image inspect -f '{{index .Config.Labels "io.github.go-dagger-action.e2e-key"}}' "$ENGINE_IMAGE" 2>/dev/null)" = "$(engine_key)" ]; }

# ---- main -----------------------------------------------------------------------------------
install_host_packages
ensure_docker_daemon
# The address engines reach this host at: the default bridge's gateway (its IPAM config names it
# only when it was set explicitly, so the address of docker0 otherwise).
gateway=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
[ -n "$gateway" ] || gateway=$(ip -4 -o addr show docker0 | awk '{split($4, a, "/"); print a[1]; exit}')
[ -n "$gateway" ] || { log "cannot tell the address of Docker's default bridge"; exit 1; }
REG_GATEWAY="$gateway:$REGISTRY_PORT"
ENGINE_IMAGE=registry.dagger.io/engine:v$DAGGER_VERSION
dagger_key="v$DAGGER_VERSION-$(hash_of e2e/daggerbuild)"

step crane "$CRANE_VERSION" build_crane
registry_up || start_registry
step helper-image "$(helper_key)" build_helper_image
step golang-images "$(for v in $GO_VERSIONS; do golang_key "$v"; done | paste -sd,)" build_golang_images
step distroless "$(distroless_key)" build_distroless
step dagger "$dagger_key" build_dagger
step cni "$CNI_VERSION" build_cni
step engine-image "$(engine_key)" build_engine_image
step golangci-lint "$GOLANGCI_LINT_VERSION" build_golangci_lint
step lint-image "$(lint_key)" build_lint_image
step trivy "$TRIVY_VERSION" build_trivy
step trivy-image "$(trivy_key)" build_trivy_image
step act "$ACT_VERSION" build_act
[ -z "${ONLY:-}" ] || exit 0
rm -rf "$WORLD/tmp"/*

engine_config=$(jq -cn --arg reg "$REG_GATEWAY" '{
  registries: {
    "docker.io": { mirrors: [$reg] },
    "gcr.io": { mirrors: [($reg + "/gcr.io")] },
    "ghcr.io": { mirrors: [($reg + "/ghcr.io")] },
    ($reg): { http: true }
  }
}')
log "ready in $(($(date +%s) - started)) s: registry $REG_LOCAL (engines reach it at $REG_GATEWAY)"
printf '{%s}\n' "$(IFS=,; echo "${timings[*]}")" >"$WORLD/timings.json"
jq -cn --arg cli "$WORLD/dagger-$dagger_key/dagger" --arg engine "$ENGINE_IMAGE" --argjson config "$engine_config" \
  --arg helper "$HELPER_IMAGE" --arg registry "$REG_LOCAL" --arg world "$WORLD" --arg act "$WORLD/act-$ACT_VERSION/act" \
  --slurpfile timings "$WORLD/timings.json" \
  '{daggerCli: $cli, engineImage: $engine, engineConfig: $config, helperImage: $helper, registry: $registry, world: $world, act: $act, timings: $timings[0]}' \
  >"$WORLD/world.json"
cat "$WORLD/world.json"

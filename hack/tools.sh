#!/usr/bin/env bash
# Builds the real binaries the tests and the demo need — kube-apiserver, etcd,
# kubectl, kube-controller-manager (its garbage collector deletes what a
# deleted SealedSecret owned), kustomize and Flux's source- and
# kustomize-controller — from the Go module proxy, once, into a cache
# outside the repo. Later runs (and fresh clones) reuse the cache. As root it
# also installs Debian's pre-commit, podman and runc for the tests.
#
#   hack/tools.sh            build what is missing, print the bin directory
#   hack/tools.sh env        print shell exports (KUBEBUILDER_ASSETS, KSEAL_KUBECTL, ...)
#   hack/tools.sh demo-env   the same for `make demo`, which needs only
#                            kube-apiserver, etcd and kubectl: nothing else is built
#   hack/tools.sh helm       build helm alone, print its path (make release)
#   hack/tools.sh cosign     build cosign alone, print its path (make release
#                            signs with it; its test needs it too)
#   hack/tools.sh flux       build Flux's source- and kustomize-controller alone,
#                            print the directory holding them and their CRDs
#
# Versions are pinned here and nowhere else.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-5.8.2}
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-0.23.0}
HELM_VERSION=${HELM_VERSION:-3.22.0}
KUBESEAL_VERSION=${KUBESEAL_VERSION:-0.27.1}
SOPS_VERSION=${SOPS_VERSION:-3.13.3}
STATICCHECK_VERSION=${STATICCHECK_VERSION:-0.8.2}
VAULT_VERSION=${VAULT_VERSION:-1.19.0}
COSIGN_VERSION=${COSIGN_VERSION:-2.6.5}
FLUX_CONTROLLERS_VERSION=${FLUX_CONTROLLERS_VERSION:-1.9.6}

CACHE=${KSEAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kseal}
K8S_BIN=$CACHE/k8s/$K8S_VERSION-etcd$ETCD_VERSION-r2
TOOLS_BIN=$CACHE/tools
FLUX_DIR=$CACHE/flux/$FLUX_CONTROLLERS_VERSION

log() { [ -n "${QUIET:-}" ] || echo "tools: $*" >&2; }

# build_in_module DIR OUT PKG [LDFLAGS]: builds PKG from the throwaway module in DIR.
build_in_module() {
  local dir=$1 out=$2 pkg=$3 ldflags="-s ${4:-}"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$out.tmp" "$pkg" && mv "$out.tmp" "$out")
}

K8S_CMDS="kube-apiserver kubectl kube-controller-manager"

# build_k8s [CMD...]: builds those of the Kubernetes commands (all of
# K8S_CMDS by default) that are missing.
build_k8s() {
  local missing=""
  for c in ${*:-$K8S_CMDS}; do [ -x "$K8S_BIN/$c" ] || missing="$missing $c"; done
  [ -n "$missing" ] || return 0
  log "building$missing v$K8S_VERSION (first run only, ~5-10 min)"
  local work; work=$(mktemp -d)
  mkdir -p "$K8S_BIN"
  (
    cd "$work"
    go mod init kseal.local/k8sbuild >/dev/null 2>&1
    go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
    # k8s.io/kubernetes points its staging modules at ./staging; point each
    # at the published module of the same release instead.
    gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
    for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod"); do
      go mod edit -replace="$m=$m@v0.${K8S_VERSION#1.}"
    done
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
    go mod tidy >/dev/null 2>&1 || go mod tidy
  )
  # Stamp the release so `kubectl version` and version-skew checks work.
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  local v="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  v="$v -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  for c in $missing; do
    build_in_module "$work" "$K8S_BIN/$c" "k8s.io/kubernetes/cmd/$c" "$v"
  done
  rm -rf "$work"
}

build_etcd() {
  [ -x "$K8S_BIN/etcd" ] && return
  log "building etcd v$ETCD_VERSION (first run only, ~1 min)"
  local work; work=$(mktemp -d)
  mkdir -p "$K8S_BIN"
  (
    cd "$work"
    go mod init kseal.local/etcdbuild >/dev/null 2>&1
    go mod edit -require="go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
      go mod edit -replace="go.etcd.io/etcd/$m=go.etcd.io/etcd/$m@v$ETCD_VERSION"
    done
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    go mod tidy >/dev/null 2>&1 || go mod tidy
  )
  build_in_module "$work" "$K8S_BIN/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$work"
}

# go_install NAME PKG@VERSION: installs a plain `go install`-able tool.
go_install() {
  local name=$1 pkg=$2
  [ -x "$TOOLS_BIN/$name" ] && return
  log "installing $pkg (first run only)"
  mkdir -p "$TOOLS_BIN"
  GOBIN=$TOOLS_BIN CGO_ENABLED=0 go install "$pkg"
}

# build_vault: the Vault server for the Vault provider's tests. Newer tags do
# not build from the module proxy; v1.19.0 does with these replaces (~7 min).
build_vault() {
  [ -x "$TOOLS_BIN/vault" ] && return
  log "building vault v$VAULT_VERSION (first run only, ~7 min)"
  local work; work=$(mktemp -d)
  mkdir -p "$TOOLS_BIN"
  (
    cd "$work"
    go mod init kseal.local/vaultbuild >/dev/null 2>&1
    go mod edit -require="github.com/hashicorp/vault@v$VAULT_VERSION"
    go mod edit \
      -replace=github.com/hashicorp/vault/api=github.com/hashicorp/vault/api@v1.16.0 \
      -replace=github.com/hashicorp/vault/api/auth/approle=github.com/hashicorp/vault/api/auth/approle@v0.1.0 \
      -replace=github.com/hashicorp/vault/api/auth/kubernetes=github.com/hashicorp/vault/api/auth/kubernetes@v0.6.0 \
      -replace=github.com/hashicorp/vault/api/auth/userpass=github.com/hashicorp/vault/api/auth/userpass@v0.1.0 \
      -replace=github.com/hashicorp/vault/sdk=github.com/hashicorp/vault/sdk@v0.15.2 \
      -replace=github.com/99designs/keyring=github.com/Jeffail/keyring@v1.2.3 \
      -replace=github.com/ma314smith/signedxml@v1.1.1=github.com/moov-io/signedxml@v1.1.1
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/hashicorp/vault"\n' > tools.go
    go mod tidy >/dev/null 2>&1 || go mod tidy
  )
  build_in_module "$work" "$TOOLS_BIN/vault" github.com/hashicorp/vault
  rm -rf "$work"
}

# build_flux_controller NAME: Flux's NAME (source-controller or
# kustomize-controller) for the Flux end-to-end test, and its CRDs. v1.10
# needs Go 1.27; v1.9.6 builds with Go 1.26 from a throwaway module that
# requires the controller and its api module at the same version (the
# controller's own go.mod points the api at ./api) and copies the
# controller's other replaces, which a dependency's go.mod does not pass
# on: without go-digest's, the build fails on digest.RegisterAlgorithm.
build_flux_controller() {
  local name=$1 mod=github.com/fluxcd/$1 v=v$FLUX_CONTROLLERS_VERSION
  local out=$FLUX_DIR/$name
  [ -x "$out" ] && return
  log "building flux $name $v (first run only)"
  local work; work=$(mktemp -d)
  mkdir -p "$FLUX_DIR/crd"
  (
    cd "$work"
    go mod init "kseal.local/${name}build" >/dev/null 2>&1
    go mod edit -require="$mod@$v" -require="$mod/api@$v"
    local info; info=$(go mod download -json "$mod@$v")
    local gomod dir
    gomod=$(printf '%s' "$info" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
    dir=$(printf '%s' "$info" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
    # Each replace line as OLD[@V]=NEW[@V]; ./api becomes the published module.
    sed -e 's#//.*##' "$gomod" | awk '/=>/ {
        sub(/^[ \t]*replace[ \t]+/, ""); split($0, side, "=>")
        n = split(side[1], l, " "); m = split(side[2], r, " ")
        print (n > 1 ? l[1] "@" l[2] : l[1]) "=" (m > 1 ? r[1] "@" r[2] : r[1]) }' |
      while IFS= read -r r; do
        case $r in
          *=./*) go mod edit -replace="${r%%=*}=${r%%=*}@$v" ;;
          *) go mod edit -replace="$r" ;;
        esac
      done
    # The module proxy answers 403 for github.com/fluxcd/pkg/artifact
    # v0.18.2 and v0.18.3, which source-controller v1.9.6 requires; v0.18.1
    # is served and builds it.
    if [ "$name" = source-controller ]; then
      go mod edit -replace=github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.1
    fi
    # Resolve what the controller's packages import, not `go mod tidy`:
    # tidy also wants its tests' dependencies, some of which the proxy
    # does not serve either (github.com/fluxcd/pkg/helmtestserver v0.40.2).
    go list -mod=mod -deps "$mod" >/dev/null
    cp "$dir"/config/crd/bases/*.yaml "$FLUX_DIR/crd/"
    chmod u+w "$FLUX_DIR"/crd/*.yaml
  )
  build_in_module "$work" "$out" "$mod"
  rm -rf "$work"
}

# go_install_as NAME PKG@VERSION: go install under another binary name.
go_install_as() {
  local name=$1 pkg=$2
  [ -x "$TOOLS_BIN/$name" ] && return
  log "installing $pkg as $name (first run only)"
  local gobin; gobin=$(mktemp -d)
  GOBIN=$gobin CGO_ENABLED=0 go install "$pkg"
  mkdir -p "$TOOLS_BIN"
  mv "$gobin"/* "$TOOLS_BIN/$name"
  rm -rf "$gobin"
}

# install_pre_commit: pre-commit for the hook tests, from Debian's package
# (the system's when installed; as root, apt-get installs it once).
install_pre_commit() {
  [ -x "$TOOLS_BIN/pre-commit" ] && return
  if ! command -v pre-commit >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing Debian's pre-commit package (first run only)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q pre-commit >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pre-commit >/dev/null; }
    else
      echo "tools: pre-commit is missing: install it (apt-get install pre-commit)" >&2
      return 1
    fi
  fi
  mkdir -p "$TOOLS_BIN"
  ln -sf "$(command -v pre-commit)" "$TOOLS_BIN/pre-commit"
}

# install_podman: podman and runc, from Debian's packages (as root,
# apt-get installs them once), for TestImageRuns, which runs the controller
# image. crun, podman's default runtime, refuses this machine's hybrid
# cgroups, and podman's default ulimits exceed its hard limits: the
# containers.conf written here turns both off; the test passes it in
# CONTAINERS_CONF and --runtime $KSEAL_RUNC.
install_podman() {
  if ! command -v podman >/dev/null 2>&1 || [ ! -x /usr/sbin/runc ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing Debian's podman and runc packages (first run only)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >/dev/null; }
    else
      echo "tools: podman and runc are missing: install them (apt-get install podman runc)" >&2
      return 1
    fi
  fi
  mkdir -p "$CACHE/podman"
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = "cgroupfs"\n' > "$CACHE/podman/containers.conf.tmp"
  mv "$CACHE/podman/containers.conf.tmp" "$CACHE/podman/containers.conf"
}

# build_demo: what `make demo` runs: a local API server and kubectl.
build_demo() {
  build_etcd
  build_k8s kube-apiserver kubectl
}

build_all() {
  build_etcd
  build_k8s
  go_install kustomize "sigs.k8s.io/kustomize/kustomize/v5@v$KUSTOMIZE_VERSION"
  go_install controller-gen "sigs.k8s.io/controller-tools/cmd/controller-gen@v$CONTROLLER_TOOLS_VERSION"
  go_install helm "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  go_install kubeseal "github.com/bitnami-labs/sealed-secrets/cmd/kubeseal@v$KUBESEAL_VERSION"
  go_install_as sealed-secrets-controller "github.com/bitnami-labs/sealed-secrets/cmd/controller@v$KUBESEAL_VERSION"
  go_install sops "github.com/getsops/sops/v3/cmd/sops@v$SOPS_VERSION"
  go_install staticcheck "honnef.co/go/tools/cmd/staticcheck@v$STATICCHECK_VERSION"
  build_vault
  go_install cosign "github.com/sigstore/cosign/v2/cmd/cosign@v$COSIGN_VERSION" # TestReleaseSigned
  build_flux_controller source-controller
  build_flux_controller kustomize-controller
  install_pre_commit || log "without pre-commit, TestPreCommitTryRepo skips (and fails under CI=true)"
  install_podman || log "without podman and runc, TestImageRuns skips (and fails under CI=true)"
}

case "${1:-build}" in
  build) build_all; echo "$K8S_BIN" ;;
  env)
    QUIET=1 build_all
    echo "export KUBEBUILDER_ASSETS=$K8S_BIN"
    echo "export KSEAL_KUBECTL=$K8S_BIN/kubectl"
    echo "export KSEAL_KUSTOMIZE=$TOOLS_BIN/kustomize"
    echo "export KSEAL_CONTROLLER_GEN=$TOOLS_BIN/controller-gen"
    echo "export KSEAL_HELM=$TOOLS_BIN/helm"
    echo "export KSEAL_KUBESEAL=$TOOLS_BIN/kubeseal"
    echo "export KSEAL_SEALED_SECRETS_CONTROLLER=$TOOLS_BIN/sealed-secrets-controller"
    echo "export KSEAL_SOPS=$TOOLS_BIN/sops"
    echo "export KSEAL_STATICCHECK=$TOOLS_BIN/staticcheck"
    echo "export KSEAL_VAULT=$TOOLS_BIN/vault"
    echo "export KSEAL_COSIGN=$TOOLS_BIN/cosign"
    echo "export KSEAL_FLUX_SOURCE_CONTROLLER=$FLUX_DIR/source-controller"
    echo "export KSEAL_FLUX_KUSTOMIZE_CONTROLLER=$FLUX_DIR/kustomize-controller"
    echo "export KSEAL_FLUX_CRDS=$FLUX_DIR/crd"
    if [ -x "$TOOLS_BIN/pre-commit" ]; then echo "export KSEAL_PRE_COMMIT=$TOOLS_BIN/pre-commit"; fi
    if command -v podman >/dev/null 2>&1 && [ -x /usr/sbin/runc ] && [ -f "$CACHE/podman/containers.conf" ]; then
      echo "export KSEAL_PODMAN=$(command -v podman) KSEAL_RUNC=/usr/sbin/runc KSEAL_CONTAINERS_CONF=$CACHE/podman/containers.conf"
    fi
    ;;
  demo-env)
    build_demo
    echo "export KUBEBUILDER_ASSETS=$K8S_BIN"
    echo "export KSEAL_KUBECTL=$K8S_BIN/kubectl"
    ;;
  helm)
    go_install helm "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
    echo "$TOOLS_BIN/helm"
    ;;
  cosign)
    go_install cosign "github.com/sigstore/cosign/v2/cmd/cosign@v$COSIGN_VERSION"
    echo "$TOOLS_BIN/cosign"
    ;;
  podman)
    install_podman
    echo "$CACHE/podman/containers.conf"
    ;;
  controller-gen)
    go_install controller-gen "sigs.k8s.io/controller-tools/cmd/controller-gen@v$CONTROLLER_TOOLS_VERSION"
    echo "$TOOLS_BIN/controller-gen"
    ;;
  flux)
    build_flux_controller source-controller
    build_flux_controller kustomize-controller
    echo "$FLUX_DIR"
    ;;
  pre-commit)
    install_pre_commit
    echo "$TOOLS_BIN/pre-commit"
    ;;
  *) echo "usage: $0 [build|env|demo-env|controller-gen|helm|cosign|flux|pre-commit|podman]" >&2; exit 2 ;;
esac

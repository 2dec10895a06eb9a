#!/usr/bin/env bash
# Builds every release artifact into dist/ (run through `make release`,
# which passes VERSION, IMAGE_REPO, RELEASE_GOFLAGS and RELEASE_LDFLAGS):
#
#   kseal_V_OS_ARCH.tar.gz|zip            kseal for linux, darwin (amd64, arm64), windows/amd64
#   kseal-controller_V_OS_ARCH.tar.gz     kseal-controller for linux, darwin (amd64, arm64)
#   *.cdx.json                            a CycloneDX SBOM per binary
#   kseal-controller_V_oci.tar            the controller image: OCI index, linux/amd64 + arm64
#   kseal-V.tgz                           the Helm chart
#   install.yaml                          config/install.yaml
#   krew/kseal.yaml                       the krew manifest (also written to plugins/kseal.yaml)
#   SHA256SUMS                            the sha256 of each of the above
#   SHA256SUMS.sig, kseal-controller_V_oci.sig
#                                         cosign signatures, when COSIGN_KEY is
#                                         given and RELEASE_SIGN is not
#                                         later (hack/release/sign.sh)
#
# Nothing but the Go module proxy is reached, and no Docker daemon is used.
# Every time stamp is SOURCE_DATE_EPOCH, the time of the commit that last
# changed release.env (the version bump), so the same commit gives the same
# bytes: `hack/release/release.sh --check` builds twice and compares.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VERSION:?run through make release}" "${IMAGE_REPO:?}" "${RELEASE_GOFLAGS:?}" "${RELEASE_LDFLAGS:?}"
check=${1:-}
log() { echo "release: $*" >&2; }

# A tagged build must be of the version release.env names.
if [ -n "${RELEASE_TAG:-}" ] && [ "$RELEASE_TAG" != "$VERSION" ]; then
  echo "release: tag $RELEASE_TAG but release.env says VERSION=$VERSION (make set-version, commit, tag again)" >&2
  exit 1
fi
go run ./hack/setversion -check >/dev/null
bash hack/release/sign.sh --preflight # a tagged release needs a key (or RELEASE_SIGN=later): fail before building

SOURCE_DATE_EPOCH=$(git log -1 --format=%ct -- release.env)
: "${SOURCE_DATE_EPOCH:?release.env has no commit: commit it first}"
SOURCE_DATE_RFC3339=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
REVISION=$(git rev-parse HEAD)
export VERSION IMAGE_REPO RELEASE_GOFLAGS RELEASE_LDFLAGS SOURCE_DATE_EPOCH SOURCE_DATE_RFC3339

# The pinned tools, built once per hack/release/go.sum and image writer.
CACHE=${KSEAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kseal}
tools=$CACHE/release/$(cat hack/release/go.sum hack/release/image/*.go | sha256sum | cut -c1-16)
if [ ! -x "$tools/goreleaser" ] || [ ! -x "$tools/cyclonedx-gomod" ] || [ ! -x "$tools/image" ]; then
  log "building goreleaser, cyclonedx-gomod and the image writer (first run only)"
  mkdir -p "$tools"
  (cd hack/release && env -u CGO_ENABLED go build -o "$tools/" \
    github.com/goreleaser/goreleaser/v2 github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod ./image)
fi
export PATH=$tools:$PATH # goreleaser runs the pinned cyclonedx-gomod
helm=$(bash hack/tools.sh helm)

release_once() {
  log "goreleaser: binaries, archives, SBOMs, krew manifest ($VERSION)"
  "$tools/goreleaser" release --snapshot --clean --skip=sign >&2
  local cv=${VERSION#v}
  log "image: kseal-controller $VERSION, linux/amd64 + linux/arm64"
  "$tools/image" -repo "$IMAGE_REPO" -version "$VERSION" -revision "$REVISION" -epoch "$SOURCE_DATE_EPOCH" \
    -bin "linux/amd64=$(ls dist/kseal-controller_linux_amd64*/kseal-controller)" \
    -bin "linux/arm64=$(ls dist/kseal-controller_linux_arm64*/kseal-controller)" \
    -o "dist/kseal-controller_${cv}_oci.tar"
  # helm package stamps the time it runs on each file: repack its output
  # with SOURCE_DATE_EPOCH, sorted, owned by root (helm reads it the same).
  local chart; chart=$(mktemp -d)
  "$helm" package charts/kseal -d "$chart" >/dev/null
  tar -xzf "$chart/kseal-$cv.tgz" -C "$chart"
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$chart" -cf - kseal | gzip -n -9 > "dist/kseal-$cv.tgz"
  rm -rf "$chart"
  cp config/install.yaml dist/install.yaml
  (
    cd dist
    shopt -s nullglob
    sha256sum -- *.tar.gz *.zip *.cdx.json *_oci.tar "kseal-$cv.tgz" install.yaml krew/kseal.yaml | LC_ALL=C sort -k2 > SHA256SUMS
  )
}

# verify_krew MANIFEST: every platform's archive is in dist/ with the
# manifest's sha256 and holds the manifest's bin; every kseal archive has
# a platform.
verify_krew() {
  local bin="" uri="" n=0
  while read -r key val; do
    case $key in
      -) [ "$val" ] && bin=${val#bin: } ;;
      uri:) uri=$val ;;
      sha256:)
        local f="dist/${uri##*/}"
        [ -f "$f" ] || { echo "release: $1: $uri is not a built archive" >&2; return 1; }
        [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$val" ] || { echo "release: $1: sha256 of ${f##*/} differs from the archive's" >&2; return 1; }
        { case $f in *.zip) unzip -Z1 "$f" ;; *) tar -tzf "$f" ;; esac; } | grep -qx "$bin" || { echo "release: $1: ${f##*/} holds no $bin" >&2; return 1; }
        case $uri in */releases/download/$VERSION/*) ;; *) echo "release: $1: $uri is not the $VERSION release" >&2; return 1 ;; esac
        n=$((n + 1)) ;;
    esac
  done < <(sed -n 's/^ *\(- bin: .*\|uri: .*\|sha256: .*\)$/\1/p' "$1")
  local archives; archives=$(ls dist/kseal_*.tar.gz dist/kseal_*.zip 2>/dev/null | wc -l)
  [ "$n" = "$archives" ] || { echo "release: $1: $n platforms, $archives kseal archives" >&2; return 1; }
}

release_once
verify_krew dist/krew/kseal.yaml
if [ "$check" = --check ]; then
  # The committed manifest must be the one these archives give.
  verify_krew plugins/kseal.yaml || { echo "release: plugins/kseal.yaml is stale: commit the one make release wrote" >&2; exit 1; }
  first=$(mktemp -d)
  trap 'rm -rf "$first" "$first.gocache"' EXIT
  cp -a dist/. "$first/"
  # The second build compiles everything again, in an empty build cache.
  GOCACHE=$first.gocache release_once
  rm -rf "$first.gocache"
  bad=0
  while read -r _ name; do
    cmp -s "$first/$name" "dist/$name" || { echo "differs: $name" >&2; bad=1; }
  done < <(cat dist/SHA256SUMS; echo "- SHA256SUMS")
  [ "$bad" = 0 ] || { echo "release: two builds differ" >&2; exit 1; }
  log "reproducible: two builds gave identical artifacts"
fi

cp dist/krew/kseal.yaml plugins/kseal.yaml
log "artifacts in dist/ (SHA256SUMS):"
(cd dist && while read -r _ name; do printf '  %-48s %6s\n' "$name" "$(du -h "$name" | cut -f1)"; done < SHA256SUMS) >&2
# Signed once, after the comparison: signatures differ on every run.
bash hack/release/sign.sh dist

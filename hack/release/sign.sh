#!/usr/bin/env bash
# Signs a built release with cosign and a key: `make release` runs it on
# dist/ once every artifact is built (and, for release-check, compared);
# `make release-sign` runs it alone. It writes
#
#   SHA256SUMS.sig             cosign sign-blob of SHA256SUMS, which names the
#                              sha256 of every artifact (the image archive too),
#                              so one signature covers them all
#   kseal-controller_V_oci.sig the controller image's cosign signature: an OCI
#                              layout of the signature image that `cosign sign`
#                              stores as IMAGE:sha256-<digest>.sig; the release
#                              workflow pushes it beside the image, where
#                              `cosign verify` looks for it
#
#   COSIGN_KEY       the private key, as cosign names keys: a file, env://VAR,
#                    a KMS URI. Unset: the artifacts are left unsigned (said
#                    plainly), except for a tagged release (RELEASE_TAG set),
#                    which fails: a published release is signed.
#   COSIGN_PASSWORD  the key's password (cosign reads it)
#   RELEASE_SIGN     "later": signing is a separate step (make release-sign,
#                    as the release workflow does), so that goreleaser, helm,
#                    the go toolchain and the tools built from the module
#                    proxy never run with the key in their environment. A
#                    tagged build then passes preflight without a key, signs
#                    nothing, and fails if a key is in its environment.
#                    `make release-sign` clears it.
#   COSIGN_PUB       the public key users verify with (default: cosign.pub at
#                    the repository root). Both signatures are verified with it
#                    before this succeeds, so a key that is not the published
#                    one fails the release instead of shipping signatures
#                    nobody can check.
#
# Signing is offline: no transparency log (--tlog-upload=false), no
# certificate, nothing but 127.0.0.1. `cosign sign` signs an image in a
# registry, so a registry (crane registry serve, pinned in hack/release/go.mod)
# is served on 127.0.0.1 while the image is signed, then stopped. ECDSA
# signatures differ on every run: they stay outside SHA256SUMS and out of the
# release-check comparison.
#
# `sign.sh --preflight` only checks that a key is given where one must be
# (make release runs it first, so a tagged build fails before it compiles).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${VERSION:?run through make release or make release-sign}" "${IMAGE_REPO:?}"
preflight=""
if [ "${1:-}" = --preflight ]; then preflight=1; shift; fi
dist=${1:-dist}
cv=${VERSION#v}
image=$dist/kseal-controller_${cv}_oci.tar
sigdir=$dist/kseal-controller_${cv}_oci.sig
log() { echo "release: $*" >&2; }

pub=${COSIGN_PUB:-cosign.pub}
# An earlier run's signatures would sign other artifacts, or look as if
# this run had signed.
[ -n "$preflight" ] || rm -rf "$dist/SHA256SUMS.sig" "$sigdir"
case ${RELEASE_SIGN:-} in
  "") ;;
  later)
    if [ -n "${COSIGN_KEY:-}${COSIGN_PRIVATE_KEY:-}${COSIGN_PASSWORD:-}" ]; then
      echo "release: RELEASE_SIGN=later and a COSIGN_ key or password is set: the build must not see the key; give it only to make release-sign (docs/release.md, Signing)" >&2
      exit 1
    fi
    [ -n "$preflight" ] && exit 0
    log "NOT SIGNED YET (RELEASE_SIGN=later): run make release-sign on $dist before publishing (docs/release.md, Signing)"
    exit 0 ;;
  *) echo "release: RELEASE_SIGN=$RELEASE_SIGN: the only value is later" >&2; exit 1 ;;
esac
if [ -z "${COSIGN_KEY:-}" ]; then
  if [ -n "${RELEASE_TAG:-}" ]; then
    echo "release: $RELEASE_TAG is a tagged release and COSIGN_KEY is not set: a published release is signed (docs/release.md, Signing)" >&2
    exit 1
  fi
  [ -n "$preflight" ] && exit 0
  log "UNSIGNED: COSIGN_KEY is not set, so SHA256SUMS and the controller image are not signed (docs/release.md, Signing)"
  exit 0
fi
[ -f "$pub" ] || { echo "release: $pub is missing: the public key users verify with" >&2; exit 1; }
grep -q '^-----BEGIN PUBLIC KEY-----$' "$pub" ||
  { echo "release: $pub holds no public key (a placeholder?): commit the key pair's cosign.pub (docs/release.md, Signing)" >&2; exit 1; }
[ -z "$preflight" ] || exit 0
for f in "$dist/SHA256SUMS" "$image"; do
  [ -f "$f" ] || { echo "release: $f is missing: nothing to sign or to verify with" >&2; exit 1; }
done

cosign=${KSEAL_COSIGN:-$(bash hack/tools.sh cosign)}
CACHE=${KSEAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kseal}
crane=$CACHE/release/crane-$(sha256sum hack/release/go.sum | cut -c1-16)
if [ ! -x "$crane" ]; then
  log "building crane (first run only)"
  mkdir -p "${crane%/*}"
  (cd hack/release && env -u CGO_ENABLED GOFLAGS= go build -o "$crane.tmp" github.com/google/go-containerregistry/cmd/crane)
  mv "$crane.tmp" "$crane"
fi

work=$(mktemp -d)
reg_pid="" signed=""
stop() {
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  # Nothing half-signed: a failed run leaves no signature behind.
  [ -n "$signed" ] || rm -rf "$dist/SHA256SUMS.sig" "$sigdir"
}
trap stop EXIT
# cosign keeps what it fetches from Sigstore's TUF repository here; a key
# needs none of it.
export TUF_ROOT=$work/tuf

log "signing SHA256SUMS (cosign sign-blob)"
"$cosign" sign-blob --yes --key "$COSIGN_KEY" --tlog-upload=false \
  --output-signature "$dist/SHA256SUMS.sig" "$dist/SHA256SUMS" >/dev/null

"$crane" registry serve --address 127.0.0.1:0 2>"$work/registry.log" &
reg_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$work/registry.log")
  [ -z "$port" ] || break
  kill -0 "$reg_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "release: the local registry did not start:" >&2; cat "$work/registry.log" >&2; exit 1; }
mkdir "$work/oci"
tar -xf "$image" -C "$work/oci"
ref=$("$crane" push "$work/oci" "127.0.0.1:$port/kseal-controller:$VERSION" 2>"$work/push.log") ||
  { cat "$work/push.log" >&2; exit 1; }
log "signing the controller image ${ref#*@} (cosign sign)"
"$cosign" sign --yes --key "$COSIGN_KEY" --tlog-upload=false \
  --sign-container-identity "$IMAGE_REPO" "$ref" 2>"$work/sign.log" ||
  { cat "$work/sign.log" >&2; exit 1; }

# Verify as users will, with the published key.
"$cosign" verify-blob --key "$pub" --insecure-ignore-tlog=true \
  --signature "$dist/SHA256SUMS.sig" "$dist/SHA256SUMS" >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log" >&2; echo "release: SHA256SUMS.sig does not verify with $pub: COSIGN_KEY is not the key users verify with" >&2; exit 1; }
"$cosign" verify --key "$pub" --insecure-ignore-tlog=true "$ref" >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log" >&2; echo "release: the image signature does not verify with $pub: COSIGN_KEY is not the key users verify with" >&2; exit 1; }

digest=${ref#*@}
"$crane" pull --format=oci "127.0.0.1:$port/kseal-controller:${digest/:/-}.sig" "$sigdir"
signed=1
log "signed with the key $pub verifies: $dist/SHA256SUMS.sig, $sigdir (image $digest)"

#!/usr/bin/env bash
# One `kseal seal` process over a stream of N Secret documents (3 values
# each), with an X25519 and with a post-quantum hybrid recipient. Prints wall
# time and peak RSS. Usage: bench/seal-stream.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/kseal" ./cmd/kseal
for i in $(seq 1 "$n"); do
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: bench\nstringData:\n  username: user%d\n  password: pw-%d-%s\n  url: postgres://db%d.example:5432/app\n' \
    "$i" "$i" "$i" "$RANDOM$RANDOM" "$i"
done > "$work/in.yaml"
for kind in x25519 hybrid; do
  flag=""; [ "$kind" = x25519 ] && flag=--x25519
  "$work/kseal" keygen $flag -o "$work/$kind.key" > "$work/$kind.pub"
  /usr/bin/time -f "$kind: seal $n docs: %e s wall, %M KB peak RSS" \
    "$work/kseal" seal --recipients-file "$work/$kind.pub" -f "$work/in.yaml" > "$work/out-$kind.yaml"
  /usr/bin/time -f "$kind: decrypt $n docs: %e s wall, %M KB peak RSS" \
    "$work/kseal" decrypt --identity "$work/$kind.key" -f "$work/out-$kind.yaml" > /dev/null
  echo "$kind: sealed output $(wc -c < "$work/out-$kind.yaml") bytes ($(grep -c 'kind: SealedSecret' "$work/out-$kind.yaml") SealedSecrets)"
done

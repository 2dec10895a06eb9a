#!/usr/bin/env bash
# Whole-process cost of `kseal seal` and `kseal decrypt` over one file of N
# Secrets (3 values each), next to sops (an age X25519 key, the values of
# data/stringData encrypted) and kubeseal (a 4096-bit certificate, offline
# sealing; its --recovery-unseal opens only the first document of a stream,
# so it has no decrypt figure) on the same input in the same run, and the
# crypto floor (pkg/crypto BenchmarkCryptoFloor: the in-process cost of the
# wraps, unwraps and AEAD alone). Every figure is the median of RUNS runs:
# wall seconds, CPU seconds (user + system) and peak RSS, from
# /usr/bin/time. Also: bytes per sealed value of each tool.
#
#   bench/cli-speed.sh [N...]            (default 1000)
#   RUNS=5 KSEAL=path/to/kseal bench/cli-speed.sh 1000 10000
#   bench/cli-speed.sh -o results.txt 1000   (also write key=value results
#                                             for bench/cli-compare.sh)
#
# Needs sops and kubeseal from hack/tools.sh: run `make bench-cli`. A tool
# that is missing is skipped (and so are its ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
out=""
if [ "${1:-}" = -o ]; then out=$2; shift 2; fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000)
runs=${RUNS:-7}
[ -x /usr/bin/time ] || { echo "cli-speed: needs /usr/bin/time (GNU time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kseal=${KSEAL:-$work/kseal}
[ -n "${KSEAL:-}" ] || go build -o "$kseal" ./cmd/kseal
sops=${KSEAL_SOPS:-$(command -v sops || true)}
kubeseal=${KSEAL_KUBESEAL:-$(command -v kubeseal || true)}
export KSEAL_NO_PROGRESS=1
results=$work/results
: > "$results"
put() { echo "$1=$2" >> "$results"; }

# Keys: kseal's two recipient kinds, an age key for sops (kseal's X25519
# identity is one), a certificate for kubeseal.
"$kseal" keygen -o "$work/hybrid.key" > "$work/hybrid.pub"
"$kseal" keygen --x25519 -o "$work/x25519.key" > "$work/x25519.pub"
agekey=$(grep -m1 '^AGE-SECRET-KEY-' "$work/x25519.key")
printf '%s\n' "$agekey" > "$work/age.txt"
agercpt=$(cat "$work/x25519.pub")
if [ -n "$kubeseal" ]; then
  openssl req -x509 -newkey rsa:4096 -nodes -days 2 -subj /CN=bench \
    -keyout "$work/ks.key" -out "$work/ks.crt" 2> /dev/null
fi

med() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# measure NAME CMD...: RUNS runs of CMD (stdin from $stdin, stdout to
# $work/NAME.out); records NAME.wall, NAME.cpu, NAME.rss (KiB).
measure() {
  local name=$1; shift
  : > "$work/t"
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -a -o "$work/t" "$@" < "${stdin:-/dev/null}" > "$work/$name.out" \
      || { echo "cli-speed: $name failed: $*" >&2; exit 1; }
  done
  put "$name.wall" "$(awk '{ print $1 }' "$work/t" | med)"
  put "$name.cpu" "$(awk '{ printf "%.3f\n", $2 + $3 }' "$work/t" | med)"
  put "$name.rss" "$(awk '{ print $4 }' "$work/t" | med)"
}
get() { awk -F= -v k="$1" '$1 == k { print $2 }' "$results"; }
ratio() { # ratio KEY A B: A / B when both exist
  local a b; a=$(get "$2"); b=$(get "$3")
  [ -n "$a" ] && [ -n "$b" ] && put "$1" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
  return 0
}

# The crypto floor, per 1,000 objects, in this run: the median of FLOOR_COUNT
# benchmark runs (one run of 5 iterations moved by a quarter between runs
# of the same binary, enough to fail the gate on its own).
go test ./pkg/crypto -run '^$' -bench '^BenchmarkCryptoFloor$' -benchtime 5x -count "${FLOOR_COUNT:-7}" > "$work/floor.txt"
for op in seal open; do
  for k in hybrid x25519; do
    put "floor.$k.$op" "$(awk -v b="BenchmarkCryptoFloor/$k/$op" '$1 ~ "^" b "(-[0-9]+)?$" { printf "%.3f\n", $3 / 1e9 }' "$work/floor.txt" | med)"
  done
done

# The binary's own resident size: kseal's peak RSS is gated as a ratio
# over it (a ratio over sops' RSS moved with sops' garbage collector).
stdin="" measure "kseal.version" "$kseal" version

for n in "${sizes[@]}"; do
  in=$work/in-$n.yaml
  for i in $(seq 1 "$n"); do
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: bench\nstringData:\n  username: user%d\n  password: pw-%d-%08x\n  url: postgres://db%d.example:5432/app\n' \
      "$i" "$i" "$i" "$((i * 2654435761 % 4294967296))" "$i"
  done > "$in"
  put "n$n.input.bytes" "$(wc -c < "$in")"
  values=$((3 * n))
  for k in hybrid x25519; do
    stdin="" measure "n$n.kseal-$k.seal" "$kseal" seal --no-policy --recipients-file "$work/$k.pub" -f "$in"
    cp "$work/n$n.kseal-$k.seal.out" "$work/sealed-$k.yaml"
    stdin="" measure "n$n.kseal-$k.decrypt" "$kseal" decrypt --identity "$work/$k.key" -f "$work/sealed-$k.yaml"
    put "n$n.kseal-$k.bytes-per-value" $(( $(wc -c < "$work/sealed-$k.yaml") / values ))
  done
  if [ -n "$sops" ]; then
    stdin="" measure "n$n.sops.seal" "$sops" encrypt --age "$agercpt" --encrypted-regex '^(data|stringData)$' \
      --input-type yaml --output-type yaml "$in"
    cp "$work/n$n.sops.seal.out" "$work/sops.yaml"
    SOPS_AGE_KEY_FILE=$work/age.txt stdin="" measure "n$n.sops.decrypt" "$sops" decrypt --input-type yaml --output-type yaml "$work/sops.yaml"
    put "n$n.sops.bytes-per-value" $(( $(wc -c < "$work/sops.yaml") / values ))
  fi
  if [ -n "$kubeseal" ]; then
    stdin=$in measure "n$n.kubeseal.seal" "$kubeseal" --cert "$work/ks.crt" -o yaml
    cp "$work/n$n.kubeseal.seal.out" "$work/ks.yaml"
    put "n$n.kubeseal.bytes-per-value" $(( $(wc -c < "$work/ks.yaml") / values ))
    got=$(grep -c '^kind: SealedSecret' "$work/ks.yaml" || true)
    [ "$got" = "$n" ] || echo "cli-speed: kubeseal sealed $got of $n Secrets" >&2
  fi
  for op in seal decrypt; do
    fop=$op; [ $op = decrypt ] && fop=open
    for k in hybrid x25519; do
      floor=$(awk -v f="$(get "floor.$k.$fop")" -v n="$n" 'BEGIN { printf "%.3f", f * n / 1000 }')
      put "n$n.floor.$k.$fop" "$floor"
      ratio "n$n.ratio.kseal-$k.$op/floor" "n$n.kseal-$k.$op.cpu" "n$n.floor.$k.$fop"
      ratio "n$n.ratio.kseal-$k.$op/sops" "n$n.kseal-$k.$op.cpu" "n$n.sops.$op.cpu"
      ratio "n$n.ratio.kseal-$k.$op/kubeseal" "n$n.kseal-$k.$op.cpu" "n$n.kubeseal.$op.cpu"
      ratio "n$n.ratio.kseal-$k.$op.rss/own" "n$n.kseal-$k.$op.rss" "kseal.version.rss"
      ratio "n$n.peer.kseal-$k.$op.rss/sops" "n$n.kseal-$k.$op.rss" "n$n.sops.$op.rss"
    done
  done
done

# The table: per size and operation, each tool's medians and kseal's ratios.
for n in "${sizes[@]}"; do
  echo "== $n Secrets x 3 values, $(get "n$n.input.bytes") bytes in, median of $runs runs"
  printf '%-10s %-16s %8s %8s %10s %10s\n' op tool wall-s cpu-s peak-KiB B/value
  for op in seal decrypt; do
    for t in kseal-hybrid kseal-x25519 sops kubeseal; do
      [ -n "$(get "n$n.$t.$op.cpu")" ] || continue
      printf '%-10s %-16s %8s %8s %10s %10s\n' "$op" "$t" "$(get "n$n.$t.$op.wall")" "$(get "n$n.$t.$op.cpu")" \
        "$(get "n$n.$t.$op.rss")" "$( [ $op = seal ] && get "n$n.$t.bytes-per-value")"
    done
  done
  echo "  (kseal version: $(get kseal.version.rss) KiB peak)"
  grep "^n$n\.\(ratio\|peer\|floor\)\." "$results" | sed "s/^n$n\.//; s/=/ /" | awk '{ printf "  %-34s %s\n", $1, $2 }'
done
[ -z "$out" ] || cp "$results" "$out"

#!/usr/bin/env bash
# Whole-process cost of `kseal seal` and `kseal decrypt` over one file of N
# Secrets (3 values each), next to sops (an age X25519 key, the values of
# data/stringData encrypted) and kubeseal (a 4096-bit certificate, offline
# sealing; its --recovery-unseal opens only the first document of a stream,
# so it has no decrypt figure) on the same input in the same run, and the
# crypto floor (pkg/crypto BenchmarkCryptoFloor: the in-process cost of the
# wraps, unwraps and AEAD alone). The commands run in RUNS rounds, each
# round every command once, the floor first, so that each ratio is taken
# within a round, command by command, and its median over the rounds is
# what is recorded: a shared machine's speed drifts from one minute to the
# next, and blocks of runs of one tool after another measured that drift
# more than kseal (a ratio moved from 1.1 to 2.0 between two runs). Every
# other figure is the median of the RUNS runs: wall seconds, CPU seconds
# (user + system) and peak RSS, from the kernel (bench/rusage). Also: bytes per
# sealed value of each tool, and the peak of decrypting one object (what
# any decrypt costs in memory before its input does).
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
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rusage=$work/rusage # CPU to the microsecond (GNU time gives hundredths)
go build -o "$rusage" ./bench/rusage
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

# med: the median of the figures on standard input, one a line (of an
# even count, the mean of the middle two).
med() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# once NAME CMD...: one run of CMD (stdin from $stdin, stdout to
# $work/NAME.out, what it says on standard error shown only if it
# fails); its CPU seconds, peak RSS (KiB) and wall seconds are
# appended, one run a line, to $work/NAME.cpu, .rss and .wall.
once() {
  local name=$1; shift
  : > "$work/t"
  "$rusage" -o "$work/t" "$@" < "${stdin:-/dev/null}" > "$work/$name.out" 2> "$work/err" \
    || { cat "$work/err" >&2; echo "cli-speed: $name failed: $*" >&2; exit 1; }
  awk '{ printf "%.4f\n", $2 + $3 }' "$work/t" >> "$work/$name.cpu"
  awk '{ print $4 }' "$work/t" >> "$work/$name.rss"
  awk '{ printf "%.3f\n", $1 }' "$work/t" >> "$work/$name.wall"
}
# record NAME: the medians of NAME's runs.
record() {
  local f
  for f in wall cpu rss; do
    [ -s "$work/$1.$f" ] && put "$1.$f" "$(med < "$work/$1.$f")"
  done
  return 0
}
get() { awk -F= -v k="$1" '$1 == k { print $2 }' "$results"; }
# ratio KEY A B [SCALE]: the median over the rounds of A's figure over
# B's (times SCALE) in the same round; A and B name series ($work/A),
# one figure a round. Nothing when either was not measured.
ratio() {
  [ -s "$work/$2" ] && [ -s "$work/$3" ] || return 0
  put "$1" "$(paste "$work/$2" "$work/$3" | awk -v s="${4:-1}" '{ printf "%.4f\n", $1 / ($2 * s) }' | med | awk '{ printf "%.3f", $1 }')"
}

# The crypto floor, per 1,000 objects: BenchmarkCryptoFloor's seal and
# open, 5 iterations each, once at the start of every round.
go test -c -o "$work/crypto.test" ./pkg/crypto
floor() {
  "$work/crypto.test" -test.run '^$' -test.bench '^BenchmarkCryptoFloor$//^(seal|open)$' -test.benchtime 5x > "$work/floor.txt"
  local op k
  for op in seal open; do
    for k in hybrid x25519; do
      awk -v b="BenchmarkCryptoFloor/$k/$op" '$1 ~ "^" b "(-[0-9]+)?$" { printf "%.4f\n", $3 / 1e9 }' "$work/floor.txt" >> "$work/floor.$k.$op"
    done
  done
}

for n in "${sizes[@]}"; do
  in=$work/in-$n.yaml
  for i in $(seq 1 "$n"); do
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: bench\nstringData:\n  username: user%d\n  password: pw-%d-%08x\n  url: postgres://db%d.example:5432/app\n' \
      "$i" "$i" "$i" "$((i * 2654435761 % 4294967296))" "$i"
  done > "$in"
  put "n$n.input.bytes" "$(wc -c < "$in")"
  head -n 10 "$in" > "$work/one.yaml"
  "$kseal" seal --no-policy --recipients-file "$work/x25519.pub" -f "$work/one.yaml" > "$work/one-sealed.yaml"
  values=$((3 * n))
  for round in $(seq 0 "$runs"); do
    floor
    # kseal version: the binary's own resident size; kseal's peak RSS is
    # gated as a ratio over it (a ratio over sops' RSS moved with sops'
    # garbage collector).
    stdin="" once "kseal.version" "$kseal" version
    stdin="" once "kseal.one.decrypt" "$kseal" decrypt --identity "$work/x25519.key" -f "$work/one-sealed.yaml"
    for k in hybrid x25519; do
      stdin="" once "n$n.kseal-$k.seal" "$kseal" seal --no-policy --recipients-file "$work/$k.pub" -f "$in"
      cp "$work/n$n.kseal-$k.seal.out" "$work/sealed-$k.yaml"
      stdin="" once "n$n.kseal-$k.decrypt" "$kseal" decrypt --identity "$work/$k.key" -f "$work/sealed-$k.yaml"
    done
    if [ -n "$sops" ]; then
      stdin="" once "n$n.sops.seal" "$sops" encrypt --age "$agercpt" --encrypted-regex '^(data|stringData)$' \
        --input-type yaml --output-type yaml "$in"
      cp "$work/n$n.sops.seal.out" "$work/sops.yaml"
      SOPS_AGE_KEY_FILE=$work/age.txt stdin="" once "n$n.sops.decrypt" "$sops" decrypt --input-type yaml --output-type yaml "$work/sops.yaml"
    fi
    if [ -n "$kubeseal" ]; then
      stdin=$in once "n$n.kubeseal.seal" "$kubeseal" --cert "$work/ks.crt" -o yaml
      got=$(grep -c '^kind: SealedSecret' "$work/n$n.kubeseal.seal.out" || true)
      [ "$got" = "$n" ] || echo "cli-speed: kubeseal sealed $got of $n Secrets" >&2
    fi
    if [ "$round" = 0 ]; then # a warm-up round (page cache, the machine's clock); each size's series start here
      rm -f "$work"/*.cpu "$work"/*.rss "$work"/*.wall "$work"/floor.*.*
    fi
  done
  for k in hybrid x25519; do
    put "n$n.kseal-$k.bytes-per-value" $(( $(wc -c < "$work/sealed-$k.yaml") / values ))
  done
  [ -z "$sops" ] || put "n$n.sops.bytes-per-value" $(( $(wc -c < "$work/sops.yaml") / values ))
  [ -z "$kubeseal" ] || put "n$n.kubeseal.bytes-per-value" $(( $(wc -c < "$work/n$n.kubeseal.seal.out") / values ))
  if [ -z "$(get kseal.version.cpu)" ]; then # of the first size's rounds
    record kseal.version
    record kseal.one.decrypt
  fi
  for t in kseal-hybrid kseal-x25519 sops kubeseal; do
    record "n$n.$t.seal"
    record "n$n.$t.decrypt"
  done
  for op in seal decrypt; do
    fop=$op; [ $op = decrypt ] && fop=open
    for k in hybrid x25519; do
      f=$(med < "$work/floor.$k.$fop")
      [ -n "$(get "floor.$k.$fop")" ] || put "floor.$k.$fop" "$f"
      put "n$n.floor.$k.$fop" "$(awk -v f="$f" -v n="$n" 'BEGIN { printf "%.3f", f * n / 1000 }')"
      ratio "n$n.ratio.kseal-$k.$op/floor" "n$n.kseal-$k.$op.cpu" "floor.$k.$fop" "$(awk -v n="$n" 'BEGIN { print n / 1000 }')"
      ratio "n$n.ratio.kseal-$k.$op/sops" "n$n.kseal-$k.$op.cpu" "n$n.sops.$op.cpu"
      ratio "n$n.ratio.kseal-$k.$op/kubeseal" "n$n.kseal-$k.$op.cpu" "n$n.kubeseal.$op.cpu"
      ratio "n$n.ratio.kseal-$k.$op.rss/own" "n$n.kseal-$k.$op.rss" "kseal.version.rss"
      ratio "n$n.peer.kseal-$k.$op.rss/sops" "n$n.kseal-$k.$op.rss" "n$n.sops.$op.rss"
    done
  done
  # What decrypt's peak grows by, over decrypting one object, per byte
  # of its input (not gated: the memory goal's measure of the input's
  # share).
  for k in hybrid x25519; do
    put "n$n.info.kseal-$k.decrypt.rss-over-one/input" "$(awk -v a="$(get "n$n.kseal-$k.decrypt.rss")" -v b="$(get kseal.one.decrypt.rss)" -v i="$(wc -c < "$work/sealed-$k.yaml")" \
      'BEGIN { printf "%.2f", (a - b) * 1024 / i }')"
  done
done

# The table: per size and operation, each tool's medians and kseal's ratios.
for n in "${sizes[@]}"; do
  echo "== $n Secrets x 3 values, $(get "n$n.input.bytes") bytes in, median of $runs rounds"
  printf '%-10s %-16s %8s %8s %10s %10s\n' op tool wall-s cpu-s peak-KiB B/value
  for op in seal decrypt; do
    for t in kseal-hybrid kseal-x25519 sops kubeseal; do
      [ -n "$(get "n$n.$t.$op.cpu")" ] || continue
      printf '%-10s %-16s %8s %8s %10s %10s\n' "$op" "$t" "$(get "n$n.$t.$op.wall")" "$(get "n$n.$t.$op.cpu")" \
        "$(get "n$n.$t.$op.rss")" "$( [ $op = seal ] && get "n$n.$t.bytes-per-value")"
    done
  done
  echo "  (kseal version: $(get kseal.version.rss) KiB peak; decrypting one object: $(get kseal.one.decrypt.rss) KiB)"
  grep "^n$n\.\(ratio\|peer\|floor\|info\)\." "$results" | sed "s/^n$n\.//; s/=/ /" | awk '{ printf "  %-34s %s\n", $1, $2 }'
done
[ -z "$out" ] || cp "$results" "$out"

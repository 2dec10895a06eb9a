#!/usr/bin/env bash
# Whole-repository cost of `kseal policy check` and `kseal verify -R` over
# FILES sealed files (one SealedSecret of 3 values each) in DIRS
# directories, next to `sops filestatus` over as many sops-encrypted files
# (one process per file, as sops must be run; filestatus only reads the
# sops metadata; one process per file costs the same for every file, so
# it runs over SOPS_SAMPLE of them, default 500, and its figures are
# scaled to FILES). Each size runs RUNS times; every figure is the median:
# wall seconds, CPU seconds (user + system) and kseal's peak RSS (KiB),
# from /usr/bin/time. Run it with two sizes to see how cost and memory
# grow: cost should grow with the files, memory should not.
#
#   bench/repo-scale.sh [FILES:DIRS ...]     (default 5000:500 10000:1000)
#   RUNS=3 KSEAL=path/to/kseal bench/repo-scale.sh 5000:500
#
# Needs sops from hack/tools.sh (KSEAL_SOPS, or sops on PATH): run
# `make bench-repo`.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(5000:500 10000:1000)
runs=${RUNS:-3}
sample=${SOPS_SAMPLE:-500}
[ -x /usr/bin/time ] || { echo "repo-scale: needs /usr/bin/time (GNU time)" >&2; exit 2; }
sops=${KSEAL_SOPS:-$(command -v sops || true)}
[ -n "$sops" ] || { echo "repo-scale: needs sops (make bench-repo builds it)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kseal=${KSEAL:-$work/kseal}
[ -n "${KSEAL:-}" ] || go build -o "$kseal" ./cmd/kseal
export KSEAL_NO_PROGRESS=1

"$kseal" keygen -o "$work/k.key" > "$work/k.pub"
"$kseal" keygen --x25519 -o "$work/age.key" > "$work/age.pub"
grep -m1 '^AGE-SECRET-KEY-' "$work/age.key" > "$work/age.txt"

# measure NAME CMD...: RUNS runs; prints "wall cpu peak" medians.
measure() {
  : > "$work/t"
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -a -o "$work/t" "$@" > /dev/null 2> "$work/err" ||
      { echo "repo-scale: failed: $*" >&2; cat "$work/err" >&2; exit 1; }
  done
  med() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  printf '%s %s %s\n' "$(awk '{ print $1 }' "$work/t" | med)" \
    "$(awk '{ printf "%.2f\n", $2 + $3 }' "$work/t" | med)" "$(awk '{ print $4 }' "$work/t" | med)"
}

printf '%-7s %-5s %-22s %8s %8s %10s\n' files dirs command wall-s cpu-s peak-KiB
for size in "${sizes[@]}"; do
  files=${size%%:*} dirs=${size##*:}
  repo=$work/repo-$files
  mkdir -p "$repo"
  # One seal of all the Secrets, then one file per document.
  for i in $(seq 1 "$files"); do
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: bench\nstringData:\n  username: user%d\n  password: pw-%d\n  url: postgres://db%d.example:5432/app\n' "$i" "$i" "$i" "$i"
  done > "$work/in.yaml"
  # Sealed in parts of 1,000 Secrets (11 lines each): one file of all of
  # them would exceed the node budget.
  split -l $((11 * 1000)) -d -a 3 "$work/in.yaml" "$work/part."
  for p in "$work"/part.*; do
    "$kseal" seal --no-policy --recipients-file "$work/k.pub" -f "$p" 2> "$work/err" ||
      { echo "repo-scale: sealing failed" >&2; cat "$work/err" >&2; exit 1; }
  done |
    awk -v repo="$repo" -v dirs="$dirs" '
      /^---$/ { n++; d = (n - 1) % dirs; if (out) close(out); system("mkdir -p " repo "/d" d); out = repo "/d" d "/s" n ".yaml"; next }
      { print > out }'
  rm -f "$work"/part.*
  printf 'apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k:\n    age: %s\nservices:\n  bench:\n    namespaces: [bench]\n    paths: ["**"]\n    keys: [k]\n' \
    "$(cat "$work/k.pub")" > "$repo/kseal.yaml"
  got=$(find "$repo" -name 's*.yaml' | wc -l)
  [ "$got" = "$files" ] || { echo "repo-scale: wrote $got files of $files" >&2; exit 1; }
  # The sops side: one encrypted file, copied to as many paths.
  sopsrepo=$work/sops-$files
  "$sops" encrypt --age "$(cat "$work/age.pub")" --encrypted-regex '^(data|stringData)$' \
    --input-type yaml --output-type yaml <(head -11 "$work/in.yaml" | tail -10) > "$work/one.sops.yaml"
  (cd "$repo" && find . -name 's*.yaml' | sort) > "$work/list"
  head -n "$sample" "$work/list" | while read -r f; do
    mkdir -p "$sopsrepo/$(dirname "$f")"; cp "$work/one.sops.yaml" "$sopsrepo/$f"
  done
  read -r w c m < <(measure "$kseal" policy check --policy "$repo/kseal.yaml" "$repo")
  printf '%-7s %-5s %-22s %8s %8s %10s\n' "$files" "$dirs" "kseal policy check" "$w" "$c" "$m"
  read -r w c m < <(measure "$kseal" verify -R --identity "$work/k.key" "$repo")
  printf '%-7s %-5s %-22s %8s %8s %10s\n' "$files" "$dirs" "kseal verify -R" "$w" "$c" "$m"
  n=$(find "$sopsrepo" -name '*.yaml' | wc -l)
  read -r w c m < <(measure sh -c 'find "$1" -name "*.yaml" -exec "$2" filestatus {} \;' sh "$sopsrepo" "$sops")
  scale() { awk -v v="$1" -v f="$files" -v n="$n" 'BEGIN { printf "%.2f", v * f / n }'; }
  printf '%-7s %-5s %-22s %8s %8s %10s  (%s files measured: %s s wall, %s s cpu)\n' "$files" "$dirs" "sops filestatus (each)" \
    "$(scale "$w")" "$(scale "$c")" "$m" "$n" "$w" "$c"
  rm -rf "$repo" "$sopsrepo"
done

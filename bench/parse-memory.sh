#!/usr/bin/env bash
# Peak RSS of `kseal decrypt` and `kseal policy check` on hostile YAML
# (bench/hostile), against the bound docs/cli.md promises: 16 × the input
# size + 64 MiB. Exits non-zero when a run exceeds it.
#
#   bench/parse-memory.sh [SIZE]        (default 4194304 bytes per input)
#   KSEAL=path/to/kseal bench/parse-memory.sh   (measure another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-4194304}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=${KSEAL:-$work/kseal}
[ -n "${KSEAL:-}" ] || go build -o "$bin" ./cmd/kseal
mkdir -p "$work/in" "$work/repo"
go run ./bench/hostile -size "$size" "$work/in"
printf 'apiVersion: kseal.dev/v1alpha1\nkind: Policy\nkeys:\n  k:\n    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\nservices:\n  s:\n    namespaces: [y]\n    paths: ["**"]\n    keys: [k]\n' > "$work/repo/kseal.yaml"
fail=0
printf '%-18s %10s %-13s %12s %12s %s\n' input bytes command "peak KiB" "bound KiB" result
for f in "$work"/in/*.yaml; do
  bytes=$(wc -c < "$f")
  bound=$(( (16 * bytes + 64 * 1024 * 1024) / 1024 ))
  cp "$f" "$work/repo/input.yaml"
  for cmd in decrypt check; do
    if [ "$cmd" = decrypt ]; then
      args=(decrypt "$f")
    else
      args=(policy check --policy "$work/repo/kseal.yaml" "$work/repo")
    fi
    /usr/bin/time -f '%M' -o "$work/rss" "$bin" "${args[@]}" > /dev/null 2> "$work/err" || true
    rss=$(tail -1 "$work/rss")
    verdict=ok
    if [ "$rss" -gt "$bound" ]; then verdict=OVER; fail=1; fi
    printf '%-18s %10d %-13s %12d %12d %s  %s\n' "$(basename "$f")" "$bytes" "$cmd" "$rss" "$bound" "$verdict" "$(grep -m1 'error' "$work/err" | cut -c1-90)"
  done
done
exit $fail

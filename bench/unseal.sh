#!/usr/bin/env bash
# Unseal throughput and controller memory on a local API server.
#
#   bench/unseal.sh [N] [UNRELATED]     (defaults 1000 and 5000)
#
# 1. UNRELATED plain Secrets (not kseal's) are created first.
# 2. N SealedSecrets (3 values each) sealed by one `kseal seal` process are
#    created while no controller runs.
# 3. kseal-controller starts; the time until all N Secrets exist is the
#    unseal throughput (cache sync included).
# 4. N more SealedSecrets are applied with kubectl while the controller runs
#    (live), timed from the start of the apply.
# Peak RSS (VmHWM) of the controller is read at the end.
# Needs the binaries of hack/tools.sh: run `make bench-unseal`.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
unrelated=${2:-5000}
KSEAL_BENCH_FLAGS=${KSEAL_BENCH_FLAGS:-}
: "${KUBEBUILDER_ASSETS:?run through make bench-unseal}"
KUBECTL=$KUBEBUILDER_ASSETS/kubectl
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/" ./cmd/kseal ./cmd/kseal-controller ./hack/localcluster
export KUBECONFIG=$work/kubeconfig
"$work/localcluster" -out "$KUBECONFIG" > "$work/cluster.log" 2>&1 & pids+=($!)
for _ in $(seq 1 600); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
"$KUBECTL" apply -f config/install.yaml > /dev/null
"$KUBECTL" create namespace bench > /dev/null
"$KUBECTL" create namespace noise > /dev/null

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }
# Progress is read from the controller's own counter (cheap), and checked
# against the API server at the end.
mport=$((20000 + RANDOM % 20000))
count() { { curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null || true; } | awk '$1 == "kseal_unseal_total" { print $2; found=1 } END { if (!found) print 0 }'; }
apicount() { "$KUBECTL" -n bench get secrets -l kseal.dev/managed=unsealed --no-headers 2>/dev/null | wc -l; }
gen() { # gen PREFIX COUNT: Secret manifests with 3 values each
  for i in $(seq 1 "$2"); do
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s-%d, namespace: %s}\nstringData: {username: u%d, password: p%d-%s, url: "postgres://db:5432/%d"}\n' \
      "$1" "$i" "${3:-bench}" "$i" "$i" "$RANDOM" "$i"
  done
}

t0=$(now)
[ "$unrelated" -gt 0 ] && gen noise "$unrelated" noise | "$KUBECTL" create -f - > /dev/null
echo "created $unrelated unrelated Secrets in $(calc "$(now) - $t0") s"

# Keys: start the controller once briefly so it generates and publishes.
ctl() {
  "$work/kseal-controller" --namespace kseal-system --log-format text --metrics-bind-address "127.0.0.1:$mport" \
    --health-probe-bind-address 127.0.0.1:0 --recipients-bind-address 127.0.0.1:0 $KSEAL_BENCH_FLAGS "$@" > "$work/controller.log" 2>&1 &
  cpid=$!
  pids+=($cpid)
}
ctl
until "$work/kseal" fetch-recipients -o "$work/cluster.pub" 2>/dev/null; do sleep 0.1; done
kill "$cpid"; wait "$cpid" 2>/dev/null || true

gen a "$n" | "$work/kseal" seal --recipients-file "$work/cluster.pub" > "$work/a.yaml"
gen b "$n" | "$work/kseal" seal --recipients-file "$work/cluster.pub" > "$work/b.yaml"
"$KUBECTL" create -f "$work/a.yaml" > /dev/null
echo "created $n SealedSecrets while the controller was stopped"

t0=$(now)
ctl
tf=""
while c=$(count); [ "$c" -lt "$n" ]; do
  [ -z "$tf" ] && [ "$c" -gt 0 ] && tf=$(now) && cf=$c
  sleep 0.05
done
t1=$(now)
d=$(calc "$t1 - $t0")
echo "pending backlog: $n Secrets unsealed in $d s from controller start ($(calc "$n / $d") per second)"
[ -n "$tf" ] && echo "  of which start-up and cache sync $(calc "$tf - $t0") s; steady state $(calc "($n - $cf) / ($t1 - $tf)") per second"

t0=$(now)
"$KUBECTL" create -f "$work/b.yaml" > /dev/null
ta=$(now)
until [ "$(count)" -ge "$((2 * n))" ]; do sleep 0.05; done
t1=$(now)
d=$(calc "$t1 - $t0")
echo "live: kubectl created $n SealedSecrets in $(calc "$ta - $t0") s; all $n Secrets existed after $d s ($(calc "$n / $d") per second)"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$cpid/status")
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$cpid/stat")
echo "controller CPU time: $cpu s for $((2 * n)) unseals"
echo "API server holds $(apicount) unsealed Secrets"
echo "controller peak RSS: $((rss / 1024)) MB with $((2 * n)) SealedSecrets, $((2 * n)) unsealed and $unrelated unrelated Secrets"
if grep -q ' p1-' "$work/controller.log"; then echo "plaintext in controller log!" >&2; exit 1; fi

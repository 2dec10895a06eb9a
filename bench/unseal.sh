#!/usr/bin/env bash
# Unseal throughput, first-Secret latency and controller memory on a local
# API server, next to the API server's own ceiling measured in the same run.
#
#   bench/unseal.sh [N] [UNRELATED]     (defaults 1000 and 5000)
#
# 1. UNRELATED plain Secrets (not kseal's) are created first.
# 2. The controller starts once with nothing to do (it generates the cluster
#    key): its idle RSS is read.
# 3. Ceiling: N copies of the SealedSecrets get, with as many clients as the
#    controller reconciles in parallel (32), exactly the writes an unseal
#    needs, a status patch and a Secret create (bench/apiload ceiling);
#    once bare, once with the watches any controller keeps open (the API
#    server then also encodes and sends every change, as it must for the
#    controller).
# 4. N SealedSecrets (3 values each) are created while no controller runs;
#    kseal-controller starts; the time until all N Secrets exist is the
#    unseal throughput (cache sync included), and its ratio to the ceiling.
# 5. N more SealedSecrets are applied with kubectl while the controller runs
#    (live), timed from the start of the apply.
# 6. 50 SealedSecrets are applied one by one with kubectl apply; the time to
#    each Secret is the first-Secret latency (p50, p99).
# The API requests and reconciles per unseal come from the controller's own
# metrics; its RSS (peak and settled) from /proc; the CPU time per object of
# the API server and etcd, of apiload's client and of the controller from
# /proc too (the ceiling's over its timed part, the backlog's from the
# controller's start).
# KSEAL_BENCH_CONTROLLER=path runs another kseal-controller binary (e.g. an
# older build, for a before/after in the same conditions).
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
go build -o "$work/" ./cmd/kseal ./cmd/kseal-controller ./hack/localcluster ./bench/apiload
controller=${KSEAL_BENCH_CONTROLLER:-$work/kseal-controller}
export KUBECONFIG=$work/kubeconfig
"$work/localcluster" -out "$KUBECONFIG" > "$work/cluster.log" 2>&1 & pids+=($!)
lc=$!
for _ in $(seq 1 600); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
servers=$(pgrep -d, -P "$lc") # kube-apiserver and etcd
"$KUBECTL" apply -f config/install.yaml > /dev/null
for ns in bench noise ceiling latency; do "$KUBECTL" create namespace $ns > /dev/null; done

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }
# Progress is read from the controller's own counter (cheap), and checked
# against the API server at the end.
mport=$((20000 + RANDOM % 20000))
count() { { curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null || true; } | awk '$1 == "kseal_unseal_total" { print $2; found=1 } END { if (!found) print 0 }'; }
apicount() { "$KUBECTL" -n bench get secrets -l kseal.dev/managed=unsealed --no-headers 2>/dev/null | wc -l; }
rss() { awk -v k="$2:" '$1 == k { print int($2 / 1024) }' "/proc/$1/status"; }
# cpu PID...: CPU seconds (user + system) the processes have used so far.
cpu() { for p in ${1//,/ }; do cat "/proc/$p/stat"; done | sed 's/.*) //' | awk -v hz="$(getconf CLK_TCK)" '{ t += $12 + $13 } END { printf "%.2f", t / hz }'; }
gen() { # gen PREFIX COUNT [NAMESPACE]: Secret manifests with 3 values each
  for i in $(seq 1 "$2"); do
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s-%d, namespace: %s}\nstringData: {username: u%d, password: p%d-%s, url: "postgres://db:5432/%d"}\n' \
      "$1" "$i" "${3:-bench}" "$i" "$i" "$RANDOM" "$i"
  done
}

t0=$(now)
[ "$unrelated" -gt 0 ] && gen noise "$unrelated" noise | "$KUBECTL" create -f - > /dev/null
echo "created $unrelated unrelated Secrets in $(calc "$(now) - $t0") s"

ctl() {
  "$controller" --namespace kseal-system --log-format text --metrics-bind-address "127.0.0.1:$mport" \
    --health-probe-bind-address 127.0.0.1:0 --recipients-bind-address 127.0.0.1:0 $KSEAL_BENCH_FLAGS "$@" >> "$work/controller.log" 2>&1 &
  cpid=$!
  pids+=($cpid)
}
# Keys: start the controller once so it generates and publishes them; with
# nothing to unseal, its memory is the idle figure.
ctl
until "$work/kseal" fetch-recipients -o "$work/cluster.pub" 2>/dev/null; do sleep 0.1; done
sleep 3
echo "controller idle RSS: $(rss "$cpid" VmRSS) MB (peak $(rss "$cpid" VmHWM) MB) with $unrelated unrelated Secrets"
kill "$cpid"; wait "$cpid" 2>/dev/null || true

# kseal seal bounds what one input may hold: seal in chunks of 1000.
seal() { # seal PREFIX COUNT [NAMESPACE]
  for ((i = 0; i < $2; i += 1000)); do
    gen "$1" "$(($2 - i < 1000 ? $2 - i : 1000))" "${3:-bench}" | sed "s/name: $1-\([0-9]*\)/name: $1-$i-\1/" | "$work/kseal" seal --recipients-file "$work/cluster.pub"
  done
}
seal a "$n" > "$work/a.yaml"
seal b "$n" > "$work/b.yaml"
seal c 50 latency > "$work/c.yaml"

ceil=$("$work/apiload" ceiling -f "$work/a.yaml" -namespace ceiling -c 32 -server-pids "$servers")
echo "$ceil"
ceilrate=$(sed 's/.*: \([0-9.]*\) per second.*/\1/' <<< "$ceil")
ceilw=$("$work/apiload" ceiling -watch -f "$work/a.yaml" -namespace ceiling -c 32 -server-pids "$servers")
echo "$ceilw"
ceilwrate=$(sed 's/.*: \([0-9.]*\) per second.*/\1/' <<< "$ceilw")

"$KUBECTL" create -f "$work/a.yaml" > /dev/null
echo "created $n SealedSecrets while the controller was stopped"

t0=$(now)
s0=$(cpu "$servers")
ctl
tf=""
while c=$(count); [ "$c" -lt "$n" ]; do
  [ -z "$tf" ] && [ "$c" -gt 0 ] && tf=$(now) && cf=$c
  sleep 0.05
done
t1=$(now)
s1=$(cpu "$servers")
c1=$(cpu "$cpid")
d=$(calc "$t1 - $t0")
rate=$(calc "$n / $d")
echo "pending backlog: $n Secrets unsealed in $d s from controller start ($rate per second; $(calc "$rate / $ceilrate") of the bare ceiling, $(calc "$rate / $ceilwrate") of the watched one)"
echo "  CPU per unseal (cache sync included): API server and etcd $(calc "($s1 - $s0) * 1000 / $n") ms, controller $(calc "$c1 * 1000 / $n") ms"
[ -n "$tf" ] && steady=$(calc "($n - $cf) / ($t1 - $tf)") && echo "  of which start-up and cache sync $(calc "$tf - $t0") s; steady state $steady per second ($(calc "$steady / $ceilrate") of the bare ceiling, $(calc "$steady / $ceilwrate") of the watched one)"

t0=$(now)
"$KUBECTL" create -f "$work/b.yaml" > /dev/null
ta=$(now)
until [ "$(count)" -ge "$((2 * n))" ]; do sleep 0.05; done
t1=$(now)
d=$(calc "$t1 - $t0")
echo "live: kubectl created $n SealedSecrets in $(calc "$ta - $t0") s; all $n Secrets existed after $d s ($(calc "$n / $d") per second)"

curl -fsS "http://127.0.0.1:$mport/metrics" > "$work/metrics.txt" || true
echo "API requests by the controller per unseal (client-go), by verb:"
awk -v n=$((2 * n)) '/^rest_client_requests_total/ { m=$0; sub(/.*method="/, "", m); sub(/".*/, "", m); c[m]+=$NF } END { for (k in c) printf "  %-6s %.2f\n", k, c[k]/n }' "$work/metrics.txt"
awk -v n=$((2 * n)) '/^controller_runtime_reconcile_total\{controller="sealedsecret"/ { r=$0; sub(/.*result="/, "", r); sub(/".*/, "", r); t+=$NF } END { printf "  reconciles per unseal: %.2f\n", t/n }' "$work/metrics.txt"
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$cpid/stat")
echo "controller CPU time: $cpu s for $((2 * n)) unseals"

"$work/apiload" latency -f "$work/c.yaml" -namespace latency -n 50

echo "API server holds $(apicount) unsealed Secrets"
sleep 5
echo "controller RSS: peak $(rss "$cpid" VmHWM) MB, settled $(rss "$cpid" VmRSS) MB with $((2 * n + 50)) SealedSecrets, as many unsealed and $unrelated unrelated Secrets"
if grep -q ' p1-' "$work/controller.log"; then echo "plaintext in controller log!" >&2; exit 1; fi

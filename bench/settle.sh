#!/usr/bin/env bash
# Settling after a restart and after a failover: how long a kseal-controller
# takes to go over N SealedSecrets that are already unsealed, and what it
# costs — KMS calls, data key unwraps, API writes.
#
#   bench/settle.sh [N] [KEY] [LATENCY]    (defaults 1000, cluster, 20ms)
#
# KEY is `cluster` (the controller's own key) or `kms` (an AWS KMS key served
# by hack/kmsserver with LATENCY added to every call).
# 1. N SealedSecrets (3 values each) sealed to KEY are created and unsealed
#    by one controller; the KMS calls of that first unseal are counted.
# 2. Restart: the controller is stopped (SIGTERM) and a new process started;
#    settled is when it has reconciled all N (its reconcile counter) and its
#    work queue is empty. Reported: that time, the KMS calls, unwraps and
#    API writes (POST, PUT, PATCH, DELETE) of the new process.
# 3. Failover: two replicas with --leader-elect; once the standby's cache is
#    synced the leader is stopped (SIGTERM); the same figures for the new
#    leader, timed from the signal.
# KSEAL_BENCH_CONTROLLER=path runs another kseal-controller binary (e.g. a
# build of an older commit, for a before/after in the same conditions).
# Needs the binaries of hack/tools.sh: run `make bench-settle`.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
mode=${2:-cluster}
latency=${3:-20ms}
: "${KUBEBUILDER_ASSETS:?run through make bench-settle}"
KUBECTL=$KUBEBUILDER_ASSETS/kubectl
arn=arn:aws:kms:us-east-1:111122223333:key/bench-0000-4000-8000-000000000001
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/" ./cmd/kseal ./cmd/kseal-controller ./hack/localcluster ./hack/kmsserver
controller=${KSEAL_BENCH_CONTROLLER:-$work/kseal-controller}
export KUBECONFIG=$work/kubeconfig
"$work/localcluster" -out "$KUBECONFIG" > "$work/cluster.log" 2>&1 & pids+=($!)
for _ in $(seq 1 600); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
"$KUBECTL" apply -f config/install.yaml > /dev/null
"$KUBECTL" create namespace bench > /dev/null

"$work/kmsserver" -key "$arn" -latency "$latency" > "$work/kms.url" & pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/kms.url" ] && break; sleep 0.05; done
kms=$(cat "$work/kms.url")
export AWS_ENDPOINT_URL_KMS=$kms AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
kmscalls() { curl -fsS "$kms/kseal-test/calls" | tr -d '\n'; }
kmstotal() { curl -fsS "$kms/kseal-test/calls" | { grep -o '[0-9]\+' || true; } | awk '{ t += $1 } END { print t + 0 }'; }

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }
# metric PORT NAME [FILTER]: the sum of a metric of the controller on PORT.
metric() {
  { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } |
    awk -v m="$2" -v f="${3:-}" '$1 ~ "^"m"({|$)" && index($1, f) { t += $NF; found=1 } END { printf "%d", t }'
}
# writes PORT: API requests that change something. client-go's metric has
# no path: with --leader-elect it includes the Lease's acquisition and its
# renewals (one PUT per 2 s retry period).
writes() {
  { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } |
    awk '/^rest_client_requests_total/ && /method="(POST|PUT|PATCH|DELETE)"/ { t += $NF } END { printf "%d", t }'
}
ctl() { # ctl PORT [FLAGS...]: start a controller, its pid in $cpid
  local port=$1
  shift
  "$controller" --namespace kseal-system --log-format text --metrics-bind-address "127.0.0.1:$port" \
    --health-probe-bind-address 127.0.0.1:0 --recipients-bind-address 127.0.0.1:0 "$@" >> "$work/controller.log" 2>&1 &
  cpid=$!
  pids+=($cpid)
}
# settled PORT: all n reconciled by that process, and its queue empty.
settled() {
  [ "$(metric "$1" controller_runtime_reconcile_total 'controller="sealedsecret"')" -ge "$n" ] &&
    [ "$(metric "$1" workqueue_depth 'name="sealedsecret"')" -eq 0 ]
}

p1=$((20000 + RANDOM % 20000))
ctl "$p1"
until "$work/kseal" fetch-recipients -o "$work/cluster.pub" 2>/dev/null; do sleep 0.1; done
if [ "$mode" = kms ]; then rcpt=(-r "$arn"); else rcpt=(--recipients-file "$work/cluster.pub"); fi
for ((i = 0; i < n; i += 1000)); do
  for ((j = i + 1; j <= i + 1000 && j <= n; j++)); do
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: s-%d, namespace: bench}\nstringData: {username: u%d, password: p%d-%s, url: "postgres://db:5432/%d"}\n' "$j" "$j" "$j" "$RANDOM" "$j"
  done | "$work/kseal" seal "${rcpt[@]}" --jobs 8 > "$work/sealed-$i.yaml"
done
k0=$(kmstotal)
t0=$(now)
cat "$work"/sealed-*.yaml | "$KUBECTL" create -f - > /dev/null
until [ "$(metric "$p1" kseal_unseal_total)" -ge "$n" ]; do sleep 0.1; done
echo "first unseal: $n SealedSecrets ($mode key) created and unsealed in $(calc "$(now) - $t0") s; KMS calls $(($(kmstotal) - k0)); unwraps $(metric "$p1" kseal_unwrap_attempts_total)"
until settled "$p1"; do sleep 0.1; done

report() { # report WHAT PORT T0 K0
  local k=$(($(kmstotal) - $4))
  echo "$1: settled $n already unsealed SealedSecrets in $(calc "$(now) - $3") s; KMS calls $k ($(kmscalls)); unwraps $(metric "$2" kseal_unwrap_attempts_total); unseals $(metric "$2" kseal_unseal_total); API writes $(writes "$2") ; reconciles $(metric "$2" controller_runtime_reconcile_total 'controller="sealedsecret"')"
}

# Restart.
kill -TERM "$cpid"; wait "$cpid" 2>/dev/null || true
k0=$(kmstotal)
p2=$((p1 + 1))
t0=$(now)
ctl "$p2"
until settled "$p2"; do sleep 0.05; done
report "restart" "$p2" "$t0" "$k0"
kill -TERM "$cpid"; wait "$cpid" 2>/dev/null || true

# Failover: a leader and a warm standby; the leader stops.
p3=$((p1 + 2)) p4=$((p1 + 3))
ctl "$p3" --leader-elect
leader=$cpid
until settled "$p3"; do sleep 0.05; done
ctl "$p4" --leader-elect
standby=$cpid
# The standby's caches sync without leading: wait for its informers' lists.
until [ "$(metric "$p4" rest_client_requests_total 'method="GET"')" -gt 0 ]; do sleep 0.1; done
sleep 3
k0=$(kmstotal)
t0=$(now)
kill -TERM "$leader"; wait "$leader" 2>/dev/null || true
until settled "$p4"; do sleep 0.05; done
report "failover (from SIGTERM to the leader)" "$p4" "$t0" "$k0"
if grep -q ' p1-' "$work/controller.log"; then echo "plaintext in controller log!" >&2; exit 1; fi

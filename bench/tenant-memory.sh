#!/usr/bin/env bash
# Controller memory before and after a tenant fills its namespace with
# large Secrets labelled kseal.dev/managed (which anyone who may create a
# Secret can do): the cache must not grow with them.
#
#   bench/tenant-memory.sh [COUNT] [ANNOTATION_KIB] [DATA_KIB]   (defaults 128 128 128: 32 MiB)
#
# 1. A local API server; config/install.yaml; the controller starts and
#    unseals one SealedSecret ("anchor") in namespace tenant.
# 2. Idle figures: RSS (VmRSS) and the Go heap in use after a forced
#    collection (/debug/pprof/heap?gc=1&debug=1, HeapInuse).
# 3. COUNT Secrets are created in tenant, each labelled
#    kseal.dev/managed=unsealed, with one annotation of ANNOTATION_KIB and
#    one data value of DATA_KIB; every second one also forges the anchor's
#    controller owner reference, so the controller's watch must deliver
#    them (each enqueues the anchor: the reconcile counter proves the
#    events were processed).
# 4. Once the reconcile counter has been still for 3 s, the same figures
#    again, and the differences.
# KSEAL_BENCH_CONTROLLER=path runs another kseal-controller binary (e.g. a
# build from before the cache transform, for a before/after).
# Needs the binaries of hack/tools.sh: run `make bench-tenant-memory`.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-128}
akib=${2:-128}
dkib=${3:-128}
: "${KUBEBUILDER_ASSETS:?run through make bench-tenant-memory}"
KUBECTL=$KUBEBUILDER_ASSETS/kubectl
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/" ./cmd/kseal ./cmd/kseal-controller ./hack/localcluster
controller=${KSEAL_BENCH_CONTROLLER:-$work/kseal-controller}
export KUBECONFIG=$work/kubeconfig
"$work/localcluster" -out "$KUBECONFIG" > "$work/cluster.log" 2>&1 & pids+=($!)
for _ in $(seq 1 600); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
"$KUBECTL" apply -f config/install.yaml > /dev/null
"$KUBECTL" create namespace tenant > /dev/null

mport=$((20000 + RANDOM % 20000))
pport=$((mport + 1))
"$controller" --namespace kseal-system --log-format text --metrics-bind-address "127.0.0.1:$mport" \
  --pprof-bind-address "127.0.0.1:$pport" --health-probe-bind-address 127.0.0.1:0 \
  --recipients-bind-address 127.0.0.1:0 > "$work/controller.log" 2>&1 &
cpid=$!
pids+=($cpid)

rss() { awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' "/proc/$cpid/status"; }
heap() { curl -fsS "http://127.0.0.1:$pport/debug/pprof/heap?gc=1&debug=1" | awk '$2 == "HeapInuse" { printf "%.1f", $4 / 1048576 }'; }
reconciles() {
  { curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null || true; } |
    awk '/^controller_runtime_reconcile_total\{controller="sealedsecret"/ { t += $NF } END { print t + 0 }'
}
calc() { awk "BEGIN { printf \"%.1f\", $* }"; }

until "$work/kseal" fetch-recipients -o "$work/cluster.pub" 2>/dev/null; do sleep 0.1; done
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: anchor, namespace: tenant}\nstringData: {password: p}\n' |
  "$work/kseal" seal --recipients-file "$work/cluster.pub" | "$KUBECTL" create -f - > /dev/null
until "$KUBECTL" -n tenant get secret anchor > /dev/null 2>&1; do sleep 0.1; done
uid=$("$KUBECTL" -n tenant get sealedsecrets.kseal.dev anchor -o jsonpath='{.metadata.uid}')
sleep 3
rss0=$(rss) heap0=$(heap) rec0=$(reconciles)
echo "controller idle: RSS $rss0 MiB, heap in use after GC $heap0 MiB"

# Annotation and data filler (base64 of random bytes, so nothing compresses).
filler() { head -c "$(($1 * 768))" /dev/urandom | base64 -w0; }
for i in $(seq 1 "$count"); do
  owner=""
  if ((i % 2 == 0)); then
    owner=$(printf ', "ownerReferences": [{"apiVersion": "kseal.dev/v1alpha1", "kind": "SealedSecret", "name": "anchor", "uid": "%s", "controller": true}]' "$uid")
  fi
  printf '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tenant-%d", "namespace": "tenant", "labels": {"kseal.dev/managed": "unsealed"}, "annotations": {"tenant.example/blob": "%s"}%s}, "data": {"blob": "%s"}}\n' \
    "$i" "$(filler "$akib")" "$owner" "$(head -c "$((dkib * 1024))" /dev/urandom | base64 -w0)" > "$work/s.json"
  "$KUBECTL" create -f "$work/s.json" > /dev/null
done
total=$(calc "$count * ($akib + $dkib) / 1024")
echo "created $count labelled Secrets of $akib KiB annotation + $dkib KiB data ($total MiB)"

# Wait for the watch: the forged owner references enqueue the anchor.
last=$(reconciles) since=$(date +%s) start=$(date +%s)
while (($(date +%s) - since < 3)) || [ "$last" = "$rec0" ]; do
  (($(date +%s) - start < 120)) || { echo "the controller did not react to the tenant's Secrets within 120 s" >&2; exit 1; }
  sleep 0.2
  n=$(reconciles)
  if [ "$n" != "$last" ]; then last=$n since=$(date +%s); fi
done
sleep 2
rss1=$(rss) heap1=$(heap)
echo "after: RSS $rss1 MiB (+$(calc "$rss1 - $rss0")), heap in use after GC $heap1 MiB (+$(calc "$heap1 - $heap0")); $(calc "$last - $rec0") reconciles from the tenant's Secrets"
if grep -q 'AGE-SECRET-KEY' "$work/controller.log"; then echo "private key in controller log!" >&2; exit 1; fi

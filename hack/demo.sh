#!/usr/bin/env bash
# The main job end to end on a local API server: install kseal, start the
# controller, seal an example with the cluster's published recipient, apply
# it with kubectl, and show the Secret the controller unsealed.
# Run through `make demo` (it builds the binaries and the API server first).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${KUBEBUILDER_ASSETS:?run through make demo}"
BIN=$PWD/bin
KUBECTL=${KSEAL_KUBECTL:-$KUBEBUILDER_ASSETS/kubectl}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
export KUBECONFIG=$work/kubeconfig

step "Starting a local kube-apiserver and etcd"
"$BIN/localcluster" -out "$KUBECONFIG" > "$work/cluster.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
[ -s "$KUBECONFIG" ] || { cat "$work/cluster.log"; exit 1; }
"$KUBECTL" version 2>/dev/null | sed -n "s/^Server Version/  API server/p" || true

step "Installing kseal (kubectl apply -f config/install.yaml)"
"$KUBECTL" apply -f config/install.yaml | sed 's/^/  /'
"$KUBECTL" create namespace demo >/dev/null

step "Starting kseal-controller (outside the cluster, from KUBECONFIG)"
"$BIN/kseal-controller" --namespace kseal-system --log-format text \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  --recipients-bind-address 127.0.0.1:0 > "$work/controller.log" 2>&1 &
pids+=($!)

step "Fetching the cluster recipient (post-quantum hybrid) with kseal fetch-recipients"
for _ in $(seq 1 300); do "$BIN/kseal" fetch-recipients -o "$work/cluster.pub" 2>/dev/null && break; sleep 0.1; done
echo "  $(grep -v '^#' "$work/cluster.pub" | cut -c1-60)…"

step "Sealing examples/db-secret.yaml (safe to commit)"
"$BIN/kseal" seal --recipients-file "$work/cluster.pub" -f examples/db-secret.yaml > "$work/sealed.yaml"
cut -c1-100 "$work/sealed.yaml" | sed 's/^/  /'
if grep -q correct-horse "$work/sealed.yaml"; then echo "plaintext leaked into the sealed file" >&2; exit 1; fi

step "kubectl apply -f sealed.yaml"
"$KUBECTL" apply -f "$work/sealed.yaml" | sed 's/^/  /'

step "Waiting for the controller to unseal it"
for _ in $(seq 1 300); do "$KUBECTL" -n demo get secret db-credentials >/dev/null 2>&1 && break; sleep 0.1; done
"$KUBECTL" -n demo wait sealedsecrets.kseal.dev/db-credentials --for=condition=Ready --timeout=30s | sed 's/^/  /'
"$KUBECTL" -n demo get kss | sed 's/^/  /'

step "The unsealed Secret"
"$KUBECTL" -n demo get secret db-credentials -o go-template='  type: {{.type}}
  owner: {{(index .metadata.ownerReferences 0).kind}}/{{(index .metadata.ownerReferences 0).name}}
{{range $k, $v := .data}}  {{$k}}: {{$v | base64decode}}
{{end}}'

step "SealedSecret status"
"$KUBECTL" -n demo get sealedsecrets.kseal.dev db-credentials -o go-template='{{range .status.conditions}}  {{.type}}={{.status}} reason={{.reason}}: {{.message}}
{{end}}  opened with key: {{range .status.keyIDs}}{{.}} {{end}}
'
if grep -q correct-horse "$work/controller.log"; then echo "plaintext leaked into the controller log" >&2; exit 1; fi

step "Demo done; tearing down"

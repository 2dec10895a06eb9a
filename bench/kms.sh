#!/usr/bin/env bash
# kseal seal -R over N Secret files with one AWS KMS recipient, against the
# protocol-level test server with injected latency; the same files with sops
# (if hack/tools.sh installed it, or it is on PATH) pointed at the same
# server through AWS_ENDPOINT_URL_KMS.
#
#   bench/kms.sh [N] [LATENCY] [JOBS]      (defaults 500, 20ms, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
latency=${2:-20ms}
jobs=${3:-8}
key=arn:aws:kms:us-east-1:111122223333:key/bench-0000-4000-8000-000000000001
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/" ./cmd/kseal ./hack/kmsserver
"$work/kmsserver" -key "$key" -latency "$latency" > "$work/url" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(cat "$work/url")
export AWS_ENDPOINT_URL_KMS=$url AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
mkdir -p "$work/repo" "$work/sops"
for i in $(seq 1 "$n"); do
  printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: bench\nstringData:\n  username: u%d\n  password: p%d\n  url: postgres://db/%d\n' "$i" "$i" "$i" "$i" > "$work/repo/s$i.yaml"
done
cp "$work/repo/"*.yaml "$work/sops/"
calls() { curl -fsS "$url/kseal-test/calls" 2>/dev/null || wget -qO- "$url/kseal-test/calls"; }
ms() { date +%s%N | cut -c1-13; }

t0=$(ms)
"$work/kseal" seal -r "$key" -R -i --jobs "$jobs" "$work/repo"
t1=$(ms)
ideal=$(awk "BEGIN { print $n / $jobs * ${latency%ms} }")
echo "kseal: sealed $n files in $((t1 - t0)) ms with --jobs $jobs at $latency per call (ideal $n/$jobs x $latency = ${ideal} ms); KMS calls: $(calls)"

sops=$(command -v sops || true)
[ -z "$sops" ] && [ -x "${KSEAL_CACHE:-$HOME/.cache/kseal}/tools/sops" ] && sops=${KSEAL_CACHE:-$HOME/.cache/kseal}/tools/sops
if [ -n "$sops" ]; then
  before=$(calls)
  t0=$(ms)
  for f in "$work/sops/"*.yaml; do
    SOPS_KMS_ARN=$key "$sops" --encrypt --encrypted-regex '^(data|stringData)$' --in-place "$f"
  done
  t1=$(ms)
  echo "sops $("$sops" --version 2>/dev/null | head -1 | awk '{print $2}'): encrypted $n files (one process each, sequential) in $((t1 - t0)) ms; KMS calls before: $before, after: $(calls)"
else
  echo "sops not found: install with GOBIN=~/.cache/kseal/tools go install github.com/getsops/sops/v3/cmd/sops@latest"
fi

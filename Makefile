# kseal — see README.md. `make demo` runs the main job end to end; `make
# test` runs every test. Binaries the tests need (kube-apiserver, etcd,
# kubectl, kustomize) are built once by hack/tools.sh into ~/.cache/kseal.

GO      ?= go
BIN     := bin
TOOLS   := hack/tools.sh
export CGO_ENABLED ?= 0

.PHONY: all build test test-short tools demo fuzz-smoke bench bench-unseal bench-parse generate fmt vet clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

tools:
	@bash $(TOOLS) build >/dev/null

# Every test, with the real API server, etcd, kubectl and kustomize.
test: tools
	@eval "$$(bash $(TOOLS) env)" && $(GO) vet ./... && $(GO) test -count=1 ./...

# Unit tests only (no API server).
test-short:
	$(GO) test -short ./...

fuzz-smoke:
	$(GO) test ./pkg/crypto -run '^$$' -fuzz FuzzParseEnvelope -fuzztime 10s
	$(GO) test ./pkg/crypto -run '^$$' -fuzz FuzzOpen -fuzztime 10s
	$(GO) test ./pkg/manifest -run '^$$' -fuzz FuzzParse -fuzztime 10s

bench:
	$(GO) test ./pkg/crypto -run '^$$' -bench . -benchmem
	bash bench/seal-stream.sh

# Peak RSS of decrypt and policy check on hostile YAML against 16 x size + 64 MiB.
bench-parse:
	bash bench/parse-memory.sh

bench-unseal: tools
	@eval "$$(bash $(TOOLS) env)" && bash bench/unseal.sh

demo: build tools
	$(GO) build -o $(BIN)/ ./hack/localcluster
	@eval "$$(bash $(TOOLS) env)" && bash hack/demo.sh

# Regenerate deepcopy code, the CRD and RBAC from markers, install.yaml, and
# the Helm chart's copies of the CRD and the RBAC rules.
generate:
	$$(bash $(TOOLS) controller-gen) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$$(bash $(TOOLS) controller-gen) crd:maxDescLen=400 paths=./api/... output:crd:artifacts:config=config/crd/bases
	$$(bash $(TOOLS) controller-gen) rbac:roleName=kseal-controller paths=./internal/controller/... output:rbac:artifacts:config=config/rbac
	$$(bash $(TOOLS) build >/dev/null; echo $${KSEAL_CACHE:-$$HOME/.cache/kseal}/tools/kustomize) build config/default > config/install.yaml
	cp config/crd/bases/kseal.dev_sealedsecrets.yaml charts/kseal/crds/
	cp config/rbac/role.yaml charts/kseal/files/role.yaml

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)

# kseal — see README.md. `make demo` runs the main job end to end; `make
# test` runs every test; `make release` builds every release artifact
# (docs/release.md). Binaries the tests need (kube-apiserver, etcd,
# kubectl, kustomize) are built once by hack/tools.sh into ~/.cache/kseal.

GO      ?= go
BIN     := bin
TOOLS   := hack/tools.sh
export CGO_ENABLED ?= 0

# VERSION and IMAGE_REPO: the release, set in release.env and nowhere else.
include release.env

# How release binaries are built: no file system paths, no VCS stamp (the
# tag names the commit, and the krew manifest's sums must not change with
# every commit), no build ID, stripped, the version stamped. The release
# tests read these with `make release-flags`.
RELEASE_GOFLAGS := -trimpath -buildvcs=false
RELEASE_LDFLAGS := -s -w -buildid= -X kseal.dev/kseal/internal/version.Version=$(VERSION)
RELEASE_ENV      = VERSION='$(VERSION)' IMAGE_REPO='$(IMAGE_REPO)' RELEASE_GOFLAGS='$(RELEASE_GOFLAGS)' RELEASE_LDFLAGS='$(RELEASE_LDFLAGS)'

.PHONY: all build test test-short fmt-check staticcheck tools demo fuzz-smoke bench bench-cli bench-repo bench-unseal bench-settle bench-parse bench-tenant-memory generate fmt vet clean release release-check release-sign release-flags set-version actionlint

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

tools:
	@bash $(TOOLS) build >/dev/null

# Every check CI runs: formatting, vet (also of kseal for Windows, which
# the release builds), staticcheck, every test under the
# race detector with the real API server, etcd, kubectl, kustomize, helm and
# the rest (a full run fails, never skips, when one is missing; generated
# deepcopy code, CRD, RBAC and install.yaml are compared with fresh output),
# then each fuzz target for a few seconds. The race detector needs cgo, for
# the tests only: binaries and the image stay static (CGO_ENABLED=0 above).
test: tools fmt-check
	@eval "$$(bash $(TOOLS) env)" && \
	  $(GO) vet ./... && \
	  GOOS=windows GOARCH=amd64 $(GO) vet ./cmd/kseal && \
	  "$$KSEAL_STATICCHECK" ./... && \
	  CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory fuzz-smoke FUZZTIME=$(FUZZTIME_TEST)

# Unit tests only: no API server; tests that need one skip, saying so.
test-short:
	$(GO) test -short ./...

# Fails listing the files gofmt would change.
fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt -l: these files need make fmt:"; echo "$$out"; exit 1; fi

staticcheck: tools
	@eval "$$(bash $(TOOLS) env)" && "$$KSEAL_STATICCHECK" ./...

FUZZTIME      ?= 10s
FUZZTIME_TEST ?= 3s

# Every fuzz target in the tree (found by name, so a new one is never left
# out), each for FUZZTIME (hack/fuzz-one.sh: one more run after Go's
# -fuzztime race, go.dev/issue/75804, and after nothing else).
fuzz-smoke:
	@grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' cmd internal pkg | sort -u | \
	  while IFS=: read -r file fn; do \
	    pkg=./$$(dirname "$$file"); name=$${fn#func }; \
	    echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
	    GO=$(GO) bash hack/fuzz-one.sh "$$pkg" "$$name" $(FUZZTIME) || exit 1; \
	  done

bench:
	$(GO) test ./pkg/crypto -run '^$$' -bench . -benchmem
	bash bench/seal-stream.sh

# kseal seal/decrypt of 1,000 Secrets as whole processes next to
# sops and kubeseal and the crypto floor, compared with bench/cli-speed.baseline
# (fails when a ratio grows by more than 20%).
bench-cli: tools
	@mkdir -p $(BIN) && eval "$$(bash $(TOOLS) env)" && bash bench/cli-speed.sh -o $(BIN)/cli-speed.txt 1000 \
		&& bash bench/cli-compare.sh bench/cli-speed.baseline $(BIN)/cli-speed.txt

# policy check and verify -R over 5,000 and 10,000 sealed files, next to
# sops filestatus run once per file.
bench-repo: tools
	@eval "$$(bash $(TOOLS) env)" && bash bench/repo-scale.sh

# Peak RSS of decrypt and policy check on hostile YAML against 16 x size + 64 MiB.
bench-parse:
	bash bench/parse-memory.sh
	bash bench/parse-memory.sh 1048576
	bash bench/parse-memory.sh 409600

bench-unseal: tools
	@eval "$$(bash $(TOOLS) env)" && bash bench/unseal.sh

# Settling N already unsealed SealedSecrets after a restart and a failover:
# time, KMS calls, unwraps, writes (make bench-settle ARGS="10000 kms 20ms").
bench-settle:
	@eval "$$(bash $(TOOLS) demo-env)" && bash bench/settle.sh $(ARGS)

# Controller memory before and after a tenant creates 32 MiB of Secrets
# labelled kseal.dev/managed.
bench-tenant-memory: tools
	@eval "$$(bash $(TOOLS) env)" && bash bench/tenant-memory.sh

# The demo needs kseal, kseal-controller, a local kube-apiserver + etcd
# and kubectl: nothing else is built (not the test tools).
demo: build
	$(GO) build -o $(BIN)/ ./hack/localcluster
	@eval "$$(bash $(TOOLS) demo-env)" && bash hack/demo.sh

# Every release artifact into dist/: archives, SBOMs, the image, the
# chart, the krew manifest (also plugins/kseal.yaml), SHA256SUMS, and with
# COSIGN_KEY (+ COSIGN_PASSWORD) their signatures; with RELEASE_SIGN=later
# none, for make release-sign to add (docs/release.md).
release:
	@$(RELEASE_ENV) bash hack/release/release.sh

# make release twice, failing unless both give the same bytes.
release-check:
	@$(RELEASE_ENV) bash hack/release/release.sh --check

# Signs an already built dist/ (COSIGN_KEY, COSIGN_PASSWORD): the step
# after `make release` with RELEASE_SIGN=later, which it clears.
release-sign:
	@$(RELEASE_ENV) RELEASE_SIGN= bash hack/release/sign.sh dist

release-flags:
	@echo 'RELEASE_GOFLAGS=$(RELEASE_GOFLAGS)'
	@echo 'RELEASE_LDFLAGS=$(RELEASE_LDFLAGS)'

# make set-version VERSION=v0.2.0 [IMAGE_REPO=REGISTRY/kseal-controller]
set-version:
	$(GO) run ./hack/setversion -version '$(VERSION)' -image-repo '$(IMAGE_REPO)'

ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

actionlint:
	GOFLAGS= $(GO) run $(ACTIONLINT) -no-color .github/workflows/*.yml

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
	rm -rf $(BIN) dist

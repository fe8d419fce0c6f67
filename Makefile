# What a developer can do here. `make test` is also what CI runs (.ci/run).

GO ?= go
BIN := bin/wisp
# staticcheck 2026.2.2; it supports (and needs) Go 1.26.
STATICCHECK_VERSION := v0.8.2
# Extra flags for `make run`, e.g. make run ARGS='--addr 127.0.0.1:3233'.
ARGS ?=
# Time per Go benchmark; `make bench BENCHTIME=1x` is the short mode CI runs.
BENCHTIME ?= 1s
# Tag of `make image`.
IMAGE ?= wisp:dev
# Version and commit stamped into the binary (wisp version, GET /api/v1); Go's VCS stamp, when on, wins for the commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: build run test bench lint image

## build: compile the wisp binary into bin/wisp
build:
	$(GO) build -ldflags "-X github.com/wispio/wisp/version.Version=$(VERSION) -X github.com/wispio/wisp/version.Commit=$(COMMIT)" -o $(BIN) ./cmd/wisp

## run: build, then start the server (all roles in one process)
run: build
	$(BIN) serve $(ARGS)

## image: build the container image wisp:dev FROM scratch (static binary, host CA certificates; no registry)
image:
	GO=$(GO) bash deploy/cluster/image.sh $(IMAGE)

## test: install test dependencies, then go vet and go test ./... (scripts/test.sh)
test:
	bash scripts/test.sh

## bench: run every Go benchmark (no tests), then the whole-system harness (bench/), and -invokers when WISP_TEST_COUCHDB is set
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...
	$(GO) run ./bench -n $(if $(filter 1x,$(BENCHTIME)),100,2000)
	@# 1 vs 3 invokers as separate processes; needs CouchDB ($$WISP_TEST_COUCHDB, which scripts/test.sh sets).
	@if [ -n "$$WISP_TEST_COUCHDB" ]; then $(GO) run ./bench -invokers -duration $(if $(filter 1x,$(BENCHTIME)),2s,10s); \
	else echo "bench: -invokers skipped: set WISP_TEST_COUCHDB to a CouchDB URL"; fi

## lint: gofmt (must list nothing), go vet, staticcheck
lint:
	@unformatted="$$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*' -print0 | xargs -0 gofmt -l)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l lists files to format:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

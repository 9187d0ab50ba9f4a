# make test: what CI runs, and what every contributor runs before a commit.
# It installs what the tests need when it is missing (Debian packages when
# run as root, npm packages into .cache/, which git ignores), then runs
# go vet and staticcheck on both modules and the race-enabled test suite.

GO ?= go
NODE_DIR := $(CURDIR)/.cache/node
NODE_SPEC := entratest/testdata/msalnode

.PHONY: test test-distributed deps node-deps vet lint examples bench fuzz emulator screenshots soak

test: deps lint examples
	ENTRATEST_NODE_MODULES=$(NODE_DIR)/node_modules $(GO) test -race -count=1 -timeout 12m ./...

# Redis Cluster (three masters, one restarted) and Sentinel (a master
# stopped, the replica promoted) started on loopback ports: the store's
# conformance suite on each, and three app instances signing users in and
# out through a restart and a failover. About a minute; CI runs it after
# make test. Without ENTRAWEB_DISTRIBUTED=1 these tests skip, so go test
# ./... leaves them out.
test-distributed: apt-deps
	ENTRAWEB_DISTRIBUTED=1 $(GO) test -race -count=1 -timeout 5m \
	  -run 'Cluster|Sentinel' ./internal/redistest/ ./session/redisstore/ .

# The soak test (soak/): SOAK_USERS virtual users (at most 200) sign in,
# browse, get access tokens (refreshed every 15 s), go through the proxy
# and sign out, against the emulator, three app instances sharing one
# Redis and the proxy, for SOAK_DURATION, while faults are injected at
# random (key rotation, a slow or failing provider, reset connections, a
# Redis restart or its connections cut, an instance killed). Every answer is checked; the run's
# figures are printed at the end. CI runs it for 30s; SOAK_DURATION=10m
# (with SOAK_TIMEOUT above it) for a longer one. SOAK_FLAGS=-race adds the
# race detector (use fewer users: it is several times slower).
SOAK_DURATION ?= 30s
SOAK_USERS ?= 200
SOAK_TIMEOUT ?= 3h
SOAK_FLAGS ?=
soak: apt-deps
	ENTRAWEB_SOAK=$(SOAK_DURATION) ENTRAWEB_SOAK_USERS=$(SOAK_USERS) $(GO) test -count=1 -v \
	  -run '^TestSoak$$' -timeout $(SOAK_TIMEOUT) $(SOAK_FLAGS) ./soak/

vet:
	$(GO) vet ./...

# staticcheck, fetched through the Go module proxy at a pinned version
# (0.8 or later: older releases cannot load Go 1.26's standard library).
# The framework examples are a module of their own, so they get a run of
# their own.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint: vet
	$(GO) run $(STATICCHECK) ./...
	cd examples/frameworks && GOFLAGS=-mod=mod $(GO) run $(STATICCHECK) ./...

# The framework examples are a module of their own (so the core's go.mod
# never names chi, gin or echo); -mod=mod lets it follow the core's
# dependencies without a manual tidy. Their tests run here too.
examples:
	cd examples/frameworks && GOFLAGS=-mod=mod $(GO) vet ./... && GOFLAGS=-mod=mod $(GO) test -race ./...

deps: node-deps

# Debian packages the tests use, installed only when a binary is missing
# (python3-jwt: when no python3 imports PyJWT; python3-flask: when
# /usr/bin/python3, which the Flask example's test runs, cannot import Flask).
APT_NEEDS := node:nodejs npm:npm chromium:chromium redis-server:redis-server redis-sentinel:redis-sentinel nginx:nginx caddy:caddy
apt-deps:
	@missing=""; for pair in $(APT_NEEDS); do bin=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$bin >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	{ python3 -c 'import jwt' || /usr/bin/python3 -c 'import jwt'; } >/dev/null 2>&1 || missing="$$missing python3-jwt"; \
	/usr/bin/python3 -c 'import flask' >/dev/null 2>&1 || missing="$$missing python3-flask"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "make: missing Debian packages:$$missing (run: sudo apt-get install -y$$missing); the tests that need them will skip"; fi; \
	fi

# MSAL Node (Microsoft's Node library) for the emulator's fidelity tests,
# pinned by the lock file in $(NODE_SPEC).
node-deps: apt-deps
	@if ! command -v npm >/dev/null 2>&1; then echo "make: npm missing; MSAL Node tests will skip"; exit 0; fi; \
	if ! cmp -s $(NODE_SPEC)/package-lock.json $(NODE_DIR)/package-lock.json || [ ! -d $(NODE_DIR)/node_modules ]; then \
	  mkdir -p $(NODE_DIR) && cp $(NODE_SPEC)/package.json $(NODE_SPEC)/package-lock.json $(NODE_DIR)/ && \
	  cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Load test of a signed-in request with wrk (installs wrk when root).
.PHONY: bench-wrk
bench-wrk:
	GO=$(GO) sh bench/run.sh

# Load test of the proxies (upstream, bare ReverseProxy, entraweb proxy,
# oauth2-proxy built once in a throwaway module) with wrk.
.PHONY: bench-proxy
bench-proxy:
	GO=$(GO) sh bench/proxy.sh

# Short fuzzing runs of every fuzz target (FUZZTIME=1m for longer). A
# count (FUZZTIME=20000x) runs that many inputs per target: Go 1.26's
# fuzzing can fail a target with a bare "context deadline exceeded" when a
# time budget ends on a loaded machine (golang/go#75804, fixed in Go
# 1.27); a count has no deadline, so CI uses one.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

emulator:
	$(GO) run ./cmd/entraweb emulator

# PNGs of the demo's main pages for the README, written into docs/img/ by
# a browser test driving Chromium (Debian's chromium package).
screenshots: apt-deps
	$(GO) test ./internal/demo -run '^TestScreenshots$$' -count=1 -screenshots=$(CURDIR)/docs/img

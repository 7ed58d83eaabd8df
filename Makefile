# aTES developer entry points. `make run` and `make test` do all the set-up
# (packages, build) themselves on a fresh Debian 12 machine.
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DEPS_STAMP := .deps/stamp
export CCACHE_DIR ?= $(CURDIR)/.ccache
# Paths relative to the source root and no working directory in the cache keys: the
# image's build stage (sources in /src) then hits what this build cached (ADR 0030).
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

APT_PACKAGES := build-essential cmake ninja-build ccache pkg-config git \
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev \
  libnats-dev nats-server libpq-dev postgresql libspdlog-dev libyaml-cpp-dev \
  libgtest-dev libgmock-dev libsodium-dev libssl-dev prometheus-cpp-dev \
  libcurl4-openssl-dev libcivetweb-dev clang-format openssl chromium fonts-dejavu-core \
  prometheus

.PHONY: all deps build web run test image image-deps test-image unit integration test-faults bench bench-system bench-deps lint format buf-lint buf-breaking clean distclean

all: build

# Installs what is missing; a no-op when everything is present.
deps:
	@scripts/deps.sh $(APT_PACKAGES)

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/build.ninja web
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The web app (web/, ADR 0025): TypeScript clients generated from api/proto with
# buf + protoc-gen-es into web/src/gen, then vite bundles web/dist for the gateway.
# scripts/deps.sh has run `npm ci` in web/ when its lock changed.
web: deps
	cd web && npm run --silent build

# The embedded default: PostgreSQL + nats-server under .run/, every daemon, first admin
# (cmd/ates-devstack; `$(BUILD_DIR)/bin/ates-devstack --help` lists its ATES_RUN_* knobs).
run: deps $(BUILD_DIR)/build.ninja web
	cmake --build $(BUILD_DIR) -j $(JOBS) --target ates_programs
	@$(BUILD_DIR)/bin/ates-devstack $(BUILD_DIR)

# Unit, integration, end-to-end and browser tests (label "browser": Playwright
# driving Debian's chromium against a devstack), plus proto lint and breaking-change check.
# The fault suite's counts (one FAULT-RESULT line per case) are printed at the end.
# Then the image test (test-image) where podman is installed.
test: build lint
	@rm -f $(BUILD_DIR)/fault-results.txt
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 600; status=$$?; \
	  if [ -f fault-results.txt ]; then echo; echo "Fault suite:"; cat fault-results.txt; fi; \
	  exit $$status
	@if command -v podman >/dev/null; then $(MAKE) --no-print-directory test-image; \
	  else echo "test-image: NOT RUN: podman is not installed; 'make image-deps' installs it (podman runc mmdebstrap), then 'make test-image'"; fi

# The container image (deploy/docker/Dockerfile, ADR 0030) built with podman on a
# Debian base made by mmdebstrap (no registry pull), reusing this build's ccache.
IMAGE_PACKAGES := podman runc mmdebstrap

image-deps: deps
	@scripts/deps.sh $(IMAGE_PACKAGES)

image: image-deps
	@scripts/image-build.sh

# PostgreSQL and nats-server here, the daemons from the image, a business day
# through them with atesctl, then SIGTERM: each must drain and exit 0.
test-image: image $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target atesctl
	@BUILD_DIR=$(BUILD_DIR) scripts/image-test.sh

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

# The fault suite (ctest label "faults", about 10 minutes; `make test` runs it
# too): a business day per fault against the real daemons, then a
# reconciliation of events and ledger. Prints one FAULT-RESULT line per case.
# ATES_FAULT_PG_OUTAGE_S=30 shortens the PostgreSQL outage (CI keeps 180).
test-faults: build
	@rm -f $(BUILD_DIR)/fault-results.txt
	cd $(BUILD_DIR) && ctest -L faults --output-on-failure -V; status=$$?; \
	  echo; cat fault-results.txt 2>/dev/null; exit $$status

# Installed by the benchmark targets only (never by `make test` or `make run`):
# gnuplot draws bench-system's latency and lag against offered load.
BENCH_PACKAGES := gnuplot-nox

bench-deps: deps
	@scripts/deps.sh $(BENCH_PACKAGES)

# Private PostgreSQL + nats-server, every benchmark, then the figures against their
# goals; then the whole system under a stepped load (bench-system).
bench: build bench-deps
	@$(BUILD_DIR)/bench/bench_run
	@$(BUILD_DIR)/bench/bench_system

# The whole system as `make run` starts it, driven by a load generator at stepped
# offered rates (ADR 0027): a table per step, $(BUILD_DIR)/bench-system/result.json
# and system.png. Knobs: ATES_SYSTEM_RATES ("50 100 200 400 800 1200"),
# ATES_SYSTEM_STEP_SECONDS (10), ATES_SYSTEM_BIG_SHUFFLE (100000), see
# bench/system/loadgen/config.hpp.
bench-system: deps $(BUILD_DIR)/build.ninja bench-deps
	cmake --build $(BUILD_DIR) -j $(JOBS) --target bench_system
	@$(BUILD_DIR)/bench/bench_system

lint: deps buf-lint buf-breaking
	@scripts/check-format.sh

buf-lint: deps
	cd api/proto && ../../node_modules/.bin/buf lint

# Compares the protos with the previous commit on main (skipped on the first commit).
buf-breaking: deps
	@scripts/buf-breaking.sh

format:
	@find cmd internal tests bench \( -name '*.cpp' -o -name '*.hpp' \) -print0 | xargs -0 clang-format -i

clean:
	rm -rf $(BUILD_DIR)

distclean: clean
	rm -rf .run .deps node_modules .ccache web/node_modules web/dist web/src/gen

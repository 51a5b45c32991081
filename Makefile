# nstrace - build, run, test, bench.  Everything runs as root on a Debian machine.
#   sudo make run [ARGS="-o json"]   install what is missing, build, stream live
#   sudo make test                   install what is missing, build, run every test
#   make bench                       benchmarks (not tests)
#   make bpf                         regenerate the committed BPF skeleton from bpf/

SHELL        := /bin/bash
SWIFT        ?= swift
# The clang next to swift targets bpf; Debian's may be absent or too old.
CLANG        ?= $(or $(wildcard $(dir $(realpath $(shell command -v $(SWIFT))))clang),clang)
BPFTOOL      ?= bpftool
ARCH         := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_OUT      := bpf/.output
SKELETON     := Sources/CLibbpf/nstrace.skel.h
ABI_HEADER   := Sources/NstraceABI/include/nstrace_abi.h
BPF_CFLAGS   := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
                -Ibpf -I$(dir $(ABI_HEADER)) -fdebug-prefix-map=$(CURDIR)=.

# Debian packages: build (libbpf, libelf, zlib, bpftool) and test tools (util-linux: unshare,
# nsenter; iproute2: ip netns).
DEB_PACKAGES := libbpf-dev libelf-dev zlib1g-dev bpftool util-linux iproute2 python3

.PHONY: all deps deps-test deps-runtimes bpf check-generated build release run test unit-test integration-test bench fuzz clean

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true

# The container runtimes the end-to-end tests drive (runc, crun, containerd, docker.io, podman,
# busybox-static for their rootfs): a quick no-op when they are installed.
deps-runtimes: deps
	@bash Tests/NstraceContainerTests/runtimes.sh install

# The skeleton embeds the compiled programs, so `swift build` needs no clang; it is committed.
bpf: $(SKELETON)

$(SKELETON): bpf/nstrace.bpf.c bpf/vmlinux_min.h $(ABI_HEADER)
	@mkdir -p $(BPF_OUT)
	$(CLANG) $(BPF_CFLAGS) -c bpf/nstrace.bpf.c -o $(BPF_OUT)/nstrace.bpf.o
	$(BPFTOOL) gen object $(BPF_OUT)/nstrace.o $(BPF_OUT)/nstrace.bpf.o
	$(BPFTOOL) gen skeleton $(BPF_OUT)/nstrace.o name nstrace_bpf > $@.tmp
	mv $@.tmp $@

# CI: the committed skeleton must be what bpf/ compiles to.
check-generated: deps
	@mkdir -p $(BPF_OUT)/check
	$(CLANG) $(BPF_CFLAGS) -c bpf/nstrace.bpf.c -o $(BPF_OUT)/check/nstrace.bpf.o
	$(BPFTOOL) gen object $(BPF_OUT)/check/nstrace.o $(BPF_OUT)/check/nstrace.bpf.o
	$(BPFTOOL) gen skeleton $(BPF_OUT)/check/nstrace.o name nstrace_bpf > $(BPF_OUT)/check/nstrace.skel.h
	@cmp -s $(BPF_OUT)/check/nstrace.skel.h $(SKELETON) || { \
	  echo "check-generated: $(SKELETON) is stale: run 'make bpf' and commit it"; exit 1; }
	@echo "check-generated: $(SKELETON) matches bpf/"

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	.build/release/nstrace $(ARGS)

# swift test builds every product first: the tests run the real nstrace and nstrace-testdriver.
# Test-only: headless Chromium opens `analyze -o html` reports (DOM and screenshot).
deps-test: deps
	@dpkg-query -W -f='$${Status}' chromium 2>/dev/null | grep -q 'ok installed' || { echo "make deps-test: installing chromium"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: deps deps-test deps-runtimes check-generated
	$(SWIFT) test --disable-swift-testing

unit-test:
	$(SWIFT) test --filter NstraceCoreTests

integration-test: build
	$(SWIFT) test --filter NstraceIntegrationTests

bench: release
	.build/release/nstrace-bench --nstrace .build/release/nstrace

clean:
	rm -rf .build $(BPF_OUT)

# Fuzz the trace file reader (and the Chrome/JSON export behind it) with libFuzzer + ASan:
#   make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
FUZZ_OUT     := .build/fuzz
fuzz:
	@mkdir -p $(FUZZ_OUT)/corpus
	printf 'module NstraceABI {\n  header "%s"\n  export *\n}\n' "$(CURDIR)/$(ABI_HEADER)" > $(FUZZ_OUT)/module.modulemap
	$(SWIFT)c -O -g -sanitize=fuzzer,address -parse-as-library -module-name NstraceFuzz \
	  -Xcc -fmodule-map-file=$(FUZZ_OUT)/module.modulemap -I Sources/CZlib \
	  $$(find Sources/NstraceCore -name '*.swift') Fuzz/TraceFileFuzz.swift -o $(FUZZ_OUT)/trace-reader
	$(FUZZ_OUT)/trace-reader -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 $(FUZZ_OUT)/corpus

# nstrace - build, run, test, bench.  Everything runs as root on a Debian machine.
#   sudo make run [ARGS="-o json"]   install what is missing, build, stream live
#   sudo make test                   install what is missing, build, run every test
#   make bench                       benchmarks (not tests), vs strace/bpftrace/perf: BENCHMARKS.md
#   make release [TELEMETRY=1]       .build/release/nstrace, and a static-stdlib .build/release/nstrace-static;
#                                    lean (no --otlp/--metrics) unless TELEMETRY=1
#   make lean                        check that the lean build compiles and refuses --otlp/--metrics (make test)
#   make bpf                         regenerate the committed BPF skeleton from bpf/
#   sudo make install [PREFIX=/usr/local]   binary, man page, bash/zsh/fish completions
#   sudo make uninstall [PREFIX=/usr/local]

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

.PHONY: all deps deps-test deps-runtimes deps-fleet bpf check-generated build release lean run test unit-test integration-test bench fuzz fuzz-seeds clean install uninstall check-install

all: build

# $(call install-missing,PACKAGES,WHO): apt-get install those of PACKAGES that are missing.
define install-missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "$(2): installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
endef

deps:
	$(call install-missing,$(DEB_PACKAGES),make deps)
	@mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true

# The container runtimes the end-to-end tests drive (runc, crun, containerd, docker.io, podman,
# busybox-static for their rootfs): a quick no-op when they are installed.
deps-runtimes: deps
	@bash Tests/NstraceContainerTests/runtimes.sh install

# The fleet tests' real receivers: Debian's prometheus server, python3-yaml for the manifest check,
# and a virtualenv with the official opentelemetry-proto (PyPI) for the OTLP receiver, and grpcio and
# grpcio-tools for the CRI driver of the pod-name tests (Tests/Fleet/cri_driver.py).
FLEET_PACKAGES := prometheus python3-yaml python3-venv
PYVENV         := .build/pyvenv
deps-fleet: deps
	@missing=$$(for p in $(FLEET_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps-fleet: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@$(PYVENV)/bin/python -c 'import opentelemetry.proto.collector.logs.v1.logs_service_pb2, grpc, grpc_tools.protoc' 2>/dev/null || { \
	  echo "make deps-fleet: virtualenv $(PYVENV) with opentelemetry-proto, grpcio, grpcio-tools"; \
	  mkdir -p .build && /usr/bin/python3 -m venv $(PYVENV) && $(PYVENV)/bin/pip install -q opentelemetry-proto grpcio grpcio-tools; }

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

# The package trait Telemetry (on by default: swift build, swift test, deploy/Containerfile) builds
# --otlp and --metrics in, and with them swift-otel, NIO, BoringSSL, SwiftProtobuf and all of
# Foundation: +8 to +10 MB of RSS on every run (BENCHMARKS.md, "Memory by build"). make release
# builds without it ("lean") unless TELEMETRY=1; make bench measures the TELEMETRY=1 build (its
# part 10 uses --otlp).
TELEMETRY    ?= 0
TRAITS        = $(if $(filter 1,$(TELEMETRY)),,--disable-default-traits)

# The static build links the Swift runtime and Foundation into the binary (what a node agent
# ships: no Swift toolchain on the host); libbpf, libelf, zlib and glibc stay Debian's shared libraries.
STATIC_BUILD := .build/static
release: deps
	$(SWIFT) build -c release --product nstrace $(TRAITS)
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(STATIC_BUILD) --product nstrace $(TRAITS)
	cp $(STATIC_BUILD)/release/nstrace .build/release/nstrace-static

# make test: the lean build (no Telemetry trait) compiles, links no Foundation, NIO or BoringSSL,
# traces, and refuses --otlp and --metrics with one line. A debug build in its own scratch path, so
# that the tests' build in .build keeps its traits.
LEAN_BUILD   := .build/lean
lean: deps
	$(SWIFT) build --disable-default-traits --product nstrace --scratch-path $(LEAN_BUILD)
	@bash Tests/lean-build-check.sh $(LEAN_BUILD)/debug/nstrace

# The static lean binary: the least memory and the quickest start of the four builds (BENCHMARKS.md).
run: release
	.build/release/nstrace-static $(ARGS)

# swift test builds every product first: the tests run the real nstrace and nstrace-testdriver.
# Test-only: headless Chromium opens `analyze -o html` reports (DOM and screenshot).
deps-test: deps
	@dpkg-query -W -f='$${Status}' chromium 2>/dev/null | grep -q 'ok installed' || { echo "make deps-test: installing chromium"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: deps deps-test deps-runtimes deps-fleet check-generated
	$(SWIFT) test --disable-swift-testing
	$(MAKE) --no-print-directory check-install
	$(MAKE) --no-print-directory lean

unit-test:
	$(SWIFT) test --filter NstraceCoreTests

integration-test: build
	$(SWIFT) test --filter NstraceIntegrationTests

# The tracers part 7 compares nstrace with (strace, bpftrace, perf trace), and the runtimes.
BENCH_PACKAGES := strace bpftrace linux-perf
bench: TELEMETRY = 1
bench: release deps-runtimes
	$(SWIFT) build -c release --product nstrace-bench
	$(call install-missing,$(BENCH_PACKAGES),make bench)
	.build/release/nstrace-bench --nstrace .build/release/nstrace --static .build/release/nstrace-static \
	  --markdown BENCHMARKS.md $(BENCH_ARGS)

clean:
	rm -rf .build $(BPF_OUT)

# Fuzz the trace file reader, the metadata replay and info's summary (and the Chrome/JSON
# export and the startup analysis with its three reports behind them) with libFuzzer + ASan,
# from a corpus seeded with real recordings and the analysis fixtures:
#   sudo make fuzz FUZZ_SECONDS=600 [FUZZ_FLAGS=-DFUZZ_OLD_INFO: with issue 10's info trap]
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_OUT     := .build/fuzz
fuzz: fuzz-seeds
	@mkdir -p $(FUZZ_OUT)/corpus
	printf 'module NstraceABI {\n  header "%s"\n  export *\n}\n' "$(CURDIR)/$(ABI_HEADER)" > $(FUZZ_OUT)/module.modulemap
	$(SWIFT)c -O -g -sanitize=fuzzer,address -parse-as-library -module-name NstraceFuzz $(FUZZ_FLAGS) \
	  -Xcc -fmodule-map-file=$(FUZZ_OUT)/module.modulemap -I Sources/CZlib \
	  $$(find Sources/NstraceCore -name '*.swift') Fuzz/TraceFileFuzz.swift -o $(FUZZ_OUT)/trace-reader
	$(FUZZ_OUT)/trace-reader -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=262144 \
	  -dict=Fuzz/trace.dict -artifact_prefix=$(FUZZ_OUT)/ $(FUZZ_OUT)/corpus $(FUZZ_OUT)/seeds

# Seeds: real recordings of the test driver's syscalls (needs root), and the analysis fixtures
# (real container starts); the fuzzer's first input byte is its mode (odd: reseal checksums),
# then the file.
fuzz-seeds: build
	@mkdir -p $(FUZZ_OUT)/seeds
	@set -e; if [ -z "$$(ls $(FUZZ_OUT)/seeds)" ]; then \
	  for z in "" "-z"; do \
	    f=$(FUZZ_OUT)/seed$$z.nst; rm -f $$f; \
	    .build/debug/nstrace record -w $$f --comm nstdrv --duration 3 $$z 2>/dev/null & \
	    sleep 2; .build/debug/nstrace-testdriver unshare setns mount >/dev/null; wait; \
	    printf '\0' | cat - $$f > $(FUZZ_OUT)/seeds/real$$z-0; printf '\1' | cat - $$f > $(FUZZ_OUT)/seeds/real$$z-1; \
	  done; ls -l $(FUZZ_OUT)/seeds; fi
	@for f in Tests/Fixtures/analysis/*.nst; do \
	  printf '\1' | cat - $$f > $(FUZZ_OUT)/seeds/analysis-$$(basename $$f .nst); done

# Install: the binary, a man page generated from the command definitions (swift-argument-parser's
# generate-manual plugin) and shell completions (--generate-completion-script), under
# $(DESTDIR)$(PREFIX). CONFIG=debug installs the debug build (tests).
PREFIX       ?= /usr/local
CONFIG       ?= release
INSTALLED    := bin/nstrace share/man/man1/nstrace.1 share/bash-completion/completions/nstrace \
                share/zsh/site-functions/_nstrace share/fish/vendor_completions.d/nstrace.fish
MANUAL       := .build/plugins/GenerateManual/outputs/nstrace/nstrace.1

install: deps
	$(SWIFT) build -c $(CONFIG) --product nstrace
	$(SWIFT) package --disable-sandbox plugin generate-manual --configuration $(CONFIG) >/dev/null
	@set -e; bin=$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/nstrace; root="$(DESTDIR)$(PREFIX)"; \
	install -D -m 0755 $$bin "$$root/bin/nstrace"; \
	install -D -m 0644 $(MANUAL) "$$root/share/man/man1/nstrace.1"; \
	for shell in bash zsh fish; do $$bin --generate-completion-script $$shell > .build/nstrace.$$shell; done; \
	install -D -m 0644 .build/nstrace.bash "$$root/share/bash-completion/completions/nstrace"; \
	install -D -m 0644 .build/nstrace.zsh "$$root/share/zsh/site-functions/_nstrace"; \
	install -D -m 0644 .build/nstrace.fish "$$root/share/fish/vendor_completions.d/nstrace.fish"; \
	for f in $(INSTALLED); do echo "installed $$root/$$f"; done

uninstall:
	@for f in $(INSTALLED); do rm -f "$(DESTDIR)$(PREFIX)/$$f" && echo "removed $(DESTDIR)$(PREFIX)/$$f"; done

# make test: install into a scratch DESTDIR, check every file works, uninstall, nothing left.
check-install:
	@set -e; dest=$$(mktemp -d); trap 'rm -rf "$$dest"' EXIT; \
	$(MAKE) --no-print-directory install CONFIG=debug DESTDIR="$$dest" PREFIX=/usr/local >/dev/null; \
	root="$$dest/usr/local"; \
	"$$root/bin/nstrace" --version | grep -qx '[0-9.]*' || { echo "check-install: the installed binary does not run"; exit 1; }; \
	grep -q '^\.Dt NSTRACE 1\|^\.TH NSTRACE' "$$root/share/man/man1/nstrace.1" || { echo "check-install: no man page header"; exit 1; }; \
	grep -q 'record' "$$root/share/man/man1/nstrace.1" || { echo "check-install: the man page lacks the subcommands"; exit 1; }; \
	bash -n "$$root/share/bash-completion/completions/nstrace"; \
	grep -q '_nstrace' "$$root/share/bash-completion/completions/nstrace"; \
	grep -q '^#compdef nstrace' "$$root/share/zsh/site-functions/_nstrace"; \
	grep -q 'complete -c .*nstrace' "$$root/share/fish/vendor_completions.d/nstrace.fish"; \
	$(MAKE) --no-print-directory uninstall DESTDIR="$$dest" PREFIX=/usr/local >/dev/null; \
	left=$$(find "$$dest" -type f); [ -z "$$left" ] || { echo "check-install: uninstall left $$left"; exit 1; }; \
	echo "check-install: install and uninstall under DESTDIR: ok"

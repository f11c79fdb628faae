# hsnic: top-level entry points. Every target installs what it needs
# (scripts/deps.sh, once per machine) and builds into $(HSNIC_CACHE).
#
#   make            build QEMU with hsnic, the guest kernel, hsnic.ko,
#                   the root filesystem and the kernel selftests
#   make demo       ... then boot two VMs and print hsnic's throughput
#   make test       unit tests, then the lab tests (README.md); under CI
#                   or with HSNIC_TEST_TIER=all also the slow tier
#   make test-unit  only the fast host-side tests
#   make test-soak  the full soaks (1000 RX queue restarts, 1 GiB through
#                   ncdevmem, 100 device resets under traffic); CI runs
#                   shorter versions of the same tests (docs/lab.md)
#   make check-style  QEMU and kernel checkpatch on our C code, and the
#                   call graph of the device's and the driver's files
#                   (no cycle, no file over 1,400 lines, no function over
#                   100; drawn into build/callgraph-*.png)
#   make qemu-series  the QEMU side as an upstream-style patch series
#                   (build/qemu-series/), checked: checkpatch, git am onto
#                   the QEMU the build uses, same tree as the build's
#   make test-sanitize  the test suite on QEMU built with ASan + UBSan and a
#                   debug guest kernel (KASAN, lockdep, kmemleak, DMA-API
#                   debug, refcount trackers); docs/reliability.md
#   make bench      hsnic against virtio-net-pci, igb and e1000e between two
#                   VMs (docs/performance.md); BENCH_ARGS="--quick" etc.
#   make bench-tokens  devmem RX token management: the stock kernel against
#                   the patched one with autorelease on and off, RX thread
#                   CPU per GiB (docs/performance.md); TOKENS_ARGS="--rounds 20"
#   make driver-patch  the driver as an in-tree patch, git-am-able onto the
#                   Debian 7.3 tree the lab builds (build/hsnic-driver.patch),
#                   checked: git apply, checkpatch --strict (~10 s);
#                   scripts/driver-into-tree.py --tree DIR copies it into a
#                   kernel tree instead (guest-driver/README.md)
#   make debug      boot a lab with a gdbstub per VM, print the gdb command
#                   that attaches to each, keep it up until Ctrl-C
#                   (docs/debugging.md); DEBUG_ARGS="-t loop" etc.

HSNIC_CACHE ?= $(HOME)/.cache/hsnic
export HSNIC_CACHE
PYTHON := /usr/bin/python3

.PHONY: all builds deps qemu kernel driver rootfs selftests demo test test-unit \
	unit-build check-style clean bench bench-tokens test-sanitize fuzz debug \
	test-soak callgraph qemu-series driver-patch

# The builders run side by side (QEMU, the kernel, the root filesystem):
# on 2 cores a cold build then overlaps one builder's serial steps
# (downloads, configure, linking, BTF, mmdebstrap) with another's
# compiling. BUILD_JOBS=1 builds one after the other.
BUILD_JOBS ?= 3
all:
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) builds

builds: qemu kernel driver rootfs selftests

# scripts/deps.sh keeps its own stamp: a no-op once it has run.
deps:
	bash scripts/deps.sh

qemu: deps
	scripts/build-qemu.sh
kernel: deps
	scripts/build-kernel.sh
driver: kernel
	scripts/build-driver.sh
rootfs: deps
	images/build-rootfs.sh
selftests: kernel
	scripts/build-selftests.sh

demo: all
	$(PYTHON) scripts/lab.py demo

build/build.ninja: meson.build
	meson setup --reconfigure build >/dev/null || meson setup build

unit-build: deps build/build.ninja
	meson compile -C build

test-unit: unit-build
	$(PYTHON) tests/run.py --tier unit

# Tier: $(HSNIC_TEST_TIER), else "all" under CI (CI=true), else "fast"
# (unit + lab); see docs/lab.md.
test: all unit-build
	$(PYTHON) tests/run.py --junit build/junit.xml \
		$(if $(HSNIC_TEST_TIER),--tier $(HSNIC_TEST_TIER))

test-soak: all unit-build
	$(PYTHON) tests/run.py --junit build/junit-soak.xml --tier soak

# The sanitizer tier: own builds (own cache keys), the whole suite
# ($(HSNIC_TEST_TIER), default all); any ASan/UBSan report, kernel WARN,
# KASAN or lockdep splat, hung task or kmemleak finding fails the test
# that saw it.
test-sanitize: deps unit-build
	HSNIC_SANITIZE=1 HSNIC_KERNEL_DEBUG=1 HSNIC_UNPLUG_ROUNDS=100 \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:print_summary=1 \
	UBSAN_OPTIONS=print_stacktrace=1 \
	$(PYTHON) tests/run.py --junit build/junit-sanitize.xml \
		--tier $(or $(HSNIC_TEST_TIER),all)

check-style: callgraph
	scripts/check-style.sh

callgraph:
	@mkdir -p build
	$(PYTHON) scripts/callgraph.py hw/net/hsnic --max-file-lines 1400 \
		--max-func-lines 100 --png build/callgraph-device.png
	$(PYTHON) scripts/callgraph.py guest-driver --max-file-lines 1400 \
		--max-func-lines 100 --png build/callgraph-driver.png

qemu-series: deps
	scripts/qemu-series.sh $(SERIES_ARGS)

# DRIVER_PATCH_ARGS: e.g. --base DIR (another kernel tree), --author "N <e>"
driver-patch: deps
	$(PYTHON) scripts/driver-into-tree.py --patch build/hsnic-driver.patch \
		--check $(DRIVER_PATCH_ARGS)

bench: all
	rc=0; $(PYTHON) scripts/bench.py $(BENCH_ARGS) || rc=$$?; \
	$(PYTHON) scripts/bench-tokens.py $(TOKENS_ARGS) || rc=$$?; exit $$rc

bench-tokens: all
	$(PYTHON) scripts/bench-tokens.py $(TOKENS_ARGS)

# make debug: `scripts/lab.py run --gdb` without a command keeps the lab
# up until Ctrl-C, which shuts the VMs down; lines typed meanwhile run in
# vm0 ("vm1: CMD" in vm1). DEBUG_ARGS: more `run` options (docs/lab.md).
DEBUG_ARGS ?= -t pair -n hsnic
debug: all
	$(PYTHON) scripts/lab.py run --gdb $(DEBUG_ARGS)

# make fuzz: build QEMU's libFuzzer binary with ASan/UBSan and run
# generic-fuzz-hsnic, hsnic-rx and hsnic-tx for FUZZ_SECONDS each
# (FUZZ_TARGET=one of them); corpus and crashes under $(HSNIC_CACHE)/fuzz/,
# non-zero exit on a crash (docs/fuzzing.md).
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?=
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGET="$(FUZZ_TARGET)" scripts/fuzz.sh

clean:
	rm -rf build
	@echo "build caches stay in $(HSNIC_CACHE) (rm -rf it to start cold)"

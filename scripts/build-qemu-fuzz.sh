#!/bin/bash
# Build QEMU's libFuzzer binary (qemu-fuzz-x86_64) with hsnic, clang,
# ASan and UBSan: the generic-fuzz-hsnic config and the hsnic-rx and
# hsnic-tx fuzzers (docs/fuzzing.md).
#
# Output: prints the path of the built binary. Like build-qemu.sh, the
# result is cached under $HSNIC_CACHE/qemu-fuzz/<hash of every input>/ and
# the build tree ($HSNIC_CACHE/qemu-fuzz-build/<version>/) is kept, so a
# change to hw/net or tests/fuzz rebuilds only what it touches. The tree is
# separate from build-qemu.sh's: different compiler and flags.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/qemu-source.sh"
HSNIC_STEP=qemu-fuzz

CLANG=${CLANG:-clang-14}
CLANGXX=${CLANGXX:-clang++-14}
# build-qemu.sh's minimal feature set, plus fuzzing and the sanitizers.
# No TCG: the fuzzer runs the machine under the qtest accelerator, and KVM
# is enough to satisfy the "one accelerator per target" rule (much less
# to compile).
CONFIGURE_ARGS=(
	--target-list=x86_64-softmmu
	--python=/usr/bin/python3
	--disable-install-blobs
	--without-default-features
	--disable-tcg --enable-kvm --disable-slirp
	--enable-trace-backends=log
	--disable-docs --disable-tools --disable-user
	--disable-werror
	--enable-fuzzing --enable-asan --enable-ubsan
	# The +ds source ships no firmware: the machines find SeaBIOS and the
	# option ROMs in Debian's seabios and qemu-system-data packages
	# (scripts/deps.sh), as lab.py's -L options do.
	--firmwarepath=/usr/share/seabios:/usr/share/qemu
)

command -v "$CLANG" >/dev/null || die "$CLANG not found (scripts/deps.sh installs it)"

inputs=("$HSNIC_TOP/hw/net" "$HSNIC_TOP/include/hsnic_abi.h" "$0"
	"$HSNIC_TOP/scripts/lib/common.sh" "$HSNIC_TOP/scripts/lib/qemu-source.sh"
	"$HSNIC_TOP/tests/fuzz/qemu-fuzz.patch"
	"$HSNIC_TOP/tests/fuzz/hsnic_fuzz.h"
	"$HSNIC_TOP/tests/fuzz/hsnic_rx_fuzz.c"
	"$HSNIC_TOP/tests/fuzz/hsnic_tx_fuzz.c")
key=$(echo "$QEMU_VERSIONS $CLANG ${CONFIGURE_ARGS[*]} $(hash_inputs "${inputs[@]}")" |
	sha256sum | cut -c1-16)
out=$HSNIC_CACHE/qemu-fuzz/$key
if [ -x "$out/qemu-fuzz-x86_64" ]; then
	echo "$out/qemu-fuzz-x86_64"
	exit 0
fi

# The same source tree as build-qemu.sh's.
qemu_fetch_source

work=${HSNIC_QEMU_FUZZ_WORK:-$HSNIC_CACHE/qemu-fuzz-build/$version}
log "preparing source tree for QEMU $version (fuzzing)"
qemu_prepare_tree "$work"
cp "$HSNIC_TOP/tests/fuzz/hsnic_fuzz.h" "$HSNIC_TOP/tests/fuzz/hsnic_rx_fuzz.c" \
	"$HSNIC_TOP/tests/fuzz/hsnic_tx_fuzz.c" "$work/src/tests/qtest/fuzz/"
(cd "$work/src" && patch -p1 -s <"$HSNIC_TOP/tests/fuzz/qemu-fuzz.patch") ||
	die "tests/fuzz/qemu-fuzz.patch does not apply to QEMU $version"

export CCACHE_DIR=$HSNIC_CACHE/ccache
mkdir -p "$work/build"
cd "$work/build"
conf="$CLANG ${CONFIGURE_ARGS[*]}"
if [ ! -f build.ninja ] || [ "$(cat .hsnic-configure 2>/dev/null)" != "$conf" ]; then
	log "configuring ($CLANG, --enable-fuzzing --enable-asan --enable-ubsan)"
	rm -rf "$work/build"/*
	run_logged "$work/configure.log" ../src/configure --cc="ccache $CLANG" \
		--cxx="ccache $CLANGXX" --host-cc="ccache $CLANG" \
		"${CONFIGURE_ARGS[@]}"
	echo "$conf" >.hsnic-configure
fi
log "building qemu-fuzz-x86_64 (cold: ~15 min on 2 cores)"
with_heartbeat "building qemu-fuzz" run_logged "$work/build.log" \
	ninja -j"$(nproc)" qemu-fuzz-x86_64

mkdir -p "$out.tmp"
cp qemu-fuzz-x86_64 "$out.tmp/"
echo "$version" >"$out.tmp/VERSION"
rm -rf "$out"
mv "$out.tmp" "$out"
log "built qemu-fuzz-x86_64 $version with hsnic: $out/qemu-fuzz-x86_64"
echo "$out/qemu-fuzz-x86_64"

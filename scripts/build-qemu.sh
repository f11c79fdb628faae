#!/bin/bash
# Build qemu-system-x86_64 with hsnic from Debian's QEMU source package.
#
# Output: prints the path of the built binary. The result is cached under
# $HSNIC_CACHE/qemu/<hash of every input>/, so a second run with the same
# inputs builds nothing; the build tree itself is kept (per QEMU version)
# and ccache is used, so a change to hw/net rebuilds only what it touches.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/qemu-source.sh"
HSNIC_STEP=qemu

CONFIGURE_ARGS=(
	--target-list=x86_64-softmmu
	--python=/usr/bin/python3
	--disable-install-blobs
	--without-default-features
	--enable-tcg --enable-kvm --disable-slirp
	--enable-trace-backends=log
	--disable-docs --disable-tools --disable-user
	--disable-werror
)
# HSNIC_SANITIZE=1: the ASan + UBSan build of `make test-sanitize`, in a
# build tree of its own (the key follows from the configure arguments).
variant=""
if [ -n "${HSNIC_SANITIZE:-}" ]; then
	CONFIGURE_ARGS+=(--enable-asan --enable-ubsan)
	variant=-sanitize
fi

inputs=("$HSNIC_TOP/hw/net" "$HSNIC_TOP/include/hsnic_abi.h" "$0"
	"$HSNIC_TOP/tests/qtest"
	"$HSNIC_TOP/scripts/lib/common.sh" "$HSNIC_TOP/scripts/lib/qemu-source.sh")
key=$(echo "$QEMU_VERSIONS ${CONFIGURE_ARGS[*]} $(hash_inputs "${inputs[@]}")" |
	sha256sum | cut -c1-16)
out=$HSNIC_CACHE/qemu/$key
if [ -x "$out/qemu-system-x86_64" ] && [ -x "$out/qos-test" ]; then
	echo "$out/qemu-system-x86_64"
	exit 0
fi

start=$SECONDS
qemu_fetch_source

# HSNIC_QEMU_WORK: a separate build tree, for building two checkouts at once.
work=${HSNIC_QEMU_WORK:-$HSNIC_CACHE/qemu-build/$version$variant}
log "preparing source tree for QEMU $version"
qemu_prepare_tree "$work"
qemu_add_qtest_files "$work/src"

export CCACHE_DIR=$HSNIC_CACHE/ccache
mkdir -p "$work/build"
cd "$work/build"
if [ ! -f build.ninja ] || [ "$(cat .hsnic-configure 2>/dev/null)" != "${CONFIGURE_ARGS[*]}" ]; then
	log "configuring"
	rm -rf "$work/build"/*
	run_logged "$work/configure.log" ../src/configure --cc="ccache gcc" \
		--host-cc="ccache gcc" "${CONFIGURE_ARGS[@]}"
	echo "${CONFIGURE_ARGS[*]}" >.hsnic-configure
fi
log "building qemu-system-x86_64 (cold: ~10 min alone on 2 cores)"
with_heartbeat "building qemu" run_logged "$work/build.log" \
	ninja -j"$(nproc)" qemu-system-x86_64 tests/qtest/qos-test

mkdir -p "$out.tmp"
cp qemu-system-x86_64 tests/qtest/qos-test "$out.tmp/"
echo "$version" >"$out.tmp/VERSION"
rm -rf "$out"
mv "$out.tmp" "$out"
log "built QEMU $version with hsnic in $((SECONDS - start)) s: $out/qemu-system-x86_64"
echo "$out/qemu-system-x86_64"

# shellcheck shell=bash
# Debian's QEMU source package with hsnic's device model in it: sourced
# (after common.sh) by build-qemu.sh and build-qemu-fuzz.sh, which build
# the same tree with different compilers and options.

# The versions to try, in order. hsnic needs QEMU 10.1 or later (its
# doorbells are a lockless MMIO region, memory_region_enable_lockless_io(),
# and QOM's class_init takes const data since 10.1): 10.0.13, which the
# archive also has, does not build it, so it is no fallback.
QEMU_VERSIONS=${QEMU_VERSIONS:-"1:10.2.2+ds-1"}

# Unpack (once, under $HSNIC_CACHE/src) the first of $QEMU_VERSIONS apt
# can fetch; sets $pristine (the tree) and $version (upstream version).
qemu_fetch_source() {
	local srcroot=$HSNIC_CACHE/src v upstream dir
	mkdir -p "$srcroot"
	pristine=""
	for v in $QEMU_VERSIONS; do
		upstream=${v#*:}
		upstream=${upstream%-*}
		dir=$srcroot/qemu-$upstream
		if [ ! -f "$dir/.hsnic-complete" ]; then
			log "fetching Debian source qemu=$v"
			rm -rf "$dir"
			if ! (cd "$srcroot" && run_logged "$srcroot/qemu-$upstream.log" \
				apt-get source -q "qemu=$v"); then
				log "qemu=$v not available, trying the next version"
				continue
			fi
			touch "$dir/.hsnic-complete"
		fi
		pristine=$dir
		version=$upstream
		return 0
	done
	die "no QEMU source package could be fetched"
}

# Fixes to QEMU's own code that hsnic needs, as upstream-style patches
# (a commit message, then the diff): applied before the device, and the
# first patches of scripts/qemu-series.sh's series.
QEMU_FIXES=(
	"hw/net/net-tx-pkt-tso-fin-psh.patch"
)

# Into the QEMU tree $1: the patches of QEMU_FIXES.
qemu_apply_fixes() {
	local tree=$1 fix
	for fix in "${QEMU_FIXES[@]}"; do
		(cd "$tree" && patch -p1 -s --no-backup-if-mismatch 			<"$HSNIC_TOP/$fix") ||
			die "$fix does not apply to QEMU $version"
	done
}

# $1/src: Debian's tree plus QEMU_FIXES and hsnic's device
# (qemu_add_device_files).
# rsync -a keeps the mtime of unchanged files, so ninja only rebuilds what
# changed.
qemu_prepare_tree() {
	local work=$1
	mkdir -p "$work"
	rsync -a --delete --exclude=/build "$pristine/" "$work/src/"
	qemu_apply_fixes "$work/src"
	qemu_add_device_files "$work/src"
}

# Into the QEMU tree $1: the device ABI header, shared with the Linux
# driver, where QEMU keeps headers imported from Linux (checkpatch leaves
# them in the kernel's style).
qemu_add_abi_header() {
	mkdir -p "$1/include/standard-headers/misc"
	cp "$HSNIC_TOP/include/hsnic_abi.h" "$1/include/standard-headers/misc/hsnic_abi.h"
}

# Into the QEMU tree $1: hw/net/hsnic/ (the device's sources, meson.build,
# trace-events and trace.h: its own trace event group, like hw/net/can/),
# the ABI header (qemu_add_abi_header), and hw/net/qemu-integration.patch (Kconfig, meson, the
# trace subdirectory, HMP). scripts/qemu-series.sh makes patch 1 of the
# upstream-style series from the same function.
qemu_add_device_files() {
	local tree=$1
	rsync -a --exclude=README.md "$HSNIC_TOP/hw/net/hsnic" "$tree/hw/net/"
	qemu_add_abi_header "$tree"
	(cd "$tree" && patch -p1 -s --no-backup-if-mismatch \
		<"$HSNIC_TOP/hw/net/qemu-integration.patch") ||
		die "hw/net/qemu-integration.patch does not apply to QEMU $version"
}

# Into the QEMU tree $1: the qtests (docs/reliability.md), hsnic's libqos
# driver and test cases, and their meson lines.
qemu_add_qtest_files() {
	local tree=$1
	cp "$HSNIC_TOP/tests/qtest/hsnic-test.c" "$tree/tests/qtest/"
	cp "$HSNIC_TOP/tests/qtest/libqos/hsnic."[ch] "$tree/tests/qtest/libqos/"
	(cd "$tree" && patch -p1 -s --no-backup-if-mismatch \
		<"$HSNIC_TOP/tests/qtest/qemu-qtest.patch") ||
		die "tests/qtest/qemu-qtest.patch does not apply to QEMU $version"
}

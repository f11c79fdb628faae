#!/bin/bash
# Build hsnic.ko out of tree against a kernel build directory, and the
# lab's test module hsnic_hammer.ko (tests/unplug/) beside it.
#
# usage: scripts/build-driver.sh [KDIR]
# KDIR defaults to the lab kernel (scripts/build-kernel.sh). The modules
# are built in a copy under $HSNIC_CACHE/driver/<hash>/ so the checkout
# stays clean; prints the path of hsnic.ko (hsnic_hammer.ko is in the same
# directory; the lab's payload carries both).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
HSNIC_STEP=driver

kdir=${1:-$("$HSNIC_TOP/scripts/build-kernel.sh")}
[ -f "$kdir/Makefile" ] || die "$kdir is not a kernel build directory"
krel=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || echo unknown)
key=$(echo "$kdir $krel $(sha256sum "$kdir/Module.symvers" 2>/dev/null | cut -c1-16) \
	$(hash_inputs "$HSNIC_TOP/guest-driver" "$HSNIC_TOP/include/hsnic_abi.h" \
		"$HSNIC_TOP/tests/unplug" "$0")" |
	sha256sum | cut -c1-16)
out=$HSNIC_CACHE/driver/$key
if [ -f "$out/guest-driver/hsnic.ko" ] && [ -f "$out/guest-driver/hsnic_hammer.ko" ]; then
	echo "$out/guest-driver/hsnic.ko"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out"
cp -r "$HSNIC_TOP/guest-driver" "$HSNIC_TOP/include" "$out/"
mkdir -p "$out/tests"
cp -r "$HSNIC_TOP/tests/unplug" "$out/tests/"
log "building hsnic.ko and hsnic_hammer.ko against $krel"
run_logged "$out/build.log" make -C "$out/guest-driver" KDIR="$kdir" \
	-j"$(nproc)" || die "hsnic.ko did not build (log: $out/build.log)"
run_logged "$out/build-hammer.log" make -C "$kdir" M="$out/tests/unplug" \
	modules || die "hsnic_hammer.ko did not build (log: $out/build-hammer.log)"
cp "$out/tests/unplug/hsnic_hammer.ko" "$out/guest-driver/"
echo "$out/guest-driver/hsnic.ko"

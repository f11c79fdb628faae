#!/bin/bash
# Build hsnic.ko out of tree against a kernel build directory.
#
# usage: scripts/build-driver.sh [KDIR]
# KDIR defaults to the lab kernel (scripts/build-kernel.sh). The module is
# built in a copy under $HSNIC_CACHE/driver/<hash>/ so the checkout stays
# clean; prints the path of hsnic.ko.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
HSNIC_STEP=driver

kdir=${1:-$("$HSNIC_TOP/scripts/build-kernel.sh")}
[ -f "$kdir/Makefile" ] || die "$kdir is not a kernel build directory"
krel=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || echo unknown)
key=$(echo "$kdir $krel $(sha256sum "$kdir/Module.symvers" 2>/dev/null | cut -c1-16) \
	$(hash_inputs "$HSNIC_TOP/guest-driver" "$HSNIC_TOP/include/hsnic_abi.h" "$0")" |
	sha256sum | cut -c1-16)
out=$HSNIC_CACHE/driver/$key
if [ -f "$out/guest-driver/hsnic.ko" ]; then
	echo "$out/guest-driver/hsnic.ko"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out"
cp -r "$HSNIC_TOP/guest-driver" "$HSNIC_TOP/include" "$out/"
log "building hsnic.ko against $krel"
run_logged "$out/build.log" make -C "$out/guest-driver" KDIR="$kdir" \
	-j"$(nproc)" || die "hsnic.ko did not build (log: $out/build.log)"
echo "$out/guest-driver/hsnic.ko"

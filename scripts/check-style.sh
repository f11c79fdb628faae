#!/bin/bash
# Style checks in each upstream's own style: QEMU's checkpatch.pl on hw/net/hsnic
# and the qtests,
# the kernel's checkpatch.pl --strict on guest-driver, the ABI header and
# kernel-patches. Uses the checkpatch scripts from the cached source trees.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
HSNIC_STEP=style

qemu_cp=$(ls -d "$HSNIC_CACHE"/src/qemu-*/scripts/checkpatch.pl 2>/dev/null | head -n 1)
kern_cp=$(ls -d "$HSNIC_CACHE"/src/linux-*/scripts/checkpatch.pl \
	2>/dev/null | head -n 1 || true)
rc=0
if [ -n "$qemu_cp" ]; then
	for f in "$HSNIC_TOP"/hw/net/hsnic/*.[ch]; do
		perl "$qemu_cp" --no-tree -q -f "$f" || rc=1
	done
	# Relative paths: checkpatch has rules of its own for tests/.
	for f in tests/qtest/hsnic-test.c tests/qtest/libqos/hsnic.[ch] \
		tests/fuzz/hsnic_*_fuzz.c tests/fuzz/hsnic_fuzz.h; do
		(cd "$HSNIC_TOP" && perl "$qemu_cp" --no-tree -q -f "$f") || rc=1
	done
else
	log "no QEMU source in the cache: run make qemu first"
	rc=1
fi
if [ -n "$kern_cp" ]; then
	for f in "$HSNIC_TOP"/guest-driver/*.[ch] "$HSNIC_TOP"/guest-driver/Kconfig \
		"$HSNIC_TOP"/guest-driver/Kbuild "$HSNIC_TOP"/guest-driver/hsnic.rst \
		"$HSNIC_TOP"/tests/unplug/*.c; do
		perl "$kern_cp" --no-tree --strict -q -f "$f" || rc=1
	done
	# The ABI header is a uapi header (include/uapi/misc/hsnic_abi.h in
	# a kernel tree), also compiled outside the kernel: no BIT(), fixed-width
	# userspace fallbacks. checkpatch exempts uapi paths from those checks;
	# `make driver-patch` runs it on the header at that path.
	perl "$kern_cp" --no-tree --strict -q \
		--ignore BIT_MACRO,PREFER_KERNEL_TYPES \
		-f "$HSNIC_TOP/include/hsnic_abi.h" || rc=1
	for p in "$HSNIC_TOP"/kernel-patches/*.patch; do
		[ -e "$p" ] || continue
		perl "$kern_cp" --no-tree --strict -q "$p" || rc=1
	done
else
	log "no kernel source in the cache: run make kernel first"
	rc=1
fi
[ $rc = 0 ] && log "style clean"
exit $rc

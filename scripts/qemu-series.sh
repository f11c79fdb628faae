#!/bin/bash
# The QEMU side of hsnic as an upstream-style patch series: `git am`-able
# onto the QEMU tree the build uses (Debian's 10.2.2 source, the one
# build-qemu.sh builds), one patch per reviewable piece:
#
#   1. the fixes to QEMU's own code hsnic needs (QEMU_FIXES, each a
#      patch with its commit message; today net_tx_pkt's TSO flags)
#   2. standard-headers: the device ABI header shared with the driver
#   3. hw/net: the hsnic device (model, trace events, Kconfig, meson,
#      HMP `info hsnic`, MAINTAINERS)
#   4. docs/specs: the device spec (docs/specs/hsnic.rst)
#   5. tests/qtest: the libqos driver and the qtests (which test 1 too)
#
# Usage: scripts/qemu-series.sh [-o DIR] [--no-check] [--build]
#   -o DIR      where the patches go (default build/qemu-series)
#   --no-check  skip the checks below
#   --build     also configure and build qemu-system-x86_64 and qos-test
#               in the tree the series was applied to (~5 min warm ccache)
#
# Checks (default): QEMU's checkpatch.pl on every patch; the series
# applied with `git am` to a clean copy of the base; and that tree equal,
# file for file, to the one build-qemu.sh builds (qemu_prepare_tree plus
# the qtest files), so the series is what CI tests, not a second copy.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/qemu-source.sh"
HSNIC_STEP=qemu-series

out=$HSNIC_TOP/build/qemu-series
check=1
build=""
while [ $# -gt 0 ]; do
	case $1 in
	-o) out=$2; shift 2 ;;
	--no-check) check=""; shift ;;
	--build) build=1; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

qemu_fetch_source
work=$HSNIC_CACHE/qemu-series
tree=$work/tree
name=$(git -C "$HSNIC_TOP" config user.name || echo hsnic)
email=$(git -C "$HSNIC_TOP" config user.email || echo hsnic@localhost)
export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email
# Reproducible commits: the same inputs give the same patches.
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
g() { git -C "$tree" -c core.autocrlf=false -c advice.detachedHead=false "$@"; }

# The base: Debian's tree, committed once (kept between runs).
if [ ! -f "$tree/.git/hsnic-base" ] || [ "$(cat "$tree/.git/hsnic-base")" != "$version" ]; then
	log "committing the QEMU $version base tree (once)"
	rm -rf "$tree"
	mkdir -p "$tree"
	rsync -a --exclude=/build "$pristine/" "$tree/"
	g init -q -b base
	g add -A -f
	g commit -q -m "QEMU $version (Debian source package, its patches applied)"
	echo "$version" >"$tree/.git/hsnic-base"
fi
g checkout -q -f base
g reset -q --hard base
g clean -q -fdx
g checkout -q -B hsnic base

signoff="Signed-off-by: $name <$email>"

# --- 1: fixes to QEMU's own code, each with its own commit message ----------
for fix in "${QEMU_FIXES[@]}"; do
	{
		echo "From: $name <$email>"
		echo "Date: $GIT_AUTHOR_DATE"
		sed '/^---$/,$d' "$HSNIC_TOP/$fix"
		echo
		echo "$signoff"
		echo "---"
		sed '1,/^---$/d' "$HSNIC_TOP/$fix"
	} >"$work/fix.mbox"
	g am -q "$work/fix.mbox" || die "$fix: git am failed"
done

# --- 2: the ABI header, alone (checkpatch wants imported headers so) ------
qemu_add_abi_header "$tree"
g add -A -f
g commit -q -F - <<EOF
standard-headers: add misc/hsnic_abi.h, the hsnic device ABI

The registers, descriptors and completions of the hsnic NIC, defined
once in a uapi-style header that the Linux driver and the QEMU model
both compile (fixed-width types, SHIFT/WIDTH/MASK per field, static
asserts on every layout). Imported as-is from the driver's tree.

$signoff
EOF

# --- 3: the device ------------------------------------------------------
qemu_add_device_files "$tree"
python3 - "$tree/MAINTAINERS" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
entry = ("hsnic\n"
         "S: Maintained\n"
         "F: hw/net/hsnic/\n"
         "F: include/standard-headers/misc/hsnic_abi.h\n"
         "F: docs/specs/hsnic.rst\n"
         "F: tests/qtest/hsnic-test.c\n"
         "F: tests/qtest/libqos/hsnic.*\n\n")
at = s.index("\nRocker\n") + 1
open(p, "w").write(s[:at] + entry + s[at:])
EOF
g add -A -f
g commit -q -F - <<EOF
hw/net: add hsnic, a NIC with TCP header split and per-queue restart

hsnic is a PCIe NIC model made for the guest side of the kernel's
devmem TCP and io_uring zero-copy receive: receive queues that split
each TCP frame into a header buffer and payload buffers (exact split,
so payload can land in memory the guest kernel never reads), queues
that can be stopped, re-programmed and restarted one at a time (the
netdev queue API), flow steering rules and RSS to put a flow on such a
queue, and doorbells and completions simple enough to fuzz.

The model is split by responsibility under hw/net/hsnic/; the register
layout is in include/standard-headers/misc/hsnic_abi.h (previous
patch), the header the guest driver uses too. Guest errors are validated on a local copy of every
descriptor, logged with LOG_GUEST_ERROR and a trace event, and stop the
queue with an error code; DMA and MSI run under the device's
re-entrancy guard.

It uses PCI ID 1af4:10f0, from the range docs/specs/pci-ids.rst leaves
for experimental use; an upstream submission needs an ID of its own.

$signoff
EOF

# --- 4: the spec ----------------------------------------------------------
spec=$HSNIC_TOP/docs/specs/hsnic.rst
if [ -f "$spec" ]; then
	cp "$spec" "$tree/docs/specs/hsnic.rst"
	sed -i 's/^   rocker$/   rocker\n   hsnic/' "$tree/docs/specs/index.rst"
	grep -qx '   hsnic' "$tree/docs/specs/index.rst" ||
		die "docs/specs/index.rst: no rocker entry to put hsnic after"
	g add -A -f
	g commit -q -F - <<EOF
docs/specs: the hsnic device

Registers, descriptors, completions, the queue life cycle (enable,
disable, restart), header split rules, steering, interrupts, error
codes and what the device guarantees to a hostile guest.

$signoff
EOF
else
	log "no docs/specs/hsnic.rst: the series has no spec patch"
fi

# --- 5: the qtests --------------------------------------------------------
qemu_add_qtest_files "$tree"
g add -A -f
g commit -q -F - <<EOF
tests/qtest: hsnic libqos driver and device tests

A libqos driver that programs queues the way a guest driver does, and
tests for what the spec promises: traffic through header split,
per-queue restart, guest errors (bad descriptors, completion rings and
MSI-X addresses aimed at the device itself, doorbells past the ring),
reset under traffic, migration of the device state and refusal of
streams with out-of-range fields.

$signoff
EOF

# --- the patches ------------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
g format-patch -q --cover-letter --subject-prefix="RFC PATCH" -o "$out" base..hsnic
cover=$(ls "$out"/0000-*.patch)
python3 - "$cover" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("*** SUBJECT HERE ***",
              "hw/net: hsnic, a NIC for devmem TCP and io_uring zero-copy receive")
s = s.replace("*** BLURB HERE ***", """\
This series adds hsnic, a PCIe NIC model with TCP header/payload split
and per-queue restart: what the Linux kernel's devmem TCP and io_uring
zero-copy receive need from a NIC, so both can be developed and tested
in a VM, where today only real NICs (gve, bnxt, mlx5, fbnic) run them.

Patch 1 fixes the flags of the TCP segments net_tx_pkt cuts (FIN and
PSH were dropped from the last one; any device segmenting in software
lost them). Patch 2 is the register interface (a header shared with the
Linux driver), patch 3 the device, patch 4 its spec, patch 5 its qtests,
which include the test of patch 1 (tso-segments). A reviewer
should start with the spec (docs/specs/hsnic.rst), then hw/net/hsnic/
from hsnic.h up, one layer at a time (hw/net/hsnic/README.md).""")
open(p, "w").write(s)
EOF
n=$(ls "$out"/*.patch | wc -l)
log "$((n - 1)) patches and a cover letter in ${out#"$HSNIC_TOP"/}"

[ -n "$check" ] || exit 0

# --- checks -----------------------------------------------------------------
rc=0
for p in "$out"/0*.patch; do
	case $p in */0000-*) continue ;; esac
	if ! (cd "$tree" && perl scripts/checkpatch.pl -q "$p"); then
		log "checkpatch: $(basename "$p") not clean"
		rc=1
	fi
done
[ $rc = 0 ] && log "checkpatch: no errors in any patch"

am=$work/am
rm -rf "$am"
git clone -q -b base "$tree" "$am"
if ! git -C "$am" -c user.name="$name" -c user.email="$email" am -q "$out"/0[0-9][0-9][1-9]-*.patch 2>"$work/am.log"; then
	cat "$work/am.log" >&2
	die "the series does not apply with git am to QEMU $version"
fi
log "git am: the series applies to QEMU $version"

# The tree build-qemu.sh builds, against the tree the series makes.
ref=$work/ref
qemu_prepare_tree "$ref"
qemu_add_qtest_files "$ref/src"
find "$ref/src" -type d -empty -delete  # git keeps no empty directory
# The spec and MAINTAINERS are not built; everything else must match.
if ! diff -r -q -x .git -x MAINTAINERS -x hsnic.rst -x index.rst \
	-x '*.orig' "$ref/src" "$am" >"$work/diff.log"; then
	cat "$work/diff.log" >&2
	log "the series and build-qemu.sh's tree differ (above)"
	rc=1
else
	log "the series gives the tree build-qemu.sh builds"
fi

if [ -n "$build" ]; then
	log "building the series (qemu-system-x86_64 and qos-test)"
	export CCACHE_DIR=$HSNIC_CACHE/ccache
	mkdir -p "$am/build"
	(cd "$am/build" && run_logged "$work/configure.log" ../configure \
		--target-list=x86_64-softmmu --python=/usr/bin/python3 \
		--disable-install-blobs --without-default-features --enable-tcg \
		--disable-slirp --disable-docs --disable-tools --disable-user) &&
	with_heartbeat "ninja" run_logged "$work/ninja.log" \
		ninja -C "$am/build" qemu-system-x86_64 tests/qtest/qos-test ||
		{ log "the series does not build"; rc=1; }
	[ $rc = 0 ] && log "the series builds"
fi
exit $rc

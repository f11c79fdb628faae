#!/bin/bash
# Build and install the kernel selftests the hsnic lab runs in the guest:
# TARGETS drivers/net and drivers/net/hw (plus net/lib, which kselftest adds
# for them: the YNL python library and the netlink specs), from the same
# source tree as the guest kernel.
#
# Usage: scripts/build-selftests.sh [KERNEL_BUILD_DIR]
#        (default: the directory scripts/build-kernel.sh prints)
#
# Output: prints the kselftest install directory (run_kselftest.sh,
# kselftest-list.txt, drivers/net/..., net/lib/...). Cached under
# $HSNIC_CACHE/selftests/<key>/, key = kernel key + this script + the
# liburing version; a second run with the same inputs builds nothing.
#
# Binaries are built with the host toolchain against the kernel tree's
# uapi headers (headers_install) and run in the Debian trixie guest.
# iou-zcrx needs liburing with zcrx support (>= 2.10; bookworm has 2.3,
# trixie 2.9): liburing-dev from sid is unpacked into the cache (not
# installed) and linked statically, so neither host nor guest need it.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
HSNIC_STEP=selftests

TARGETS=${SELFTESTS_TARGETS:-"drivers/net drivers/net/hw net"}
LIBURING_PKG=${LIBURING_PKG:-liburing-dev/sid}

kdir=${1:-}
if [ -z "$kdir" ]; then
	kdir=$("$HSNIC_TOP/scripts/build-kernel.sh")
fi
kdir=$(cd "$kdir" && pwd)
info=$kdir/hsnic-kernel.txt
[ -f "$kdir/.hsnic-complete" ] && [ -f "$info" ] ||
	die "$kdir is not a kernel build dir made by scripts/build-kernel.sh"
kkey=$(sed -n 's/^key=//p' "$info")
src=$(sed -n 's/^source=//p' "$info")
[ -f "$src/Makefile" ] || die "kernel source $src (from $info) is gone"

# liburing-dev .deb, downloaded once; its version is part of the key.
srcroot=$HSNIC_CACHE/src
mkdir -p "$srcroot"
lupkg=${LIBURING_PKG%%/*}
find_deb() {
	local f
	for f in "$srcroot/${lupkg}_"*_amd64.deb; do
		if [ -e "$f" ]; then echo "$f"; fi
	done | sort -V | tail -n1
}
ludeb=$(find_deb)
if [ -z "$ludeb" ]; then
	log "downloading $LIBURING_PKG"
	(cd "$srcroot" && run_logged "$srcroot/liburing-dl.log" \
		apt-get download -q "$LIBURING_PKG") || die "cannot download $LIBURING_PKG"
	ludeb=$(find_deb)
fi

key=$(echo "$kkey $TARGETS $(basename "$ludeb") $(hash_inputs "$0" \
	"$HSNIC_TOP/scripts/lib/common.sh" "$HSNIC_TOP/tests/xdp" \
	"$HSNIC_TOP/tests/devmem")" |
	sha256sum | cut -c1-16)
out=$HSNIC_CACHE/selftests/$key
if [ -f "$out/.hsnic-complete" ]; then
	echo "$out"
	exit 0
fi

for t in clang rsync python3; do
	command -v "$t" >/dev/null || die "$t is missing: run scripts/deps.sh"
done
/usr/bin/python3 -c 'import yaml, jsonschema' 2>/dev/null ||
	die "python3-yaml/python3-jsonschema missing: run scripts/deps.sh"
mkdir -p "$HSNIC_CACHE/selftests"
exec 9>"$out.lock"
flock 9
if [ -f "$out/.hsnic-complete" ]; then # built by a concurrent run
	echo "$out"
	exit 0
fi
start=$SECONDS

# A private, writable copy of the parts of the tree the selftests use: the
# build writes into tools/ (ynl, libbpf) and must not touch the pristine
# source that the kernel build dirs point at.
work=$HSNIC_CACHE/selftests-build/$key
rm -rf "$work"
mkdir -p "$work/src" "$work/liburing"
log "preparing a selftests tree from $src"
# (MAINTAINERS: ynl_gen_c.py finds the tree's top by it.)
(cd "$src" && cp -a --parents Makefile MAINTAINERS tools include/uapi \
	arch/x86/include/uapi Documentation/netlink scripts "$work/src/")
# Lab-side patches to the selftests (tests/devmem/*.patch), e.g. a quiet
# ncdevmem receive mode for the benchmark; the selftests' own behaviour
# stays as upstream.
for p in "$HSNIC_TOP"/tests/devmem/*.patch; do
	patch -d "$work/src" -p1 -s <"$p" || die "$p does not apply"
done
run_logged "$work/headers.log" make -C "$src" O="$work/hdr" \
	INSTALL_HDR_PATH="$work/src/usr" headers_install
rm -rf "$work/hdr"

dpkg-deb -x "$ludeb" "$work/liburing"
lulib=$work/liburing/usr/lib/x86_64-linux-gnu
rm -f "$lulib"/*.so # only the static libraries: nothing to install in the guest
# System include dirs for every compile: liburing, then the tree's uapi
# headers (some Makefiles, e.g. drivers/net/hw's for iou-zcrx, do not pass
# KHDR_INCLUDES, and liburing 2.15 needs uapi headers newer than bookworm's).
export C_INCLUDE_PATH=$work/liburing/usr/include:$work/src/usr/include
export LIBRARY_PATH=$lulib
unset CPATH
echo '#include <liburing.h>
int main(void) { return !io_uring_register_ifq; }' >"$work/zcrx-check.c"
gcc "$work/zcrx-check.c" -o "$work/zcrx-check" -luring 2>"$work/zcrx-check.log" ||
	die "$(basename "$ludeb") has no io_uring_register_ifq (zcrx); see $work/zcrx-check.log"

export CCACHE_DIR=$HSNIC_CACHE/ccache CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=1
# The YNL code generator and the checks below run "python3": use Debian's
# (python3-yaml, python3-jsonschema from deps.sh), not a python3 that
# happens to come first in PATH (pyenv, venvs).
mkdir -p "$work/bin"
ln -s /usr/bin/python3 "$work/bin/python3"
export PATH=$work/bin:$PATH
mkdir -p "$out.tmp"
rm -rf "${out:?}.tmp"/*
log "building selftests: $TARGETS"
# HAS_IOURING_ZCRX: the Makefile's own probe puts -luring before the
# source, which cannot work with a static library; checked above instead.
with_heartbeat "building selftests" run_logged "$work/build.log" \
	make -C "$work/src/tools/testing/selftests" -j"$(nproc)" \
	CC="ccache gcc" HAS_IOURING_ZCRX=y \
	TARGETS="$TARGETS" INSTALL_PATH="$out.tmp" install

# What the lab relies on must be there.
for f in run_kselftest.sh kselftest-list.txt \
	drivers/net/ping.py drivers/net/hds.py drivers/net/queues.py \
	drivers/net/stats.py drivers/net/lib/py/__init__.py \
	drivers/net/hw/devmem.py drivers/net/hw/ncdevmem drivers/net/hw/iou-zcrx \
	drivers/net/hw/iou-zcrx.py drivers/net/hw/ntuple.py drivers/net/hw/rss_api.py \
	net/lib/py/ynl.py net/lib/ynl/pyynl/lib/__init__.py net/lib/specs/netdev.yaml \
	net/lib/specs/ethtool.yaml; do
	[ -e "$out.tmp/$f" ] || die "selftests install lacks $f (see $work/build.log)"
done
if readelf -d "$out.tmp/drivers/net/hw/iou-zcrx" | grep -q 'liburing'; then
	die "iou-zcrx links liburing dynamically; expected the static library"
fi
# The installed python libraries must find ynl and the specs by themselves.
(cd "$out.tmp/drivers/net" && python3 -c '
import sys
sys.path.insert(0, ".")
from lib.py import NetDrvEnv, NetdevFamily, EthtoolFamily
from net.lib.py.ynl import SPEC_PATH
assert (SPEC_PATH / "netdev.yaml").exists(), SPEC_PATH
') >"$work/pycheck.log" 2>&1 ||
	{ cat "$work/pycheck.log" >&2; die "installed selftests python libraries do not import"; }

# hsnic's own guest-side tests (tests/xdp): the BPF object is built with
# the libbpf headers the net/lib build just generated.
mkdir -p "$out.tmp/hsnic"
bpfinc=$work/src/tools/testing/selftests/net/lib/tools/include
[ -f "$bpfinc/bpf/bpf_helpers.h" ] || die "no libbpf headers in $bpfinc"
clang -O2 -g -target bpf -I"$bpfinc" -I"$work/src/usr/include" \
	-idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu \
	-c "$HSNIC_TOP/tests/xdp/hsx.bpf.c" -o "$out.tmp/hsnic/hsx.bpf.o" \
	2>"$work/hsx.log" || { cat "$work/hsx.log" >&2; die "tests/xdp/hsx.bpf.c did not build"; }
cp "$HSNIC_TOP/tests/xdp/xdp-actions.sh" "$out.tmp/hsnic/"

{
	echo "kernel=$kdir"
	echo "targets=$TARGETS"
	echo "liburing=$(basename "$ludeb")"
} >"$out.tmp/hsnic-selftests.txt"
rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/.hsnic-complete"
mv "$work/build.log" "$out.build.log"
rm -rf "$work"
log "built selftests in $((SECONDS - start)) s"
echo "$out"

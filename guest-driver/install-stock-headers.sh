#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Install Debian's stock Linux 7.3 kernel headers (trixie-backports) so
# that hsnic.ko can be compile-tested without building a kernel.
#
# On a host that can install them (Debian trixie or newer) they go into
# /usr/src/linux-headers-<ver> as usual. On an older host (the lab's
# bookworm: the headers need trixie's libc and gcc-14) they are installed
# into a small trixie chroot under $HSNIC_STOCK_ROOT instead, and
# "make stock-build" builds the driver inside it.
#
# Prints the kernel build directory on the last line of its output.
set -eu

suite=trixie-backports
pkg=linux-headers-amd64
root=${HSNIC_STOCK_ROOT:-${HOME}/.cache/hsnic/stock-root}
mirror=${HSNIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The concrete linux-headers-<ver>-amd64 package the meta package names.
concrete() {
	sed -n 's/.*\(linux-headers-[0-9][^ ,]*-amd64\).*/\1/p' | head -n1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "$0: must run as root (apt-get / mmdebstrap)" >&2
	exit 1
fi

if apt-get install -s -y "$pkg/$suite" >/dev/null 2>&1; then
	apt-get install -y "$pkg/$suite"
	hdr=$(dpkg-query -W -f '${Depends}\n' "$pkg" | concrete)
	echo "KDIR=/usr/src/$hdr"
	exit 0
fi

echo "$0: $pkg/$suite is not installable on this host;" >&2
echo "$0: installing it into a trixie chroot at $root" >&2

if [ ! -x "$root/usr/bin/make" ]; then
	command -v mmdebstrap >/dev/null || apt-get install -y mmdebstrap
	rm -rf "$root.tmp"
	mmdebstrap --variant=minbase --include=make,binutils \
		--customize-hook="chroot \"\$1\" apt-get install -y --no-install-recommends $pkg/$suite" \
		trixie "$root.tmp" \
		"deb $mirror trixie main" \
		"deb $mirror $suite main"
	mv "$root.tmp" "$root"
else
	chroot "$root" apt-get update
	chroot "$root" apt-get install -y --no-install-recommends binutils make "$pkg/$suite"
fi

hdr=$(chroot "$root" dpkg-query -W -f '${Depends}\n' "$pkg" | concrete)
echo "chroot: $root"
echo "KDIR=/usr/src/$hdr (inside the chroot; use make stock-build)"

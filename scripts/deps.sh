#!/bin/bash
# Install the host packages the hsnic lab needs (Debian bookworm, as root).
#
# The archive URI comes from the machine's own apt sources; extra suites are
# added with deb-src and pinned low so nothing from them replaces a host
# package unless asked for by name (pkg/suite).
set -euo pipefail

STAMP_DIR=${HSNIC_CACHE:-$HOME/.cache/hsnic}
mkdir -p "$STAMP_DIR"
self_hash=$(sha256sum "$0" | cut -c1-16)
stamp=$STAMP_DIR/deps-$self_hash.stamp
if [ -e "$stamp" ] && [ "${1:-}" != "--force" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: must run as root (apt-get install)" >&2
	exit 1
fi

src=/etc/apt/sources.list.d/debian.sources
uri=""
if [ -r "$src" ]; then
	uri=$(awk '/^URIs:/ { print $2; exit }' "$src")
fi
if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
	uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
if [ -z "$uri" ]; then
	echo "deps: cannot find the Debian archive URI in the apt sources" >&2
	exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

cat > /etc/apt/sources.list.d/hsnic.sources <<EOT
# Written by hsnic scripts/deps.sh: source packages and newer suites
# (pinned in /etc/apt/preferences.d/hsnic).
Types: deb-src
URIs: $uri
Suites: bookworm
Components: main
Signed-By: $keyring

Types: deb deb-src
URIs: $uri
Suites: bookworm-backports trixie trixie-backports sid
Components: main
Signed-By: $keyring
EOT

# Blank lines between stanzas matter.
cat > /etc/apt/preferences.d/hsnic <<'EOT'
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: *
Pin: release n=trixie
Pin-Priority: 50

Package: *
Pin: release n=trixie-backports
Pin-Priority: 50

Package: *
Pin: release n=sid
Pin-Priority: 50
EOT

export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
apt-get update -q -o Acquire::Retries=3 >/dev/null

echo "deps: installing host packages"
apt-get install -y -q --no-install-recommends \
	build-essential dpkg-dev ccache git pkg-config ninja-build \
	python3 python3-venv python3-yaml python3-jsonschema python3-matplotlib \
	libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev zlib1g-dev \
	flex bison bc libelf-dev libssl-dev dwarves cpio xz-utils zstd \
	kmod rsync mmdebstrap seabios e2fsprogs \
	socat iproute2 busybox-static gdb \
	libmnl-dev libcap-dev libnuma-dev \
	clang clang-14 llvm-14 libclang-rt-14-dev \
	"meson/bookworm-backports" >/dev/null

# Option ROMs for -kernel boots (linuxboot_dma.bin, kvmvapic.bin) come from
# qemu-system-data; the bookworm package is enough, only the ROMs are used.
apt-get install -y -q --no-install-recommends qemu-system-data ipxe-qemu >/dev/null
# qemu-img: the qcow2 overlays of record/replay (lab.py record|replay),
# whose internal snapshots reverse debugging goes back to.
apt-get install -y -q --no-install-recommends qemu-utils >/dev/null

touch "$stamp"
echo "deps: done"

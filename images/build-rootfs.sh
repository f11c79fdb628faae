#!/bin/bash
# Build the hsnic guest root filesystem: Debian trixie (minbase) with the
# packages of images/rootfs.packages and the files of images/overlay/,
# as an ext4 image that the lab attaches as /dev/vda (snapshot=on).
#
# Usage: images/build-rootfs.sh          (as root: mmdebstrap root mode)
#
# Output: prints the image path, $HSNIC_CACHE/rootfs/<key>/rootfs.ext4,
# key = hash of the package list, the overlay and this script. A second run
# with the same inputs does nothing. See images/README.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
HSNIC_STEP=rootfs

SUITE=trixie
here=$HSNIC_TOP/images
pkgfile=$here/rootfs.packages
overlay=$here/overlay

key=$(hash_inputs "$pkgfile" "$overlay" "$0" "$HSNIC_TOP/scripts/lib/common.sh")
out=$HSNIC_CACHE/rootfs/$key
if [ -f "$out/rootfs.ext4" ]; then
	echo "$out/rootfs.ext4"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap root mode, file ownership)"
mkdir -p "$HSNIC_CACHE/rootfs"
exec 9>"$out.lock"
flock 9
if [ -f "$out/rootfs.ext4" ]; then # built by a concurrent run
	echo "$out/rootfs.ext4"
	exit 0
fi
start=$SECONDS

# The archive URI comes from the machine's apt sources (as in deps.sh).
uri=""
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
	uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
[ -n "$uri" ] || die "cannot find the Debian archive URI in the apt sources"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

pkgs=$(sed -e 's/#.*//' "$pkgfile" | tr -s ' \t\n' ' ' | sed -e 's/^ //' -e 's/ $//')
[ -n "$pkgs" ] || die "no packages in $pkgfile"
# "name/suite" takes that one package from another suite (e.g. sid); such
# suites are added to the sources pinned low, so nothing else comes from them.
mirrors=("deb [signed-by=$keyring] $uri $SUITE main")
extra_suites=$(printf '%s\n' $pkgs | sed -n 's|^[^/]*/||p' | sort -u)
for s in $extra_suites; do
	mirrors+=("deb [signed-by=$keyring] $uri $s main")
done

tmp=$out.tmp
# --one-file-system: an mmdebstrap that was killed can leave the proc and
# sysfs it mounted in the chroot behind; never delete through them.
rm -rf --one-file-system "$tmp"
mkdir -p "$tmp"
root=$tmp/root
for s in $extra_suites; do
	printf 'Package: *\nPin: release n=%s\nPin-Priority: 50\n\n' "$s"
done >"$tmp/preferences"

log "mmdebstrap $SUITE minbase + $(echo "$pkgs" | wc -w) packages (cold: ~30 s)"
# No documentation, man pages or translations: the image only runs tests.
# Release validity dates are not checked: mirrors may be snapshots.
with_heartbeat "mmdebstrap" run_logged "$tmp/mmdebstrap.log" \
	mmdebstrap --mode=root --variant=minbase \
	--include="${pkgs// /,}" \
	--aptopt='Acquire::Retries "3"' \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--aptopt='Acquire::Check-Date "false"' \
	--aptopt='APT::Install-Recommends "false"' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--setup-hook="mkdir -p \"\$1/etc/apt/preferences.d\" && cp '$tmp/preferences' \"\$1/etc/apt/preferences.d/hsnic\"" \
	"$SUITE" "$root" "${mirrors[@]}"

log "adding images/overlay"
# tar keeps merged-/usr symlinks (/sbin -> usr/sbin) intact.
tar -C "$overlay" --owner=0 --group=0 -cf - . |
	tar -C "$root" --keep-directory-symlink -xf -
echo hsnic >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost hsnic\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$root/etc/hosts"
: >"$root/etc/fstab"
mkdir -p "$root/lab"
chroot "$root" dpkg-query -W -f '${Package}\t${Version}\n' >"$tmp/packages.txt"
for t in /sbin/hsnic-init /usr/bin/python3 /usr/sbin/ethtool /usr/bin/ip; do
	[ -x "$root$t" ] || die "$t is missing from the root filesystem"
done

# ext4 image filled from the directory (no loop mounts): content + 30 %
# + 256 MiB headroom, and enough inodes for the files plus headroom.
used_mb=$(du -s -B1M "$root" | cut -f1)
files=$(find "$root" -xdev | wc -l)
size_mb=$((used_mb * 13 / 10 + 256))
log "creating ext4 image: ${used_mb} MiB of files, image ${size_mb} MiB"
rm -f "$tmp/rootfs.ext4"
run_logged "$tmp/mke2fs.log" mke2fs -q -F -t ext4 -L hsnic-root -m 0 \
	-N $((files * 2 + 16384)) -E root_owner=0:0 -d "$root" \
	"$tmp/rootfs.ext4" "${size_mb}M"
rm -rf --one-file-system "$root"
rm -rf "$out"
mv "$tmp" "$out"
log "built $out/rootfs.ext4 in $((SECONDS - start)) s"
echo "$out/rootfs.ext4"

#!/bin/bash
# Build the hsnic guest kernel from Debian's linux-source binary package.
#
# Usage: scripts/build-kernel.sh
#
# Output: prints the kernel build directory (a kbuild O= tree) on stdout. It
# holds arch/x86/boot/bzImage, vmlinux (full DWARF5 debug info),
# Module.symvers and vmlinux-gdb.py (+ scripts/gdb/), and is the KDIR for
# out-of-tree modules:  make -C guest-driver KDIR=<dir>
#
# Cached under $HSNIC_CACHE/kernel/<key>/, key = hash of the linux-source
# version, images/kernel.config, kernel-patches/series and the patches it
# lists, and this script. A second run with the same inputs builds nothing.
# The build runs in a work tree per patch set ($HSNIC_CACHE/kernel-build/),
# so a config change rebuilds incrementally; each key's directory is a
# snapshot of it without the object files. ccache: $HSNIC_CACHE/ccache.
#
# Environment:
#   HSNIC_KERNEL_DEBUG=1  the debug kernel of `make test-sanitize`: adds
#                     images/kernel-debug.config (KASAN, lockdep, kmemleak,
#                     DMA-API debugging, refcount trackers); own key and
#                     work tree, so it never invalidates the normal build
#   HSNIC_KERNEL_STOCK=1  without kernel-patches/series: the pristine
#                     tree, for comparisons against the patched kernel
#                     (scripts/bench-tokens.py); own key, and it shares
#                     the work tree of an empty series
#   LINUX_SOURCE_PKG  apt spec of the source package
#                     (default linux-source-7.3/trixie-backports); if it is
#                     not available the newest linux-source-7.x is used.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
HSNIC_STEP=kernel

LINUX_SOURCE_PKG=${LINUX_SOURCE_PKG:-linux-source-7.3/trixie-backports}
fragment=$HSNIC_TOP/images/kernel.config
fragments=("$fragment")
variant=""
if [ -n "${HSNIC_KERNEL_DEBUG:-}" ]; then
	fragments+=("$HSNIC_TOP/images/kernel-debug.config")
	variant=-debug
fi
patchdir=$HSNIC_TOP/kernel-patches
srcroot=$HSNIC_CACHE/src
mkdir -p "$srcroot"

# Patch names from kernel-patches/series: one per line, '#' comments.
series_patches() {
	[ -f "$patchdir/series" ] || return 0
	sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
		"$patchdir/series" | grep -v '^$' || true
}

# --- the source package (.deb); its version is part of the key -----------
pkg=${LINUX_SOURCE_PKG%%/*}
find_deb() { # newest cached .deb of package $1
	local f best="" bestv="" v
	for f in "$srcroot/$1"_*_all.deb; do
		[ -e "$f" ] || continue
		v=$(basename "$f" _all.deb)
		v=${v#*_}
		v=${v//%3a/:}
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$bestv"; then
			best=$f
			bestv=$v
		fi
	done
	echo "$best"
}
deb=$(find_deb "$pkg")
if [ -z "$deb" ]; then
	log "downloading $LINUX_SOURCE_PKG"
	if ! (cd "$srcroot" && run_logged "$srcroot/linux-dl.log" \
		apt-get download -q "$LINUX_SOURCE_PKG"); then
		# Fallback: the newest linux-source-7.x any configured suite has.
		best="" bestv=""
		for p in $(apt-cache pkgnames linux-source-7. 2>/dev/null |
			grep -E '^linux-source-7\.[0-9]+$'); do
			for v in $(apt-cache madison "$p" | awk '{ print $3 }'); do
				if [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; then
					best=$p
					bestv=$v
				fi
			done
		done
		[ -n "$best" ] || die "no linux-source-7.x package in the apt sources"
		log "$LINUX_SOURCE_PKG not available; using $best=$bestv"
		pkg=$best
		(cd "$srcroot" && run_logged "$srcroot/linux-dl.log" \
			apt-get download -q "$best=$bestv") || die "cannot download $best=$bestv"
	fi
	deb=$(find_deb "$pkg")
	[ -n "$deb" ] || die "downloaded $pkg but found no .deb in $srcroot"
fi
debver=$(basename "$deb" _all.deb)
debver=${debver#*_}
debver=${debver//%3a/:}

patches=()
if [ -n "${HSNIC_KERNEL_STOCK:-}" ]; then
	variant=$variant-stock
	inputs=("${fragments[@]}" "$0" "$HSNIC_TOP/scripts/lib/common.sh")
else
	while read -r p; do
		patches+=("$patchdir/$p")
	done < <(series_patches)
	inputs=("${fragments[@]}" "$patchdir/series" "${patches[@]}" "$0"
		"$HSNIC_TOP/scripts/lib/common.sh")
fi
key=$(echo "$pkg $debver$variant $(hash_inputs "${inputs[@]}")" | sha256sum | cut -c1-16)
out=$HSNIC_CACHE/kernel/$key
if [ -f "$out/.hsnic-complete" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$HSNIC_CACHE/kernel"
exec 9>"$out.lock"
flock 9
if [ -f "$out/.hsnic-complete" ]; then # built by a concurrent run
	echo "$out"
	exit 0
fi
start=$SECONDS

# --- pristine source tree, unpacked once per package version --------------
pristine=$srcroot/linux-$debver
exec 8>"$srcroot/.linux-$debver.lock"
flock 8
if [ ! -f "$pristine/.hsnic-complete" ]; then
	log "unpacking $(basename "$deb")"
	rm -rf "$pristine" "$pristine.tmp"
	mkdir -p "$pristine.tmp/deb"
	dpkg-deb -x "$deb" "$pristine.tmp/deb"
	tarball=$(find "$pristine.tmp/deb/usr/src" -maxdepth 1 -name 'linux-source-*.tar.*' | head -n1)
	[ -n "$tarball" ] || die "no linux-source tarball in $deb"
	tar -xf "$tarball" -C "$pristine.tmp"
	rm -rf "$pristine.tmp/deb"
	tree=$(find "$pristine.tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[ -f "$tree/Makefile" ] || die "unexpected layout in $tarball"
	mv "$tree" "$pristine"
	rmdir "$pristine.tmp"
	touch "$pristine/.hsnic-complete"
fi
flock -u 8

# --- source and work tree for this patch set --------------------------------
# $HSNIC_CACHE/kernel-build/<id>/src is the pristine tree (hard links: safe,
# patch(1) replaces files rather than writing through them) with
# kernel-patches/series applied; <id>/build is the kbuild O= work tree. A
# config change is an incremental kbuild run there, and each key gets a
# snapshot of it (below). Every <id> has the same layout, so ccache
# (base_dir) shares objects between patch sets: a patch rebuilds only the
# files it changes. ccache runs in depend mode: no second preprocessor
# pass on a miss, which makes a cold build ~20 % faster.
if [ ${#patches[@]} -eq 0 ]; then
	id=$debver
else
	id=$debver-$(hash_inputs "$patchdir/series" "${patches[@]}" | cut -c1-12)
fi
id=$id${variant%-stock}
wt=$HSNIC_CACHE/kernel-build/$id
src=$wt/src
work=$wt/build
mkdir -p "$HSNIC_CACHE/kernel-build"
exec 7>"$wt.lock"
flock 7
if [ ! -f "$src/.hsnic-complete" ]; then
	[ ${#patches[@]} -eq 0 ] ||
		log "applying ${#patches[@]} patch(es) from kernel-patches/series"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$wt"
	cp -al "$pristine" "$src.tmp"
	rm -f "$src.tmp/.hsnic-complete"
	for p in "${patches[@]}"; do
		[ -f "$p" ] || die "kernel-patches/series lists ${p#"$patchdir"/}, which does not exist"
		if ! patch -d "$src.tmp" -p1 --batch --forward --no-backup-if-mismatch \
			-s <"$p" >"$wt/patch.log" 2>&1; then
			cat "$wt/patch.log" >&2
			rm -rf "$src.tmp"
			die "kernel-patches/${p#"$patchdir"/} does not apply to linux $debver"
		fi
	done
	mv "$src.tmp" "$src"
	touch "$src/.hsnic-complete"
fi

# --- configure ---------------------------------------------------------------
mkdir -p "$work"
export CCACHE_DIR=$HSNIC_CACHE/ccache
export CCACHE_BASEDIR=$wt CCACHE_NOHASHDIR=1 CCACHE_DEPEND=1
export KBUILD_BUILD_USER=hsnic KBUILD_BUILD_HOST=hsnic
mk=(make -C "$src" O="$work" CC="ccache gcc" HOSTCC="ccache gcc")
log "configuring linux $debver$variant (allnoconfig + ${fragments[*]#"$HSNIC_TOP"/})"
# merge_config.sh -n: allnoconfig with the fragment as KCONFIG_ALLCONFIG,
# so options the fragment makes visible stay off unless listed.
(cd "$src" && run_logged "$work/config.log" ./scripts/kconfig/merge_config.sh \
	-n -O "$work" /dev/null "${fragments[@]}")
run_logged "$work/olddefconfig.log" "${mk[@]}" olddefconfig
missing=$(cat "${fragments[@]}" |
	grep -E '^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$' |
	while IFS= read -r line; do
		case $line in
		"# CONFIG_"*)
			sym=${line#\# }
			sym=${sym%% *}
			! grep -q "^$sym=" "$work/.config" || echo "$line"
			;;
		*) grep -qxF "$line" "$work/.config" || echo "$line" ;;
		esac
	done)
if [ -n "$missing" ]; then
	log "these lines of images/kernel.config did not survive olddefconfig"
	log "(missing dependencies or no such symbol in linux $debver):"
	printf '%s\n' "$missing" | sed 's/^/  /' >&2
	die "fix ${fragments[*]#"$HSNIC_TOP"/}"
fi

# --- build -------------------------------------------------------------------
log "building linux $debver in $work (cold: ~21 min alone on 2 cores; a minute through a warm ccache)"
with_heartbeat "building kernel" run_logged "$work/build.log" \
	"${mk[@]}" -j"$(($(nproc) + 1))" all modules_prepare scripts_gdb
for f in arch/x86/boot/bzImage vmlinux Module.symvers vmlinux-gdb.py \
	scripts/gdb/linux/constants.py Makefile; do
	[ -e "$work/$f" ] || die "build finished but $work/$f is missing"
done

# --- publish: a snapshot of the build tree for this key ----------------------
# Everything but the objects: bzImage, vmlinux, System.map, .config,
# Module.symvers, generated headers, scripts/ and tools/objtool binaries
# (what `make -C <dir> M=...` needs) and the gdb scripts.
log "publishing $out"
rm -rf "$out.tmp"
rsync -a --exclude='*.o' --exclude='*.a' --exclude=vmlinux.unstripped \
	--exclude='.tmp_vmlinux*' --exclude='*.log' "$work/" "$out.tmp/"
# The generated Makefile names its build dir: point it at the snapshot.
sed -i "s|^export KBUILD_OUTPUT = .*|export KBUILD_OUTPUT = $out|" "$out.tmp/Makefile"
cp "$work/build.log" "$out.tmp/build.log"
{
	echo "key=$key"
	echo "package=$pkg"
	echo "version=$debver"
	echo "kernelrelease=$(cat "$work/include/config/kernel.release")"
	echo "source=$src"
	echo "patches=${#patches[@]}"
} >"$out.tmp/hsnic-kernel.txt"
rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/.hsnic-complete"
log "built linux $(cat "$out/include/config/kernel.release") in $((SECONDS - start)) s"
echo "$out"

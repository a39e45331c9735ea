#!/usr/bin/env bash
# fetch-debian.sh [--arch amd64|arm64] 6.1|6.12 [--refresh]
# (exit 2 bad usage, 3 the download or unpacking failed)
#
# Download the newest Debian bookworm kernel of a series with apt-get download
# and unpack it (dpkg -x) into the cache.  Prints shell assignments on stdout:
#   KVER=6.12.117+deb12-amd64
#   IMAGE=<cache>/debian/<pkg>_<ver>/root/boot/vmlinuz-<kver>
#   MODULES=<cache>/debian/<pkg>_<ver>/root/lib/modules/<kver>
#   PKG=<package name> PKGVER=<debian version>
#   BUSYBOX=<static busybox for that arch> (arm64 only: busybox-static:arm64,
#           unpacked next to the kernel; amd64 guests use the host's)
# so callers can `eval "$(fetch-debian.sh 6.12)"`.
#
# --arch arm64 needs the foreign architecture enabled (lib/build/setup.sh
# arm64 does it) so that apt can see linux-image-*-arm64-unsigned.
#
# Cached: the resolved package is remembered in <cache>/debian/<series>.env
# (<series>-arm64.env); a second call prints it without touching apt (use
# --refresh to re-resolve).
set -euo pipefail
. "$(dirname "$0")/common.sh"

arch=amd64
if [ "${1:-}" = --arch ]; then
	arch=${2:-}
	shift 2 || true
fi
series=${1:-}
refresh=${2:-}
usage="usage: fetch-debian.sh [--arch amd64|arm64] 6.1|6.12 [--refresh]"
case $arch in amd64 | arm64) ;; *) die 2 "$usage" ;; esac
case $series in
6.1) pattern="^linux-image-6\\.1\\.0-[0-9]+-$arch-unsigned\$" ;;
6.12) pattern="^linux-image-6\\.12\\.[0-9]+\\+deb12-$arch-unsigned\$" ;;
*) die 2 "$usage" ;;
esac

dcache=$CACHE_DIR/debian
envfile=$dcache/$series.env
[ "$arch" = amd64 ] || envfile=$dcache/$series-$arch.env
mkdir -p "$dcache" || die 3 "cannot create $dcache"
# One fetch at a time per cache (worktrees share it): a second caller waits,
# then takes the fast path, instead of unpacking over the first one's tree.
exec 9>"$dcache/.lock" && flock 9 || die 3 "cannot lock $dcache/.lock"

# Fast path: already resolved and unpacked.
if [ "$refresh" != --refresh ] && [ -f "$envfile" ]; then
	# shellcheck disable=SC1090
	. "$envfile"
	if [ -f "$IMAGE" ] && [ -d "$MODULES" ] && { [ "$arch" = amd64 ] || [ -x "${BUSYBOX:-}" ]; }; then
		cat "$envfile"
		exit 0
	fi
fi

# Newest package name of the series in the local apt lists (sort -V so that
# 6.1.0-56 beats 6.1.0-9 and 6.12.117 beats 6.12.99).
newest_pkg() {
	apt-cache pkgnames linux-image-6. 2>/dev/null | grep -E "$pattern" | sort -V | tail -n1
}
# A foreign architecture's packages are only listed once dpkg knows it: the
# set-up's arm64 group enables it (libnuma-dev:arm64).
if [ "$arch" != "$(dpkg --print-architecture)" ] &&
	! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	die 3 "dpkg does not know the $arch architecture: run lib/build/setup.sh $arch"
fi
pkg=$(newest_pkg)
if [ -z "$pkg" ]; then
	log "no $series kernel in apt lists; running apt-get update"
	apt-get update >&2 || die 3 "download failed: apt-get update failed (network?)"
	pkg=$(newest_pkg)
	[ -n "$pkg" ] || die 3 "download failed: no package matching $pattern in apt"
fi
pkgver=$(apt-cache show "$pkg" | sed -n 's/^Version: //p' | sort -V | tail -n1)
[ "$arch" = amd64 ] || pkg=$pkg:$arch
kver=${pkg%:"$arch"}
kver=${kver#linux-image-}
kver=${kver%-unsigned}

dir=$dcache/${pkg%:"$arch"}_$pkgver
# An entry cut short (by a fetch without the lock, or a full disk) is
# fetched again rather than trusted for ever.
if [ -f "$dir/.unpacked" ] && { [ ! -f "$dir/root/boot/vmlinuz-$kver" ] || [ ! -d "$dir/root/lib/modules/$kver" ]; }; then
	log "$dir is incomplete; fetching it again"
	rm -f "$dir/.unpacked"
fi
if [ ! -f "$dir/.unpacked" ]; then
	mkdir -p "$dir" || die 3 "cannot create $dir"
	if ! ls "$dir"/*.deb >/dev/null 2>&1; then
		log "downloading $pkg $pkgver"
		(cd "$dir" && apt-get download "$pkg=$pkgver" >&2) || die 3 "download failed: apt-get download $pkg (network?)"
	fi
	log "unpacking $pkg"
	rm -rf "$dir/root" "$dir/root.new"
	dpkg -x "$dir"/*.deb "$dir/root.new" || die 3 "unpacking $pkg failed (disk full?)"
	# The package ships no modules.dep (its postinst runs depmod); we need it
	# to load the KVM modules in dependency order.
	depmod -b "$dir/root.new" "$kver" || die 3 "depmod failed for $kver"
	mv "$dir/root.new" "$dir/root" || die 3 "cannot rename $dir/root.new"
	rm -f "$dir"/*.deb # 70-110 MB each; the unpacked tree is what we use
	touch "$dir/.unpacked"
fi

image=$dir/root/boot/vmlinuz-$kver
modules=$dir/root/lib/modules/$kver
[ -f "$image" ] || die 3 "unpacked $pkg but $image is missing"
[ -d "$modules" ] || die 3 "unpacked $pkg but $modules is missing"

# The host's busybox-static is amd64: a foreign guest needs its own, which
# cannot be installed beside it (same path), so it is unpacked instead.
busybox=''
if [ "$arch" != amd64 ]; then
	bdir=$dcache/busybox-static-$arch
	if [ ! -x "$bdir/root/bin/busybox" ]; then
		log "downloading busybox-static:$arch"
		rm -rf "$bdir" && mkdir -p "$bdir"
		(cd "$bdir" && apt-get download "busybox-static:$arch" >&2) ||
			die 3 "download failed: apt-get download busybox-static:$arch (network?)"
		dpkg -x "$bdir"/*.deb "$bdir/root" && rm -f "$bdir"/*.deb
	fi
	busybox=$bdir/root/bin/busybox
	[ -x "$busybox" ] || die 3 "busybox-static:$arch has no bin/busybox"
fi

{
	cat <<EOT
KVER=$kver
IMAGE=$image
MODULES=$modules
PKG=$pkg
PKGVER=$pkgver
EOT
	[ -z "$busybox" ] || echo "BUSYBOX=$busybox"
} >"$envfile.tmp"
mv "$envfile.tmp" "$envfile"
cat "$envfile"

#!/usr/bin/env bash
# fetch-debian.sh 6.1|6.12 [--refresh]
#
# Download the newest Debian bookworm kernel of a series with apt-get download
# and unpack it (dpkg -x) into the cache.  Prints shell assignments on stdout:
#   KVER=6.12.117+deb12-amd64
#   IMAGE=<cache>/debian/<pkg>_<ver>/root/boot/vmlinuz-<kver>
#   MODULES=<cache>/debian/<pkg>_<ver>/root/lib/modules/<kver>
#   PKG=<package name> PKGVER=<debian version>
# so callers can `eval "$(fetch-debian.sh 6.12)"`.
#
# Cached: the resolved package is remembered in <cache>/debian/<series>.env;
# a second call prints it without touching apt (use --refresh to re-resolve).
set -euo pipefail
. "$(dirname "$0")/common.sh"

series=${1:-}
refresh=${2:-}
case $series in
6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
*) die 2 "usage: fetch-debian.sh 6.1|6.12 [--refresh]" ;;
esac

dcache=$CACHE_DIR/debian
envfile=$dcache/$series.env
mkdir -p "$dcache"

# Fast path: already resolved and unpacked.
if [ "$refresh" != --refresh ] && [ -f "$envfile" ]; then
	# shellcheck disable=SC1090
	. "$envfile"
	if [ -f "$IMAGE" ] && [ -d "$MODULES" ]; then
		cat "$envfile"
		exit 0
	fi
fi

# Newest package name of the series in the local apt lists (sort -V so that
# 6.1.0-56 beats 6.1.0-9 and 6.12.117 beats 6.12.99).
newest_pkg() {
	apt-cache pkgnames linux-image-6. 2>/dev/null | grep -E "$pattern" | sort -V | tail -n1
}
pkg=$(newest_pkg)
if [ -z "$pkg" ]; then
	log "no $series kernel in apt lists; running apt-get update"
	apt-get update >&2 || die 1 "apt-get update failed"
	pkg=$(newest_pkg)
	[ -n "$pkg" ] || die 2 "no package matching $pattern in apt"
fi
pkgver=$(apt-cache show "$pkg" | sed -n 's/^Version: //p' | sort -V | tail -n1)
kver=${pkg#linux-image-}
kver=${kver%-unsigned}

dir=$dcache/${pkg}_$pkgver
if [ ! -f "$dir/.unpacked" ]; then
	mkdir -p "$dir"
	if ! ls "$dir"/*.deb >/dev/null 2>&1; then
		log "downloading $pkg $pkgver"
		(cd "$dir" && apt-get download "$pkg=$pkgver" >&2) || die 1 "apt-get download $pkg failed"
	fi
	log "unpacking $pkg"
	rm -rf "$dir/root"
	dpkg -x "$dir"/*.deb "$dir/root"
	# The package ships no modules.dep (its postinst runs depmod); we need it
	# to load the KVM modules in dependency order.
	depmod -b "$dir/root" "$kver" || die 1 "depmod failed for $kver"
	rm -f "$dir"/*.deb # 70-110 MB each; the unpacked tree is what we use
	touch "$dir/.unpacked"
fi

image=$dir/root/boot/vmlinuz-$kver
modules=$dir/root/lib/modules/$kver
[ -f "$image" ] || die 1 "unpacked $pkg but $image is missing"
[ -d "$modules" ] || die 1 "unpacked $pkg but $modules is missing"

cat >"$envfile.tmp" <<EOT
KVER=$kver
IMAGE=$image
MODULES=$modules
PKG=$pkg
PKGVER=$pkgver
EOT
mv "$envfile.tmp" "$envfile"
cat "$envfile"

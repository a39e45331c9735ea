#!/usr/bin/env bash
# fetch-debian.sh [--arch amd64|arm64] SERIES|list [--refresh]
# fetch-debian.sh [--arch amd64|arm64] newest SUITE | source SERIES
# (exit 2 bad usage or a series the archive does not have, 3 the download
# or unpacking failed)
#
# Download the newest Debian kernel of a series (6.1, 6.12, 7.2, 7.3, ...)
# with apt-get download and unpack it (dpkg -x) into the cache.  A series
# the machine's apt sources name (bookworm: 6.1, 6.12) comes from them; any
# other from the private apt configuration of debian-apt.sh (trixie,
# trixie-backports, sid), which never touches the system's sources.
# `list` prints every series the archive has: series, newest kernel
# release, suite, and which apt (system or private) it comes from.
# `newest SUITE` prints the newest series of SUITE in that list;
# `source SERIES` prints SOURCE= and SRCVER= of Debian's linux-source-SERIES
# that matches the series' kernel (downloaded like the kernel).
#
# Two package layouts, one code path: up to 6.12 linux-image-KVER[-unsigned]
# holds boot/vmlinuz-KVER and lib/modules/KVER; from 7.x linux-image-KVER is
# a metapackage and linux-binary-KVER + linux-modules-KVER hold
# usr/lib/modules/KVER/ (vmlinuz inside it, modules .ko.xz).  Every
# linux-binary-*/linux-modules-* package the image depends on is fetched
# too, and the image and modules are looked up in both places.
#
# Prints shell assignments on stdout:
#   KVER=6.12.118+deb12-amd64
#   IMAGE=<cache>/debian/<pkg>_<ver>/root/boot/vmlinuz-<kver>  (or
#         .../root/usr/lib/modules/<kver>/vmlinuz)
#   MODULES=<cache>/debian/<pkg>_<ver>/root/[usr/]lib/modules/<kver>
#   PKG=<package name> PKGVER=<debian version>
#   SUITE=<suite> APT=system|private
#   BUSYBOX=<static busybox for that arch> (arm64 only: busybox-static:arm64,
#           unpacked next to the kernel; amd64 guests use the host's)
# so callers can `eval "$(fetch-debian.sh 6.12)"`.
#
# --arch arm64 needs the foreign architecture enabled (lib/build/setup.sh
# arm64 does it) so that apt can see linux-image-*-arm64-unsigned.
#
# Cached: the resolved package is remembered in <cache>/debian/<series>.env
# (<series>-arm64.env); a second call prints it without touching apt (use
# --refresh to re-resolve, and to refresh the private lists).
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/debian-apt.sh"

arch=amd64
if [ "${1:-}" = --arch ]; then
	arch=${2:-}
	shift 2 || true
fi
series=${1:-}
refresh=${2:-}
usage="usage: run.sh kernel --debian SERIES|list ... (SERIES: 6.1, 6.12, 7.3 ...: a series Debian's archive has; run.sh kernel --debian list names them)"
case $arch in amd64 | arm64) ;; *) die 2 "$usage" ;; esac
case $series in
newest)
	# newest SUITE: the newest series `list` gives for SUITE (tests use it
	# for "the newest trixie-backports kernel").
	[ -n "$refresh" ] || die 2 "usage: fetch-debian.sh [--arch A] newest SUITE"
	s=$("$0" --arch "$arch" list | awk -F '\t' -v s="$refresh" '$3 == s { n = $1 } END { print n }')
	[ -n "$s" ] || die 2 "no kernel series from suite $refresh"
	echo "$s"
	exit 0
	;;
source)
	# source SERIES: Debian's linux-source-SERIES of the upstream version of
	# that series' kernel: SOURCE=<tarball> SRCVER=<version>.
	[ -n "$refresh" ] || die 2 "usage: fetch-debian.sh [--arch A] source SERIES"
	env=$("$0" --arch "$arch" "$refresh") || exit $?
	eval "$env"
	[ "$APT" = private ] && deb_private_init "$arch"
	read -r tb sv < <(deb_source_tarball "$APT" "$refresh" "${PKGVER%%-*}") || true
	[ -n "${sv:-}" ] || exit 2
	printf 'SOURCE=%s\nSRCVER=%s\n' "$tb" "$sv"
	exit 0
	;;
esac
case $series in
list) ;;
[0-9]*.[0-9]*) [[ $series =~ ^[0-9]+\.[0-9]+$ ]] || die 2 "no Debian series '$series'; $usage" ;;
*) die 2 "no Debian series '${series}'; $usage" ;;
esac
case $refresh in '' | --refresh) ;; *) die 2 "$usage" ;; esac

dcache=$CACHE_DIR/debian
envfile=$dcache/$series.env
[ "$arch" = amd64 ] || envfile=$dcache/$series-$arch.env
mkdir -p "$dcache" || die 3 "cannot create $dcache"

# A foreign architecture's packages are only listed once dpkg knows it: the
# set-up's arm64 group enables it (libnuma-dev:arm64).
check_arch() {
	if [ "$arch" != "$(dpkg --print-architecture)" ] &&
		! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		die 3 "dpkg does not know the $arch architecture: run lib/build/setup.sh $arch"
	fi
}
# The system lists, fetched once if this machine never had any.
system_lists() {
	[ -n "$(apt-cache pkgnames linux-image- 2>/dev/null | head -n1)" ] && return 0
	log "no kernels in the system's apt lists; running apt-get update"
	apt-get update >&2 || die 3 "download failed: apt-get update failed (network?)"
}

if [ "$series" = list ]; then
	check_arch
	system_lists
	deb_private_update "$arch" "$refresh"
	printf '%s\t%s\t%s\t%s\n' series kernel suite apt
	# One madison call per apt: "name | version | mirror suite/main arch ..."
	# of every plain-flavour image; the newest kernel of each series.
	for where in system private; do
		names=$(dapt "$where" apt-cache pkgnames linux-image- 2>/dev/null |
			grep -E "^linux-image-[0-9]+\.[0-9]+[.][0-9]+(-[0-9]+)?(\+deb[0-9]+)?-$arch(-unsigned)?\$" || true)
		[ -z "$names" ] || dapt "$where" apt-cache madison $names 2>/dev/null |
			awk -F ' *[|] *' -v w="$where" -v a="$arch" '{
				k = $1; sub(/^ */, "", k); sub(/^linux-image-/, "", k); sub(/-unsigned$/, "", k)
				split(k, p, "."); split($3, u, " "); sub(/\/.*/, "", u[2])
				print p[1] "." p[2] "\t" k "\t" u[2] "\t" w }'
	done | sort -t "$(printf '\t')" -k1,1V -k2,2V | awk -F '\t' '
		{ if ($1 != last && last != "") print line; last = $1
		  if (!($1 in sys) || $4 == "system") { line = $0; if ($4 == "system") sys[$1] = 1 } }
		END { if (last != "") print line }'
	exit 0
fi

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

check_arch
system_lists
where=system
kver=$(deb_kvers system "$arch" "$series" | tail -n1)
if [ -z "$kver" ]; then
	deb_private_update "$arch" "$refresh"
	where=private
	kver=$(deb_kvers private "$arch" "$series" | tail -n1)
fi
[ -n "$kver" ] || die 2 "Debian's archive has no $series kernel (system apt and $DEB_PRIVATE_SUITES); $usage"
# bookworm ships the image twice: signed and -unsigned (the same kernel);
# the cache has always held the -unsigned one.
pkg=linux-image-$kver-unsigned
pkgver=$(deb_newest_ver "$where" "$pkg")
if [ -z "$pkgver" ]; then
	pkg=linux-image-$kver
	pkgver=$(deb_newest_ver "$where" "$pkg")
fi
[ -n "$pkgver" ] || die 3 "no version of $pkg in the $where apt lists"
suite=$(deb_suite "$where" "$pkg" "$pkgver")
# The new layout's parts (nothing for the old one).
qual=''
[ "$arch" = "$(dpkg --print-architecture)" ] || qual=:$arch
parts=("$pkg$qual=$pkgver")
for p in $(deb_depends "$where" "$pkg$qual" "$pkgver" "^linux-(binary|modules)-"); do
	parts+=("$p$qual=$(deb_newest_ver "$where" "$p$qual")")
done
pkg=$pkg$qual

dir=$dcache/${pkg%"$qual"}_$pkgver
# image/modules of the unpacked tree, in either layout (empty if absent).
locate() {
	image='' modules='' depbase=''
	if [ -f "$dir/root/boot/vmlinuz-$kver" ]; then
		image=$dir/root/boot/vmlinuz-$kver
	elif [ -f "$dir/root/usr/lib/modules/$kver/vmlinuz" ]; then
		image=$dir/root/usr/lib/modules/$kver/vmlinuz
	fi
	if [ -d "$dir/root/lib/modules/$kver" ] && [ ! -L "$dir/root/lib" ]; then
		modules=$dir/root/lib/modules/$kver depbase=$dir/root
	elif [ -d "$dir/root/usr/lib/modules/$kver" ]; then
		modules=$dir/root/usr/lib/modules/$kver depbase=$dir/root/usr
	fi
}
# An entry cut short (by a fetch without the lock, or a full disk) is
# fetched again rather than trusted for ever.
locate
if [ -f "$dir/.unpacked" ] && { [ -z "$image" ] || [ -z "$modules" ]; }; then
	log "$dir is incomplete; fetching it again"
	rm -f "$dir/.unpacked"
fi
if [ ! -f "$dir/.unpacked" ]; then
	log "$series: $kver from $suite ($where apt): ${parts[*]}"
	deb_fetch "$where" "$dir" "${parts[@]}"
	locate
	[ -n "$image" ] || die 3 "unpacked ${parts[*]} but found neither boot/vmlinuz-$kver nor usr/lib/modules/$kver/vmlinuz"
	[ -n "$modules" ] || die 3 "unpacked ${parts[*]} but found no [usr/]lib/modules/$kver"
	# The packages ship no modules.dep (their postinst runs depmod); we need
	# it to load the KVM modules in dependency order.
	depmod -b "$depbase" "$kver" || die 3 "depmod failed for $kver"
	rm -f "$dir"/*.deb # 70-120 MB; the unpacked tree is what we use
	touch "$dir/.unpacked"
fi
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
SUITE=$suite
APT=$where
EOT
	[ -z "$busybox" ] || echo "BUSYBOX=$busybox"
} >"$envfile.tmp"
mv "$envfile.tmp" "$envfile"
cat "$envfile"

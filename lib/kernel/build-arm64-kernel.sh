#!/usr/bin/env bash
# build-arm64-kernel.sh --kver KVER --pkgver VERSION [--patch FILE]
#
# Build a minimal arm64 kernel for QEMU virt from Debian's linux-source of
# KVER's series at the upstream version of VERSION (the Debian image
# package's version, as fetch-debian.sh prints it: PKGVER),
# configured by allnoconfig plus lib/kernel/arm64-virt.config, with FILE (a
# -p1 patch) applied.  Prints the built Image's path on stdout.
#
# Why a whole kernel: Debian's arm64 kernel has KVM built in
# (modules.builtin), so a patched arm64 KVM cannot be a module-only rebuild
# as on x86 (build-kvm-modules.sh).  The clean twin of a mutant is this same
# build without --patch, never Debian's image: same config, same compiler.
#
# Cache: $IRQBENCH_ARM64_KERNEL_CACHE (default ~/.cache/irqbench/arm64-kernel,
# outside the clone, like the KVM module builds) /<srcver>-<sha256 of the
# config, the patch and the compiler>/Image; the source is extracted for a
# build and removed after it.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/debian-apt.sh"

kver='' pkgver='' patch=''
while [ $# -gt 0 ]; do
	case $1 in
	--kver | --pkgver | --patch) [ $# -ge 2 ] || die 2 "$1 needs a value" ;;&
	--kver) kver=$2; shift 2 ;;
	--pkgver) pkgver=$2; shift 2 ;;
	--patch) patch=$2; shift 2 ;;
	*) die 2 "unknown argument: $1" ;;
	esac
done
[ -n "$kver" ] && [ -n "$pkgver" ] || die 2 "--kver and --pkgver are required"
[ -z "$patch" ] || [ -s "$patch" ] || die 2 "patch not found or empty: $patch"

CONFIG=$KERNEL_LIB_DIR/arm64-virt.config
CROSS=aarch64-linux-gnu-
command -v "${CROSS}gcc" >/dev/null ||
	die 2 "${CROSS}gcc not found (package gcc-aarch64-linux-gnu: lib/build/setup.sh arm64)"

# The Debian source tarball of KVER's series and its version.
source_tarball() {
	local series where
	series=$(echo "$kver" | cut -d. -f1,2)
	deb_private_init "$(dpkg --print-architecture)"
	where=$(deb_where "$(dpkg --print-architecture)" "linux-source-$series")
	[ -n "$where" ] || die 2 "no linux-source-$series in the system's apt sources nor in $DEB_PRIVATE_SUITES"
	deb_source_tarball "$where" "$series" "${pkgver%%-*}"
}

out='' # global: the EXIT trap removes its src/ and obj/
main() {
	local tarball srcver hash base b t0
	read -r tarball srcver < <(source_tarball) || exit 2
	[ -n "$srcver" ] || exit 2
	hash=$( (echo "$srcver"; cat "$CONFIG"; [ -z "$patch" ] || cat "$patch"; "${CROSS}gcc" --version | head -n 1) |
		sha256sum | cut -c1-16)
	base=$(build_cache arm64-kernel "${IRQBENCH_ARM64_KERNEL_CACHE:-}") || exit 3
	out=$base/$srcver-$hash
	# One build of a hash at a time; a second caller takes the cached Image.
	exec 7>"$out.lock" && flock 7 || die 3 "cannot lock $out.lock"
	if [ -f "$out/.built" ]; then
		log "cached arm64 kernel: $out/Image"
		echo "$out/Image"
		return 0
	fi
	# The whole tree (a kernel build needs every directory), extracted for
	# this build alone and removed after it: 15 s against a 6 min build.
	rm -rf "$out" && mkdir -p "$out/src"
	b=$out/src
	trap 'rm -rf "$out/src" "$out/obj"' EXIT # 1.7 GB of source and objects, for the build only
	log "extracting $tarball"
	tar -xJf "$tarball" -C "$b" --strip-components=1 || die 3 "extracting $tarball failed"
	if [ -n "$patch" ]; then
		patch -d "$b" -p1 --no-backup-if-mismatch -s <"$patch" >&2 ||
			die 2 "patch $patch does not apply to Debian's linux-source $srcver"
	fi
	log "building a minimal arm64 kernel from $srcver${patch:+ + $(basename "$patch")} (log: $out/build.log)"
	t0=$SECONDS
	if ! {
		make -C "$b" ARCH=arm64 CROSS_COMPILE=$CROSS O="$out/obj" allnoconfig &&
			"$b/scripts/kconfig/merge_config.sh" -m -O "$out/obj" "$out/obj/.config" "$CONFIG" &&
			make -C "$b" ARCH=arm64 CROSS_COMPILE=$CROSS O="$out/obj" olddefconfig &&
			make -C "$b" ARCH=arm64 CROSS_COMPILE=$CROSS O="$out/obj" -j"$(nproc)" Image
	} >"$out/build.log" 2>&1; then
		tail -n 20 "$out/build.log" >&2
		die 1 "arm64 kernel build failed (see $out/build.log)"
	fi
	# Every option of the fragment must have survived olddefconfig (a
	# dependency it lacks silently drops it).
	local opt missing=''
	for opt in $(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' "$CONFIG"); do
		grep -qx "$opt=y" "$out/obj/.config" || missing+=" $opt"
	done
	[ -z "$missing" ] || die 1 "arm64 kernel config lost:$missing (lib/kernel/arm64-virt.config)"
	cp "$out/obj/arch/arm64/boot/Image" "$out/Image"
	touch "$out/.built"
	log "built the arm64 kernel in $((SECONDS - t0)) s: $out/Image"
	echo "$out/Image"
}
main

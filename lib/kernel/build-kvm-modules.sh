#!/usr/bin/env bash
# build-kvm-modules.sh --kver KVER (--src DIR | --patch FILE) [--force]
#
# Rebuild only the KVM modules (kvm.ko, kvm-amd.ko, kvm-intel.ko) out of tree
# against Debian's linux-headers-KVER, from
#   --src DIR     a kernel tree (only arch/x86/kvm, virt/kvm and the KVM
#                 headers are used), or
#   --patch FILE  a -p1 patch applied to Debian's linux-source-<major.minor>.
# Prints the directory holding the built .ko files on stdout.
#
# Why module-only works: struct kvm_vcpu_arch & co. are private to the KVM
# modules, so a patch that changes KVM headers is safe as long as all three
# modules are rebuilt together.  The patched KVM headers are put first on the
# include path (NOSTDINC_FLAGS precedes the kernel's own -I list); every other
# header comes from the matching Debian headers package.
#
# Cache: $IRQBENCH_KVM_BUILD_CACHE (default ~/.cache/irqbench/kvm-modules,
# outside the clone: a fresh clone or another worktree reuses a build, which
# is safe because the key is the kernel release and every source byte)
# /<kver>-<sha256 of prepared sources>/.  Falls back to <cache>/kvm-modules
# when that folder cannot be created.  The builds of one kernel release
# share a build folder there (build-<kver>/): a patch rebuilds only the
# files it changes, and what includes them.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/debian-apt.sh"

kver='' src='' patch='' force=''
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--src) src=$2; shift 2 ;;
	--patch) patch=$2; shift 2 ;;
	--force) force=1; shift ;;
	*) die 2 "unknown argument: $1" ;;
	esac
done
[ -n "$kver" ] || die 2 "--kver is required"
[ -n "$src$patch" ] || die 2 "need --src DIR or --patch FILE"
[ -z "$src" ] || [ -z "$patch" ] || die 2 "--src and --patch are exclusive"
[ -z "$patch" ] || [ -f "$patch" ] || die 2 "patch not found: $patch"
[ -z "$src" ] || [ -d "$src/arch/x86/kvm" ] || die 2 "$src has no arch/x86/kvm"

# KVM headers that live outside arch/x86/kvm and virt/kvm.  They are copied
# into the build dir and put first on the include path.
KVM_HEADER_GLOBS='arch/x86/include/asm/kvm*.h arch/x86/include/uapi/asm/kvm*.h include/linux/kvm*.h include/kvm include/uapi/linux/kvm*.h include/trace/events/kvm.h'

# Headers package matching the image (Debian: linux-headers-<kver>), and
# the make variables its build needs here.  A kernel of the machine's own
# apt sources gets its headers installed (setup.sh --pkg); one of the
# private configuration (lib/kernel/debian-apt.sh: trixie-backports, sid)
# gets them downloaded and unpacked under the cache, with the headers and
# kbuild packages it depends on: their paths are made relative to the
# unpacked root, and the kbuild programs that need a newer glibc than this
# machine's run with that suite's C library (deb_wrap_new_glibc).
headers=/usr/src/linux-headers-$kver
where='' hdrver='' make_vars=()
ensure_headers() {
	local hpkg=linux-headers-$kver dir p root suite lib parts=() cc
	deb_private_init "$(dpkg --print-architecture)" # (DAPT_OPTS, for dapt private)
	where=$(deb_where "$(dpkg --print-architecture)" "$hpkg")
	[ -n "$where" ] || die 2 "no $hpkg in the system's apt sources nor in $DEB_PRIVATE_SUITES"
	hdrver=$(deb_newest_ver "$where" "$hpkg")
	[ -n "$hdrver" ] || die 3 "no version of $hpkg in the $where apt lists"
	if [ "$where" = system ]; then
		if [ ! -f "$headers/Module.symvers" ]; then
			install_pkg "$hpkg"
			[ -f "$headers/Module.symvers" ] || die 2 "$headers/Module.symvers missing"
		fi
	else
		dir=$CACHE_DIR/debian/${hpkg}_$hdrver
		root=$dir/root
		headers=$root/usr/src/$hpkg
		if [ ! -f "$dir/.unpacked" ]; then
			parts=("$hpkg=$hdrver")
			for p in $(deb_depends private "$hpkg" "$hdrver" '^linux-(headers|kbuild)-'); do
				parts+=("$p=$(deb_newest_ver private "$p")")
			done
			(
				flock 9 || exit 3
				deb_fetch private "$dir" "${parts[@]}"
				# The Makefile names /usr/src/...-common and KBUILD_OUTPUT absolutely.
				sed -i "s|/usr/src/|$root/usr/src/|g" "$headers/Makefile"
				suite=$(deb_suite private "$hpkg" "$hdrver")
				lib=$(deb_host_libs "$(dpkg --print-architecture)" "$suite")
				deb_wrap_new_glibc "$root/usr/lib" "$lib"
				touch "$dir/.unpacked"
			) 9>"$CACHE_DIR/debian/.lock" || exit $?
		fi
		[ -f "$headers/Module.symvers" ] || die 2 "$headers/Module.symvers missing"
	fi
	# The compiler the kernel was built with, or this machine's gcc (the
	# headers of a newer suite name gcc-14; gcc-12 builds KVM fine once the
	# options the kernel's configuration found in gcc-14 are turned off).
	cc=$(sed -n 's/^CC = .*(CROSS_COMPILE)//p' "$headers/.kernelvariables" 2>/dev/null)
	if [ -n "$cc" ] && ! command -v "x86_64-linux-gnu-$cc" >/dev/null; then
		make_vars+=(CC=gcc CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=)
	fi
	# BTF for modules needs the pahole the kernel was built with: not ours
	# for another suite's kernel (the built modules are stripped anyway).
	[ "$where" = system ] || make_vars+=(CONFIG_DEBUG_INFO_BTF_MODULES=)
}

# Debian's kernel source, subset extracted once per source version.
# Echoes the extracted tree.  The source must be the upstream version of
# the headers package (linux-headers-6.1.0-57-amd64 is 6.1.192-3, so
# linux-source-6.1 6.1.192-*).
debian_source_tree() {
	local series pkg tarball srcver tree members
	series=$(echo "$kver" | cut -d. -f1,2)
	pkg=linux-source-$series
	read -r tarball srcver < <(deb_source_tarball "$where" "$series" "${hdrver%%-*}") || exit 2
	[ -n "$srcver" ] || exit 2
	tree=$CACHE_DIR/linux-source/$srcver
	if [ ! -f "$tree/.extracted" ]; then
		log "extracting KVM sources from $tarball (once per version)"
		rm -rf "$tree" && mkdir -p "$tree"
		# Whole include dirs: patches may touch any header; cheap compared to xz.
		members="arch/x86/kvm virt/kvm arch/x86/include include"
		# shellcheck disable=SC2086,SC2046 # member list, no spaces
		tar -xJf "$tarball" -C "$tree" --strip-components=1 \
			$(for m in $members; do echo "$pkg/$m"; done) || die 1 "extracting $tarball failed"
		touch "$tree/.extracted"
	fi
	echo "$tree"
}

# Copy the sources a KVM build needs from tree $1 into build dir $2, plus any
# file named in $3 (paths relative to the tree, e.g. those a patch touches).
stage_sources() {
	local tree=$1 b=$2 extra=$3 f
	mkdir -p "$b/arch/x86" "$b/virt"
	cp -a "$tree/arch/x86/kvm" "$b/arch/x86/"
	cp -a "$tree/virt/kvm" "$b/virt/"
	for f in $(cd "$tree" && eval "ls -d $KVM_HEADER_GLOBS 2>/dev/null") $extra; do
		[ -e "$tree/$f" ] || continue
		mkdir -p "$b/$(dirname "$f")"
		cp -a "$tree/$f" "$b/$(dirname "$f")/"
	done
}

# Turn arch/x86/kvm/Makefile into an external-module Kbuild: paths that point
# at $(srctree) (the headers package, which has no KVM sources) are redirected
# to the staged tree, and the KVM headers are put first on the include path.
rewrite_makefile() {
	local b=$1 mk=$1/arch/x86/kvm/Makefile
	mkdir -p "$b/include/trace"
	{
		echo '# Rewritten by irqbench lib/kernel/build-kvm-modules.sh (external build)'
		echo 'IRQB_TOP := $(src)/../../..'
		echo 'NOSTDINC_FLAGS += -I$(IRQB_TOP)/arch/x86/include -I$(IRQB_TOP)/include \'
		echo '	-I$(IRQB_TOP)/arch/x86/include/uapi -I$(IRQB_TOP)/include/uapi'
		echo '# trace.h uses TRACE_INCLUDE_PATH ../../arch/x86/kvm (relative to include/trace)'
		echo 'ccflags-y += -I$(IRQB_TOP)/include/trace'
		sed -e 's|\$(srctree)/arch/x86/kvm|$(src)|g' \
			-e 's|\$(srctree)/virt/kvm|$(IRQB_TOP)/virt/kvm|g' "$mk"
	} >"$mk.new"
	mv "$mk.new" "$mk"
}

# sync_sources STAGE DIR: make DIR's sources those of STAGE, rewriting only
# the files that differ (and removing those of the last build that STAGE
# lacks), so that DIR's objects of unchanged files stay valid.  Prints how
# many files it wrote.
sync_sources() {
	local from=$1 to=$2 f n=0
	mkdir -p "$to"
	(cd "$from" && find . -type f | LC_ALL=C sort) >"$to/.sources.new"
	if [ -f "$to/.sources" ]; then
		LC_ALL=C comm -23 "$to/.sources" "$to/.sources.new" | while read -r f; do rm -f "$to/$f"; done
	fi
	while read -r f; do
		cmp -s "$from/$f" "$to/$f" && continue
		mkdir -p "$(dirname "$to/$f")" && cp "$from/$f" "$to/$f" || return 1
		n=$((n + 1))
	done <"$to/.sources.new"
	mv "$to/.sources.new" "$to/.sources"
	echo "$n"
}

# Files a -p1 patch touches (so headers outside the default set get staged).
patched_files() {
	sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$1" | sort -u
}

stage=''
main() {
	local tree extra="" hash out
	ensure_headers
	if [ -n "$patch" ]; then
		# One extraction at a time (concurrent places share the tree).
		mkdir -p "$CACHE_DIR/linux-source"
		tree=$(exec 8>"$CACHE_DIR/linux-source/.lock" && flock 8 && debian_source_tree)
		extra=$(patched_files "$patch")
	else
		tree=$(cd "$src" && pwd)
	fi

	scratch_new kvm-build || die 3 "cannot create a scratch folder in $CACHE_DIR/tmp"
	stage=$SCRATCH
	trap 'rm -rf "$stage"' EXIT
	stage_sources "$tree" "$stage" "$extra"
	if [ -n "$patch" ]; then
		patch -d "$stage" -p1 --no-backup-if-mismatch -s <"$patch" >&2 ||
			die 2 "patch $patch does not apply to Debian's $kver source"
	fi
	rewrite_makefile "$stage"

	# Key = kernel release + every staged source byte (so edits rebuild).
	hash=$( (echo "$kver"; cd "$stage" && find . -type f | LC_ALL=C sort | xargs sha256sum) |
		sha256sum | cut -c1-16)
	local base
	base=$(build_cache kvm-modules "${IRQBENCH_KVM_BUILD_CACHE:-}") || exit 3
	out=$base/$kver-$hash
	# One build of a hash at a time: a second caller (another place, worktree
	# or clone) waits here, then takes the cached modules.
	exec 7>"$out.lock" && flock 7 || die 3 "cannot lock $out.lock"
	if [ -z "$force" ] && [ -f "$out/.built" ]; then
		log "cached KVM modules: $out"
		echo "$out"
		return 0
	fi

	# One build folder per kernel release, kept: the next patch's build
	# recompiles only what differs from the last one (the matrix builds
	# six of 6.12; kbuild's dependency files name this folder's paths, so
	# it never moves).  One build in it at a time.
	local bdir=$base/build-$kver changed
	exec 6>"$bdir.lock" && flock 6 || die 3 "cannot lock $bdir.lock"
	mkdir -p "$out"
	changed=$(sync_sources "$stage" "$bdir") || die 3 "cannot copy the sources into $bdir"
	log "building KVM modules for $kver in $bdir ($changed source files changed; log: $out/build.log)"
	local t0=$SECONDS
	rm -f "$bdir"/arch/x86/kvm/*.ko
	if ! make -C "$headers" M="$bdir/arch/x86/kvm" -j"$(nproc)" "${make_vars[@]}" modules >"$out/build.log" 2>&1; then
		tail -n 20 "$out/build.log" >&2
		die 1 "KVM module build failed (see $out/build.log)"
	fi
	local ko
	for ko in kvm kvm-amd kvm-intel; do
		[ -f "$bdir/arch/x86/kvm/$ko.ko" ] || continue
		# Debug info makes kvm.ko ~24 MB; the initramfs must stay small.
		strip --strip-debug -o "$out/$ko.ko" "$bdir/arch/x86/kvm/$ko.ko"
		[ "$(module_release "$out/$ko.ko")" = "$kver" ] ||
			die 1 "built $ko.ko has vermagic $(module_release "$out/$ko.ko"), not $kver"
	done
	[ -f "$out/kvm.ko" ] || die 1 "build produced no kvm.ko"
	echo "$kver" >"$out/.built"
	log "built KVM modules in $((SECONDS - t0)) s: $out"
	echo "$out"
}
main

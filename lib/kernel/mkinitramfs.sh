#!/usr/bin/env bash
# mkinitramfs.sh --out FILE --kver KVER --modules DIR|none [--kvm-override DIR]
#                --tests TSV [--profile P] [--arch x86_64|arm64] [--busybox PATH]
#
# Packs the irqbench guest initramfs (gzip'd newc cpio):
#   /bin/busybox + applet links       (busybox-static)
#   /init                             lib/kernel/guest-init.sh
#   /irqbench/modules/*.ko            KVM + deps, decompressed (busybox insmod
#                                     cannot read .ko.xz/.ko.zst)
#   /irqbench/modules/order.{amd,intel}  load order, dependencies first
#   /irqbench/modules/order.arm64     arm64: KVM is built in (Debian); VFIO
#                                     (vfio-pci, type1) for device tests
#   /irqbench/bin/<test>              static test binaries
#   /irqbench/tests.tsv               name<TAB>timeout<TAB>args
#   /irqbench/lib/run/meta.sh         if the checkout has it
#   /irqbench/env                     PROFILE, TESTS for meta.sh
# TSV input lines: name<TAB>host binary<TAB>timeout<TAB>args.
# --modules DIR is lib/modules/<kver> (with modules.dep); "none" = KVM built
# in.  --kvm-override DIR holds rebuilt kvm*.ko that replace the packaged ones.
# Every module's vermagic must be KVER (exit 2 otherwise).
# --busybox: a static busybox of the guest's arch (default /bin/busybox); a
# foreign one cannot list its applets here, so /init installs them.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out='' kver='' moddir='' override='' tests_tsv='' profile=quick arch=x86_64
BUSYBOX=/bin/busybox
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--modules) moddir=$2; shift 2 ;;
	--kvm-override) override=$2; shift 2 ;;
	--tests) tests_tsv=$2; shift 2 ;;
	--profile) profile=$2; shift 2 ;;
	--arch) arch=$2; shift 2 ;;
	--busybox) BUSYBOX=$2; shift 2 ;;
	*) die 2 "unknown argument: $1" ;;
	esac
done
[ -n "$out" ] && [ -n "$kver" ] && [ -n "$moddir" ] && [ -n "$tests_tsv" ] ||
	die 2 "usage: mkinitramfs.sh --out FILE --kver KVER --modules DIR|none --tests TSV"

root=''

# Print the modules.dep entries (paths relative to $moddir) that MOD needs,
# dependencies first, MOD last.  modules.dep lists transitive deps, but not
# in load order, so resolve recursively (depth-first, post-order).
declare -A DEP=() SEEN=()
read_modules_dep() {
	local key deps
	while IFS=: read -r key deps; do
		DEP[$key]=$deps
	done <"$moddir/modules.dep"
}
find_module() { # NAME -> modules.dep key (kvm-amd -> kernel/arch/x86/kvm/kvm-amd.ko.xz)
	local k
	for k in "${!DEP[@]}"; do
		case ${k##*/} in "$1".ko | "$1".ko.*) echo "$k"; return 0 ;; esac
	done
	return 1
}
resolve() {
	local m=$1 d
	[ -n "${SEEN[$m]-}" ] && return 0
	SEEN[$m]=1
	for d in ${DEP[$m]}; do resolve "$d"; done
	echo "$m"
}

# Copy one module (decompressed) into the image; the override dir wins for
# kvm, kvm-amd, kvm-intel.  Prints the in-image file name.
pack_module() {
	local key=$1 base src rel
	base=${key##*/}
	base=${base%%.ko*}
	src=$moddir/$key
	if [ -n "$override" ] && [ -f "$override/$base.ko" ]; then
		src=$override/$base.ko
	fi
	rel=$(module_release "$src")
	[ "$rel" = "$kver" ] ||
		die 2 "module $base is for kernel '${rel:-?}', the image is $kver (vermagic mismatch)"
	decompress_ko "$src" "$root/irqbench/modules/$base.ko" || die 2 "cannot unpack $src"
	echo "$base.ko"
}

# arm64: KVM must be built in or a module; VFIO (for the device tests) is
# packed when the kernel has it as modules.
pack_modules_arm64() {
	local key m
	if ! grep -q '/kvm\.ko$' "$moddir/modules.builtin" 2>/dev/null &&
		! find_module kvm >/dev/null; then
		die 2 "no KVM in $moddir (neither built in nor a module): kernel built without KVM?"
	fi
	SEEN=()
	for m in kvm vfio_iommu_type1 vfio-pci; do
		key=$(find_module "$m") || continue
		for key in $(resolve "$key"); do
			pack_module "$key"
		done
	done >"$root/irqbench/modules/order.arm64"
}

pack_modules() {
	mkdir -p "$root/irqbench/modules"
	[ "$moddir" = none ] && return 0
	[ -f "$moddir/modules.dep" ] || die 2 "$moddir has no modules.dep (run depmod, or pass --modules none for built-in KVM)"
	read_modules_dep
	if [ "$arch" = arm64 ]; then
		pack_modules_arm64
		return
	fi
	local vendor key found=0
	for vendor in amd intel; do
		key=$(find_module "kvm-$vendor") || continue
		found=1
		SEEN=()
		for key in $(resolve "$key"); do
			pack_module "$key"
		done >"$root/irqbench/modules/order.$vendor"
	done
	[ $found = 1 ] || die 2 "no KVM modules (kvm-amd/kvm-intel) in $moddir: kernel built without KVM? (--modules none if built in)"
}

pack_busybox() {
	[ -x "$BUSYBOX" ] && ! readelf -l "$BUSYBOX" | grep -q INTERP ||
		die 2 "$BUSYBOX is not a static busybox (package busybox-static: lib/build/setup.sh kernel)"
	mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/results"
	cp "$BUSYBOX" "$root/bin/busybox"
	ln -sf busybox "$root/bin/sh"
	local a
	# A foreign busybox does not run here: /init runs --install instead.
	for a in $("$BUSYBOX" --list 2>/dev/null); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	cp "$KERNEL_LIB_DIR/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
}

# Test binaries must be static: the initramfs has no libc.
pack_tests() {
	local name bin timeout args names=""
	mkdir -p "$root/irqbench/bin"
	: >"$root/irqbench/tests.tsv"
	while IFS=$'\t' read -r name bin timeout args; do
		[ -n "$name" ] || continue
		[ -x "$bin" ] || die 2 "test binary missing: $bin (make static?)"
		if readelf -l "$bin" 2>/dev/null | grep -q INTERP; then
			die 2 "$bin is dynamically linked; the guest needs static binaries (make static)"
		fi
		cp "$bin" "$root/irqbench/bin/$name"
		printf '%s\t%s\t%s\n' "$name" "$timeout" "$args" >>"$root/irqbench/tests.tsv"
		names="$names $name"
	done <"$tests_tsv"
	printf 'PROFILE=%s\nTESTS="%s"\n' "$profile" "${names# }" >"$root/irqbench/env"
	# The runner's status schema and exit-code classifier.
	mkdir -p "$root/irqbench/lib/run"
	cp "$REPO_ROOT/lib/run/status.sh" "$root/irqbench/lib/run/"
	# meta.sh describes the running (guest) kernel; version files give it
	# the irqbench revision, which it cannot ask git for in the guest.
	if [ -f "$REPO_ROOT/lib/run/meta.sh" ]; then
		mkdir -p "$root/irqbench/lib/run" "$root/irqbench/build"
		cp "$REPO_ROOT/lib/run/meta.sh" "$root/irqbench/lib/run/"
		git -C "$REPO_ROOT" describe --always --dirty >"$root/irqbench/build/irqbench.version" 2>/dev/null ||
			rm -f "$root/irqbench/build/irqbench.version"
	fi
}

main() {
	# In the cache, not the system temp dir: a SIGKILL leaves nothing outside it.
	mkdir -p "$CACHE_DIR/tmp" && root=$(mktemp -d "$CACHE_DIR/tmp/initramfs.XXXXXX") ||
		die 3 "cannot create a scratch folder in $CACHE_DIR/tmp"
	trap 'rm -rf "$root"' EXIT
	pack_busybox
	pack_modules
	pack_tests
	# gzip -1: the guest decompresses under TCG; size matters less than speed.
	(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 >"$out.tmp")
	mv "$out.tmp" "$out"
}
main

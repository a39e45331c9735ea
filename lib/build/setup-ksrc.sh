#!/bin/bash
# Prepares a kernel tree for building the KVM selftests lib:
#   setup-ksrc.sh default DEST     unpack Debian's linux-source-6.12 into DEST
#                                  (only the parts the selftests lib needs)
#   setup-ksrc.sh headers KSRC HDR install KSRC's uapi headers into HDR
#   setup-ksrc.sh check KSRC       fail with one line unless KSRC is a tree
#                                  with KVM selftests
set -u
here=$(dirname "$(readlink -f "$0")")
pkg=linux-source-6.12

die() {
	echo "irqbench: $*" >&2
	exit 1
}

check_tree() {
	[ -d "$1" ] || die "KSRC=$1: no such directory"
	[ -f "$1/Makefile" ] && [ -f "$1/tools/testing/selftests/kvm/Makefile" ] ||
		die "KSRC=$1: not a kernel tree with tools/testing/selftests/kvm"
}

unpack_default() {
	local dest=$1 tarball=/usr/src/$pkg.tar.xz top
	[ -f "$dest/.irqbench-unpacked" ] && return 0
	"$here/install-deps.sh" "$pkg" || exit 1
	[ -f "$tarball" ] || die "$tarball missing after installing $pkg"
	echo "irqbench: unpacking $pkg into $dest" >&2
	rm -rf "$dest.tmp" && mkdir -p "$dest.tmp" || exit 1
	top=$(basename "$tarball" .tar.xz)
	# The lib needs the selftests, tools/ headers and what headers_install
	# reads: the top Makefile, scripts/, include/ and arch/<arch>/.
	tar -xJf "$tarball" -C "$dest.tmp" --strip-components=1 \
		--exclude="$top/tools/perf" --exclude="$top/tools/testing/selftests/bpf" \
		"$top/Makefile" "$top/.clang-format" "$top/Kbuild" "$top/Kconfig" "$top/scripts" \
		"$top/include" "$top/arch/Kconfig" "$top/arch/x86" "$top/arch/arm64" \
		"$top/tools" "$top/usr" || die "unpacking $tarball failed"
	dpkg-query -W -f='${Version}\n' "$pkg" >"$dest.tmp/.irqbench-unpacked"
	rm -rf "$dest" && mv "$dest.tmp" "$dest"
}

install_headers() {
	local ksrc=$1 hdr=$2
	[ -f "$hdr/include/linux/kvm.h" ] && return 0
	echo "irqbench: installing uapi headers of $ksrc into $hdr" >&2
	make -s -C "$ksrc" headers_install INSTALL_HDR_PATH="$hdr" >&2 ||
		die "make -C $ksrc headers_install failed"
}

case "${1:-}" in
default) unpack_default "$2" ;;
headers) check_tree "$2" && install_headers "$2" "$3" ;;
check) check_tree "$2" ;;
*) die "usage: setup-ksrc.sh default DEST | headers KSRC HDR | check KSRC" ;;
esac

# shellcheck shell=bash
# Shared helpers for lib/kernel/*.sh (sourced, not executed).
# Keeps the error/exit conventions in one place:
#   exit 2 = bad input (missing image, no KVM modules, vermagic mismatch, no qemu)
#   exit 1 = boot or test failure

KERNEL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$KERNEL_LIB_DIR/../.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this
CACHE_DIR=${IRQBENCH_CACHE:-$REPO_ROOT/.cache}

# build_cache NAME [DIR]: where builds of kind NAME are cached, outside the
# clone so that another clone or worktree reuses them: DIR if given (the
# kind's IRQBENCH_* override), else ~/.cache/irqbench/NAME; the project's
# cache when that cannot be created.  Echoes the folder, which exists.
build_cache() {
	local base=${2:-${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/irqbench/$1}
	mkdir -p "$base" 2>/dev/null || { base=$CACHE_DIR/$1 && mkdir -p "$base"; } || die 3 "cannot create $base"
	echo "$base"
}

# scratch_new NAME: a new scratch folder $CACHE_DIR/tmp/NAME.XXXXXX in
# SCRATCH (in the cache, not the system temp dir: a SIGKILL leaves nothing
# outside it), owned by this script (.owner: PID and start time).  First it
# removes the scratch folders whose owner is gone: one killed by SIGKILL
# ran no trap.
proc_start() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }
scratch_new() {
	local d pid start
	mkdir -p "$CACHE_DIR/tmp" || return 1
	for d in "$CACHE_DIR"/tmp/*.*/; do
		[ -f "$d.owner" ] && read -r pid start <"$d.owner" || continue
		[ "$(proc_start "$pid")" = "$start" ] || rm -rf "$d"
	done
	SCRATCH=$(mktemp -d "$CACHE_DIR/tmp/$1.XXXXXX") || return 1
	echo "$$ $(proc_start $$)" >"$SCRATCH/.owner"
}

# One-line error on stderr, then exit with the given code.
die() { local code=$1; shift; echo "${0##*/}: error: $*" >&2; exit "$code"; }
# Progress goes to stderr so stdout stays machine-readable where it matters.
log() { echo "[${0##*/}] $*" >&2; }

# Packages come from the one set-up step (lib/build/setup.sh, its list
# lib/build/packages.list); on-demand ones (kernel headers, sources) too.
setup_pkgs() {
	"$REPO_ROOT/lib/build/setup.sh" "$@"
}
# install_pkg PKG: an on-demand package (setup.sh --pkg); dies 3 "download
# failed" when apt could not fetch it (the environment: run.sh bisect
# aborts), 2 when it cannot be installed otherwise.
install_pkg() {
	local rc=0
	setup_pkgs --pkg "$1" >&2 || rc=$?
	[ $rc != 3 ] || die 3 "download failed: $1 (apt could not fetch it; network?)"
	[ $rc = 0 ] || die 2 "cannot install $1"
}

# Kernel release string embedded in a bzImage (the x86 boot header keeps a
# pointer to it at 0x20e, relative to 0x200), e.g. "6.12.117+deb12-amd64".
bzimage_release() {
	local img=$1 off
	[ "$(dd if="$img" bs=1 skip=514 count=4 2>/dev/null)" = "HdrS" ] || return 1
	off=$(od -An -tu2 -j 526 -N 2 "$img" | tr -d ' ')
	[ -n "$off" ] || return 1
	dd if="$img" bs=1 skip=$((off + 512)) count=256 2>/dev/null | tr '\0' '\n' | head -n1 | cut -d' ' -f1
}

# Kernel release of an arm64 Image (raw, or gzip'd as some distros ship
# it): the "Linux version <release> (" banner.  Fails when the file is not
# an arm64 Image ("ARM\x64" magic at offset 56).
arm64_image_release() {
	local img=$1 rel
	if [ "$(od -An -tx1 -N2 "$img" | tr -d ' ')" = 1f8b ]; then
		# (the reader stops early: no pipefail verdict on gzip's SIGPIPE)
		rel=$(set +o pipefail; gzip -dc "$img" 2>/dev/null | head -c 64 | tail -c 8 | head -c 3)
		[ "$rel" = ARM ] || return 1
		rel=$(set +o pipefail; gzip -dc "$img" 2>/dev/null | grep -a -m1 -o 'Linux version [^ ]* (')
	else
		[ "$(dd if="$img" bs=1 skip=56 count=3 2>/dev/null)" = ARM ] || return 1
		rel=$(grep -a -m1 -o 'Linux version [^ ]* (' "$img")
	fi
	rel=${rel#Linux version }
	echo "${rel% (}"
}

# Kernel release of an image of ARCH (x86_64 or arm64).
image_release() {
	case $1 in
	arm64) arm64_image_release "$2" ;;
	*) bzimage_release "$2" ;;
	esac
}

# vermagic of a module (.ko, .ko.xz, .ko.zst), first word = kernel release.
module_release() {
	modinfo -F vermagic "$1" 2>/dev/null | cut -d' ' -f1
}

# Decompress a module to a plain .ko (busybox insmod cannot read .xz/.zst).
decompress_ko() {
	local src=$1 dst=$2
	case $src in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*.ko) cp "$src" "$dst" ;;
	*) return 1 ;;
	esac
}

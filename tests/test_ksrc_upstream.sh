#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The 6.14+ selftests layout (tools/testing/selftests/kvm/x86/, Makefile.kvm)
# and the 7.x lib API on a real tree: the suite is built with
# `make KSRC=<Debian's linux-source of the newest trixie-backports series>`
# (7.3 now; only the parts the lib needs unpacked, lib/build/setup-ksrc.sh),
# and ioapic_eoi_reuse built from it runs
#   - natively: on kvm_pvm every dest variant is not-provoked (the controls
#     pass), on a real KVM host any real verdict;
#   - inside that series' Debian kernel (nested, QEMU TCG; the static build
#     from the same tree): the kernel has the upstream fix, so the dest
#     variants of both irqchips must say fixed, and the controls pass.
# The 7.x lib names guest addresses gva_t/gpa_t: the build must have taken
# the compat path (IRQBENCH_LIB_GVA_T from lib/build/probe-lib.sh).
#
# IRQBENCH_KERNEL_TESTS=none skips the nested run; =full adds the mutant:
# that kernel's KVM rebuilt from its linux-source with the upstream fix's
# rescan taken out (tests/fixtures/kvm-fix/revert-upstream-fix-7.3.patch)
# must say stale-exits (both irqchips).  That module build (~1.5-5 min) is
# kept out of make check.
# Cost, cold: linux-source (~166 MB) and the kernel (~121 MB, shared with
# test_detection), unpacking (~15 s), two builds of the suite
# (dynamic and static, ~1-2 min each); warm: the nested run (~20 s).
# Builds live in <cache>/ksrc-upstream/.  Exit 0 pass, 1 fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
cache=${IRQBENCH_CACHE:-$repo/.cache}
fetch=$repo/lib/kernel/fetch-debian.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_ksrc_upstream.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/tap.sh
source "$here/tap.sh"
args="--reuses 100 --irqchip all --variant control,dest"

set_up build kernel
echo "TAP version 13"
# shellcheck source=tests/eoi_places.sh
source "$here/eoi_places.sh"

series=$("$fetch" newest trixie-backports 2>"$tmp/err") ||
	{ not_ok "newest trixie-backports series: $(tail -n 1 "$tmp/err")"; tap_done; }
if ! src=$("$fetch" source "$series" 2>"$tmp/err"); then
	not_ok "linux-source-$series: $(tail -n 1 "$tmp/err")"
	tap_done
fi
eval "$src"
tree=$cache/linux-source-$series
"$repo/lib/build/setup-ksrc.sh" unpack "$SOURCE" "$tree" 2>"$tmp/err" ||
	{ not_ok "unpacking $SOURCE: $(tail -n 1 "$tmp/err")"; tap_done; }
check "linux-source-$series ($SRCVER) has the x86/ selftests layout" \
	test -f "$tree/tools/testing/selftests/kvm/Makefile.kvm" -a -d "$tree/tools/testing/selftests/kvm/x86"

# ---- the build -------------------------------------------------------------
b=$cache/ksrc-upstream/$series
for kind in build static; do
	dir=$b/$kind
	if nice make -s -C "$repo" -j2 KSRC="$tree" BUILD="$dir" STATIC="$([ $kind = static ] && echo 1 || echo 0)" \
		"$dir/x86/ioapic_eoi_reuse" >"$tmp/make-$kind.log" 2>&1; then
		ok "make KSRC=linux-source-$series ($kind): ioapic_eoi_reuse built"
	else
		not_ok "make KSRC=linux-source-$series ($kind) failed" "$(grep -m6 -E 'error|Error|undefined|ld: |cannot find' "$tmp/make-$kind.log" | xargs)"
		tap_done
	fi
done
check_eq "the build says it used the $series tree (ksrc.version)" "$(cut -d' ' -f1 "$b/build/ksrc.version")" "${SRCVER%%-*}"
check "the 7.x lib API took the compat path (IRQBENCH_LIB_GVA_T)" grep -q 'IRQBENCH_LIB_GVA_T 1' "$b/build/lib_features.h"
check "the static binary is static" sh -c "file '$b/static/x86/ioapic_eoi_reuse' | grep -q 'statically linked'"

# ---- natively ----------------------------------------------------------------
# shellcheck disable=SC2086 # $args: words
host_place natively "$b/build/x86/ioapic_eoi_reuse" "$tmp/host" $args

if [ "${IRQBENCH_KERNEL_TESTS:-boot}" = none ]; then
	echo "# nested runs skipped (IRQBENCH_KERNEL_TESTS=none)"
	tap_done
fi

# ---- inside the series' Debian kernel ----------------------------------------
# nested PLACE OUT RUNNER-ARGS...: the static build of this tree, nothing else
# (--no-build: the runner must not build the default tree).
nested() {
	local place=$1 out=$tmp/$2 t0=$SECONDS
	shift 2
	if IRQBENCH_STATIC_BUILD=$b/static "$repo/lib/kernel/run-kernel.sh" --no-build "$@" \
		--args "$args" --out "$out" --quiet ioapic_eoi_reuse >"$out.out" 2>"$out.err" ||
		[ -f "$out/results.jsonl" ]; then
		echo "# $place: $(grep -o 'boot to result: .*' "$out.err"), $((SECONDS - t0)) s in all"
		return 0
	fi
	not_ok "$place: runner failed: $(tail -n 2 "$out.err" | xargs)"
	return 1
}
nested "Debian $series" guest --debian "$series" && check_place "Debian $series (upstream fix)" "$tmp/guest" fixed

if [ "${IRQBENCH_KERNEL_TESTS:-boot}" = full ]; then
	mutant=$repo/tests/fixtures/kvm-fix/revert-upstream-fix-7.3.patch
	nested "Debian $series + mutant" mutant --debian "$series" --kvm-patch "$mutant" &&
		check_place "Debian $series + the fix's rescan taken out" "$tmp/mutant" stale-exits
else
	echo "# the mutant (KVM module build) runs with IRQBENCH_KERNEL_TESTS=full only"
fi
tap_done

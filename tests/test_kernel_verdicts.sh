#!/usr/bin/env bash
# The suite tells kernels apart: ioapic_eoi_reuse in five places, four
# verdicts (route moved mid-ISR, the `dest` variants), for the split irqchip
# (EOI exits) and the in-kernel IOAPIC (its acks of the pin, ioapic_acks):
#   Debian 6.1 (nested, QEMU TCG)              -> split lost-eoi,
#                                                 in-kernel stale-exits
#   Debian 6.12 (nested)                       -> stale-exits
#   Debian 6.12 + the fixture fix (KVM rebuilt) -> fixed
#   the newest trixie-backports kernel (7.3 now, with the upstream fix)
#                                              -> fixed
#   this host                                  -> not-provoked on kvm_pvm
#                                                 (a real KVM host must give
#                                                 a real verdict instead)
# Every place also runs the controls, which must count one EOI per reuse: a
# verdict from a blind counter proves nothing.  Counts only, no timings.
# First run: downloads (~70 MB + ~107 MB + headers; trixie-backports: the
# private apt lists ~21 MB and its kernel ~122 MB) and the KVM module build
# (~1 min), all cached under .cache/.  Then about 1 min (67 s measured, both
# irqchips, one place after the other; the places now boot in parallel).
# IRQBENCH_KERNEL_TESTS=none skips the nested runs.  Exit 0 pass, 1 fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
build=${IRQBENCH_BUILD:-$repo/build}
run=$repo/lib/kernel/run-kernel.sh
patch=$repo/tests/fixtures/kvm-fix/highest_stale_pending_ioapic_eoi.patch
args="--reuses 100 --irqchip all --variant control,dest"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_kernel_verdicts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/tap.sh
source "$here/tap.sh"

set_up build ksrc kernel

# shellcheck source=tests/eoi_places.sh
source "$here/eoi_places.sh"

echo "TAP version 13"

# ---- this host ---------------------------------------------------------------
# shellcheck disable=SC2086 # $args: words
host_place "this host" "$build/x86/ioapic_eoi_reuse" "$tmp/host" $args

if [ "${IRQBENCH_KERNEL_TESTS:-boot}" = none ]; then
	echo "# nested runs skipped (IRQBENCH_KERNEL_TESTS=none)"
	tap_done
fi

# ---- nested: Debian kernels under QEMU TCG -----------------------------------
# nested PLACE WANT NAME RUNNER-ARGS...: one place of the parallel run below
# (run.sh kernel --places, every place at once, -j: the number of CPUs).
NESTED=()
nested() {
	local place=$1 want=$2 name=$3 w q=''
	shift 3
	for w in "$@"; do q="$q $(printf '%q' "$w")"; done
	echo "$name |$q" >>"$tmp/places"
	NESTED+=("$name"$'\t'"$want"$'\t'"$place")
}
run_nested() {
	local t0=$SECONDS line name want place
	"$run" --places "$tmp/places" -j "$(nproc)" --args "$args" --out "$tmp/nested" ioapic_eoi_reuse \
		>"$tmp/nested.out" 2>"$tmp/nested.err"
	echo "# ${#NESTED[@]} places in parallel (-j $(nproc)): $((SECONDS - t0)) s in all"
	for line in "${NESTED[@]}"; do
		IFS=$'\t' read -r name want place <<<"$line"
		if [ -f "$tmp/nested/$name/results.jsonl" ]; then
			echo "# $place: $(grep -o 'boot to result: .*' "$tmp/nested/$name.log"), $(awk -F '\t' -v n="$name" '$1 == n { print $4 }' "$tmp/nested/summary.tsv") s in all"
			check_place "$place" "$tmp/nested/$name" "$want"
		else
			not_ok "$place: runner failed: $(tail -n 2 "$tmp/nested/$name.log" 2>/dev/null || tail -n 2 "$tmp/nested.err")"
		fi
	done
}

nested "Debian 6.1" "split=lost-eoi kernel=stale-exits" d61 --debian 6.1
nested "Debian 6.12" stale-exits d612 --debian 6.12
nested "Debian 6.12 + fixture fix" fixed d612fix --debian 6.12 --kvm-patch "$patch"
# The newest series trixie-backports has (7.3.4 now): the upstream fix.
bpo=$("$repo/lib/kernel/fetch-debian.sh" newest trixie-backports 2>"$tmp/list.err")
if [ -n "$bpo" ]; then
	nested "Debian $bpo (trixie-backports, upstream fix)" fixed dbpo --debian "$bpo"
else
	not_ok "trixie-backports: no kernel series ($(tail -n 1 "$tmp/list.err"))"
fi
run_nested

tap_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh kernel with several places (lib/kernel/places.sh), with a QEMU
# stand-in (tests/fixtures/places/qemu) that "runs" for a few seconds and
# sends a results folder: places run at the same time (-j 2: their runs
# overlap; -j 1: they do not), each in a folder of its own with its log, one
# summary, the exit of the worst place; the cross product's names; bad input
# (a bad places line, a bad test in one place) is one line and exit 2 before
# anything runs; --place-timeout and SIGTERM leave nothing running.  Nothing
# boots: about 30 s.  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
runsh=$repo/run.sh
# shellcheck source=tests/tap.sh
source "$here/tap.sh"
[ -x /bin/busybox ] || skip_all "no /bin/busybox (busybox-static) for the initramfs and as the static test"
command -v setsid >/dev/null || skip_all "no setsid"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_kernel_places.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"

"$repo/tests/fixtures/bisect/make-bzimage" "$tmp/bz"
export IRQBENCH_QEMU=$repo/tests/fixtures/places/qemu IRQBENCH_CACHE=$tmp/cache IRQBENCH_RESULTS_ROOT=$tmp/results
common=(--modules none --no-build /bin/busybox)
places() { # FILE LINES...: a places file
	local f=$1
	shift
	printf '%s\n' "# places" "$@" >"$f"
}
# overlap LOG: the two runs' [start, end] intervals overlap.
overlap() {
	awk 'NR == 1 { s1 = $2; e1 = $3 } NR == 2 { s2 = $2; e2 = $3 } END { exit !(NR == 2 && s1 < e2 && s2 < e1) }' "$1"
}

# ---- two places, -j 2 and -j 1 ---------------------------------------------
places "$tmp/two" "a | --image $tmp/bz --append 'fake.sleep=3'" \
	"b | --image $tmp/bz --append \"fake.sleep=3 fake.verdict=stale-exits\""
for j in 2 1; do
	export FAKE_LOG=$tmp/j$j.log
	: >"$FAKE_LOG"
	rc=0
	t0=$SECONDS
	"$runsh" kernel --places "$tmp/two" -j $j --out "$tmp/j$j" "${common[@]}" >"$tmp/j$j.out" 2>"$tmp/j$j.err" || rc=$?
	secs=$((SECONDS - t0))
	check_eq "-j $j: exit 0" "$rc" 0
	check "-j $j: a folder and a log per place" test -f "$tmp/j$j/a/status.tsv" -a -f "$tmp/j$j/b/status.tsv" -a -s "$tmp/j$j/a.log"
	check_eq "-j $j: summary.tsv in place order" "$(cut -f1,2,6 "$tmp/j$j/summary.tsv" | tr '\t\n' ', ')" "a,PASS,pass:1 b,PASS,stale-exits:1 "
	check "-j $j: a progress line as each place ends" grep -q '^\[2/2\] b: PASS in [0-9]*s; busybox:PASS; verdicts stale-exits:1$' "$tmp/j$j.out"
	check_eq "-j $j: the results folder last" "$(tail -n1 "$tmp/j$j.out")" "results: $tmp/j$j"
	echo "# -j $j: two 3 s places in $secs s"
done
check "-j 2: the two places ran at the same time" overlap "$tmp/j2.log"
check "-j 1: one after the other" bash -c "! awk 'NR == 1 { s1 = \$2; e1 = \$3 } NR == 2 { s2 = \$2; e2 = \$3 } END { exit !(s1 < e2 && s2 < e1) }' '$tmp/j1.log'"

# ---- worst exit, a place that fails ----------------------------------------
places "$tmp/fail" "good | --image $tmp/bz --append fake.sleep=1" "bad | --image $tmp/bz --append 'fake.sleep=1 fake.results=none'"
rc=0
"$runsh" kernel --places "$tmp/fail" --out "$tmp/fail.d" "${common[@]}" >"$tmp/fail.out" 2>&1 || rc=$?
check_eq "one place fails: exit 1 (the worst place's)" "$rc" 1
check_eq "one place fails: its summary line says FAIL, the other PASS" "$(cut -f1,2 "$tmp/fail.d/summary.tsv" | tr '\t\n' ', ')" "good,PASS bad,FAIL "
check "one place fails: its progress line gives the reason" grep -q '^\[2/2\] bad: FAIL in .*no results' "$tmp/fail.out"

# ---- the cross product of the command line ---------------------------------
got=$("$runsh" kernel --debian 6.1,6.12 --kvm-patch none --kvm-patch "$repo/tests/fixtures/kvm-fix/highest_stale_pending_ioapic_eoi.patch" --list-places ioapic_eoi_reuse | cut -f1 | xargs)
check_eq "--debian 6.1,6.12 x --kvm-patch none,P: four places" "$got" \
	"debian-6.1 debian-6.1+highest_stale_pending_ioapic_eoi debian-6.12 debian-6.12+highest_stale_pending_ioapic_eoi"

# ---- bad input: one line, exit 2, nothing runs ------------------------------
export FAKE_LOG=$tmp/bad.log
: >"$FAKE_LOG"
places "$tmp/badline" "a | --image $tmp/bz" "no pipe here"
expect_error 2 "$tmp/badline:3: want 'NAME \| RUNNER-ARGS'" "a places line without '|'" -- "$runsh" kernel --places "$tmp/badline" "${common[@]}"
places "$tmp/dup" "a | --image $tmp/bz" "a | --image $tmp/bz"
expect_error 2 "$tmp/dup:3: place a named twice" "a place named twice" -- "$runsh" kernel --places "$tmp/dup" "${common[@]}"
places "$tmp/quote" "a | --image '$tmp/bz"
expect_error 2 "$tmp/quote:2: unbalanced quotes" "unbalanced quotes" -- "$runsh" kernel --places "$tmp/quote" "${common[@]}"
places "$tmp/badtest" "a | --image $tmp/bz" "b | --image $tmp/bz no_such_test"
expect_error 2 "place b: unknown test: no_such_test" "a bad test in one place" -- "$runsh" kernel --places "$tmp/badtest" "${common[@]}"
places "$tmp/nested" "a | --image $tmp/bz --debian 6.1,6.12"
expect_error 2 "place a: .*one kernel and one KVM per place" "several kernels in one place" -- "$runsh" kernel --places "$tmp/nested" "${common[@]}"
expect_error 2 "j wants a number" "-j 0" -- "$runsh" kernel --places "$tmp/two" -j 0 "${common[@]}"
check_eq "bad input: nothing ran" "$(cat "$FAKE_LOG")" ""

# ---- --place-timeout and SIGTERM: nothing left running ----------------------
# pids_gone: no process runs our fake QEMU's `sleep` (PIDs noted by pgrep).
alive() { pgrep -f "fixtures/places/qemu" | grep -v "^$$\$" || true; }
places "$tmp/slow" "slow | --image $tmp/bz --append fake.sleep=60" "fast | --image $tmp/bz --append fake.sleep=1"
rc=0
t0=$SECONDS
"$runsh" kernel --places "$tmp/slow" --place-timeout 3 --out "$tmp/slow.d" "${common[@]}" >"$tmp/slow.out" 2>&1 || rc=$?
check_eq "--place-timeout 3: exit 1" "$rc" 1
check "--place-timeout 3: the slow place TIMEOUT, the fast one PASS" grep -qx $'slow\tTIMEOUT.*' <(cut -f1,2 "$tmp/slow.d/summary.tsv")
check "--place-timeout 3: over within 20 s ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 20
sleep 0.5
check_eq "--place-timeout: no QEMU left" "$(alive)" ""

"$runsh" kernel --places "$tmp/slow" --out "$tmp/term.d" "${common[@]}" >"$tmp/term.out" 2>"$tmp/term.err" &
pid=$!
for ((i = 0; i < 100; i++)); do
	[ "$(alive | wc -l)" -ge 2 ] && break
	sleep 0.1
done
check "SIGTERM: both places were running" test "$(alive | wc -l)" -ge 2
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check_eq "SIGTERM: exit 143" "$rc" 143
check "SIGTERM: one line says so" grep -q 'places.sh: stopped by SIGTERM' "$tmp/term.err"
sleep 0.5
check_eq "SIGTERM: no QEMU left" "$(alive)" ""
check_eq "no scratch folders left in the cache" "$(ls -A "$tmp/cache/tmp" 2>/dev/null)" ""
tap_done

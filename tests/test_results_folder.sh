#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Nothing a run finished is silently lost: a results folder that fills up
# (a 64 KiB tmpfs as --out) ends the run with one "results folder full"
# line and exit 2, the test that filled it is no PASS, every line left in
# results.jsonl and status.tsv is whole; --out on a folder of other files
# or a read-only one is refused (one line, exit 2, nothing touched); runs
# started together get folders of their own; compare fails a B that lacks
# metrics A has (or has no records at all), and drops a torn last line
# with a warning.  Fake tests (tests/fixtures/run); the tmpfs cases need
# root (mount).  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${HERE%/tests}
RUN=$ROOT/run.sh
FIX=$ROOT/tests/fixtures/run
# shellcheck source=tests/tap.sh
source "$HERE/tap.sh"
# python3 (whole_jsonl, run.sh compare): a missing one fails the set-up.
set_up build
TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_results_folder.XXXXXX")
MOUNTS=()
cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
export IRQBENCH_TABLE=$FIX/tests.cfg IRQBENCH_BUILD=$FIX/bin IRQBENCH_RESULTS_ROOT=$TMP/results
: >"$TMP/kvm"
export IRQBENCH_DEVKVM=$TMP/kvm
echo "TAP version 13"

runsh() {
	RC=0
	"$RUN" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}
# one_line PATTERN: stderr is exactly one line, matching PATTERN.
one_line() {
	[[ $(wc -l <"$TMP/err") == 1 ]] && grep -qE -- "$1" "$TMP/err"
}
# whole_jsonl FILE: every line parses as JSON and the file ends in a newline.
whole_jsonl() {
	[[ ! -s $1 || $(tail -c1 "$1" | od -An -c | tr -d ' ') == '\n' ]] &&
		python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$1"
}
# tmpfs SIZE [ro]: a fresh small tmpfs, mounted at $MNT.
tmpfs() {
	MNT=$(mktemp -d "$TMP/mnt.XXXXXX")
	mount -t tmpfs -o "size=$1${2:+,$2}" irqbench-test "$MNT" 2>/dev/null || return 1
	MOUNTS+=("$MNT")
}

# --- a folder that fills up ------------------------------------------------
if ((EUID != 0)) || ! tmpfs 64k; then
	skip "full results folder" "needs root (mount -t tmpfs)"
else
	full=$MNT
	runsh run pass fill by_name --out "$full"
	check_eq "full folder: exit 2" "$RC" 2
	check "full folder: one line 'run.sh: results folder full: ...'" one_line '^run\.sh: results folder full: .*\(2 of 3 test\(s\) recorded\)$'
	check "full folder: the test that filled it is no PASS" grep -Eq '^\[2/3\] fill \.\.\. FAIL .*results folder full' "$TMP/out"
	check "full folder: no test started after it" test ! -e "$full/by_name.log"
	check "full folder: the summary is still shown" grep -qx '1 passed, 1 failed, 0 skipped' "$TMP/out"
	check "full folder: results.jsonl keeps whole records only" whole_jsonl "$full/results.jsonl"
	check "full folder: the finished test's record is kept" grep -q '"test":"pass"' "$full/results.jsonl"
	check_eq "full folder: status.tsv lines are whole" "$(cut -f1,2 "$full/status.tsv" | tr '\t\n' ', ')" "pass,PASS fill,FAIL "
	check "full folder: summary.txt is whole or absent, never cut" \
		test ! -e "$full/summary.txt" -o "$(tail -n1 "$full/summary.txt" 2>/dev/null)" = "1 passed, 1 failed, 0 skipped"

	# A real test program: lib/results.c must fail the test, not pass it.
	# make check builds it: on x86 with a usable /dev/kvm, not built is a
	# failure.
	bin=$ROOT/build/x86/halt_wakeup
	if [[ ! -r /dev/kvm || ! -w /dev/kvm || $(uname -m) != x86_64 ]]; then
		skip "halt_wakeup into a full folder" "needs x86 and a usable /dev/kvm"
	elif [[ ! -x $bin ]]; then
		not_ok "halt_wakeup into a full folder" "$bin not built (make programs)"
	elif ! tmpfs 16k; then
		not_ok "halt_wakeup into a full folder" "a 16 KiB tmpfs could not be mounted"
	else
		full2=$MNT
		printf '[halt_wakeup]\nprogram = x86/halt_wakeup\nargs = --vcpus 2,3 --pcpus 2 --wakes 64\n' >"$TMP/real.cfg"
		RC=0
		IRQBENCH_TABLE=$TMP/real.cfg IRQBENCH_BUILD=$ROOT/build IRQBENCH_DEVKVM=/dev/kvm \
			"$RUN" run halt_wakeup --out "$full2" >"$TMP/out" 2>"$TMP/err" || RC=$?
		check_eq "halt_wakeup into a full folder: exit 2" "$RC" 2
		check "halt_wakeup into a full folder: FAIL, not PASS" grep -Eq '^\[1/1\] halt_wakeup \.\.\. FAIL' "$TMP/out"
		check "halt_wakeup into a full folder: the test says why" grep -q 'Bail out! results folder full: cannot write the .* record to' "$TMP/out"
		check "halt_wakeup into a full folder: one 'results folder full' line" one_line '^run\.sh: results folder full: '
		check "halt_wakeup into a full folder: results.jsonl keeps whole records" whole_jsonl "$full2/results.jsonl"
	fi
fi

# --- --out that is not ours, or read-only ---------------------------------
mkdir -p "$TMP/mine/plots"
echo "my notes" >"$TMP/mine/summary.txt"
echo "my plot" >"$TMP/mine/plots/a.png"
runsh run pass --out "$TMP/mine"
check_eq "--out on a folder of other files: exit 2" "$RC" 2
check "--out on a folder of other files: one line" one_line "^run\.sh: --out $TMP/mine is not empty and not an irqbench run folder"
check "--out on a folder of other files: its files untouched" \
	test "$(cat "$TMP/mine/summary.txt")" = "my notes" -a -f "$TMP/mine/plots/a.png" -a ! -e "$TMP/mine/status.tsv"
runsh run pass --out "$TMP/again"
runsh run pass --out "$TMP/again"
check_eq "--out on an earlier run's folder: replaced (exit 0)" "$RC" 0
check_eq "--out on an earlier run's folder: this run only" "$(wc -l <"$TMP/again/status.tsv")" 1

if ((EUID != 0)) || ! tmpfs 64k ro; then
	skip "read-only --out" "needs root (mount -t tmpfs -o ro)"
else
	ro=$MNT
	runsh run pass --out "$ro"
	check_eq "read-only --out: exit 2" "$RC" 2
	check "read-only --out: one line naming it" one_line "^run\.sh: cannot write in --out directory $ro: Read-only file system$"
	runsh run pass --out "$ro/sub"
	check "read-only --out (new subfolder): one line" one_line "^run\.sh: cannot create --out directory $ro/sub: Read-only file system$"
fi

# --- runs started together get folders of their own -----------------------
# A date stand-in pins the folder's timestamp: the runs collide for sure,
# not only when they happen to start in the same second.
mkdir -p "$TMP/fixdate"
printf '#!/bin/sh\n# date stand-in: the results folder stamp is one fixed second; the rest is the real date.\n[ "$*" = "+%%Y%%m%%d-%%H%%M%%S" ] && { echo 20260101-000000; exit 0; }\nexec %s "$@"\n' \
	"$(command -v date)" >"$TMP/fixdate/date"
chmod +x "$TMP/fixdate/date"
pids=()
for i in 1 2 3 4; do
	PATH="$TMP/fixdate:$PATH" "$RUN" run by_name >"$TMP/par$i" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
dirs=$(sed -n 's/^results: //p' "$TMP"/par[1-4] | sort -u | wc -l)
check_eq "4 runs at once: 4 results folders" "$dirs" 4
check "4 runs at once: each folder holds one run" \
	awk 'END { exit NR != 4 }' $(sed -n 's/^results: \(.*\)/\1\/status.tsv/p' "$TMP"/par[1-4])
check_eq "4 runs at once, the same second (date stand-in): NAME, NAME-2, -3, -4" \
	"$(sed -n 's/^results: //p' "$TMP"/par[1-4] | xargs -n1 basename | sort | tr '\n' ' ')" \
	"$(s=20260101-000000-$(uname -r); echo "$s $s-2 $s-3 $s-4 ")"
complete=0
for d in $(sed -n 's/^results: //p' "$TMP"/par[1-4]); do
	[[ $(cut -f1,2 "$d/status.tsv") == "by_name	PASS" && -s $d/summary.txt && -f $d/meta.json ]] &&
		whole_jsonl "$d/results.jsonl" && complete=$((complete + 1))
done
check_eq "4 runs at once, the same second: each folder complete (status.tsv, summary.txt, meta.json, whole results.jsonl)" "$complete" 4

# The allocator itself (lib/run/outdir.sh, run.sh's and run-kernel.sh's):
# a name already taken, as by a run started in the same second, gets -2,
# then -3; the runs above need not have collided for this to be checked.
(
	. "$ROOT/lib/run/outdir.sh"
	mkdir -p "$TMP/alloc/20260101-000000"
	for i in 1 2; do outdir_new "$TMP/alloc" 20260101-000000 && basename "$OUTDIR_NEW"; done
) >"$TMP/alloc.out" 2>&1
check_eq "allocator: a name taken in the same second gets -2, then -3" \
	"$(tr '\n' ' ' <"$TMP/alloc.out")" "20260101-000000-2 20260101-000000-3 "

# --- compare: B lost metrics A had ----------------------------------------
runsh run pass skip_ktap --out "$TMP/A"
runsh run pass --out "$TMP/B"
printf '{"test":"skip_ktap","metric":"fake","unit":"count","value":1}\n' >>"$TMP/A/results.jsonl"
runsh compare --no-plots "$TMP/A" "$TMP/B"
check_eq "compare, B lacks a metric of A: exit 1" "$RC" 1
check "compare: the missing metric is shown first" \
	awk 'NR <= 4 && /^MISSING from B \(1 metric/ { m = 1 } m && /skip_ktap/ { f = 1 } END { exit !f }' "$TMP/out"
runsh compare --no-plots "$TMP/B" "$TMP/A"
check_eq "compare, B has more than A: exit 0" "$RC" 0

# B without a single record (its test crashed before writing one, or
# the run was interrupted first): all of A is missing, exit 1.
runsh run pass skip_ktap --out "$TMP/A2"
na=$(grep -c . "$TMP/A2/results.jsonl")
runsh run crash --out "$TMP/Bempty"
: >"$TMP/Bempty/results.jsonl"
runsh compare --no-plots "$TMP/A2" "$TMP/Bempty"
check_eq "compare, B has no records: exit 1" "$RC" 1
check "compare, B has no records: all $na metrics of A shown missing, first" \
	awk -v n="$na" 'NR <= 4 && $0 ~ "^MISSING from B \\(" n " metric" { m = 1 } END { exit !m }' "$TMP/out"
check_eq "compare, B has no records: nothing on stderr" "$(cat "$TMP/err")" ""
rm -f "$TMP/Bempty/results.jsonl"
runsh compare --no-plots "$TMP/A2" "$TMP/Bempty"
check_eq "compare, B has status.tsv and no results.jsonl: exit 1" "$RC" 1

# B cut short in its last record (no newline): that record is dropped
# with one warning line, and is missing (exit 1); the rest is compared.
rm -rf "$TMP/Btorn" && cp -r "$TMP/A2" "$TMP/Btorn" && rm -f "$TMP/Btorn/compare.md"
truncate -s -12 "$TMP/Btorn/results.jsonl"
runsh compare --no-plots "$TMP/A2" "$TMP/Btorn"
check_eq "compare, B's last line torn: exit 1 (its record is missing)" "$RC" 1
check "compare, B's last line torn: one warning line naming it" \
	one_line "^run\.sh compare: warning: $TMP/Btorn/results\.jsonl:$na: last line cut short"
check "compare, B's last line torn: the metric it held is missing from B" \
	grep -q '^MISSING from B (1 metric' "$TMP/out"
# Bad JSON before the last line is a damaged file: exit 2, FILE:LINE.
sed -i '1s/.*/{"test":/' "$TMP/Btorn/results.jsonl"
runsh compare --no-plots "$TMP/A" "$TMP/Btorn"
check_eq "compare, bad JSON not on the last line: exit 2" "$RC" 2
check "compare, bad JSON not on the last line: one line, FILE:LINE" \
	one_line "^run\.sh compare: $TMP/Btorn/results\.jsonl:1: bad JSON"
tap_done

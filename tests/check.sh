#!/bin/bash
# irqbench's own tests (make check): every unit-test program in
# $IRQBENCH_BUILD/tests/ and every tests/test_*.sh.  Each exits 0 (pass),
# 4 (skip) or anything else (fail); its output goes to $IRQBENCH_BUILD/check/.
# Ends with "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${IRQBENCH_BUILD:-$top/build}
logs=$build/check
mkdir -p "$logs"
passed=0 failed=0 skipped=0
# The exit-code classifier run.sh uses.
# shellcheck source=lib/run/status.sh
. "$top/lib/run/status.sh"

run_one() {
	local name=$1 log=$logs/${1//\//-}.log rc start=$SECONDS
	shift
	"$@" >"$log" 2>&1
	rc=$?
	status_classify "$rc"
	case $STATUS_RESULT in
	PASS) passed=$((passed + 1)); printf 'PASS  %-32s %4ds\n' "$name" $((SECONDS - start)) ;;
	SKIP) skipped=$((skipped + 1))
	   printf 'SKIP  %-32s %4ds  %s\n' "$name" $((SECONDS - start)) \
		"$(grep -m1 -o '# SKIP.*' "$log" || tail -n1 "$log")" ;;
	*) failed=$((failed + 1))
	   printf 'FAIL  %-32s %4ds  (exit %d, log %s)\n' "$name" $((SECONDS - start)) "$rc" "$log"
	   grep -E '^not ok|Bail out|Assertion|error' "$log" | head -n 10 | sed 's/^/      /'
	   ;;
	esac
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"
done
for t in "$top"/tests/test_*.sh; do
	[ -f "$t" ] && run_one "$(basename "$t" .sh)" bash "$t"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/bin/bash
# irqbench's own tests (make check): every unit-test program in
# $IRQBENCH_BUILD/tests/ and every tests/test_*.sh.  Each exits 0 (pass),
# 4 (skip) or anything else (fail); its output goes to $IRQBENCH_BUILD/check/.
# Ends with "N passed, N failed, N skipped".
#
#   check.sh [--reverse] [TEST...] | --list
#
# TEST names one test to run alone (test_arm64, unit/test_linreg); --reverse
# runs them in the opposite order.  Every test must pass alone and in any
# order, after the set-up (make check does both: make check TESTS="..."
# CHECK_ORDER=reverse).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${IRQBENCH_BUILD:-$top/build}
logs=$build/check
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

# Every test as "name<TAB>command": unit programs first, then the scripts.
all_tests() {
	local t
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] && printf 'unit/%s\t%s\n' "${t##*/}" "$t"
	done
	for t in "$top"/tests/test_*.sh; do
		[ -f "$t" ] && printf '%s\tbash %s\n' "$(basename "$t" .sh)" "$t"
	done
}

order=cat wanted=()
for a in "$@"; do
	case $a in
	--reverse) order=tac ;;
	--list) all_tests | cut -f1; exit 0 ;;
	-*) echo "check.sh: error: unknown option '$a' (--reverse, --list, or test names)" >&2; exit 2 ;;
	*) wanted+=("${a%.sh}") ;;
	esac
done
mapfile -t tests < <(all_tests | $order)
if [ ${#wanted[@]} -gt 0 ]; then
	picked=()
	for w in "${wanted[@]}"; do
		line=$(printf '%s\n' "${tests[@]}" | grep -m1 -P "^(unit/)?\Q${w#unit/}\E\t") ||
			{ echo "check.sh: error: no test '$w' (tests/check.sh --list)" >&2; exit 2; }
		picked+=("$line")
	done
	mapfile -t tests < <(printf '%s\n' "${picked[@]}" | $order)
fi

mkdir -p "$logs"
for line in "${tests[@]}"; do
	# shellcheck disable=SC2086 # "bash FILE" is two words
	run_one "${line%%$'\t'*}" ${line#*$'\t'}
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

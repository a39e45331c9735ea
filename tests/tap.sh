# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# TAP helpers for tests/test_*.sh (sourced): one "ok N - ..." / "not ok N -
# ..." line per check, then tap_done prints the plan and exits 0 (all
# passed) or 1; skip_all skips the whole test (exit 4).

# shellcheck source=lib/run/python.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/run/python.sh"

N=0
FAILED=0
ok() {
	N=$((N + 1))
	echo "ok $N - $1"
}
not_ok() {
	N=$((N + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $N - $1"
	[[ -z ${2-} ]] || printf '#   %s\n' "$2"
}
skip() {
	N=$((N + 1))
	echo "ok $N - $1 # SKIP $2"
}
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc" "failed: $*"; fi
}
# check_eq DESCRIPTION GOT WANT
check_eq() {
	if [[ $2 == "$3" ]]; then ok "$1"; else not_ok "$1" "got '$2', want '$3'"; fi
}
# expect_error RC PATTERN DESC -- CMD...: CMD exits RC and prints exactly one
# "error:" line on stderr, matching PATTERN (progress lines may precede it):
# the suite's rule for bad input.
expect_error() {
	local want=$1 pat=$2 desc=$3 rc lines err
	shift 4
	err=$(mktemp)
	"$@" >/dev/null 2>"$err"
	rc=$?
	lines=$(grep -c 'error:' "$err")
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && grep 'error:' "$err" | grep -qE "$pat"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc, want $want; stderr: $(head -c 300 "$err"))"
	fi
	rm -f "$err"
}
# set_up GROUP...: the one set-up step (lib/build/setup.sh) for the groups of
# lib/build/packages.list this test uses.  make check has set up every group
# already; this makes a test run alone just as able.  A failure fails the test:
# a missing tool is never a skip.
set_up() {
	local err
	err=$("$(dirname "${BASH_SOURCE[0]}")/../lib/build/setup.sh" "$@" 2>&1) && return 0
	echo "Bail out! set-up failed: $err"
	exit 1
}
# skip_all REASON: the whole test is skipped (exit 4).
skip_all() {
	echo "1..0 # SKIP $1"
	exit 4
}
tap_done() {
	echo "1..$N"
	if ((FAILED)); then
		echo "# $FAILED of $N checks failed"
		exit 1
	fi
	echo "# all $N checks passed"
	exit 0
}

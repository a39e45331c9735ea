# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# TAP helpers for tests/test_*.sh (sourced): one "ok N - ..." / "not ok N -
# ..." line per check, then tap_done prints the plan and exits 0 (all
# passed) or 1.

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
tap_done() {
	echo "1..$N"
	if ((FAILED)); then
		echo "# $FAILED of $N checks failed"
		exit 1
	fi
	echo "# all $N checks passed"
	exit 0
}

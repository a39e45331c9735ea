# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# The one status schema, the one exit-code classifier and the one reason
# written for an exit status (status_reason), sourced by run.sh
# (lib/run/exec.sh), the in-guest runner (lib/kernel/guest-init.sh, busybox
# sh: POSIX only here) and tests/check.sh.
#
# status.tsv: one line per finished test, tab-separated, in this order:
#   name    the test (tests.cfg)
#   result  PASS | FAIL | SKIP
#   rc      its exit status ("-" when it did not run)
#   seconds how long it ran
#   reason  why it failed or skipped ("" for a pass)
# Readers: lib/report/records.py, lib/kernel/bisect.sh, run-kernel.sh.

# status_classify RC [SECONDS TIMEOUT]: what exit status RC of a test run
# under timeout(1) means.  Sets STATUS_RESULT (PASS, FAIL or SKIP) and
# STATUS_WHY (for FAIL: what kind of failure; "" otherwise).
#   0 pass; 4 skip (KSFT_SKIP); 1 fail (KSFT_FAIL: KTAP says which);
#   2 bad input (our programs' one-line error); 254 a selftests TEST_ASSERT
#   (lib/assert.c exits 254: an assertion, not a signal); 124 timeout;
#   137/143 SIGKILL/SIGTERM: a timeout if it took TIMEOUT, else a kill;
#   125-127 timeout(1) could not start it; 129-192 other signals (crash).
# shellcheck disable=SC2034 # STATUS_RESULT, STATUS_WHY: the callers'
status_classify() {
	STATUS_RESULT=FAIL
	STATUS_WHY=
	case $1 in
	0) STATUS_RESULT=PASS ;;
	4) STATUS_RESULT=SKIP ;;
	1) STATUS_WHY="failed" ;;
	2) STATUS_WHY="bad input (exit 2)" ;;
	254) STATUS_WHY="assertion failed (exit 254, TEST_ASSERT)" ;;
	124) STATUS_WHY="timeout after ${3:-?}s" ;;
	137 | 143)
		# timeout's signal at the limit, or someone else's (the OOM
		# killer): only the former takes the full timeout.
		if [ -n "${3-}" ] && [ "${2:-0}" -ge "$3" ]; then
			STATUS_WHY="timeout after ${3}s"
		else
			STATUS_WHY="killed (signal $(($1 - 128)))"
		fi
		;;
	125 | 126 | 127) STATUS_WHY="could not start (exit $1)" ;;
	*)
		if [ "$1" -gt 128 ] && [ "$1" -le 192 ]; then
			STATUS_WHY="crashed (signal $(($1 - 128)))"
		else
			STATUS_WHY="unexpected exit $1"
		fi
		;;
	esac
}

# status_ktap_reason RESULT KTAP: what the test's KTAP says of a SKIP (the
# text after its first "# SKIP") or a FAIL (its first "not ok" line that is
# not a "# TODO", a known kernel behaviour); nothing if it says nothing.
status_ktap_reason() {
	[ -r "$2" ] || return 0
	case $1 in
	SKIP)
		awk '{
			if (match($0, /#[ \t]*[Ss][Kk][Ii][Pp]/)) {
				r = substr($0, RSTART + RLENGTH)
				sub(/^[ \t:]+/, "", r); sub(/[ \t]+$/, "", r)
				if (r != "") { print r; exit }
			}
		}' "$2"
		;;
	FAIL) awk '/^[ \t]*not ok/ && !/#[ \t]*TODO/ { sub(/^[ \t]+/, ""); print; exit }' "$2" ;;
	esac
}

# status_last_stderr LOG [PREFIX]: the last non-empty line of the test's
# stderr LOG, leading blanks dropped; lines that start with PREFIX (the
# runner's own notes in LOG) are not the test's.
status_last_stderr() {
	[ -r "$1" ] || return 0
	awk -v p="${2-}" '(p == "" || index($0, p) != 1) && NF { l = $0 }
		END { sub(/^[ \t]+/, "", l); if (l != "") print l }' "$1"
}

# status_reason RC KTAP LOG [PREFIX]: after status_classify RC, the reason
# of status.tsv in STATUS_REASON.  A SKIP, or a FAIL with exit 1: what the
# KTAP says, else the last stderr line (status_last_stderr LOG PREFIX),
# else "skipped" / "exit 1".  Exit 2, 254, 125-127 or an unexpected one:
# STATUS_WHY and the last stderr line.  A signal or a timeout: STATUS_WHY,
# which says it all.  A pass: "".
# shellcheck disable=SC2034 # STATUS_REASON: the callers'
status_reason() {
	STATUS_REASON=$STATUS_WHY
	case $STATUS_RESULT/$1 in
	SKIP/* | FAIL/1)
		STATUS_REASON=$(status_ktap_reason "$STATUS_RESULT" "$2")
		[ -n "$STATUS_REASON" ] ||
			STATUS_REASON=$(status_last_stderr "$3" "${4-}")
		if [ -z "$STATUS_REASON" ]; then
			if [ "$STATUS_RESULT" = SKIP ]; then
				STATUS_REASON=skipped
			else
				STATUS_REASON="exit 1"
			fi
		fi
		;;
	FAIL/2 | FAIL/254 | FAIL/12[567]) status_reason_stderr "$3" "${4-}" ;;
	FAIL/*)
		case $STATUS_WHY in
		"unexpected exit"*) status_reason_stderr "$3" "${4-}" ;;
		esac
		;;
	esac
}

# status_reason_stderr LOG PREFIX: STATUS_WHY, then ": " and the last
# stderr line if there is one.
status_reason_stderr() {
	STATUS_REASON=$(status_last_stderr "$1" "$2")
	STATUS_REASON="$STATUS_WHY${STATUS_REASON:+: $STATUS_REASON}"
}

# status_line NAME RESULT RC SECONDS REASON: one status.tsv line (tabs and
# newlines in REASON become spaces, so that a line stays one record).
status_line() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(printf '%s' "$5" | tr '\t\n' '  ')"
}

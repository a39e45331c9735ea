# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Small helpers for run.sh (sourced).

# die MESSAGE: usage/set-up error.  Exactly one line on stderr and exit 2,
# so that CI logs and `git bisect run` output stay readable.
die() {
	printf 'run.sh: %s\n' "$(one_line "$*")" >&2
	exit 2
}

warn() {
	printf 'run.sh: warning: %s\n' "$(one_line "$*")" >&2
}

# one_line TEXT: TEXT with tabs/newlines/CRs turned into spaces, trimmed,
# at most 200 characters: safe for one status.tsv field or one error line.
one_line() {
	local s=$1
	s=${s//$'\t'/ }
	s=${s//$'\n'/ }
	s=${s//$'\r'/ }
	s=${s#"${s%%[! ]*}"}
	s=${s%"${s##*[! ]}"}
	((${#s} <= 200)) || s="${s:0:197}..."
	printf '%s' "$s"
}

# now_us: wall clock in microseconds (bash 5 $EPOCHREALTIME, else date).
now_us() {
	if [[ -n ${EPOCHREALTIME-} ]]; then
		local t=${EPOCHREALTIME/[.,]/}
		printf '%s\n' "$((10#$t))"
	else
		printf '%s\n' "$(($(date +%s%N) / 1000))"
	fi
}

# fmt_secs MICROSECONDS: "12.3"
fmt_secs() {
	local ds=$((($1 + 50000) / 100000))
	printf '%d.%d' $((ds / 10)) $((ds % 10))
}

# abspath PATH: absolute form of PATH (which need not exist yet).
abspath() {
	if [[ -d $1 ]]; then
		(cd "$1" && pwd)
	elif [[ $1 == /* ]]; then
		printf '%s\n' "$1"
	else
		printf '%s\n' "$PWD/$1"
	fi
}

# is_uint VALUE
is_uint() {
	[[ $1 =~ ^[0-9]+$ ]]
}

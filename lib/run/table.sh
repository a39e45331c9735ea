#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests.cfg reader: the one parser of the test table.
#
# Two ways to use it:
#
#   As a script (the Makefile, humans):
#     lib/run/table.sh programs [FILE [ARCH]]  one program per line (deduplicated,
#                                              table order); with ARCH, only tests
#                                              that run on ARCH (no arch = any)
#     lib/run/table.sh tests [FILE]            one test name per line
#     lib/run/table.sh get TEST KEY [FILE]     one value (defaults applied)
#     lib/run/table.sh check [FILE]            validate; exit 2 + "FILE:LINE: why"
#     lib/run/table.sh dump [FILE]             "test<TAB>key<TAB>value" lines
#   FILE defaults to $IRQBENCH_TABLE, else tests.cfg at the top of the repo.
#   Makefile:  PROGRAMS := $(shell lib/run/table.sh programs tests.cfg)
#
#   As a bash library (run.sh):  source lib/run/table.sh; table_load FILE
#     then table_tests, table_get TEST KEY, table_has TEST, table_args TEST
#     PROFILE, table_in_profile TEST PROFILE, table_arch_ok TEST ARCH,
#     table_profiles, table_programs [ARCH].
#
# Format (kvm-unit-tests unittests.cfg style; see the header of tests.cfg):
#   [test_name]           letters, digits, _ . - (first: letter, digit or _)
#   key = value           split at the first '='; whitespace around is trimmed
#   # or ; comment        whole lines only: values may contain '#'
# Keys:  program (required; relative to the build dir, no '..')
#        arch (space-separated uname -m values; empty/absent = any arch)
#        profiles (space-separated; empty/absent = only run when named)
#        timeout (whole seconds > 0; default 90)
#        args, args.<profile> (args.<profile> wins; split at whitespace,
#        no quoting), description,
#        metric.<metric> (how run.sh compare judges a metric; grammar below),
#        plot.<name> (a plot run.sh plot draws from the records; grammar below),
#        verdicts.unjudged (the verdict values outside metric.verdict's order:
#        run.sh bisect accepts only names from the two).
#   metric.<metric> = lower|higher [floor=N%|floor=N] [stat=pNN]
#                     smaller/larger is better; changes within the floor (%
#                     of run A's value, or absolute in the metric's unit) are
#                     noise; stat: the percentile of samples compared (p50)
#   metric.<metric> = order BEST > ... > WORST          text values (verdicts);
#                     values not listed are not judged
#   metric.<metric> = info                              shown, never judged
#   plot.<name> = cdf METRIC                            CDF of raw samples
#   plot.<name> = series METRIC STAT vs PARAM [by PARAM2]
#   plot.<name> = bars METRIC [STAT]
#                     STAT: p50 p90 p99 min max mean value
# Unknown keys, duplicate tests or keys, and malformed lines are errors, so
# that a typo ("timout") cannot silently change what a nightly run does.

TABLE_DEFAULT_TIMEOUT=90

# Parses FILE and prints "test<TAB>key<TAB>value" lines, tests in table
# order, with defaults filled in.  On error prints one "FILE:LINE: why" line
# on stderr and returns 2.  Portable awk (mawk, gawk, busybox).
table_parse() {
	local file=$1
	if [[ ! -r $file ]]; then
		printf '%s: cannot read test table\n' "$file" >&2
		return 2
	fi
	LC_ALL=C awk -v fname="$file" -v deftimeout="$TABLE_DEFAULT_TIMEOUT" '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
	function fail(msg) {
		printf "%s:%d: %s\n", fname, FNR, msg > "/dev/stderr"
		failed = 1
		exit 2
	}
	BEGIN {
		split("program arch profiles timeout description args verdicts.unjudged", k, " ")
		for (i in k) known[k[i]] = 1
		nt = 0
		id = "[A-Za-z0-9_][A-Za-z0-9_.-]*"
		stat = "(p50|p90|p99|min|max|mean|value)"
		metric_re = "^((lower|higher)( floor=[0-9]+(\\.[0-9]+)?%?)?( stat=p[0-9]+(\\.[0-9]+)?)?|info|order " id "( > " id ")+)$"
		plot_re = "^(cdf " id "|series " id " " stat " vs " id "( by " id ")?|bars " id "( " stat ")?)$"
	}
	{ sub(/\r$/, "") }                       # tolerate CRLF files
	/^[ \t]*([#;]|$)/ { next }               # comments, blank lines
	/^[ \t]*\[/ {
		line = trim($0)
		if (line !~ /^\[[ \t]*[A-Za-z0-9_][A-Za-z0-9_.-]*[ \t]*\]$/)
			fail("bad test header " line " (names: letters, digits, _ . -)")
		name = line
		sub(/^\[[ \t]*/, "", name); sub(/[ \t]*\]$/, "", name)
		if (name in seen)
			fail("duplicate test [" name "] (first at line " seen[name] ")")
		seen[name] = FNR
		order[++nt] = name
		cur = name
		next
	}
	{
		eq = index($0, "=")
		if (!eq)
			fail("expected \"key = value\" or \"[test]\"")
		if (cur == "")
			fail("key outside a [test] section")
		key = trim(substr($0, 1, eq - 1))
		val = trim(substr($0, eq + 1))
		gsub(/\t/, " ", val)             # tabs separate the dump fields
		if (!(key in known) && key !~ /^(args\.[A-Za-z0-9_-]+|(metric|plot)\.[A-Za-z0-9_][A-Za-z0-9_.-]*)$/)
			fail("unknown key \"" key "\" in [" cur "]")
		if (key ~ /^metric\./) {
			gsub(/[ ]+/, " ", val)
			if (val !~ metric_re)
				fail(key " must be \"lower|higher [floor=N%|floor=N] [stat=pNN]\", \"order A > B ...\" or \"info\", not \"" val "\"")
		}
		if (key ~ /^plot\./) {
			gsub(/[ ]+/, " ", val)
			if (val !~ plot_re)
				fail(key " must be \"cdf METRIC\", \"series METRIC STAT vs PARAM [by PARAM]\" or \"bars METRIC [STAT]\", not \"" val "\"")
		}
		if ((cur, key) in kv)
			fail("duplicate key \"" key "\" in [" cur "]")
		if (key == "timeout" && (val !~ /^[0-9]+$/ || val + 0 == 0))
			fail("timeout must be whole seconds > 0, not \"" val "\"")
		if (key == "program" && (val == "" || val ~ /^\// || val ~ /(^|\/)\.\.(\/|$)/))
			fail("program must be a path relative to the build dir, not \"" val "\"")
		kv[cur, key] = val
		keys[cur, ++nk[cur]] = key
	}
	END {
		if (failed)
			exit 2
		for (i = 1; i <= nt; i++) {
			t = order[i]
			if (!((t, "program") in kv)) {
				FNR = seen[t]
				fail("[" t "] has no program")
			}
			if (!((t, "timeout") in kv)) kv[t, "timeout"] = deftimeout
			printf "%s\tprogram\t%s\n", t, kv[t, "program"]
			printf "%s\tarch\t%s\n", t, kv[t, "arch"]
			printf "%s\tprofiles\t%s\n", t, kv[t, "profiles"]
			printf "%s\ttimeout\t%s\n", t, kv[t, "timeout"]
			printf "%s\tdescription\t%s\n", t, kv[t, "description"]
			for (j = 1; j <= nk[t]; j++)
				if (keys[t, j] ~ /^(args|metric\.|plot\.|verdicts\.)/)
					printf "%s\t%s\t%s\n", t, keys[t, j], kv[t, keys[t, j]]
		}
	}' "$file"
}

# Loaded table: TABLE_TESTS (names in order), TABLE["test/key"] = value.
TABLE_FILE=
TABLE_TESTS=()
declare -gA TABLE=()

# table_load FILE: parse FILE into TABLE_TESTS/TABLE.  Returns 2 on error
# (the parser has printed the one-line reason).
table_load() {
	local dump t k v
	TABLE_FILE=$1
	TABLE_TESTS=()
	TABLE=()
	dump=$(table_parse "$TABLE_FILE") || return 2
	while IFS=$'\t' read -r t k v; do
		[[ -n $t ]] || continue
		[[ $k == program ]] && TABLE_TESTS+=("$t")
		TABLE["$t/$k"]=$v
	done <<<"$dump"
}

table_tests() {
	((${#TABLE_TESTS[@]})) || return 0
	printf '%s\n' "${TABLE_TESTS[@]}"
}

table_has() {
	[[ -n ${TABLE["$1/program"]+set} ]]
}

# table_get TEST KEY: the value, empty if unset.
table_get() {
	printf '%s\n' "${TABLE["$1/$2"]-}"
}

# table_args TEST PROFILE: args.<PROFILE> if the test has it, else args.
table_args() {
	if [[ -n ${TABLE["$1/args.$2"]+set} ]]; then
		printf '%s\n' "${TABLE["$1/args.$2"]}"
	else
		printf '%s\n' "${TABLE["$1/args"]-}"
	fi
}

# table_in_profile TEST PROFILE: true if PROFILE is in the test's profiles.
table_in_profile() {
	[[ " ${TABLE["$1/profiles"]-} " == *" $2 "* ]]
}

# table_arch_ok TEST ARCH: true if the test runs on ARCH (no arch = any).
table_arch_ok() {
	local arch=${TABLE["$1/arch"]-}
	[[ -z $arch || " $arch " == *" $2 "* ]]
}

# table_profiles: every profile named in the table, one per line, sorted.
table_profiles() {
	local t p
	for t in "${TABLE_TESTS[@]}"; do
		for p in ${TABLE["$t/profiles"]-}; do
			printf '%s\n' "$p"
		done
	done | sort -u
}

# table_programs [ARCH]: programs (deduplicated, table order), optionally
# only those of tests that run on ARCH.
table_programs() {
	local t p
	local -A seen=()
	for t in "${TABLE_TESTS[@]}"; do
		[[ -z ${1-} ]] || table_arch_ok "$t" "$1" || continue
		p=${TABLE["$t/program"]}
		[[ -z ${seen[$p]+set} ]] || continue
		seen[$p]=1
		printf '%s\n' "$p"
	done
}

table_default_file() {
	if [[ -n ${IRQBENCH_TABLE-} ]]; then
		printf '%s\n' "$IRQBENCH_TABLE"
	else
		local here
		here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
		printf '%s\n' "${here%/lib/run}/tests.cfg"
	fi
}

table_usage() {
	cat <<'EOF'
usage: lib/run/table.sh programs [FILE [ARCH]]
       lib/run/table.sh tests [FILE]
       lib/run/table.sh get TEST KEY [FILE]
       lib/run/table.sh check [FILE]
       lib/run/table.sh dump [FILE]
FILE defaults to $IRQBENCH_TABLE, else tests.cfg at the top of the repo.
EOF
}

table_main() {
	local cmd=${1-}
	(($#)) && shift
	case $cmd in
	programs)
		table_load "${1:-$(table_default_file)}" || return 2
		table_programs "${2-}"
		;;
	tests)
		table_load "${1:-$(table_default_file)}" || return 2
		table_tests
		;;
	get)
		if (($# < 2)); then
			echo "table.sh: get needs TEST KEY" >&2
			return 2
		fi
		table_load "${3:-$(table_default_file)}" || return 2
		if ! table_has "$1"; then
			printf 'table.sh: unknown test "%s"\n' "$1" >&2
			return 2
		fi
		table_get "$1" "$2"
		;;
	check)
		table_load "${1:-$(table_default_file)}" || return 2
		printf '%s: %d tests, ok\n' "$TABLE_FILE" "${#TABLE_TESTS[@]}"
		;;
	dump)
		table_parse "${1:-$(table_default_file)}"
		;;
	-h | --help | help)
		table_usage
		;;
	*)
		printf 'table.sh: unknown command "%s" (try: table.sh help)\n' "$cmd" >&2
		return 2
		;;
	esac
}

# Run as a script (not sourced): strict mode here only, never in the caller.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	table_main "$@"
fi

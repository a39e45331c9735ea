#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of run.sh and lib/run/*: CLI errors, every test outcome (pass, fail,
# skip, crash, timeout, not built, other arch), the results folder
# (status.tsv, summary, meta.json), interruption, and the table parser.
#
# Needs no KVM: the tests are played by tests/fixtures/run/bin/fake/irqtest,
# listed in tests/fixtures/run/tests.cfg, and /dev/kvm is a temp file.
# Prints one "ok N - ..." / "not ok N - ..." line per check.
# Exit: 0 all passed, 1 a check failed or a tool is missing.
# Takes ~10 s (two 2-second timeouts, one 1-second SIGKILL grace).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HERE%/tests}
RUN=$ROOT/run.sh
TABLE_SH=$ROOT/lib/run/table.sh
FIX=$ROOT/tests/fixtures/run
ARCH=$(uname -m)

# A missing tool is a failure, never a skip: python3 (build), busybox
# (kernel), shellcheck (check) come from the set-up; timeout, mkfifo, awk
# and sed are Debian's essential packages.
for tool in timeout mkfifo awk sed; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool not found"
		exit 1
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_run_sh.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# Every run.sh call below uses the fixture table and fake programs.
export IRQBENCH_TABLE=$FIX/tests.cfg
export IRQBENCH_BUILD=$FIX/bin
export IRQBENCH_RESULTS_ROOT=$TMP/results
export IRQBENCH_KILL_AFTER=1
: >"$TMP/kvm"
export IRQBENCH_DEVKVM=$TMP/kvm

# shellcheck source=tests/tap.sh
source "$HERE/tap.sh"
set_up build kernel check

# runsh ARGS...: run run.sh; RC, $TMP/out, $TMP/err.
runsh() {
	RC=0
	"$RUN" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}

# field FILE TEST N: field N of TEST's status.tsv line.
field() {
	awk -F'\t' -v t="$2" -v f="$3" '$1 == t { print $f; exit }' "$1"
}

lines() {
	if [[ -e $1 ]]; then wc -l <"$1" | tr -d ' '; else echo missing; fi
}

# quiet COMMAND...: COMMAND with its output dropped (for check).
# shellcheck disable=SC2317 # called through check
quiet() {
	"$@" >/dev/null 2>&1
}

# quiet_in DIR COMMAND...: COMMAND run in DIR, output dropped unless it fails.
# shellcheck disable=SC2317 # called through check
quiet_in() {
	local dir=$1 log
	shift
	log=$(cd "$dir" && "$@" 2>&1) && return 0
	printf '%s\n' "$log" | sed 's/^/#   /'
	return 1
}

# have TOOL GROUP WHAT: TOOL is on PATH, else WHAT is not ok (the set-up of
# GROUP should have put it there).
have() {
	command -v "$1" >/dev/null && return 0
	not_ok "$3" "$1 missing after set-up ($2 group)"
	return 1
}

# ---------------------------------------------------------------------------
test_help_and_list() {
	runsh help
	check "help: exit 0 with usage" grep -q '^usage: run.sh' "$TMP/out"
	runsh list
	check_eq "list: exit 0" "$RC" 0
	check "list: header" grep -Eq '^test +arch +profiles +timeout +description$' "$TMP/out"
	check "list: row with arch, profiles, timeout, description" \
		grep -Eq '^pass +any +quick nightly +10s +passes; its tag' "$TMP/out"
	check "list: other arch listed" grep -Eq '^other_arch +sparc64 ' "$TMP/out"
	check "list: test in no profile" grep -Eq '^by_name +any +\(by name\)' "$TMP/out"
	runsh list --profile nightly
	check_eq "list --profile nightly: header + 2 tests" "$(lines "$TMP/out")" 3
}

# Each bad invocation: exit 2, one stderr line, nothing on stdout, no run folder.
test_usage_errors() {
	local -a cases=(
		""
		"bogus"
		"run nope"
		"run pass nope"
		"run --bogus"
		"run --profile weekly"
		"run --profile"
		"run --out"
		"run --out="
		"list --bogus"
		"compare"
		"fixes"
		"plot"
	)
	local c
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086 # split the case into arguments
		runsh $c
		if [[ $RC == 2 && $(lines "$TMP/err") == 1 && ! -s $TMP/out && ! -e $TMP/results ]]; then
			ok "bad input '$c': exit 2, one line: $(cat "$TMP/err")"
		else
			not_ok "bad input '$c': exit 2, one line" \
				"rc=$RC stderr=$(lines "$TMP/err") lines stdout=$(lines "$TMP/out") lines"
		fi
	done
	check "plot: asks for a results folder" grep -q '^run.sh plot: needs one results folder' "$TMP/err"

	printf '[a]\nprogram = x\ntimout = 3\n' >"$TMP/bad.cfg"
	RC=0
	IRQBENCH_TABLE=$TMP/bad.cfg "$RUN" list >"$TMP/out" 2>"$TMP/err" || RC=$?
	check_eq "table typo: exit 2" "$RC" 2
	check "table typo: one line naming file:line" \
		grep -qx "$TMP/bad.cfg:3: unknown key \"timout\" in \[a\]" "$TMP/err"
}

test_kvm_checks() {
	RC=0
	IRQBENCH_DEVKVM=$TMP/nokvm "$RUN" run pass >"$TMP/out" 2>"$TMP/err" || RC=$?
	if [[ $RC == 2 && $(lines "$TMP/err") == 1 ]] && grep -q "^run.sh: no $TMP/nokvm: " "$TMP/err"; then
		ok "no /dev/kvm: exit 2, one line"
	else
		not_ok "no /dev/kvm: exit 2, one line" "rc=$RC $(cat "$TMP/err")"
	fi

	# Not root and no access: run as nobody if we are root, else directly.
	# As nobody, a copy of the runner and its table: the checkout may sit
	# where nobody cannot reach it (/root).
	local -a as_user=()
	local run=$RUN table=$FIX/tests.cfg
	mkdir -p "$TMP/pub"
	if ((EUID == 0)); then
		if ! command -v setpriv >/dev/null; then
			not_ok "/dev/kvm not accessible: exit 2" "setpriv missing after set-up (kernel group)"
			return
		fi
		as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		mkdir -p "$TMP/pub/copy/lib"
		cp "$RUN" "$FIX/tests.cfg" "$TMP/pub/copy/"
		cp -r "$ROOT/lib/run" "$TMP/pub/copy/lib/"
		chmod -R a+rX "$TMP/pub/copy"
		run=$TMP/pub/copy/run.sh table=$TMP/pub/copy/tests.cfg
	fi
	chmod 755 "$TMP" "$TMP/pub"
	: >"$TMP/pub/kvm"
	chmod 600 "$TMP/pub/kvm"
	((EUID == 0)) || chmod 000 "$TMP/pub/kvm"
	RC=0
	IRQBENCH_DEVKVM=$TMP/pub/kvm IRQBENCH_TABLE=$table "${as_user[@]}" "$run" run pass \
		>"$TMP/out" 2>"$TMP/err" || RC=$?
	chmod 700 "$TMP"
	if [[ $RC == 2 && $(lines "$TMP/err") == 1 ]] && grep -q "^run.sh: cannot open $TMP/pub/kvm" "$TMP/err"; then
		ok "/dev/kvm not accessible: exit 2, one line"
	else
		not_ok "/dev/kvm not accessible: exit 2, one line" "rc=$RC $(cat "$TMP/err")"
	fi
}

# The quick profile: every outcome in one run, which must go on after each.
test_quick_run() {
	local out=$TMP/quick st
	runsh run --out "$out"
	st=$out/status.tsv
	check_eq "quick run: exit 1 (some FAIL)" "$RC" 1
	check_eq "quick run: one status line per test" "$(lines "$st")" 9
	check_eq "status.tsv: table order" "$(cut -f1 "$st" | tr '\n' ' ')" \
		"pass fail skip_ktap skip_stderr crash hang hang_ignore_term missing other_arch "

	local -a want=(
		"pass|PASS|0|"
		"fail|FAIL|1|not ok 1 fake_latency_bound # 900 us > 100 us"
		"skip_ktap|SKIP|4|needs enable_apicv=Y"
		"skip_stderr|SKIP|4|irqtest: no AVIC on this host"
		"crash|FAIL|139|crashed (signal 11)"
		"hang|FAIL|124|timeout after 2s"
		"hang_ignore_term|FAIL|137|timeout after 2s"
		"missing|FAIL|-|not built: run make"
		"other_arch|SKIP|-|arch: needs sparc64, host is $ARCH"
	)
	local w t got
	for w in "${want[@]}"; do
		t=${w%%|*}
		got="$t|$(field "$st" "$t" 2)|$(field "$st" "$t" 3)|$(field "$st" "$t" 5)"
		check_eq "status $t" "$got" "$w"
	done
	# shellcheck disable=SC2016 # awk code
	check "status.tsv: seconds field" \
		awk -F'\t' 'NF != 5 || $4 !~ /^[0-9]+\.[0-9]$/ { exit 1 }' "$st"
	local hang_secs
	hang_secs=$(field "$st" hang 4)
	check "hang: killed near its 2 s timeout (${hang_secs}s)" \
		awk -v s="$hang_secs" 'BEGIN { exit !(s >= 2 && s < 6) }'

	check "progress line before" grep -qx '\[1/9\] pass ... (timeout 10s)' "$TMP/out"
	check "progress line after" grep -Eqx '\[1/9\] pass \.\.\. PASS \([0-9]+\.[0-9]s\)' "$TMP/out"
	check "progress line with reason" \
		grep -Eqx '\[5/9\] crash \.\.\. FAIL \([0-9.]+s\): crashed \(signal 11\)' "$TMP/out"
	check "KTAP echoed to terminal" grep -qx 'ok 1 fake_quick' "$TMP/out"
	check "crash: log tail printed" grep -q '| irqtest: about to crash' "$TMP/out"
	check "summary line" grep -qx '1 passed, 5 failed, 3 skipped' "$TMP/out"
	check "summary.txt written" grep -qx '1 passed, 5 failed, 3 skipped' "$out/summary.txt"
	check "summary.txt table" grep -Eq '^hang_ignore_term +FAIL +3\.[0-9] +timeout after 2s$' "$out/summary.txt"
	check "pass.ktap: args.quick used" grep -qx 'ok 1 fake_quick' "$out/pass.ktap"
	check "pass.log: stderr + runner note" grep -q 'cwd=' "$out/pass.log"
	check "pass.log: runner note" grep -q '^# irqbench-run: run: ' "$out/pass.log"
	check "hang.log kept with timeout note" grep -q 'FAIL: timeout after 2s' "$out/hang.log"
	check "missing.log says what is missing" grep -q 'fake/not_built does not exist' "$out/missing.log"
	check "results.jsonl: written by tests via IRQBENCH_RESULTS_DIR" \
		grep -q '"test":"pass".*"tag":"quick"' "$out/results.jsonl"
	check "no bash job-status noise on stderr" test ! -s "$TMP/err"

	if have python3 build "meta.json checks"; then
		check "meta.json: valid JSON" quiet python3 -m json.tool "$out/meta.json"
		check "meta.json: expected keys and values" python3 - "$out/meta.json" <<'EOF'
import json, os, sys
m = json.load(open(sys.argv[1]))
keys = ["schema", "date", "profile", "tests", "kernel_release", "cmdline",
        "cpu_model", "ncpus", "kvm_vendor", "kvm_modules", "host_load",
        "ksrc_version", "irqbench_version"]
missing = [k for k in keys if k not in m]
assert not missing, missing
assert m["profile"] == "quick", m["profile"]
assert m["tests"][0] == "pass" and len(m["tests"]) == 9, m["tests"]
assert m["kernel_release"] == os.uname().release
assert isinstance(m["kvm_modules"], dict)
# NUMA nodes and their CPUs, as sysfs has them (null without NUMA).
import glob
want = sorted(int(d.rsplit("node", 1)[1]) for d in glob.glob("/sys/devices/system/node/node[0-9]*"))
got = m["numa_nodes"]
assert (got is None and not want) or [n["node"] for n in got] == want, (got, want)
assert got is None or all(n["ncpus"] >= 0 and isinstance(n["cpus"], str) for n in got), got
assert m["date"].endswith("Z")
EOF
	fi
}

test_nightly_and_named() {
	runsh run --profile nightly --out "$TMP/nightly"
	check_eq "nightly: exit 0 (pass + skip)" "$RC" 0
	check_eq "nightly: its 2 tests" "$(cut -f1 "$TMP/nightly/status.tsv" | tr '\n' ' ')" "pass skip_ktap "
	check "nightly: args.nightly used" grep -qx 'ok 1 fake_nightly' "$TMP/nightly/pass.ktap"
	check "nightly: summary line" grep -qx '1 passed, 0 failed, 1 skipped' "$TMP/out"

	runsh run by_name weird_exit by_name --out "$TMP/named"
	check_eq "named: tests outside any profile run, once each" \
		"$(cut -f1,2,3 "$TMP/named/status.tsv" | tr '\t\n' ', ')" "by_name,PASS,0 weird_exit,FAIL,3 "
	check "named: plain args used" grep -qx 'ok 1 fake_by_name' "$TMP/named/by_name.ktap"
	check_eq "named: exit 1" "$RC" 1

	# --out reused: the earlier run's files are replaced, not appended to.
	runsh run by_name --out "$TMP/named"
	check_eq "--out reused: status.tsv holds this run only" "$(lines "$TMP/named/status.tsv")" 1
	check_eq "--out reused: results.jsonl holds this run only" "$(lines "$TMP/named/results.jsonl")" 1
	check "--out reused: stale .ktap removed" test ! -e "$TMP/named/weird_exit.ktap"
}

test_default_outdir() {
	local d1 d2
	runsh run by_name
	d1=$(sed -n 's/^results: //p' "$TMP/out")
	runsh run by_name
	d2=$(sed -n 's/^results: //p' "$TMP/out")
	check "default folder: results/YYYYmmdd-HHMMSS-<uname -r>" \
		grep -Eq "^$TMP/results/[0-9]{8}-[0-9]{6}-$(uname -r | sed 's/[.+]/\\&/g')(-[0-9]+)?\$" <<<"$d1"
	check "default folder: two runs, two folders" test -n "$d1" -a "$d1" != "$d2" -a -d "$d1" -a -d "$d2"
	check_eq "default folder: results/latest is the last run" \
		"$(readlink "$TMP/results/latest")" "${d2##*/}"
}

# SIGTERM mid-run: finished tests keep their status line; the running test
# is stopped (nothing left behind); the summary says what happened.
test_interrupt() {
	local out=$TMP/int pid rc=0 i hang_pid t0 t1
	"$RUN" run pass slow by_name --out "$out" >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $out/slow.pid ]] && break
		sleep 0.1
	done
	hang_pid=$(cat "$out/slow.pid" 2>/dev/null)
	check_eq "while running: finished test already in status.tsv" \
		"$(cut -f1,2 "$out/status.tsv" 2>/dev/null | tr '\t' ,)" "pass,PASS"
	t0=$SECONDS
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	t1=$SECONDS
	check_eq "interrupted: dies by SIGTERM (143)" "$rc" 143
	check "interrupted: stops promptly ($((t1 - t0))s)" test $((t1 - t0)) -le 3
	check_eq "interrupted: status.tsv keeps the finished test only" \
		"$(cut -f1 "$out/status.tsv" | tr '\n' ' ')" "pass "
	check "interrupted: summary says so" \
		grep -qx 'interrupted by SIGTERM during slow: 2 of 3 test(s) have no result' "$out/summary.txt"
	check "interrupted: summary line" grep -qx '1 passed, 0 failed, 0 skipped' "$out/summary.txt"
	check "interrupted: note in the test's log" grep -q 'stopped by SIGTERM' "$out/slow.log"
	for ((i = 0; i < 20; i++)); do
		kill -0 "$hang_pid" 2>/dev/null || break
		sleep 0.1
	done
	check "interrupted: the test process is gone" test -n "$hang_pid" -a $i -lt 20
}

test_table_sh() {
	cat >"$TMP/arch.cfg" <<'EOF'
# comment
; comment too
[a]
program = x86/a
arch = x86_64
profiles = quick
args.quick = --n 1 # not a comment

[b]
program = arm64/b
arch = aarch64

[c]
program = common/c
[c2]
program = common/c
EOF
	check_eq "table.sh programs: all, deduplicated" \
		"$("$TABLE_SH" programs "$TMP/arch.cfg" | tr '\n' ' ')" "x86/a arm64/b common/c "
	check_eq "table.sh programs FILE aarch64" \
		"$("$TABLE_SH" programs "$TMP/arch.cfg" aarch64 | tr '\n' ' ')" "arm64/b common/c "
	check_eq "table.sh tests" "$("$TABLE_SH" tests "$TMP/arch.cfg" | tr '\n' ' ')" "a b c c2 "
	check_eq "table.sh get: value with #" "$("$TABLE_SH" get a args.quick "$TMP/arch.cfg")" "--n 1 # not a comment"
	check_eq "table.sh get: default timeout" "$("$TABLE_SH" get b timeout "$TMP/arch.cfg")" 90
	check "table.sh check: the real tests.cfg" quiet "$TABLE_SH" check "$ROOT/tests.cfg"
	check "table.sh check: the fixture table" quiet "$TABLE_SH" check "$FIX/tests.cfg"
	local rc=0
	"$TABLE_SH" check "$TMP/bad.cfg" 2>/dev/null || rc=$?
	check_eq "table.sh check: bad table exit 2" "$rc" 2
}

# meta.sh on its own: JSON escaping, fallbacks, and busybox sh + awk (the
# kernel-matrix guest has nothing else).
test_meta_sh() {
	have python3 build "meta.sh escaping" || return
	local b=$TMP/metabuild weird
	mkdir -p "$b" "$TMP/meta1" "$TMP/meta2"
	weird=$(printf 'a"b\\c\001d\037e')
	printf '6.12.9 "tree\\x"\tz\n' >"$b/ksrc.version"
	printf 'v1-2-gabc\n' >"$b/irqbench.version"
	IRQBENCH_BUILD=$b IRQBENCH_PROFILE=nightly IRQBENCH_TESTS="t1 $weird" \
		sh "$ROOT/lib/run/meta.sh" "$TMP/meta1"
	check "meta.sh (sh): escapes quotes, backslashes, control chars" \
		python3 - "$TMP/meta1/meta.json" "$weird" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["tests"] == ["t1", sys.argv[2]], m["tests"]
assert m["ksrc_version"] == '6.12.9 "tree\\x"\tz', m["ksrc_version"]
assert m["profile"] == "nightly"
EOF

	have busybox kernel "meta.sh under busybox" || return
	# A PATH of busybox applets only: no git, no GNU awk/coreutils.
	local bb=$TMP/bb a
	mkdir -p "$bb"
	for a in $(busybox --list); do ln -sf "$(command -v busybox)" "$bb/$a"; done
	PATH=$bb IRQBENCH_BUILD=$b IRQBENCH_TESTS="t1 $weird" busybox sh "$ROOT/lib/run/meta.sh" "$TMP/meta2"
	check "meta.sh (busybox): valid, same escaping, version from the build dir" \
		python3 - "$TMP/meta2/meta.json" "$weird" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["tests"] == ["t1", sys.argv[2]], m["tests"]
assert m["irqbench_version"] == "v1-2-gabc", m["irqbench_version"]
assert m["profile"] is None
assert isinstance(m["ncpus"], int) and m["ncpus"] > 0
EOF
}

# kernel/bisect hand over to lib/kernel/*.sh, arguments intact: a copy of
# the runner with a stand-in driver that echoes them.
test_dispatch() {
	local r=$TMP/copy
	mkdir -p "$r/lib/run" "$r/lib/kernel"
	cp "$RUN" "$r/"
	cp "$ROOT"/lib/run/*.sh "$r/lib/run/"
	printf '#!/bin/sh\necho "bisect got: $*"\n' >"$r/lib/kernel/bisect.sh"
	chmod +x "$r/lib/kernel/bisect.sh"
	check_eq "bisect: dispatched with its arguments" "$("$r/run.sh" bisect a 'b c')" "bisect got: a b c"
}

test_shellcheck() {
	have shellcheck check "shellcheck" || return
	# From the top: run.sh's "# shellcheck source=lib/run/..." are relative.
	local f files=(run.sh tests/test_run_sh.sh tests/fixtures/run/bin/fake/irqtest)
	for f in "$ROOT"/lib/run/*.sh; do files+=("lib/run/${f##*/}"); done
	check "shellcheck: run.sh, lib/run, this test" quiet_in "$ROOT" shellcheck -x "${files[@]}"
}

test_help_and_list
test_usage_errors
test_kvm_checks
test_quick_run
test_nightly_and_named
test_default_outdir
test_interrupt
test_table_sh
test_meta_sh
test_dispatch
test_shellcheck

tap_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh: irqbench's runner.  `./run.sh help` for usage.
#
# The test table is tests.cfg (see its header); the helpers live in
# lib/run/.  Exit status: 0 no test failed, 1 some test failed, 2 bad
# usage or set-up (one line on stderr), 128+N stopped by signal N.

set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
export IRQBENCH_ROOT=$ROOT

# shellcheck source=lib/run/util.sh
source "$ROOT/lib/run/util.sh"
# shellcheck source=lib/run/python.sh
source "$ROOT/lib/run/python.sh"
# shellcheck source=lib/run/table.sh
source "$ROOT/lib/run/table.sh"
# shellcheck source=lib/run/status.sh
source "$ROOT/lib/run/status.sh"
# shellcheck source=lib/run/exec.sh
source "$ROOT/lib/run/exec.sh"
# shellcheck source=lib/run/report.sh
source "$ROOT/lib/run/report.sh"
# shellcheck source=lib/run/outdir.sh
source "$ROOT/lib/run/outdir.sh"

TABLE_PATH=${IRQBENCH_TABLE:-$ROOT/tests.cfg}
BUILTIN_PROFILES=(quick nightly)

usage() {
	cat <<'EOF'
usage: run.sh COMMAND [ARGS]

  list [--profile P]     the test table: name, arch, profiles, timeout, description
  run [TEST...] [--profile P] [--out DIR] [--baseline RUN] [--save-baseline NAME]
                         run the named tests, or every test of profile P
                         (default quick; nightly: longer runs); tests for
                         another arch are reported SKIP.  --baseline: then
                         compare with RUN and exit like compare;
                         --save-baseline: add the run to results/baselines/NAME
                         (the newest 5 runs are kept: their spread is noise)
  kernel ARGS...         run in QEMU guests across kernels (lib/kernel/run-kernel.sh;
                         several places at once: --debian 6.1,6.12, -j N)
  bisect ARGS...         bisect a kernel regression (lib/kernel/bisect.sh)
  matrix [-j N] [--file FILE] [--out DIR] [--list]
                         the detection matrix: boots the places of
                         tests/detection.cfg in parallel, runs each cell's
                         test, prints scenario x place -> verdict, writes
                         matrix.md (lib/kernel/matrix.py, docs/detection.md)
  compare RUN_A RUN_B    B against A (a run, or a baseline of runs): medians,
                         delta, CI, p, exact count differences, verdict
                         changes; exit 1 if B regressed or lacks metrics
                         A has (shown first)
  fixes [RUN]            known fixes (lib/fixes.tsv): present/absent/not
                         measurable, from RUN's records (default results/latest)
  plot RUN               redraw the plots tests.cfg declares into RUN/plots/
  report RUN             write RUN/report.html (run does it at its end):
                         meta, verdicts, plots with their numbers, fixes,
                         the comparison
  export --junit|--kcidb RUN
                         RUN as JUnit XML (RUN/junit.xml) or KernelCI KCIDB
                         JSON (RUN/kcidb.json); --out FILE, - for stdout
  help                   this text

run writes results/<YYYYmmdd-HHMMSS>-<uname -r>/ (results/latest points to it),
or DIR with --out (new, empty, or an earlier run's folder, whose files are
replaced; a folder of other files is refused):
  meta.json      machine, kernel, KVM module parameters, irqbench version
  results.jsonl  one JSON record per metric, written by the tests
  TEST.ktap      the test's stdout (KTAP), also shown on the terminal
  TEST.log       the test's stderr and the runner's notes
  status.tsv     name, PASS|FAIL|SKIP, exit code, seconds, reason (lib/run/status.sh): one line
                 per test, written as soon as it finishes
  summary.txt    the final table

Exit status: 0 nothing failed, 1 a test failed (with --baseline: or a
metric regressed), 2 bad usage, no usable /dev/kvm, or a results folder
that cannot be written or filled up (the run stops: "results folder full:
..."), 128+N stopped by signal N.

Environment:
  IRQBENCH_BUILD         build dir holding the programs (default: build/)
  IRQBENCH_TABLE         test table (default: tests.cfg)
  IRQBENCH_RESULTS_ROOT  where run folders go (default: results/)
  IRQBENCH_DEVKVM        KVM device to check (default: /dev/kvm)
  IRQBENCH_KILL_AFTER    seconds between SIGTERM and SIGKILL on timeout (10)
Tests get IRQBENCH_RESULTS_DIR, IRQBENCH_TEST and IRQBENCH_PROFILE; they run
with the run folder as their working directory.
EOF
}

load_table() {
	table_load "$TABLE_PATH" || exit 2 # the parser printed the reason
}

# known_profiles: built-in profiles plus any the table names, one line.
known_profiles() {
	{
		printf '%s\n' "${BUILTIN_PROFILES[@]}"
		table_profiles
	} | sort -u | tr '\n' ' ' | sed 's/ $//'
}

check_profile() {
	local known
	known=$(known_profiles)
	if [[ ! $1 =~ ^[A-Za-z0-9_-]+$ || " $known " != *" $1 "* ]]; then
		die "bad profile '$1' (known: $known)"
	fi
}

# check_kvm: the tests need a KVM device they can open read-write.
check_kvm() {
	local dev=${IRQBENCH_DEVKVM:-/dev/kvm} group
	if [[ ! -e $dev ]]; then
		die "no $dev: KVM is not available here (load kvm_intel/kvm_amd, or enable nested virtualization)"
	fi
	if [[ ! -r $dev || ! -w $dev ]]; then
		group=$(stat -c %G "$dev" 2>/dev/null) || group=kvm
		die "cannot open $dev read-write as $(id -un): run as root or join group '$group'"
	fi
}

cmd_list() {
	local profile='' t arch profiles
	while (($#)); do
		case $1 in
		--profile)
			(($# >= 2)) || die "option --profile needs an argument"
			profile=$2
			shift 2
			;;
		--profile=*)
			profile=${1#*=}
			shift
			;;
		-h | --help)
			usage
			exit 0
			;;
		-*) die "unknown option '$1' for list (try 'run.sh help')" ;;
		*) die "list takes no arguments, got '$1' (try 'run.sh help')" ;;
		esac
	done
	load_table
	[[ -z $profile ]] || check_profile "$profile"
	{
		printf 'test\tarch\tprofiles\ttimeout\tdescription\n'
		for t in "${TABLE_TESTS[@]}"; do
			[[ -z $profile ]] || table_in_profile "$t" "$profile" || continue
			arch=$(table_get "$t" arch)
			profiles=$(table_get "$t" profiles)
			printf '%s\t%s\t%s\t%ss\t%s\n' "$t" "${arch:-any}" "${profiles:-(by name)}" \
				"$(table_get "$t" timeout)" "$(table_get "$t" description)"
		done
	} | format_table
}

# select_tests PROFILE [NAME...]: fill SELECTED.  Named tests run whatever
# their profiles (the user asked for them); otherwise the profile's tests.
select_tests() {
	local profile=$1 t
	local -A seen=()
	shift
	SELECTED=()
	if (($#)); then
		for t; do
			table_has "$t" || die "unknown test '$t' (see 'run.sh list')"
			[[ -z ${seen[$t]+set} ]] || continue
			seen[$t]=1
			SELECTED+=("$t")
		done
	else
		for t in "${TABLE_TESTS[@]}"; do
			table_in_profile "$t" "$profile" && SELECTED+=("$t")
		done
	fi
	((${#SELECTED[@]})) || die "no tests in profile '$profile' in $TABLE_PATH"
}

# clear_previous_run DIR: --out may name a folder used before; drop the
# files a run writes, so results.jsonl and status.tsv hold this run only.
clear_previous_run() {
	local t
	rm -f -- "$1/meta.json" "$1/results.jsonl" "$1/status.tsv" "$1/summary.txt" \
		"$1/plot.log" "$1/compare.md" "$1/compare.json" "$1/report.html" "$1/junit.xml" "$1/kcidb.json"
	rm -rf -- "$1/plots"
	for t in "${TABLE_TESTS[@]}"; do
		rm -f -- "$1/$t.ktap" "$1/$t.log"
	done
}

# make_outdir [DIR]: create the run folder and set OUT (absolute).
make_outdir() {
	local root
	if [[ -n $1 ]]; then
		outdir_check_out "$1" || die "$OUTDIR_ERR"
		OUT=$(cd "$1" && pwd)
		clear_previous_run "$OUT"
	else
		root=${IRQBENCH_RESULTS_ROOT:-$ROOT/results}
		outdir_new "$root" "$(date +%Y%m%d-%H%M%S)-$(uname -r)" || die "$OUTDIR_ERR"
		OUT=$(cd "$OUTDIR_NEW" && pwd)
		ln -sfn -- "${OUT##*/}" "$root/latest" 2>/dev/null || true
	fi
	{ : >"$OUT/status.tsv"; } 2>/dev/null || die "cannot write $OUT/status.tsv"
}

# The trap only notes the signal and stops the running test; the main loop
# then writes the summary of what finished and re-raises the signal.
on_signal() {
	INTERRUPTED=$1
	if [[ -n ${CHILD_PID-} ]]; then
		SPAWN_KILLED=1
		kill -TERM "$CHILD_PID" 2>/dev/null || true
	fi
}

# is_results DIR: a run folder, or a baseline (a folder of run folders).
is_results() {
	local f
	[[ -f $1/results.jsonl ]] && return 0
	for f in "$1"/*/results.jsonl; do
		[[ -f $f ]] && return 0
	done
	return 1
}

# baseline_dir ARG: a results folder, or a name under results/baselines/.
baseline_dir() {
	local root=${IRQBENCH_RESULTS_ROOT:-$ROOT/results}
	if [[ -d $1 ]] && is_results "$1"; then
		abspath "$1"
	elif [[ $1 =~ ^[A-Za-z0-9_.-]+$ ]] && is_results "$root/baselines/$1"; then
		printf '%s\n' "$root/baselines/$1"
	else
		return 1
	fi
}

# save_baseline NAME: add the finished run to results/baselines/NAME/,
# which keeps the newest $IRQBENCH_BASELINE_KEEP runs (default 5): compare
# takes their spread as the run-to-run noise.
save_baseline() {
	local dir=${IRQBENCH_RESULTS_ROOT:-$ROOT/results}/baselines/$1
	local keep=${IRQBENCH_BASELINE_KEEP:-5} old
	is_uint "$keep" && ((keep > 0)) || keep=5
	mkdir -p -- "$dir" && rm -rf -- "${dir:?}/${OUT##*/}" &&
		cp -a -- "$OUT" "$dir/${OUT##*/}" || return 1
	# Oldest first by results.jsonl time; drop all but the newest $keep.
	while read -r old; do
		[[ -n $old ]] && rm -rf -- "${old%/results.jsonl}"
	done < <(find "$dir" -mindepth 2 -maxdepth 2 -name results.jsonl -printf '%T@ %p\n' |
		sort -n | head -n "-$keep" | cut -d' ' -f2-)
	printf 'baseline %s: %s (%d run(s))\n' "$1" "$dir" "$(find "$dir" -mindepth 2 -maxdepth 2 -name results.jsonl | wc -l)"
}

cmd_run() {
	local profile=quick out='' out_set='' t i=0 n done_count stopped_at='' note=''
	local baseline='' save_as='' rc=0 crc=0
	local -a names=()
	while (($#)); do
		case $1 in
		--profile)
			(($# >= 2)) || die "option --profile needs an argument (${BUILTIN_PROFILES[*]})"
			profile=$2
			shift 2
			;;
		--profile=*)
			profile=${1#*=}
			shift
			;;
		--out)
			(($# >= 2)) || die "option --out needs a directory"
			out=$2 out_set=1
			shift 2
			;;
		--out=*)
			out=${1#*=} out_set=1
			shift
			;;
		--baseline | --save-baseline)
			(($# >= 2)) || die "option $1 needs an argument"
			if [[ $1 == --baseline ]]; then baseline=$2; else save_as=$2; fi
			shift 2
			;;
		-h | --help)
			usage
			exit 0
			;;
		--)
			shift
			names+=("$@")
			break
			;;
		-*) die "unknown option '$1' for run (try 'run.sh help')" ;;
		*)
			names+=("$1")
			shift
			;;
		esac
	done
	[[ -z $out_set || -n $out ]] || die "option --out needs a directory"
	if [[ -n $baseline ]]; then
		baseline=$(baseline_dir "$baseline") ||
			die "--baseline: no results folder or baseline named '$baseline'"
	fi
	[[ -z $save_as || $save_as =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] ||
		die "--save-baseline: bad name '$save_as' (letters, digits, _ . -)"

	load_table
	check_profile "$profile"
	select_tests "$profile" "${names[@]}"
	KILL_AFTER=${IRQBENCH_KILL_AFTER:-10}
	is_uint "$KILL_AFTER" || die "IRQBENCH_KILL_AFTER must be whole seconds, not '$KILL_AFTER'"
	check_kvm

	PROFILE=$profile
	BUILD=$(abspath "${IRQBENCH_BUILD:-$ROOT/build}")
	ARCH=$(uname -m)
	TEE=(tee)
	# -p: keep writing the .ktap file if the terminal side goes away.
	if tee -p /dev/null </dev/null >/dev/null 2>&1; then TEE=(tee -p); fi
	make_outdir "$out"
	# Scratch (the FIFO) inside the run folder: nothing left elsewhere.
	RUN_TMP=$OUT/.run
	mkdir -p -- "$RUN_TMP" 2>/dev/null || die "cannot write in $OUT"
	trap 'rm -rf "$RUN_TMP"' EXIT
	RESULTS_LOST=''  # set (the one-line reason) once the folder fails us
	INTERRUPTED='' CHILD_PID='' SPAWN_KILLED=''
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM
	trap 'on_signal HUP' HUP

	if ! IRQBENCH_PROFILE=$PROFILE IRQBENCH_TESTS="${SELECTED[*]}" IRQBENCH_BUILD=$BUILD \
		IRQBENCH_REPO=$ROOT sh "$ROOT/lib/run/meta.sh" "$OUT"; then
		warn "could not write $OUT/meta.json; running anyway"
	fi

	n=${#SELECTED[@]}
	printf 'irqbench: %d test(s), profile %s, results in %s\n' "$n" "$PROFILE" "$OUT"
	# run_test is an `if` condition, so errexit is off inside it: nothing a
	# test (or a helper) does can end the run before the summary.
	for t in "${SELECTED[@]}"; do
		[[ -z $INTERRUPTED ]] || break
		# A full folder would lose every later test's results too.
		[[ -z $RESULTS_LOST ]] || break
		i=$((i + 1))
		if ! run_test "$t" "$i" "$n"; then
			stopped_at=$t
			break
		fi
	done

	done_count=$(wc -l <"$OUT/status.tsv")
	if [[ -n $INTERRUPTED ]]; then
		note="interrupted by SIG$INTERRUPTED${stopped_at:+ during $stopped_at}: $((n - done_count)) of $n test(s) have no result"
	elif [[ -n $RESULTS_LOST ]]; then
		note="stopped: $RESULTS_LOST: $((n - done_count)) of $n test(s) have no result"
	fi
	write_summary "$OUT" "$note" || RESULTS_LOST=${RESULTS_LOST:-$OUTDIR_ERR}
	if [[ -n $RESULTS_LOST && -z $INTERRUPTED ]]; then
		printf 'results: %s\n' "$OUT"
		printf 'run.sh: %s (%d of %d test(s) recorded)\n' "$(one_line "$RESULTS_LOST")" "$done_count" "$n" >&2
		exit 2
	fi
	# The plots tests.cfg declares (lib/plot/); never a reason to fail.
	if [[ -z $INTERRUPTED ]]; then
		(report_py plot_run.py "$OUT") >"$OUT/plot.log" 2>&1 || true
	fi
	# One page of the run (compare below rewrites it with its table).
	if [[ -z $INTERRUPTED ]] && ! (report_py html_report.py "$OUT") >/dev/null 2>"$RUN_TMP/html.err"; then
		warn "no report.html: $(head -n1 "$RUN_TMP/html.err")"
	fi
	printf 'results: %s\n' "$OUT"

	if [[ -n $INTERRUPTED ]]; then
		# Die by the same signal, so callers (make, CI, git bisect run)
		# see an interrupted run rather than a verdict.
		rm -rf "$RUN_TMP"
		trap - EXIT "$INTERRUPTED"
		kill -s "$INTERRUPTED" $$
		exit 130
	fi
	any_failed "$OUT" && rc=1
	if [[ -n $save_as ]]; then
		save_baseline "$save_as" || die "could not save the run as baseline '$save_as'"
	fi
	if [[ -n $baseline ]]; then
		printf '\n'
		(report_py compare.py "$baseline" "$OUT") || crc=$?
		((crc == 2)) && exit 2
		((crc == 1)) && rc=1
	fi
	exit "$rc"
}

# report_py SCRIPT ARGS...: become lib/report/SCRIPT (compare, fixes, plot,
# export, report: exit 0 done, 1 compare found a regression, 2 bad input)
# under the interpreter that has the set-up's python3-scipy: Debian's, not
# whichever python3 comes first on PATH (lib/run/python.sh).
report_py() {
	[[ -x $PYTHON ]] || die "needs $PYTHON with python3-scipy (lib/build/setup.sh build)"
	exec "$PYTHON" -B "$ROOT/lib/report/$1" "${@:2}"
}

main() {
	(($#)) || die "missing command (try 'run.sh help')"
	local cmd=$1
	shift
	case $cmd in
	help | -h | --help) usage ;;
	list) cmd_list "$@" ;;
	run) cmd_run "$@" ;;
	kernel) exec "$ROOT/lib/kernel/run-kernel.sh" "$@" ;;
	bisect) exec "$ROOT/lib/kernel/bisect.sh" "$@" ;;
	matrix)
		[[ -x $PYTHON ]] || die "needs $PYTHON (lib/build/setup.sh build)"
		exec "$PYTHON" -B "$ROOT/lib/kernel/matrix.py" "$@"
		;;
	report) report_py html_report.py "$@" ;;
	plot) report_py plot_run.py "$@" ;;
	compare | fixes | export) report_py "$cmd.py" "$@" ;;
	*) die "unknown command '$cmd' (try 'run.sh help')" ;;
	esac
}

main "$@"

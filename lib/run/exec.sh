# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Running one test (sourced by run.sh).
#
# Reads the run's globals: OUT (results dir), BUILD, PROFILE, ARCH,
# KILL_AFTER, RUN_TMP (scratch dir), TEE (tee command array).
# Shares with the signal trap: CHILD_PID (the test's `timeout` process while
# a test runs), SPAWN_KILLED (set when the trap killed it).

# Lines run.sh adds to <test>.log start with this, so that reasons and log
# tails taken from the log show the test's own stderr, not our notes.
NOTE_PREFIX='# irqbench-run: '

runner_note() {
	printf '%s%s\n' "$NOTE_PREFIX" "$2" >>"$1"
}

# proc_running PID: true while PID exists and is not a zombie.  (kill -0
# also succeeds on an unreaped zombie, so it cannot tell "done".)
proc_running() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	# "PID (COMM) STATE ...": COMM may contain spaces, so cut after ") ".
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# wait_pid PID: wait for our child PID, setting WAIT_RC to its exit status.
# `wait` returns early (status > 128) when a trapped signal arrives; the
# trap has then told the child to stop, so keep waiting for it to go.
wait_pid() {
	local pid=$1 rc
	while :; do
		rc=0
		# 2>/dev/null: bash's own "Segmentation fault ..." job report;
		# the runner reports crashes itself.
		wait "$pid" 2>/dev/null || rc=$?
		if ((rc > 128)) && kill -0 "$pid" 2>/dev/null; then
			continue
		fi
		WAIT_RC=$rc
		return 0
	done
}

# wait_tee PID: tee ends when the test's stdout closes.  A grandchild that
# escaped the test's process group could hold the pipe open forever; give
# it 5 s, then stop tee (the .ktap file has everything written so far).
wait_tee() {
	local pid=$1 tries=100
	while ((tries-- > 0)) && proc_running "$pid"; do
		sleep 0.05
	done
	if proc_running "$pid"; then
		kill "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# spawn_test TEST BIN TIMEOUT KTAP LOG [ARGS...]: run one test, stdout to
# the terminal and KTAP, stderr to LOG.  Sets SPAWN_RC (timeout's exit
# status, i.e. the test's, or 124/137 on timeout).
#
# Not a foreground pipeline: bash runs a trap only after a foreground job
# ends, so Ctrl-C/SIGTERM would wait for the whole test.  Both halves run in
# the background joined by a FIFO, and `wait` is interruptible.
spawn_test() {
	local t=$1 bin=$2 timeout=$3 ktap=$4 log=$5 tee_pid
	shift 5
	local fifo=$RUN_TMP/stdout.fifo
	SPAWN_RC=0
	SPAWN_KILLED=
	rm -f "$fifo"
	mkfifo "$fifo"

	"${TEE[@]}" "$ktap" <"$fifo" &
	tee_pid=$!
	(
		# cwd = results dir: core dumps and stray files stay with the run.
		cd "$OUT" || exit 125
		export IRQBENCH_RESULTS_DIR=$OUT IRQBENCH_TEST=$t IRQBENCH_PROFILE=$PROFILE
		# exec: $! is then timeout's pid, which the signal trap can stop.
		# timeout puts the test in its own process group and signals it all.
		exec timeout -k "$KILL_AFTER" "$timeout" "$bin" "$@"
	) >"$fifo" 2>>"$log" &
	CHILD_PID=$!
	# A signal that came just before CHILD_PID was set found nothing to stop.
	if [[ -n ${INTERRUPTED-} && -z $SPAWN_KILLED ]]; then
		SPAWN_KILLED=1
		kill -TERM "$CHILD_PID" 2>/dev/null || true
	fi

	wait_pid "$CHILD_PID"
	SPAWN_RC=$WAIT_RC
	CHILD_PID=
	wait_tee "$tee_pid"
	rm -f "$fifo"
}

# classify RC ELAPSED_US TIMEOUT KTAP LOG: sets R_RESULT and R_REASON, from
# the one classifier and the one reason (lib/run/status.sh); run.sh's notes
# in LOG are not the test's stderr.
classify() {
	status_classify "$1" $(($2 / 1000000)) "$3"
	status_reason "$1" "$4" "$5" "$NOTE_PREFIX"
	R_RESULT=$STATUS_RESULT
	R_REASON=$STATUS_REASON
}

# print_log_tail LOG: the test's last stderr lines, for failures.
print_log_tail() {
	local tail
	tail=$(grep -v "^$NOTE_PREFIX" "$1" 2>/dev/null | tail -n 15) || true
	[[ -n $tail ]] || return 0
	printf '    --- last lines of %s ---\n' "$1"
	printf '%s\n' "$tail" | sed 's/^/    | /'
}

# run_test TEST INDEX COUNT: run one test and record its result.  Returns 1
# if a signal stopped it (nothing is recorded for it then).
run_test() {
	local t=$1 tag="[$2/$3] $1"
	local prog timeout bin ktap log start elapsed rc
	local -a args=()
	prog=$(table_get "$t" program)
	timeout=$(table_get "$t" timeout)
	bin=$BUILD/$prog
	ktap=$OUT/$t.ktap
	log=$OUT/$t.log
	read -r -a args <<<"$(table_args "$t" "$PROFILE")" || true

	if ! table_arch_ok "$t" "$ARCH"; then
		record_result "$tag" "$t" SKIP - 0 "arch: needs $(table_get "$t" arch), host is $ARCH"
		return 0
	fi
	: >"$log"
	if [[ ! -e $bin ]]; then
		runner_note "$log" "$bin does not exist"
		record_result "$tag" "$t" FAIL - 0 "not built: run make"
		return 0
	fi
	if [[ ! -f $bin || ! -x $bin ]]; then
		runner_note "$log" "$bin is not an executable file"
		record_result "$tag" "$t" FAIL - 0 "not executable: $bin"
		return 0
	fi

	printf '%s ... (timeout %ss)\n' "$tag" "$timeout"
	runner_note "$log" "run: $bin ${args[*]} (profile $PROFILE, timeout ${timeout}s)"
	start=$(now_us)
	spawn_test "$t" "$bin" "$timeout" "$ktap" "$log" "${args[@]}"
	rc=$SPAWN_RC
	elapsed=$(($(now_us) - start))

	if [[ -n $SPAWN_KILLED ]]; then
		runner_note "$log" "stopped by SIG$INTERRUPTED after $(fmt_secs "$elapsed")s: no result recorded"
		printf '%s ... interrupted (SIG%s)\n' "$tag" "$INTERRUPTED"
		return 1
	fi
	classify "$rc" "$elapsed" "$timeout" "$ktap" "$log"
	[[ $R_RESULT != FAIL ]] || print_log_tail "$log"
	runner_note "$log" "exit $rc after $(fmt_secs "$elapsed")s: $R_RESULT${R_REASON:+: $R_REASON}"
	record_result "$tag" "$t" "$R_RESULT" "$rc" "$elapsed" "$R_REASON"
}

#!/usr/bin/env bash
# bisect.sh: `git bisect run` driver.  Builds the kernel tree it runs in (or
# takes --image), boots it with run-kernel.sh, runs ONE irqbench test and maps
# the test's verdict to git bisect's exit codes:
#   0    good  (every verdict seen is in --good, none in --bad)
#   1    bad   (a verdict in --bad; or the test ran and failed / timed out /
#              the guest died while it ran: real failures are never skipped)
#   125  skip  (what belongs to this commit: it does not build or boot, has
#              no KVM, its --args-file is missing, the test SKIPs, only
#              --skip verdicts, or no verdict at all)
#   128  abort (the set-up, not the commit: bad usage, an unknown test,
#              verdict or variant, test arguments the test refuses, runner
#              options it or QEMU refuses, no QEMU, a bad --image or
#              --config, --image with a --debian after --, an
#              --image from outside the tree that does not boot (the same
#              for every commit), a failed download; one "error:" line
#              says which)
# Everything that can be checked before a build or a boot is checked first,
# so a mistake aborts at the first commit instead of skipping them all.
#
# usage: run.sh bisect [--tree DIR] [--image BZIMAGE [--modules DIR|none]]
#          [--config FILE] [--jobs N] [--test NAME] [--variant SUBSTRING]
#          [--good LIST] [--bad LIST] [--skip LIST] [--results DIR]
#          [--args-file FILE] [-- RUN-KERNEL-ARGS...]
#   LIST: comma-separated verdicts, from the test's metric.verdict order and
#         verdicts.unjudged in tests.cfg (ioapic_eoi_reuse: fixed,
#         stale-exits, ambiguous, lost-eoi, not-provoked, unmeasured,
#         unaffected).  Defaults: --good fixed, --bad = every verdict not in
#         --good or --skip, --skip = the test's verdicts.unjudged in tests.cfg
#         (those it reports without judging the kernel: nothing provoked or
#         measured, a variant no kernel gets wrong), less any named in
#         --good or --bad.
#   --test      test name from tests.cfg (default ioapic_eoi_reuse)
#   --variant   only verdict records whose "variant" contains this (it must
#               match one of the test's `--list` variants)
#   --config    .config to start from when the tree has none (olddefconfig)
#   --args-file file in the tree whose words are extra run-kernel.sh args;
#               with it and no --image nothing is built (simulated bisects
#               over prebuilt kernels: e.g. "--debian 6.12 --kvm-patch P")
#   after --    passed to run-kernel.sh (e.g. --args "--reuses 100")
# Example (in a kernel tree with a KVM-enabled .config):
#   git bisect start v6.13 v6.12
#   git bisect run /path/to/irqbench/run.sh bisect --test ioapic_eoi_reuse \
#       --variant split.dest --good stale-exits --bad fixed
set -uo pipefail
. "$(dirname "$0")/common.sh"
# shellcheck source=../run/table.sh
. "$REPO_ROOT/lib/run/table.sh"

abort() { echo "run.sh bisect: error: $*" >&2; exit 128; }
skip() { echo "bisect: $(rev) -> skip (125): $*"; exit 125; }
bad() { echo "bisect: $(rev) -> bad (1): $*"; exit 1; }
good() { echo "bisect: $(rev) -> good (0): $*"; exit 0; }
rev() { git -C "$tree" rev-parse --short HEAD 2>/dev/null || echo "?"; }

# IRQBENCH_RUN_KERNEL: a stand-in runner, for tests of this driver.
runner=${IRQBENCH_RUN_KERNEL:-$KERNEL_LIB_DIR/run-kernel.sh}
tree=$PWD image='' modules='' config='' jobs=$(nproc) test=ioapic_eoi_reuse variant=''
good_list=fixed bad_list='' skip_list='' skip_given=0 results='' args_file='' runner_args=()
# image_without_debian WHERE WORDS...: one kernel per run.  run-kernel.sh
# refuses --image with --debian, which would skip every commit: with
# --image, a --debian among the runner's WORDS aborts (the set-up).
image_without_debian() {
	local where=$1 a
	shift
	[ -n "$image" ] || return 0
	for a; do
		[ "$a" != --debian ] || abort "--image and --debian ($where) are exclusive: one kernel per run"
	done
}

parse_args() {
	local opt
	while [ $# -gt 0 ]; do
		opt=$1
		case $opt in
		--tree | --image | --modules | --config | --jobs | --test | --variant | --good | --bad | --skip | --results | --args-file)
			[ $# -ge 2 ] || abort "option $opt needs a value (try --help)"
			case $opt in
			--tree) tree=$2 ;;
			--image) image=$2 ;;
			--modules) modules=$2 ;;
			--config) config=$2 ;;
			--jobs) jobs=$2 ;;
			--test) test=$2 ;;
			--variant) variant=$2 ;;
			--good) good_list=$2 ;;
			--bad) bad_list=$2 ;;
			--skip) skip_list=$2 skip_given=1 ;;
			--results) results=$2 ;;
			--args-file) args_file=$2 ;;
			esac
			shift 2
			;;
		-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
		--) shift; runner_args=("$@"); break ;;
		*) abort "unknown argument '$1' (try --help)" ;;
		esac
	done
	[ -d "$tree" ] || abort "no such tree: $tree"
	tree=$(cd "$tree" && pwd)
	case $jobs in '' | *[!0-9]* | 0) abort "--jobs wants a number of jobs > 0, not '$jobs'" ;; esac
	[ -n "$good_list" ] || abort "--good must name at least one verdict"
	if [ -n "$image" ]; then
		# The same image for every commit: a bad one would skip them all.
		[ -f "$image" ] || abort "no such image: $image"
		bzimage_release "$image" >/dev/null || abort "--image $image is not an x86 bzImage"
		image=$(realpath "$image")
	fi
	[ -z "$modules" ] || [ "$modules" = none ] || [ -d "$modules" ] ||
		abort "no such modules dir: $modules (or --modules none)"
	[ -z "$modules" ] || [ -n "$image" ] || abort "--modules goes with --image"
	if [ -n "$config" ]; then
		[ -f "$config" ] || abort "no such --config file: $config"
		config=$(realpath "$config")
	fi
	if [ -z "$image" ] && [ -z "$args_file" ]; then
		[ -f "$tree/Makefile" ] && [ -f "$tree/Kconfig" ] ||
			abort "$tree is not a kernel tree (no Makefile and Kconfig); pass --tree, --image or --args-file"
		[ -f "$tree/.config" ] || [ -n "$config" ] || abort "$tree has no .config; pass --config FILE"
	fi
	image_without_debian "after --" "${runner_args[@]}"
	case $args_file in /*) abort "--args-file names a file in the tree (relative path), not $args_file" ;; esac
}

# in_list VERDICT LIST: is VERDICT one of the comma-separated LIST?
in_list() { case ",$2," in *",$1,"*) return 0 ;; esac; return 1; }

# check_verdicts: every name in --good/--bad/--skip is one the test can
# report (tests.cfg: metric.verdict's order and verdicts.unjudged).  Without
# --skip, the skip list is the test's verdicts.unjudged (one source: a
# verdict that judges nothing, such as unmeasured, is never bad), less
# those the user named in --good or --bad.
check_verdicts() {
	local known order v opt list unjudged
	order=$(table_get "$test" metric.verdict)
	[ -n "$order" ] || abort "test $test declares no verdicts (metric.verdict in tests.cfg): it cannot judge a commit"
	order=${order#order }
	unjudged=$(table_get "$test" verdicts.unjudged)
	known=$(echo "${order//>/ } $unjudged" | tr -s ' ' | sed 's/^ //; s/ $//')
	for opt in good bad skip; do
		eval "list=\$${opt}_list"
		for v in ${list//,/ }; do
			case " $known " in *" $v "*) ;;
			*) abort "--$opt: $test reports no verdict '$v' (its verdicts: $known)" ;;
			esac
		done
	done
	if [ $skip_given = 0 ]; then
		for v in $unjudged; do
			in_list "$v" "$good_list" || in_list "$v" "$bad_list" || skip_list=${skip_list:+$skip_list,}$v
		done
	fi
}

# runner_test_args: what the guest passes to the test: --args after --, else
# tests.cfg's args for the runner's profile.
runner_test_args() {
	local i profile='' accel=tcg have=0 args=''
	for ((i = 0; i < ${#runner_args[@]}; i++)); do
		case ${runner_args[i]} in
		--args) args=${runner_args[i + 1]-} have=1 ;;
		--profile) profile=${runner_args[i + 1]-} ;;
		--accel) accel=${runner_args[i + 1]-} ;;
		esac
	done
	[ $have = 1 ] && { printf '%s\n' "$args"; return; }
	[ -n "$profile" ] || { [ "$accel" = kvm ] && profile=quick || profile=nested; }
	table_args "$test" "$profile"
}

# check_test_args: the test program itself parses the arguments the guest
# will give it (`--list` parses them and prints the variants, no KVM needed):
# a typo in them aborts here instead of failing (bad) in every guest.  The
# variants listed must include one --variant matches.
check_test_args() {
	local prog bin targs listed err
	prog=$(table_get "$test" program)
	bin=${IRQBENCH_STATIC_BUILD:-$REPO_ROOT/build-static}/$prog
	[ -x "$bin" ] || bin=${IRQBENCH_BUILD:-$REPO_ROOT/build}/$prog
	if [ ! -x "$bin" ]; then
		log "make static (to check $test's arguments)"
		make -C "$REPO_ROOT" --no-print-directory static >&2 || abort "make static failed"
		bin=${IRQBENCH_STATIC_BUILD:-$REPO_ROOT/build-static}/$prog
	fi
	targs=$(runner_test_args)
	err=$(mktemp "$work/list.XXXXXX")
	# shellcheck disable=SC2086 # the guest splits them at whitespace too
	listed=$("$bin" $targs --list 2>"$err") ||
		abort "$test refuses its arguments '$targs': $(grep -v '^Random seed' "$err" | tail -n1)"
	# (the selftests library prints its random seed on stdout)
	listed=$(printf '%s\n' "$listed" | grep -v '^Random seed')
	[ -n "$variant" ] || return 0
	printf '%s\n' "$listed" | grep -qF -- "$variant" ||
		abort "--variant: no variant of $test contains '$variant' (with '$targs': $(printf '%s\n' "$listed" | head -n 12 | tr '\n' ' '))"
}

# check_runner: run-kernel.sh --check parses the runner options and checks
# QEMU, the test and the numbers without fetching or booting anything.
check_runner() {
	local err
	err=$("$runner" --check "${runner_args[@]}" "$test" 2>&1 >/dev/null) ||
		abort "runner options refused: $(printf '%s\n' "$err" | tail -n1)"
}

# Build bzImage + modules in $tree; sets image/modules.  Failure = skip.
build_kernel() {
	local log=$work/build.log stage=$work/modroot
	[ -f "$tree/.config" ] || cp "$config" "$tree/.config" || abort "cannot copy $config to $tree/.config"
	log "building $(rev) (log: $log)"
	make -C "$tree" olddefconfig >"$log" 2>&1 || skip "make olddefconfig failed"
	make -C "$tree" -j"$jobs" bzImage modules >>"$log" 2>&1 || skip "kernel build failed (tail: $(tail -n1 "$log"))"
	image=$tree/arch/x86/boot/bzImage
	if grep -q '^CONFIG_KVM=y' "$tree/.config"; then
		modules=none
	else
		make -C "$tree" modules_install INSTALL_MOD_PATH="$stage" INSTALL_MOD_STRIP=1 >>"$log" 2>&1 ||
			skip "modules_install failed"
		modules=$stage
	fi
}

# Verdict of this commit from the run's results folder ($1).
judge() {
	local out=$1 status rc verdicts v n_good=0 n_bad=0 n_skip=0 seen=""
	# status.tsv (lib/run/status.sh): name, result, rc, seconds, reason.
	status=$(awk -F'\t' -v t="$test" '$1 == t { print $2 }' "$out/status.tsv" 2>/dev/null)
	rc=$(awk -F'\t' -v t="$test" '$1 == t { print $3 }' "$out/status.tsv" 2>/dev/null)
	# Exit 2: the test refused its arguments (harness_bad_input): the set-up.
	[ "$rc" != 2 ] || abort "$test refused its arguments in the guest: $(tail -n1 "$out/$test.log" 2>/dev/null)"
	verdicts=$(jq -r --arg t "$test" --arg v "$variant" \
		'select(.test == $t and .metric == "verdict" and ((.variant // "") | contains($v))) | "\(.variant // "-")=\(.value // "null")"' \
		"$out/results.jsonl" 2>/dev/null)
	for v in $verdicts; do
		seen="$seen $v"
		v=${v#*=}
		# null: a skipped verdict record ("skipped": why), never bad.
		if [ "$v" = null ] || in_list "$v" "$skip_list"; then n_skip=$((n_skip + 1))
		elif in_list "$v" "$good_list" && ! in_list "$v" "$bad_list"; then n_good=$((n_good + 1))
		elif [ -z "$bad_list" ] || in_list "$v" "$bad_list"; then n_bad=$((n_bad + 1))
		else n_skip=$((n_skip + 1))
		fi
	done
	# The verdicts are the user's criterion, whatever the exit status (the
	# test may exit 1 for a verdict the user calls good).  Without a
	# deciding verdict, a failed or timed-out test is bad, never skipped.
	[ $n_bad -eq 0 ] || bad "verdicts:$seen"
	[ $n_good -eq 0 ] || good "verdicts:$seen"
	case $status in
	FAIL) bad "test $test failed ($(awk -F'\t' -v t="$test" '$1 == t { print $5 }' "$out/status.tsv")) without a verdict (results: $out)" ;;
	SKIP) skip "test $test skipped: $(grep -m1 SKIP "$out/$test.ktap" 2>/dev/null)" ;;
	esac
	[ -z "$seen" ] || skip "only skip verdicts:$seen"
	skip "no verdict from $test${variant:+ variant *$variant*} (results: $out)"
}

# check_setup: the set-up step (it installs what is missing, showing its
# progress); when it fails, its reason (e.g. "not on PATH:
# qemu-system-x86_64") is the one error line.
check_setup() {
	local out
	out=$(setup_pkgs build kernel 2>&1 | while IFS= read -r l; do
		case $l in "irqbench: installing "* | "irqbench: dpkg "*) printf '%s\n' "$l" >&2 ;; *) printf '%s\n' "$l" ;; esac
	done) || abort "set-up failed (lib/build/setup.sh build kernel): $(printf '%s\n' "$out" | tail -n1 | sed 's/^irqbench: //')"
	[ -z "$out" ] || printf '%s\n' "$out" >&2
}

main() {
	parse_args "$@"
	check_setup
	table_load "$(table_default_file)" || abort "bad test table"
	# A typo in the test name must abort, not skip every commit.
	table_has "$test" || abort "unknown test '$test' (see run.sh list)"
	check_verdicts
	local base=${results:-$REPO_ROOT/results} out
	mkdir -p "$base" 2>/dev/null && [ -w "$base" ] || abort "cannot write results folder $base"
	base=$(realpath "$base")
	# Scratch space under the results folder, not the system temp dir.
	work=$(mktemp -d "$base/.bisect-work.XXXXXX") || abort "cannot create a folder in $base"
	trap 'rm -rf "$work"' EXIT
	check_runner
	check_test_args
	local extra=()
	if [ -n "$args_file" ]; then
		[ -f "$tree/$args_file" ] || skip "no $args_file at this commit"
		# shellcheck disable=SC2207 # words of the file, like a command line
		extra=($(grep -v '^#' "$tree/$args_file"))
		image_without_debian "in $args_file at $(rev)" "${extra[@]}"
	fi
	if [ -z "$image" ] && [ -z "$args_file" ]; then
		build_kernel
	fi
	local fixed_image=''
	if [ -n "$image" ] && [ -z "$args_file" ]; then
		case $image in "$(realpath "$tree")"/*) ;; *) fixed_image=$image ;; esac
	fi
	out=$(mktemp -d "$base/bisect-$(rev)-$(date +%Y%m%d-%H%M%S)-XXXX") || abort "cannot create a folder in $base"
	local args=(--out "$out" "${extra[@]}")
	[ -z "$image" ] || args+=(--image "$image")
	[ -z "$modules" ] || args+=(--modules "$modules")
	log "run-kernel.sh ${args[*]} ${runner_args[*]} $test"
	# (its output, shown as it comes, also kept: its error line names the cause)
	"$runner" "${args[@]}" "${runner_args[@]}" "$test" 2>&1 | tee "$work/runner.log" >&2
	local rc=${PIPESTATUS[0]}
	# 3: the environment failed (a download, the results folder): no
	# commit can be tested until it is fixed.
	[ $rc -ne 3 ] || abort "runner failed for a reason outside the commit (exit 3): $(grep 'error:' "$work/runner.log" | tail -n1)"
	# A signal stopped the runner: stop the bisect too.
	[ $rc -le 128 ] || abort "runner stopped by signal $((rc - 128))"
	if [ ! -f "$out/status.tsv" ]; then
		# No results: did the test start before the guest died or hung?
		if grep -q "irqbench-guest:.* run $test " "$out/qemu.log" 2>/dev/null; then
			bad "guest died or hung while $test ran (console: $out/qemu.log)"
		fi
		[ $rc -ne 2 ] || skip "runner refused this kernel (see above)"
		# The same --image for every commit (not one of the tree's,
		# no --args-file) that never reaches init: nothing of the
		# commit was booted yet, so no commit can be tested.
		if [ -n "$fixed_image" ] && ! grep -q 'irqbench-guest:' "$out/qemu.log" 2>/dev/null; then
			abort "--image $fixed_image did not boot to init (console: $out/qemu.log); it is the same for every commit: the set-up, not the commit"
		fi
		skip "kernel did not boot to the test (console: $out/qemu.log)"
	fi
	judge "$out"
}
main "$@"

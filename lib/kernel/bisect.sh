#!/usr/bin/env bash
# bisect.sh: `git bisect run` driver.  Builds the kernel tree it runs in (or
# takes --image), boots it with run-kernel.sh, runs ONE irqbench test and maps
# the test's verdict to git bisect's exit codes:
#   0    good  (every verdict seen is in --good, none in --bad)
#   1    bad   (a verdict in --bad; or the test failed / timed out / the guest
#              died while the test ran: real failures are never skipped)
#   125  skip  (build failure, boot failure, no KVM modules, test SKIP,
#              only --skip verdicts, or no verdict at all)
#   128  abort (this driver is misconfigured: bisecting on makes no sense)
#
# usage: bisect.sh [--tree DIR] [--image BZIMAGE [--modules DIR|none]]
#          [--config FILE] [--jobs N] [--test NAME] [--variant SUBSTRING]
#          [--good LIST] [--bad LIST] [--skip LIST] [--results DIR]
#          [--args-file FILE] [-- RUN-KERNEL-ARGS...]
#   LIST: comma-separated verdicts (ioapic_eoi_reuse: not-provoked, lost-eoi,
#         stale-exits, fixed, unaffected).  Defaults: --good fixed, --bad =
#         every verdict not in --good or --skip, --skip not-provoked,unaffected
#         (unaffected: the `vector` variants, which no kernel gets wrong).
#   --test      test name from tests.cfg (default ioapic_eoi_reuse)
#   --variant   only verdict records whose "variant" contains this
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

abort() { echo "bisect.sh: error: $*" >&2; exit 128; }
skip() { echo "bisect: $(rev) -> skip (125): $*"; exit 125; }
bad() { echo "bisect: $(rev) -> bad (1): $*"; exit 1; }
good() { echo "bisect: $(rev) -> good (0): $*"; exit 0; }
rev() { git -C "$tree" rev-parse --short HEAD 2>/dev/null || echo "?"; }

tree=$PWD image='' modules='' config='' jobs=$(nproc) test=ioapic_eoi_reuse variant=''
good_list=fixed bad_list='' skip_list=not-provoked,unaffected results='' args_file='' runner_args=()
parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--tree) tree=$2; shift 2 ;;
		--image) image=$2; shift 2 ;;
		--modules) modules=$2; shift 2 ;;
		--config) config=$2; shift 2 ;;
		--jobs) jobs=$2; shift 2 ;;
		--test) test=$2; shift 2 ;;
		--variant) variant=$2; shift 2 ;;
		--good) good_list=$2; shift 2 ;;
		--bad) bad_list=$2; shift 2 ;;
		--skip) skip_list=$2; shift 2 ;;
		--results) results=$2; shift 2 ;;
		--args-file) args_file=$2; shift 2 ;;
		-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
		--) shift; runner_args=("$@"); break ;;
		*) abort "unknown argument $1 (try --help)" ;;
		esac
	done
	[ -d "$tree" ] || abort "no such tree: $tree"
	tree=$(cd "$tree" && pwd)
	[ -z "$image" ] || [ -f "$image" ] || abort "no such image: $image"
	[ -n "$good_list" ] || abort "--good must name at least one verdict"
}

# in_list VERDICT LIST: is VERDICT one of the comma-separated LIST?
in_list() { case ",$2," in *",$1,"*) return 0 ;; esac; return 1; }

# Build bzImage + modules in $tree; sets image/modules.  Failure = skip.
build_kernel() {
	local log=$work/build.log stage=$work/modroot
	if [ ! -f "$tree/.config" ]; then
		[ -n "$config" ] || abort "$tree has no .config; pass --config FILE"
		cp "$config" "$tree/.config"
	fi
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
	local out=$1 status verdicts v n_good=0 n_bad=0 n_skip=0 seen=""
	status=$(awk -F'\t' -v t="$test" '$1 == t { print $2 }' "$out/status.tsv" 2>/dev/null)
	verdicts=$(jq -r --arg t "$test" --arg v "$variant" \
		'select(.test == $t and .metric == "verdict" and ((.variant // "") | contains($v))) | "\(.variant // "-")=\(.value)"' \
		"$out/results.jsonl" 2>/dev/null)
	for v in $verdicts; do
		seen="$seen $v"
		v=${v#*=}
		if in_list "$v" "$skip_list"; then n_skip=$((n_skip + 1))
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

main() {
	parse_args "$@"
	setup_pkgs build kernel || abort "set-up failed (lib/build/setup.sh build kernel)"
	# A typo in the test name must abort, not skip every commit.
	"$REPO_ROOT/lib/run/table.sh" get "$test" program >/dev/null || abort "unknown test $test"
	work=$(mktemp -d "${TMPDIR:-/tmp}/irqbench-bisect.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	local extra=()
	if [ -n "$args_file" ]; then
		[ -f "$tree/$args_file" ] || skip "no $args_file at this commit"
		# shellcheck disable=SC2207 # words of the file, like a command line
		extra=($(grep -v '^#' "$tree/$args_file"))
	fi
	if [ -z "$image" ] && [ -z "$args_file" ]; then
		build_kernel
	fi
	local base=${results:-$REPO_ROOT/results} out
	mkdir -p "$base" || abort "cannot create $base"
	out=$(mktemp -d "$base/bisect-$(rev)-$(date +%Y%m%d-%H%M%S)-XXXX")
	local args=(--out "$out" "${extra[@]}")
	[ -z "$image" ] || args+=(--image "$image")
	[ -z "$modules" ] || args+=(--modules "$modules")
	log "run-kernel.sh ${args[*]} ${runner_args[*]} $test"
	# IRQBENCH_RUN_KERNEL: a stand-in runner, for tests of this driver.
	"${IRQBENCH_RUN_KERNEL:-$KERNEL_LIB_DIR/run-kernel.sh}" "${args[@]}" "${runner_args[@]}" "$test" >&2
	local rc=$?
	if [ ! -f "$out/status.tsv" ]; then
		# No results: did the test start before the guest died or hung?
		if grep -q "irqbench-guest:.* run $test " "$out/qemu.log" 2>/dev/null; then
			bad "guest died or hung while $test ran (console: $out/qemu.log)"
		fi
		[ $rc -ne 2 ] || skip "runner refused this kernel (bad input, see above)"
		skip "kernel did not boot to the test (console: $out/qemu.log)"
	fi
	judge "$out"
}
main "$@"

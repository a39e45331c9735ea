#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Validates run.sh compare on this host (a benchmark, not part of make
# check): how often does it flag runs of the same kernel (false alarms),
# and how often does it flag a run with a real slowdown (detection)?
#
#   lib/report/validate_compare.sh [--pairs N] [--slowed M] [--baseline-runs K]
#        [--rule "METRIC = ..."] [--args "..."] [--out DIR] [--reuse] TEST
#
# Baseline: K quiet runs of TEST (default 5), the way --save-baseline keeps
# them; compare takes their spread as run-to-run noise.  With K = 1 each
# quiet run is compared with the one before instead.
# A/A: N more quiet runs (default 20), each compared with the baseline; a
# comparison that exits 1 is a false alarm.
# Slowdown: M runs (default 10) with a CPU hog (a busy loop pinned to each
# online CPU, so to every vCPU's CPU), each compared with the baseline;
# exit 1 is a detection.
# --rule (repeatable) replaces TEST's metric.METRIC entry, --args its arguments, in a
# copy of the test table (DIR/table.cfg).  --reuse keeps the runs already in
# DIR and runs only the missing ones (e.g. to judge again with another
# floor).  Prints both rates and the host load; writes DIR/validation.tsv
# (kind, index, exit, load1, regressed metrics per comparison).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pairs=20 slowed=10 keep=5 out='' test='' reuse='' args=''
rules=()
while (($#)); do
	case $1 in
	--pairs) pairs=$2; shift 2 ;;
	--slowed) slowed=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--rule) rules+=("$2"); shift 2 ;;
	--reuse) reuse=1; shift ;;
	--args) args=$2; shift 2 ;;
	--baseline-runs) keep=$2; shift 2 ;;
	-h | --help) sed -n '4,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "validate_compare.sh: unknown option $1" >&2; exit 2 ;;
	*) test=$1; shift ;;
	esac
done
[[ -n $test ]] || { echo "validate_compare.sh: which test?" >&2; exit 2; }
out=${out:-$ROOT/results/validate-compare-$test-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

table=${IRQBENCH_TABLE:-$ROOT/tests.cfg}
# edit_table AWK-VARS...: a copy of the table with TEST's section edited:
# drop lines starting with "drop", add "add" after the header.
edit_table() {
	awk -v t="[$test]" "$@" '
		/^\[/ { in_t = ($0 == t) }
		in_t && drop != "" && index($0, drop) == 1 { next }
		{ print }
		$0 == t && add != "" { print add }
	' "$table" >"$out/table.cfg.new"
	mv "$out/table.cfg.new" "$out/table.cfg"
	table=$out/table.cfg
}
for rule in "${rules[@]}"; do
	key="metric.${rule%%=*}"
	key=${key%% }
	edit_table -v drop="$key " -v add="metric.$rule"
done
[[ -z $args ]] || edit_table -v drop="args" -v add="args = $args"
export IRQBENCH_TABLE=$table
"$ROOT/lib/run/table.sh" check "$table" >/dev/null

hogs=()
hog_start() {
	local cpu
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$cpu" sh -c 'while :; do :; done' &
		hogs+=($!)
	done
}
hog_stop() {
	local p
	for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${hogs[@]}"; do wait "$p" 2>/dev/null || true; done
	hogs=()
}
trap hog_stop EXIT

# one_run DIR [hog]: one run of TEST into DIR (kept with --reuse).
one_run() {
	[[ -n $reuse && -s $1/results.jsonl ]] && return 0
	[[ -z ${2-} ]] || hog_start
	"$ROOT/run.sh" run "$test" --out "$1" >"$1.log" 2>&1 || true
	[[ -z ${2-} ]] || hog_stop
}
# compare_one KIND I A B: one line of validation.tsv; sets CRC.
compare_one() {
	local kind=$1 i=$2 a=$3 b=$4 load regressed
	CRC=0
	"$ROOT/run.sh" compare --no-plots --md "$out/$kind-$i.md" "$a" "$b" >"$out/$kind-$i.txt" 2>&1 || CRC=$?
	load=$(cut -d' ' -f1 /proc/loadavg)
	regressed=$(sed -n 's/^REGRESSED: //p' "$out/$kind-$i.txt")
	printf '%s\t%d\t%d\t%s\t%s\n' "$kind" "$i" "$CRC" "$load" "$regressed" >>"$out/validation.tsv"
	printf '%s %2d: exit %d (load %s)%s\n' "$kind" "$i" "$CRC" "$load" "${regressed:+: $regressed}"
}

: >"$out/validation.tsv"
echo "validating run.sh compare with $test: baseline of $keep run(s), $pairs quiet runs, $slowed with a CPU hog; load $(cat /proc/loadavg)"
fa=0 det=0 bad=0
mkdir -p "$out/baseline"
for ((i = 0; i < keep; i++)); do
	one_run "$out/aa-$i"
	ln -sfn "../aa-$i" "$out/baseline/aa-$i"
done
# reference I: what run I is compared with.
reference() {
	if ((keep > 1)); then echo "$out/baseline"; else echo "$out/aa-$(($1 - 1))"; fi
}
for ((i = keep; i < keep + pairs; i++)); do
	one_run "$out/aa-$i"
	compare_one aa "$i" "$(reference "$i")" "$out/aa-$i"
	((CRC == 1)) && fa=$((fa + 1))
	((CRC == 2)) && bad=$((bad + 1))
done
for ((i = 1; i <= slowed; i++)); do
	one_run "$out/hog-$i" hog
	compare_one hog "$i" "$(reference $((keep + i)))" "$out/hog-$i"
	((CRC == 1)) && det=$((det + 1))
	((CRC == 2)) && bad=$((bad + 1))
done
echo
echo "false alarms (quiet runs flagged): $fa of $pairs"
echo "detections (CPU hog flagged): $det of $slowed"
((bad == 0)) || echo "comparisons that could not be made (exit 2): $bad"
echo "table: $table; details: $out/validation.tsv; load now $(cat /proc/loadavg)"

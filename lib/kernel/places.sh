#!/usr/bin/env bash
# places.sh: several kernel places in one call, booted concurrently.
# run-kernel.sh hands over to it when given more than one place (run.sh
# kernel --help; lib/kernel/README.md):
#
#   run.sh kernel --debian 6.1,6.12 [--kvm-patch P]... [--kvm-src D]... [-j N]
#                 [--place-timeout S] [--out DIR] [OPTIONS] [TESTS]
#   run.sh kernel --places FILE [-j N] [--place-timeout S] [--out DIR] [OPTIONS] [TESTS]
#
# Places of the command line: every --debian series crossed with every KVM
# variant (each --kvm-patch, each --kvm-src; "--kvm-patch none" is Debian's
# own KVM; no variant given = Debian's own KVM only), in that order.  Names:
# debian-SERIES, debian-SERIES+PATCH (its file name without .patch),
# debian-SERIES+src-DIR.  --places FILE: one place per line, "NAME |
# RUNNER-ARGS" (# comments; RUNNER-ARGS split at blanks, '...' and "..."
# quote, as xargs does; relative paths from the current directory).
# OPTIONS and TESTS go to every place.  --list-places prints the places
# (name, options) and boots nothing.
#
# -j N: places at a time (default: the number of CPUs; under TCG each guest
# takes one host CPU).  Every place first passes run-kernel.sh --check (bad
# input: exit 2, nothing booted), the test binaries are built once
# (make static, per guest arch) and each place runs with --no-build; Debian
# downloads and KVM module builds of one hash are serialized by their own
# locks (fetch-debian.sh, build-kvm-modules.sh), scratch folders are per
# place.  Each place runs in a process group of its own under its own
# timeouts (the runner's --boot-timeout/--timeout, and --place-timeout S
# for the whole place, build included; default none); SIGTERM/SIGINT/SIGHUP
# take every running place down (their runners take their QEMU down).
#
# Results: DIR (--out, new or empty; default results/<time>-places/):
#   NAME/        the place's results folder (run-kernel.sh --out)
#   NAME.log     its runner's output
#   summary.tsv  name, result (PASS FAIL ERROR TIMEOUT), exit, seconds,
#                tests (name:RESULT ...), verdict counts (value:N ...)
#   summary.txt  the same as a table
# A progress line per place as it starts and ends; "results: DIR" last.
# Exit: the worst place's (0 all passed, 1 a test or boot failed or a place
# timed out, 3 the environment failed, 2 bad input); 128+N on signal N.
# shellcheck disable=SC2178,SC2317 # argv: a nameref to each place's array; stop_all: from traps
set -euo pipefail
. "$(dirname "$0")/common.sh"
# shellcheck source=../run/outdir.sh
. "$REPO_ROOT/lib/run/outdir.sh"

RUNNER=$KERNEL_LIB_DIR/run-kernel.sh
jobs='' place_timeout=0 out='' places_file='' debians=() variants=() common=() list=0
while [ $# -gt 0 ]; do
	case $1 in
	--list-places) list=1; shift ;;
	-j | --jobs | --place-timeout | --out | --places | --debian | --kvm-patch | --kvm-src)
		[ $# -ge 2 ] || die 2 "option $1 needs a value"
		case $1 in
		-j | --jobs) jobs=$2 ;;
		--place-timeout) place_timeout=$2 ;;
		--out) out=$2 ;;
		--places) places_file=$2 ;;
		--debian) IFS=, read -r -a d <<<"$2" && debians+=("${d[@]}") ;;
		--kvm-patch) variants+=("patch:$2") ;;
		--kvm-src) variants+=("src:$2") ;;
		esac
		shift 2
		;;
	--) shift; common+=("$@"); break ;;
	*) common+=("$1"); shift ;;
	esac
done
[ -n "$jobs" ] || jobs=$(nproc)
case $jobs in '' | *[!0-9]* | 0) die 2 "-j wants a number of places at a time > 0, not '$jobs'" ;; esac
case $place_timeout in '' | *[!0-9]*) die 2 "--place-timeout wants seconds, not '$place_timeout'" ;; esac
[ -z "$places_file" ] || [ ${#debians[@]} -eq 0 ] ||
	die 2 "--places and --debian are exclusive (put the series in the places file)"
[ -z "$places_file" ] || [ ${#variants[@]} -eq 0 ] ||
	die 2 "--places and --kvm-patch/--kvm-src are exclusive (put them in the places file)"
for c in "${common[@]}"; do
	[ "$c" != --check ] || die 2 "--check is for one place"
done

# The place list: NAMES[i], and ARGV_i (an array per place).
NAMES=() PLACE_ERR=''
add_place() { # NAME ARGS...: fails with PLACE_ERR
	local name=$1 i
	shift
	if ! [[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9_.+-]*$ ]]; then
		PLACE_ERR="bad place name '$name' (letters, digits, _ . + -)"
		return 1
	fi
	for i in "${NAMES[@]}"; do
		[ "$i" != "$name" ] || { PLACE_ERR="place $name named twice"; return 1; }
	done
	NAMES+=("$name")
	declare -g -a "ARGV_${#NAMES[@]}"
	local -n argv="ARGV_${#NAMES[@]}"
	argv=("$@")
}

if [ -n "$places_file" ]; then
	[ -f "$places_file" ] || die 2 "no such places file: $places_file"
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		[[ $line == *"|"* ]] || die 2 "$places_file:$n: want 'NAME | RUNNER-ARGS'"
		name=$(echo "${line%%|*}" | xargs)
		# (xargs: the quoting rules of a shell word list, without eval)
		split=$(printf '%s\n' "${line#*|}" | xargs -r printf '%s\n' 2>/dev/null) ||
			die 2 "$places_file:$n: unbalanced quotes"
		words=()
		[ -z "$split" ] || mapfile -t words <<<"$split"
		add_place "$name" "${words[@]}" || die 2 "$places_file:$n: $PLACE_ERR"
	done <"$places_file"
	[ ${#NAMES[@]} -gt 0 ] || die 2 "$places_file names no place"
else
	[ ${#debians[@]} -gt 0 ] || die 2 "several places need --debian SERIES,SERIES... or --places FILE"
	[ ${#variants[@]} -gt 0 ] || variants=(patch:none)
	for s in "${debians[@]}"; do
		[ -n "$s" ] || die 2 "--debian: an empty series in the list"
		for v in "${variants[@]}"; do
			case $v in
			patch:none) add_place "debian-$s" --debian "$s" ;;
			patch:*) p=${v#patch:}; b=${p##*/}; add_place "debian-$s+${b%.patch}" --debian "$s" --kvm-patch "$p" ;;
			src:*) p=${v#src:}; p=${p%/}; add_place "debian-$s+src-${p##*/}" --debian "$s" --kvm-src "$p" ;;
			esac || die 2 "$PLACE_ERR"
		done
	done
fi
NP=${#NAMES[@]}
if [ $list = 1 ]; then
	for ((i = 1; i <= NP; i++)); do
		declare -n argv="ARGV_$i"
		printf '%s\t%s\n' "${NAMES[i - 1]}" "${argv[*]}"
		unset -n argv
	done
	exit 0
fi

# Every place's options, QEMU and tests, before anything is fetched or booted.
for ((i = 1; i <= NP; i++)); do
	declare -n argv="ARGV_$i"
	if ! err=$(IRQBENCH_PLACE=${NAMES[i - 1]} "$RUNNER" "${argv[@]}" "${common[@]}" --check 2>&1 >/dev/null); then
		die 2 "place ${NAMES[i - 1]}: $(printf '%s\n' "$err" | grep -m1 'error:' | sed 's/^[^:]*: error: //')"
	fi
	unset -n argv
done

if [ -n "$out" ]; then
	[ ! -e "$out" ] || [ -z "$(ls -A "$out" 2>/dev/null)" ] || die 2 "--out $out exists and is not empty"
	outdir_check_out "$out" || die 2 "$OUTDIR_ERR"
	out=$(realpath "$out")
else
	outdir_new "${IRQBENCH_RESULTS_ROOT:-$REPO_ROOT/results}" "$(date +%Y%m%d-%H%M%S)-places" || die 3 "$OUTDIR_ERR"
	out=$(realpath "$OUTDIR_NEW")
fi

# The test binaries, once per guest arch (places then run --no-build): two
# runners making the same tree at once would race.
no_build=0
for c in "${common[@]}"; do [ "$c" != --no-build ] || no_build=1; done
if [ $no_build = 0 ]; then
	declare -A karchs=()
	for ((i = 1; i <= NP; i++)); do
		declare -n argv="ARGV_$i"
		a=x86 prev=''
		for w in "${argv[@]}" "${common[@]}"; do
			[ "$prev" != --arch ] || case $w in arm64 | aarch64) a=arm64 ;; *) a=x86 ;; esac
			prev=$w
		done
		karchs[$a]=1
		unset -n argv
	done
	for a in "${!karchs[@]}"; do
		log "make ARCH=$a static"
		make -C "$REPO_ROOT" --no-print-directory ARCH="$a" static >&2 || die 2 "make ARCH=$a static failed"
	done
	common+=(--no-build)
fi

# Running places: PID (= its process group) -> index; start times.
declare -A RUNNING=() STARTED=() KILLED=()
stop_all() {
	local p i
	[ ${#RUNNING[@]} -gt 0 ] || return 0
	for p in "${!RUNNING[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
	for ((i = 0; i < 100; i++)); do
		for p in "${!RUNNING[@]}"; do kill -0 "$p" 2>/dev/null || unset "RUNNING[$p]"; done
		[ ${#RUNNING[@]} -gt 0 ] || break
		sleep 0.1
	done
	for p in "${!RUNNING[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	RUNNING=()
}
on_signal() {
	trap - "$1"
	echo "places.sh: stopped by SIG$1; places still running were stopped" >&2
	stop_all
	exit "$2"
}
trap stop_all EXIT
trap 'on_signal TERM 143' TERM
trap 'on_signal INT 130' INT
trap 'on_signal HUP 129' HUP

# finish PID RC: one summary line and the progress line of a place.
finish() {
	local pid=$1 rc=$2 i=${RUNNING[$1]} name result secs tests verdicts dir
	name=${NAMES[i - 1]}
	dir=$out/$name
	secs=$((SECONDS - STARTED[$pid]))
	case $rc in
	0) result=PASS ;;
	1) result=FAIL ;;
	*) result=ERROR ;;
	esac
	[ -z "${KILLED[$pid]:-}" ] || { result=TIMEOUT rc=1; }
	tests=$(awk -F '\t' '{ printf "%s%s:%s", sep, $1, $2; sep = " " }' "$dir/status.tsv" 2>/dev/null || true)
	verdicts=$(jq -r 'select(.metric == "verdict") | .value // "skipped"' "$dir/results.jsonl" 2>/dev/null |
		sort | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }' || true)
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$result" "$rc" "$secs" "$tests" "$verdicts" >"$out/.summary.$i"
	local why=''
	case $result in
	TIMEOUT) why=" (killed after --place-timeout ${place_timeout}s)" ;;
	FAIL | ERROR) why=" ($(grep -m1 'error:' "$out/$name.log" 2>/dev/null | sed 's/^[^:]*: error: //' || true))" ;;
	esac
	[ "$why" != " ()" ] || why=''
	echo "[$i/$NP] $name: $result in ${secs}s${why}${tests:+; $tests}${verdicts:+; verdicts $verdicts}"
	unset "RUNNING[$pid]"
	WORST_RC=$(worst "$WORST_RC" "$rc")
}
# worst A B: 0 < 1 < 3 < 2 (bad input is the worst: nothing it said holds).
worst() {
	local a=$1 b=$2 r
	for r in 2 3 1; do
		if [ "$a" = "$r" ] || [ "$b" = "$r" ]; then echo "$r"; return; fi
	done
	[ "$a" = 0 ] && [ "$b" = 0 ] && echo 0 || echo 1
}
reap() {
	local p rc
	for p in "${!RUNNING[@]}"; do
		if ! kill -0 "$p" 2>/dev/null; then
			rc=0
			wait "$p" || rc=$?
			finish "$p" "$rc"
		elif [ "$place_timeout" -gt 0 ] && [ -z "${KILLED[$p]:-}" ] &&
			((SECONDS - STARTED[$p] >= place_timeout)); then
			KILLED[$p]=1
			kill -TERM -- "-$p" 2>/dev/null || true
			( sleep 15; kill -KILL -- "-$p" 2>/dev/null ) &
		fi
	done
}

WORST_RC=0
echo "irqbench: $NP place(s), $jobs at a time, results in $out"
t0=$SECONDS
for ((i = 1; i <= NP; i++)); do
	while [ ${#RUNNING[@]} -ge "$jobs" ]; do
		reap
		[ ${#RUNNING[@]} -lt "$jobs" ] || sleep 0.3
	done
	declare -n argv="ARGV_$i"
	name=${NAMES[i - 1]}
	# setsid: a process group of its own (not a group leader here, so it
	# execs in place: the PID is the group's).
	IRQBENCH_PLACE=$name setsid "$RUNNER" "${argv[@]}" "${common[@]}" --quiet --out "$out/$name" \
		</dev/null >"$out/$name.log" 2>&1 &
	RUNNING[$!]=$i
	STARTED[$!]=$SECONDS
	echo "[$i/$NP] $name: started (${argv[*]})"
	unset -n argv
done
while [ ${#RUNNING[@]} -gt 0 ]; do
	reap
	[ ${#RUNNING[@]} -eq 0 ] || sleep 0.3
done

# In place order, whatever order they finished in.
for ((i = 1; i <= NP; i++)); do cat "$out/.summary.$i"; done >"$out/summary.tsv"
rm -f "$out"/.summary.*
{
	printf 'place\tresult\texit\tseconds\ttests\tverdicts\n'
	cat "$out/summary.tsv"
} | awk -F '\t' '{ printf "%-40s %-7s %-4s %-7s %s%s\n", $1, $2, $3, $4, $5, ($6 == "" ? "" : "; " $6) }' >"$out/summary.txt"
printf '%s places in %d s (-j %s)\n' "$NP" $((SECONDS - t0)) "$jobs" >>"$out/summary.txt"
cat "$out/summary.txt"
echo "results: $out"
exit "$WORST_RC"

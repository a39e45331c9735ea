# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# shellcheck disable=SC2034 # OUTDIR_ERR, OUTDIR_NEW: read by the callers
#
# Results folders (sourced by run.sh and lib/kernel/run-kernel.sh): the one
# allocator of run folders, the check of a user's --out, and appending a
# line that is either written whole or not at all.  Each function returns
# non-zero with the one-line reason in OUTDIR_ERR.

OUTDIR_ERR=

# outdir_new ROOT NAME: create ROOT/NAME, or ROOT/NAME-2, -3... when it
# exists (two runs started in the same second); mkdir without -p is the
# lock, so two runs never share a folder.  Sets OUTDIR_NEW to it.
OUTDIR_NEW=
outdir_new() {
	local root=$1 base=$1/$2 dir n=1 err
	if ! err=$(mkdir -p -- "$root" 2>&1); then
		OUTDIR_ERR="cannot create results directory $root: ${err##*: }"
		return 1
	fi
	dir=$base
	until err=$(mkdir -- "$dir" 2>&1); do
		if [[ ! -e $dir ]] || ((++n >= 100)); then
			OUTDIR_ERR="cannot create a run folder in $root: ${err##*: }"
			return 1
		fi
		dir=$base-$n
	done
	OUTDIR_NEW=$dir
}

# outdir_is_run DIR: a folder an irqbench run wrote (run.sh run writes
# status.tsv first; run-kernel.sh's guest sends one).
outdir_is_run() {
	[[ -f $1/status.tsv || -f $1/meta.json && -f $1/results.jsonl ]]
}

# outdir_check_out DIR: --out DIR may be a new folder, an empty one or an
# earlier run's; never a folder of other files (they would be mixed with
# or replaced by the run's).  It must be writable.  Creates it if missing.
outdir_check_out() {
	local dir=$1 err probe
	if [[ -e $dir && ! -d $dir ]]; then
		OUTDIR_ERR="--out $dir exists and is not a directory"
		return 1
	fi
	if [[ -d $dir && -n $(ls -A -- "$dir" 2>/dev/null) ]] && ! outdir_is_run "$dir"; then
		OUTDIR_ERR="--out $dir is not empty and not an irqbench run folder: refusing to write into it"
		return 1
	fi
	if ! err=$(mkdir -p -- "$dir" 2>&1); then
		OUTDIR_ERR="cannot create --out directory $dir: ${err##*: }"
		return 1
	fi
	if ! probe=$(mktemp "$dir/.irqbench-write-test.XXXXXX" 2>&1); then
		OUTDIR_ERR="cannot write in --out directory $dir: ${probe##*: }"
		return 1
	fi
	rm -f -- "$probe"
}

# outdir_append FILE LINE: append LINE and a newline in one write; when it
# cannot be written whole, cut FILE back to its old size (no torn last
# line).  "results folder full: ..." when the device is full.
outdir_append() {
	local file=$1 size err
	size=$(stat -c %s -- "$file" 2>/dev/null) || size=0
	if err=$({ printf '%s\n' "$2" >>"$file"; } 2>&1); then
		return 0
	fi
	truncate -s "$size" -- "$file" 2>/dev/null
	outdir_write_error "$file" "$err"
	return 1
}

# outdir_write_error FILE ERROR_TEXT: set OUTDIR_ERR for a failed write.
outdir_write_error() {
	local why=${2##*: }
	[[ -n $why ]] || why="write failed"
	if [[ $why == "No space left on device" || $why == "Disk quota exceeded" ]]; then
		OUTDIR_ERR="results folder full: cannot write $1: $why"
	else
		OUTDIR_ERR="cannot write $1: $why"
	fi
}

# outdir_replace FILE: stdin -> FILE.tmp, then renamed over FILE, so a
# reader sees the old FILE or the whole new one, never a cut one.
outdir_replace() {
	local err
	if err=$({ cat >"$1.tmp"; } 2>&1) && err=$(mv -f -- "$1.tmp" "$1" 2>&1); then
		return 0
	fi
	rm -f -- "$1.tmp"
	outdir_write_error "$1" "$err"
	return 1
}

# outdir_cut_partial FILE: a writer cut short (e.g. by a full disk) left a
# last line without its newline: cut it off, so what came before stays
# readable.
outdir_cut_partial() {
	local size tail
	[[ -s $1 && $(tail -c1 -- "$1" | od -An -tx1 | tr -d ' ') != 0a ]] || return 0
	size=$(stat -c %s -- "$1") && tail=$(tail -n1 -- "$1" | wc -c) &&
		truncate -s $((size - tail)) -- "$1"
}

# outdir_full DIR: no free block left on DIR's file system.
outdir_full() {
	local avail
	avail=$(stat -f -c %a -- "$1" 2>/dev/null) || return 1
	[[ $avail == 0 ]]
}

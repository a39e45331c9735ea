# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Recording results and printing tables (sourced by run.sh).
#
# status.tsv (schema: lib/run/status.sh): one line per finished test,
# appended the moment it finishes; seconds with one decimal.  summary.txt is
# made from status.tsv, so the two cannot disagree.

# record_result TAG TEST RESULT RC ELAPSED_US REASON: append the status line
# and print the progress line, "[1/3] name ... PASS (12.3s)".  A test whose
# records may not all be on disk (the folder filled up under it) is no PASS;
# a status line that cannot be written whole is not written, and
# RESULTS_LOST says why (the run then stops).
record_result() {
	local tag=$1 t=$2 result=$3 rc=$4 secs reason
	secs=$(fmt_secs "$5")
	reason=$(one_line "$6")
	if [[ $result == PASS ]] && { outdir_full "$OUT" ||
		grep -q '^irqbench: results folder full:' "$OUT/$t.log" 2>/dev/null; }; then
		result=FAIL reason="results folder full: its records may be incomplete"
	fi
	outdir_cut_partial "$OUT/results.jsonl"
	if ! outdir_append "$OUT/status.tsv" "$(status_line "$t" "$result" "$rc" "$secs" "$reason")"; then
		RESULTS_LOST=${RESULTS_LOST:-$OUTDIR_ERR}
	elif outdir_full "$OUT"; then
		RESULTS_LOST=${RESULTS_LOST:-"results folder full: no space left in $OUT after $t"}
	fi
	printf '%s ... %s (%ss)%s\n' "$tag" "$result" "$secs" "${reason:+: $reason}"
}

# format_table: TSV on stdin -> aligned columns (the last one unpadded).
format_table() {
	awk -F'\t' '
	{
		nf[NR] = NF
		for (i = 1; i <= NF; i++) {
			c[NR, i] = $i
			if (i < NF && length($i) > w[i]) w[i] = length($i)
		}
	}
	END {
		for (r = 1; r <= NR; r++) {
			line = ""
			for (i = 1; i <= nf[r]; i++)
				line = line (i < nf[r] ? sprintf("%-" w[i] "s  ", c[r, i]) : c[r, i])
			sub(/ +$/, "", line)
			print line
		}
	}'
}

# summary_text STATUS_TSV: the results table and "N passed, N failed, N skipped".
summary_text() {
	{
		printf 'test\tresult\tseconds\treason\n'
		awk -F'\t' -v OFS='\t' '{ print $1, $2, $4, $5 }' "$1"
	} | format_table
	awk -F'\t' '{ n[$2]++ }
		END { printf "%d passed, %d failed, %d skipped\n", n["PASS"], n["FAIL"], n["SKIP"] }' "$1"
}

# write_summary OUTDIR [NOTE]: print the summary and write it to
# OUTDIR/summary.txt (whole or not at all: OUTDIR_ERR says why not).
write_summary() {
	local text
	text=$(
		summary_text "$1/status.tsv"
		[[ -z ${2-} ]] || printf '%s\n' "$2"
	)
	printf '\n%s\n' "$text"
	outdir_replace "$1/summary.txt" <<<"$text"
}

# any_failed OUTDIR
any_failed() {
	awk -F'\t' '$2 == "FAIL" { f = 1 } END { exit !f }' "$1/status.tsv"
}

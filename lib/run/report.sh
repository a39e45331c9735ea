# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Recording results and printing tables (sourced by run.sh).
#
# status.tsv (schema: lib/run/status.sh): one line per finished test,
# appended the moment it finishes; seconds with one decimal.  summary.txt is
# made from status.tsv, so the two cannot disagree.

# record_result TAG TEST RESULT RC ELAPSED_US REASON: append the status line
# and print the progress line, "[1/3] name ... PASS (12.3s)".
record_result() {
	local tag=$1 t=$2 result=$3 rc=$4 secs reason
	secs=$(fmt_secs "$5")
	reason=$(one_line "$6")
	status_line "$t" "$result" "$rc" "$secs" "$reason" >>"$OUT/status.tsv"
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

# write_summary OUTDIR [NOTE]: write OUTDIR/summary.txt and print it.
write_summary() {
	{
		summary_text "$1/status.tsv"
		[[ -z ${2-} ]] || printf '%s\n' "$2"
	} >"$1/summary.txt"
	printf '\n'
	cat "$1/summary.txt"
}

# any_failed OUTDIR
any_failed() {
	awk -F'\t' '$2 == "FAIL" { f = 1 } END { exit !f }' "$1/status.tsv"
}

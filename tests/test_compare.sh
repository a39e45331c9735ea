#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of run.sh compare, plot and the nightly baseline (lib/report/,
# lib/plot/): two synthetic results folders with planted differences
# (tests/fixtures/compare/make_runs.py) must be judged exactly as planted;
# a run against itself flags nothing; bad input exits 2 naming the file and
# line; plots are drawn (gnuplot, set up here); `run.sh run
# --save-baseline/--baseline` with fake tests.  No KVM, no timing: ~5 s.
# Exit: 0 all passed, 1 a check failed.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HERE%/tests}
RUN=$ROOT/run.sh
FIX=$ROOT/tests/fixtures/compare

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_compare.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export IRQBENCH_TABLE=$FIX/tests.cfg
export IRQBENCH_RESULTS_ROOT=$TMP/results

# shellcheck source=tests/tap.sh
source "$HERE/tap.sh"
# gnuplot (build), shellcheck (check): a missing tool is a failure.
set_up build check

runsh() {
	RC=0
	"$RUN" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}
lines() {
	wc -l <"$1" | tr -d ' '
}

# expect_rows MD EXPECT WHAT: every "label<TAB>result" of EXPECT is the
# result column of that metric's row in the markdown MD.
expect_rows() {
	local label want got bad=0
	while IFS=$'\t' read -r label want; do
		got=$("$PYTHON" - "$1" "$label" <<'PY'
import sys
rows = [l.strip().strip("|").split(" | ") for l in open(sys.argv[1]) if l.startswith("| ")]
hdr = None
for r in rows:
    r = [c.strip() for c in r]
    if r[0] == "metric":
        hdr = r
        continue
    if r[0] == sys.argv[2].replace("|", "\\|"):
        print(r[hdr.index("result")])
        break
PY
		)
		if [[ $got != "$want" ]]; then
			not_ok "planted: $label is '$want'" "the markdown says '$got'"
			bad=1
		fi
	done <"$2"
	((bad)) || ok "planted: all $(lines "$2") metrics judged as planted ($3)"
}

# The statistics themselves (lib/report/significance.py), against values
# worked out by hand and against a brute-force bootstrap (fixed seeds).
test_significance() {
	check "Mann-Whitney: exact p, normal approximation, ties, all equal" \
		"$PYTHON" -B - "$ROOT/lib/report" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from significance import mann_whitney
u, p = mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
assert u == 0 and abs(p - 2 / 252) < 1e-12, (u, p)      # 2 of C(10,5) orderings
u, p = mann_whitney([1, 2, 3], [1, 2, 3])
assert p == 1.0, p                                       # ties: normal approx
u, p = mann_whitney([5] * 30, [5] * 30)
assert p == 1.0, p
a = list(range(100)); b = [x + 50 for x in range(100)]
u, p = mann_whitney(a, b)
assert u == 1250 and 1e-21 < p < 1e-18, (u, p)           # 1225 pairs + 50 ties / 2; z ~ 9.1
PY
	check "bootstrap: the O(1) quantile replicate matches resampling" \
		"$PYTHON" -B - "$ROOT/lib/report" <<'PY'
import random, statistics, sys
sys.path.insert(0, sys.argv[1])
from significance import _boot_quantile, percentile
r = random.Random(7)
for n, q in ((101, 0.5), (100, 0.5), (400, 0.99)):
    s = sorted(r.expovariate(1) for _ in range(n))
    brute = [percentile(sorted(r.choices(s, k=n)), q * 100) for _ in range(3000)]
    rng = random.Random(8)
    fast = [_boot_quantile(rng, s, q) for _ in range(3000)]
    mb, mf = statistics.mean(brute), statistics.mean(fast)
    sb, sf = statistics.stdev(brute), statistics.stdev(fast)
    assert abs(mb - mf) < 0.1 * sb and abs(sb - sf) < 0.15 * sb, (n, q, mb, mf, sb, sf)
PY
	check "bootstrap: the delta's interval agrees with scipy.stats.bootstrap's (resampling)" \
		"$PYTHON" -B - "$ROOT/lib/report" <<'PY'
import sys
import numpy as np
from scipy import stats
sys.path.insert(0, sys.argv[1])
from significance import bootstrap_delta
rng = np.random.default_rng(11)
for n, q, shift in ((300, 0.5, 0.1), (2000, 0.5, 0.0), (2000, 0.9, 0.3)):
    a, b = np.sort(rng.exponential(1, n)), np.sort(rng.exponential(1, n) + shift)
    (lo, hi), _ = bootstrap_delta(a.tolist(), b.tolist(), 3, q=q)
    ref = stats.bootstrap((a, b), lambda x, y, axis=-1: np.quantile(y, q, axis=axis) - np.quantile(x, q, axis=axis),
                          method="percentile", n_resamples=4000, vectorized=True, batch=200,
                          random_state=np.random.default_rng(4)).confidence_interval
    w = ref.high - ref.low
    assert abs(lo - ref.low) < 0.15 * w and abs(hi - ref.high) < 0.15 * w, (n, q, lo, hi, ref)
PY
}

test_planted_differences() {
	"$PYTHON" "$FIX/make_runs.py" "$TMP/syn" || {
		not_ok "make_runs.py"
		return
	}
	runsh compare "$TMP/syn/A" "$TMP/syn/B"
	check_eq "planted regressions: exit 1" "$RC" 1
	check "no stderr" test ! -s "$TMP/err"
	expect_rows "$TMP/syn/B/compare.md" "$TMP/syn/expect.tsv" \
		"regressed, improved, noise, within floor, unjudged"
	local flagged
	flagged=$(sed -n 's/^REGRESSED: //p' "$TMP/out" | tr ';' '\n' | sed 's/^ //' | sort | tr '\n' '|')
	check_eq "terminal: exactly the planted regressions" "$flagged" \
		"synth c_stale exits|synth fit slope|synth rate throughput|synth scan latency [source=ipi vcpus=8]|synth slower latency|synth tail tail_latency|synth v_worse verdict|"
	check "terminal: verdict changes come first" \
		awk '/^Verdict and text changes/ { v = NR } /^Sample metrics/ { s = NR } END { exit !(v && s && v < s) }' "$TMP/out"
	check "a metric A had and B lacks is shown first" \
		awk '/^MISSING from B \(1 metric/ { m = NR } /^Verdict and text changes/ { v = NR } END { exit !(m && v && m < v) }' "$TMP/out"
	check "summary: missing-from-B/only-in-B and undeclared counted" \
		grep -qx '24 metrics compared: 7 regressed, 3 improved, 1 verdicts unchanged; 1 missing from B; 1 only in B; 1 without a metric.\* entry in tests.cfg (shown, not judged)' "$TMP/out"
	check "markdown: written into RUN_B" grep -q '^# irqbench compare: B vs A' "$TMP/syn/B/compare.md"
	cp "$TMP/syn/B/compare.md" "$TMP/first.md"
	runsh compare --no-plots "$TMP/syn/A" "$TMP/syn/B"
	check "reproducible: same table twice (fixed bootstrap seed)" cmp -s "$TMP/first.md" "$TMP/syn/B/compare.md"

	runsh compare --no-plots "$TMP/syn/A" "$TMP/syn/A"
	check_eq "a run against itself: exit 0" "$RC" 0
	check "a run against itself: nothing regressed" grep -q "^25 metrics compared: 0 regressed, 0 improved" "$TMP/out"

	# A baseline of three runs that disagree: B must clear their spread.
	runsh compare --no-plots "$TMP/syn/set" "$TMP/syn/setB"
	check_eq "baseline of 3 runs: exit 1" "$RC" 1
	expect_rows "$TMP/syn/setB/compare.md" "$TMP/syn/expect_set.tsv" "against the runs' spread"
	check "baseline of 3 runs: the floor shows the runs' spread" \
		grep -q '| synth noisy latency .*| 5% (runs [0-9.]*%) | ~ |' "$TMP/syn/setB/compare.md"
	check "baseline of 3 runs: described as such" grep -q '^A: .*/set (3 runs, newest: r3' "$TMP/out"

	# Reversed: what regressed now improved, and the reverse.
	runsh compare --no-plots "$TMP/syn/B" "$TMP/syn/A"
	check_eq "reversed: exit 1 (c_fewer, faster, v_better now regress)" "$RC" 1
	check "reversed: faster latency regressed" grep -q '^REGRESSED: .*synth faster latency' "$TMP/out"
}

test_bad_input() {
	local d=$TMP/syn
	runsh compare "$d/A" "$TMP/nope"
	check "missing folder: exit 2, one line naming it" \
		test "$RC" = 2 -a "$(lines "$TMP/err")" = 1 -a ! -s "$TMP/out"
	check "missing folder: names it" grep -q "$TMP/nope: no such results folder" "$TMP/err"

	mkdir -p "$TMP/corrupt"
	head -n 2 "$d/B/results.jsonl" >"$TMP/corrupt/results.jsonl"
	printf '{"test":"synth","metric":"exits","value":\n' >>"$TMP/corrupt/results.jsonl"
	runsh compare "$d/A" "$TMP/corrupt"
	check_eq "corrupt JSON: exit 2" "$RC" 2
	check "corrupt JSON: one line, FILE:LINE" grep -q "^run.sh compare: $TMP/corrupt/results.jsonl:3: bad JSON" "$TMP/err"

	mkdir -p "$TMP/other"
	printf '{"test":"other","metric":"m","value":1}\n' >"$TMP/other/results.jsonl"
	runsh compare "$d/A" "$TMP/other"
	check "no common metrics: exit 2" test "$RC" = 2 -a "$(lines "$TMP/err")" = 1
	check "no common metrics: says so" grep -q 'no common metrics' "$TMP/err"

	mkdir -p "$TMP/empty"
	: >"$TMP/empty/results.jsonl"
	# An empty reference is bad input; an empty B lacks every metric of A
	# (a failure of B: tests/test_results_folder.sh).
	runsh compare "$TMP/empty" "$d/A"
	check "empty results.jsonl (A, the reference): exit 2" test "$RC" = 2 -a "$(lines "$TMP/err")" = 1
	check "empty results.jsonl (A): says 'no records'" grep -q 'no records' "$TMP/err"
	runsh compare --no-plots "$d/A" "$TMP/empty"
	check_eq "empty results.jsonl (B): exit 1, every metric of A missing" "$RC" 1

	runsh compare "$d/A"
	check "one folder: exit 2, usage hint" test "$RC" = 2 -a "$(lines "$TMP/err")" = 1
	runsh compare --bogus "$d/A" "$d/B"
	check_eq "unknown option: exit 2" "$RC" 2

	printf '[t]\nprogram = x\nmetric.m = faster\n' >"$TMP/bad.cfg"
	RC=0
	IRQBENCH_TABLE=$TMP/bad.cfg "$RUN" compare "$d/A" "$d/B" >"$TMP/out" 2>"$TMP/err" || RC=$?
	check "bad metric entry in the table: exit 2 naming FILE:LINE" \
		grep -q "$TMP/bad.cfg:3: metric.m must be" "$TMP/err"
}

test_plots() {
	if ! command -v gnuplot >/dev/null; then
		not_ok "compare plots, run.sh plot" "gnuplot missing after set-up (build group)"
		return
	fi
	local c=$TMP/syn/B/plots/compare f missing=''
	for f in delta.png delta.svg "cdf-synth_slower_latency.png" "cdf-synth_slower_latency.svg"; do
		[[ -s $c/$f ]] || missing+=" $f"
	done
	check_eq "compare: delta bars and CDF overlays, PNG + SVG" "${missing:-none}" none
	runsh plot "$TMP/syn/B"
	check_eq "run.sh plot: exit 0" "$RC" 0
	missing=''
	for f in latency_cdf latency_vs_vcpus exits; do
		[[ -s $TMP/syn/B/plots/synth.$f.png && -s $TMP/syn/B/plots/synth.$f.svg ]] || missing+=" $f"
	done
	check_eq "run.sh plot: the table's cdf, series and bars plots" "${missing:-none}" none
	# The series plot: p99 against vcpus, one line per source.
	check_eq "series data: 2 lines (source=ipi, source=timer)" \
		"$(grep -c '^"' "$TMP/syn/B/plots/synth.latency_vs_vcpus.dat")" 2
	runsh plot "$TMP/nope"
	check_eq "run.sh plot: missing folder, exit 2" "$RC" 2
}

# run.sh run --save-baseline / --baseline with the fake test program.
test_nightly_baseline() {
	local base=$TMP/results/baselines
	cat >"$TMP/nightly.cfg" <<'CFG'
[pass]
program = fake/irqtest
profiles = nightly
timeout = 10
args = --mode pass --tag nightly
metric.fake = lower
CFG
	: >"$TMP/kvm"
	export IRQBENCH_DEVKVM=$TMP/kvm IRQBENCH_BUILD=$ROOT/tests/fixtures/run/bin
	RC=0
	IRQBENCH_TABLE=$TMP/nightly.cfg "$RUN" run --profile nightly --out "$TMP/n1" \
		--save-baseline good >"$TMP/out" 2>"$TMP/err" || RC=$?
	check_eq "--save-baseline: exit 0" "$RC" 0
	check "--save-baseline: stored under results/baselines/NAME/RUN" test -s "$base/good/n1/results.jsonl"
	IRQBENCH_TABLE=$TMP/nightly.cfg "$RUN" run --profile nightly --out "$TMP/n0" \
		--save-baseline good >/dev/null 2>&1
	check_eq "--save-baseline twice: a baseline of 2 runs" \
		"$(find "$base/good" -name results.jsonl | wc -l | tr -d ' ')" 2
	IRQBENCH_BASELINE_KEEP=1 IRQBENCH_TABLE=$TMP/nightly.cfg "$RUN" run --profile nightly \
		--out "$TMP/n00" --save-baseline one >/dev/null 2>&1
	IRQBENCH_BASELINE_KEEP=1 IRQBENCH_TABLE=$TMP/nightly.cfg "$RUN" run --profile nightly \
		--out "$TMP/n01" --save-baseline one >/dev/null 2>&1
	check_eq "IRQBENCH_BASELINE_KEEP=1: only the newest run kept" "$(ls "$base/one")" n01

	RC=0
	IRQBENCH_TABLE=$TMP/nightly.cfg "$RUN" run --profile nightly --out "$TMP/n2" \
		--baseline good >"$TMP/out" 2>"$TMP/err" || RC=$?
	check_eq "--baseline NAME, same results: exit 0" "$RC" 0
	check "--baseline: compare ran" grep -q '^1 metrics compared: 0 regressed' "$TMP/out"
	check "--baseline: compare.md in the new run" test -s "$TMP/n2/compare.md"

	# A baseline where the metric was lower: the new run regressed.
	mkdir -p "$TMP/lower"
	sed 's/"value":1/"value":0/' "$base/good/n1/results.jsonl" >"$TMP/lower/results.jsonl"
	RC=0
	IRQBENCH_TABLE=$TMP/nightly.cfg "$RUN" run --profile nightly --out "$TMP/n3" \
		--baseline "$TMP/lower" >"$TMP/out" 2>"$TMP/err" || RC=$?
	check_eq "--baseline with a regression: exit 1" "$RC" 1
	check "--baseline with a regression: flagged" grep -q '^REGRESSED: pass fake' "$TMP/out"

	RC=0
	IRQBENCH_TABLE=$TMP/nightly.cfg "$RUN" run --profile nightly --baseline nosuch \
		>"$TMP/out" 2>"$TMP/err" || RC=$?
	check "--baseline unknown: exit 2 before running" \
		test "$RC" = 2 -a ! -s "$TMP/out" -a "$(lines "$TMP/err")" = 1
}

test_shellcheck() {
	if ! command -v shellcheck >/dev/null; then
		not_ok "shellcheck" "missing after set-up (check group)"
		return
	fi
	# From the top: "# shellcheck source=tests/tap.sh" is relative.
	local log
	if log=$(cd "$ROOT" && shellcheck -x run.sh lib/run/python.sh \
		lib/report/validate_compare.sh tests/tap.sh tests/test_compare.sh tests/test_fixes.sh 2>&1); then
		ok "shellcheck: run.sh, validation, these tests"
	else
		not_ok "shellcheck: run.sh, validation, these tests" "$log"
	fi
}

test_significance
test_planted_differences
test_bad_input
test_plots
test_nightly_baseline
test_shellcheck

tap_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# report.html in a real browser: the synthetic runs of tests/fixtures/compare
# (plots declared, verdict records, a planted regression), drawn with
# run.sh plot, judged with run.sh compare (which writes B/report.html),
# rendered by headless Chromium.  A probe script added to a copy of the page
# (the report itself has none) reads what the browser laid out: every
# declared plot and compare plot is an inline SVG with drawn paths and a
# visible, non-empty box; every verdict record of results.jsonl shows in
# its variant's row; the regression is listed first.  The screenshot stays
# in $IRQBENCH_BUILD/check/test_report_html/.  Then the same for the page a
# real `make run` leaves (this host's quick profile; SKIP without /dev/kvm):
# every verdict record in its row, every plot the run drew on the page and
# drawn; its screenshot is kept too; and that folder exports (run.sh export
# --junit, --kcidb: tests/export_valid.sh).  The browser (the browser
# group of lib/build/packages.list) is installed here, not by make check:
# SKIP only when it cannot be installed (issue 16: a machine whose archive
# has no chromium still runs the rest of the suite).  ~15 s, and make run
# (~20 s).
# Exit: 0 all passed, 1 a check or the set-up failed, 4 no browser.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HERE%/tests}
RUN=$ROOT/run.sh
FIX=$ROOT/tests/fixtures/compare
OUTDIR=${IRQBENCH_BUILD:-$ROOT/build}/check/test_report_html

# shellcheck source=tests/tap.sh
source "$HERE/tap.sh"
# shellcheck source=tests/export_valid.sh
source "$HERE/export_valid.sh"
set_up build
if ! why=$("$ROOT/lib/build/setup.sh" browser 2>&1); then
	skip_all "chromium cannot be installed: $why"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_report_html.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export IRQBENCH_TABLE=$FIX/tests.cfg IRQBENCH_RESULTS_ROOT=$TMP/results
mkdir -p "$OUTDIR"

"$PYTHON" "$FIX/make_runs.py" "$TMP/syn" >/dev/null
B=$TMP/syn/B
printf 'synth\tPASS\t0\t1.0\t\n' >"$B/status.tsv"
"$RUN" plot "$B" >"$TMP/plot.out" 2>&1
check_eq "run.sh plot: exit 0" "$?" 0
"$RUN" compare "$TMP/syn/A" "$B" >"$TMP/compare.out" 2>&1
check_eq "run.sh compare: exit 1 (planted regressions)" "$?" 1
check "run.sh compare wrote B/report.html" grep -qx "report: $B/report.html" "$TMP/compare.out"
# self_contained FILE: no script, style sheet, image or frame to fetch.
# shellcheck disable=SC2317 # called through check
self_contained() {
	! grep -qiE '<script|<link|<img|<iframe|src=|url\((http|//)|href="(http|//)' "$1"
}
check "self-contained: no script, no fetch from elsewhere" self_contained "$B/report.html"

# probe PAGE OUT: a copy of PAGE that writes the rendered page's facts as
# JSON into <pre id=probe>.
probe() {
	python3 - "$1" "$2" <<'PY'
import sys
page = open(sys.argv[1]).read()
probe = """<pre id="probe"></pre><script>
const out = {plots: [], verdicts: [], regressed_first: null};
for (const fig of document.querySelectorAll("figure[data-plot]")) {
  const svg = fig.querySelector("svg"), r = svg ? svg.getBoundingClientRect() : null;
  const st = svg ? getComputedStyle(svg) : null;
  const drawn = svg ? [...svg.querySelectorAll("path")].filter(p => { const b = p.getBBox(); return b.width > 0 || b.height > 0; }).length : 0;
  out.plots.push({name: fig.dataset.plot, svg: !!svg, w: r ? r.width : 0, h: r ? r.height : 0,
                  visible: !!st && st.display != "none" && st.visibility == "visible" && st.opacity > 0, drawn});
}
for (const tr of document.querySelectorAll(".verdicts tr[data-variant]"))
  out.verdicts.push({test: tr.closest(".verdicts").dataset.test, variant: tr.dataset.variant,
                     text: tr.innerText, shown: tr.getBoundingClientRect().height > 0});
const h = [...document.querySelectorAll("h3")].map(x => x.id);
out.regressed_first = h.indexOf("regressions");
const reg = document.querySelector("#regressions + table");
out.regressions = reg ? [...reg.querySelectorAll("tr")].slice(1).map(tr => tr.cells[1].innerText) : [];
document.getElementById("probe").textContent = JSON.stringify(out);
</script>"""
open(sys.argv[2], "w").write(page.replace("</body>", probe + "</body>"))
PY
}
probe "$B/report.html" "$TMP/probe.html"

chrome() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$TMP/profile-$1" --window-size=1280,2000 "${@:2}" 2>>"$TMP/chrome.err"
}
chrome dom --dump-dom "file://$TMP/probe.html" >"$TMP/dom.html"
check "chromium rendered the page (--dump-dom)" grep -q '<pre id="probe">{' "$TMP/dom.html"
rm -f "$OUTDIR/report.png"
chrome shot --screenshot="$OUTDIR/report.png" "file://$B/report.html" >/dev/null
check "screenshot kept: $OUTDIR/report.png" test -s "$OUTDIR/report.png"

PYTHONPATH=$HERE python3 -B - "$TMP/dom.html" "$B" "$FIX/tests.cfg" <<'PY'
import html, json, os, re, sys
from tap import check, done
dom, b, cfg = sys.argv[1:4]
m = re.search(r'<pre id="probe">(.*?)</pre>', open(dom).read(), re.S)
probe = json.loads(html.unescape(m.group(1)))
declared = ["synth." + l.split("=")[0].strip()[5:] for l in open(cfg) if l.startswith("plot.")]
compare = ["compare/" + f[:-4] for f in os.listdir(f"{b}/plots/compare") if f.endswith(".svg")]
shown = {p["name"]: p for p in probe["plots"]}
check(sorted(shown) == sorted(declared + compare),
      f"every declared plot ({len(declared)}) and compare plot ({len(compare)}) is on the page")
bad = [n for n, p in shown.items() if not (p["svg"] and p["visible"] and p["w"] > 300 and p["h"] > 150 and p["drawn"] > 5)]
check(not bad, f"every plot is an inline SVG, visible, at least 300x150 px, with drawn paths (not: {bad})")
rows = {(v["test"], v["variant"]): v for v in probe["verdicts"]}
want = [json.loads(l) for l in open(f"{b}/results.jsonl")]
want = [(r["test"], r.get("variant") or "results", r["value"]) for r in want if r["metric"] == "verdict"]
missing = [w for w in want if not ((w[0], w[1]) in rows and rows[(w[0], w[1])]["shown"]
                                   and f"verdict={w[2]}" in rows[(w[0], w[1])]["text"])]
check(want and not missing, f"the verdict table shows all {len(want)} verdict records of results.jsonl (missing: {missing})")
check(probe["regressed_first"] == 0, "the comparison's regressions come first")
regressed = json.load(open(f"{b}/compare.json"))["regressed"]
check(sorted(probe["regressions"]) == sorted(regressed) and len(regressed) == 7,
      f"the regressions table lists the {len(regressed)} regressed metrics")
done()
PY
check_eq "browser checks" "$?" 0

# ---- a real make run ---------------------------------------------------------
# The page make run leaves, from this host's own tests (tests.cfg, quick):
# every verdict record in its row, every plot the run drew inline and drawn.
if [ ! -c "${IRQBENCH_DEVKVM:-/dev/kvm}" ]; then
	skip "make run's report.html" "no /dev/kvm"
	tap_done
fi
(unset IRQBENCH_TABLE && IRQBENCH_RESULTS_ROOT=$TMP/real make -s -C "$ROOT" run) >"$TMP/make-run.out" 2>&1
echo "# make run: exit $? (a FAIL of a test is the run's own; the page must show it)"
R=$(find "$TMP/real" -mindepth 2 -maxdepth 2 -name report.html -printf '%h\n' | head -n 1)
check "make run wrote RUN/report.html" test -n "$R"
if [ -n "$R" ]; then
	check "make run's page is self-contained" self_contained "$R/report.html"
	probe "$R/report.html" "$TMP/probe-real.html"
	chrome real --dump-dom "file://$TMP/probe-real.html" >"$TMP/dom-real.html"
	chrome realshot --screenshot="$OUTDIR/make-run.png" "file://$R/report.html" >/dev/null
	check "screenshot kept: $OUTDIR/make-run.png" test -s "$OUTDIR/make-run.png"
	PYTHONPATH=$HERE python3 -B - "$TMP/dom-real.html" "$R" <<'PY'
import html, json, os, re, sys
from tap import check, done
dom, r = sys.argv[1:3]
m = re.search(r'<pre id="probe">(.*?)</pre>', open(dom).read(), re.S)
check(m, "chromium rendered make run's page")
probe = json.loads(html.unescape(m.group(1))) if m else {"plots": [], "verdicts": []}
drawn = sorted(f[:-4] for f in os.listdir(f"{r}/plots") if f.endswith(".svg")) if os.path.isdir(f"{r}/plots") else []
shown = {p["name"]: p for p in probe["plots"]}
check(drawn and sorted(shown) == drawn, f"every plot the run drew ({len(drawn)}) is on the page (page: {sorted(shown)})")
bad = [n for n, p in shown.items() if not (p["svg"] and p["visible"] and p["w"] > 300 and p["h"] > 150 and p["drawn"] > 5)]
check(not bad, f"every plot is an inline SVG, visible, at least 300x150 px, with drawn paths (not: {bad})")
rows = {(v["test"], v["variant"]): v for v in probe["verdicts"]}
want = [json.loads(l) for l in open(f"{r}/results.jsonl")]
want = [(x["test"], x.get("variant") or "results", x.get("value")) for x in want if x["metric"] == "verdict"]
missing = [w for w in want if not ((w[0], w[1]) in rows and rows[(w[0], w[1])]["shown"]
                                   and f"verdict={'skipped' if w[2] is None else w[2]}" in rows[(w[0], w[1])]["text"])]
check(want and not missing, f"the verdict table shows all {len(want)} verdict records of make run's results.jsonl (missing: {missing})")
done()
PY
	check_eq "browser checks of make run's page" "$?" 0
	export_valid "$R" "make run's folder"
fi
tap_done

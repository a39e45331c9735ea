#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""run.sh compare RUN_A RUN_B: does B differ from A, and is it worse?

For every metric present in both runs (same test, variant, metric, params):
  samples  medians, delta %, bootstrap 95% CI of the delta, Mann-Whitney p
  counts   the exact difference
  text     verdict changes, listed first
Judged by the test table's metric.NAME entries (direction and noise floor).
A sample metric regressed when p < ALPHA and the whole CI lies beyond the
floor on the worse side; a count when it moved beyond the floor to the worse
side; a text value when it moved down its declared order.

Prints the table, writes it as Markdown to RUN_B/compare.md, draws plots in
RUN_B/plots/compare/.  Exit: 1 a metric regressed, 0 none, 2 bad input.
"""

import json
import os
import sys
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from records import BadInput, ROOT, load, metric_rules, rule_for  # noqa: E402
from significance import bootstrap_delta, mann_whitney, percentile  # noqa: E402
import plots  # noqa: E402
import html_report  # noqa: E402

ALPHA = 0.01
LEVEL = 0.95
MAX_CDF_PLOTS = 24

USAGE = """usage: run.sh compare [--md FILE] [--no-plots] RUN_A RUN_B
  RUN_A is the reference (baseline), RUN_B the run judged.  Each is a results
  folder, or a name under results/ or results/baselines/.
  --md FILE    write the Markdown table to FILE (default RUN_B/compare.md)
  --no-plots   no gnuplot plots
Exit: 1 a metric regressed significantly beyond its floor, or a metric of A
is missing from B (shown first: a crashed or cut-short run, or a B with no
records at all), 0 none, 2 bad input.  A last line cut short (no newline)
is dropped with a warning; bad JSON anywhere else is bad input."""


def die(msg):
    print(f"run.sh compare: {msg}", file=sys.stderr)
    sys.exit(2)


def resolve(arg):
    root = os.environ.get("IRQBENCH_RESULTS_ROOT") or os.path.join(ROOT, "results")
    for p in (arg, os.path.join(root, arg), os.path.join(root, "baselines", arg)):
        if os.path.isdir(p):
            return p
    raise BadInput(f"{arg}: no such results folder")


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v != v:
        return "nan"
    a = abs(v)
    if a >= 1e6 or (a and a < 1e-3):
        return f"{v:.3g}"
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4g}" if a < 100 else f"{v:.1f}"


def fmt_pct(v):
    return "-" if v is None else f"{v:+.1f}%"


def fmt_p(p):
    if p is None or p != p:
        return "-"
    if p < 1e-16:
        return "<1e-16"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


class Row:
    def __init__(self, a, b, rule):
        self.a, self.b, self.rule = a, b, rule
        self.label = b.label()
        self.result = ""
        self.delta = self.pct = self.p = None
        self.ci = self.ci_pct = None
        self.note = ""
        self.floor_text = rule.floor_text()

    def regressed(self):
        return self.result == "REGRESSED"


def worse_sign(rule):
    return 1 if rule.kind == "lower" else -1


def run_spread(m, pct, stat=50.0):
    """How far A's runs stray from A (a baseline of several runs): the
    largest distance of one run's statistic (the STAT percentile of its
    samples, or its value) from the pooled one, in % of it or absolute.
    0 for a single run."""
    if getattr(m, "run_samples", None):
        meds = [percentile(sorted(x), stat) for x in m.run_samples]
        c = percentile(sorted(m.samples), stat)
    else:
        meds = getattr(m, "run_medians", None)
        c = m.median()
    if not meds or len(meds) < 2:
        return 0.0
    far = max(abs(x - c) for x in meds)
    if pct:
        return far / abs(c) * 100 if c else 0.0
    return far


def floor_of(r):
    """The floor a change must clear: the table's, or A's run-to-run spread
    where that is wider.  Sets r.floor_text for the table."""
    rule = r.rule
    spread = run_spread(r.a, rule.floor_pct, rule.stat)
    r.floor_text = rule.floor_text()
    if spread > rule.floor:
        r.floor_text += f" (runs {spread:.3g}{'%' if rule.floor_pct else ''})"
    return max(rule.floor, spread)


def beyond(r, lo, hi, lo_pct, hi_pct, sign):
    """True when the whole interval lies beyond the floor on side SIGN."""
    if r.rule.floor_pct:
        if lo_pct is None:
            return False
        lo, hi = lo_pct, hi_pct
    floor = floor_of(r)
    return lo > floor if sign > 0 else hi < -floor


def judge_samples(r):
    rule = r.rule
    a = sorted(r.a.samples)
    b = sorted(r.b.samples)
    r.va, r.vb = percentile(a, rule.stat), percentile(b, rule.stat)
    r.delta = r.vb - r.va
    r.pct = r.delta / abs(r.va) * 100 if r.va else None
    _, r.p = mann_whitney(a, b)
    seed = zlib.crc32(r.label.encode())
    r.ci, r.ci_pct = bootstrap_delta(a, b, seed, level=LEVEL, q=rule.stat / 100)
    if not (r.a.timing_comparable and r.b.timing_comparable):
        r.result = "not judged"
        r.note = "timing_comparable=false (emulated)"
        return
    if rule.kind not in ("lower", "higher"):
        r.result = "~" if r.p >= ALPHA else "changed"
        r.note = "no direction in tests.cfg" if rule.kind == "none" else ""
        return
    # Medians: Mann-Whitney must agree.  A tail percentile can move while
    # the bulk (all Mann-Whitney sees) does not: its bootstrap CI decides.
    sig = r.p < ALPHA if rule.stat == 50 else True
    lo, hi = r.ci
    lp, hp = r.ci_pct if r.ci_pct else (None, None)
    s = worse_sign(rule)
    if sig and beyond(r, lo, hi, lp, hp, s):
        r.result = "REGRESSED"
    elif sig and beyond(r, lo, hi, lp, hp, -s):
        r.result = "improved"
    else:
        r.result = "~"
        floor_of(r)
        if sig:
            r.note = f"within floor {r.floor_text}"


def judge_count(r):
    va, vb = r.a.value, r.b.value
    r.delta = vb - va
    r.pct = r.delta / abs(va) * 100 if va else None
    rule = r.rule
    if r.delta == 0:
        r.result = "="
        return
    if rule.kind not in ("lower", "higher"):
        r.result = "changed"
        r.note = "no direction in tests.cfg" if rule.kind == "none" else rule.kind
        return
    floor = floor_of(r)
    if rule.floor_pct:
        floor = abs(va) * floor / 100
    moved = r.delta * worse_sign(rule)
    if moved > floor:
        r.result = "REGRESSED"
    elif -moved > floor:
        r.result = "improved"
    else:
        r.result = "~"
        r.note = f"within floor {r.floor_text}"


def judge_estimate(r):
    """Estimates with intervals (fitted slopes): regressed when B's interval
    lies wholly on the worse side of A's and the move exceeds the floor."""
    va, vb = r.a.value, r.b.value
    r.delta = vb - va
    r.pct = r.delta / abs(va) * 100 if va else None
    rule = r.rule
    if not (r.a.timing_comparable and r.b.timing_comparable):
        r.result, r.note = "not judged", "timing_comparable=false (emulated)"
        return
    if rule.kind not in ("lower", "higher"):
        r.result = "=" if r.delta == 0 else "changed"
        r.note = "no direction in tests.cfg" if rule.kind == "none" else rule.kind
        return
    floor = floor_of(r)
    if rule.floor_pct:
        floor = abs(va) * floor / 100
    s = worse_sign(rule)
    (al, ah), (bl, bh) = r.a.ci, r.b.ci
    if (bl > ah if s > 0 else bh < al) and r.delta * s > floor:
        r.result = "REGRESSED"
    elif (bh < al if s > 0 else bl > ah) and -r.delta * s > floor:
        r.result = "improved"
    else:
        r.result = "~"


def judge_text(r):
    va, vb = r.a.value, r.b.value
    if va == vb:
        r.result = "="
        return
    order = r.rule.order if r.rule.kind == "order" else []
    if va in order and vb in order:
        r.result = "REGRESSED" if order.index(vb) > order.index(va) else "improved"
    else:
        r.result = "changed"
        r.note = "not judged: " + ("value not in its order" if order else "no order in tests.cfg")
    if r.b.reason:
        r.note = (r.note + "; " if r.note else "") + r.b.reason


def compare(run_a, run_b, rules):
    common = [k for k in run_b.metrics if k in run_a.metrics]
    only_a = [k for k in run_a.metrics if k not in run_b.metrics]
    only_b = [k for k in run_b.metrics if k not in run_a.metrics]
    # B without a single record (every test crashed, the run was cut
    # short) lacks all of A: a failure of B, not bad input.
    if not common and run_b.metrics:
        raise BadInput(f"no common metrics between {run_a.path} and {run_b.path}")
    rows = {"text": [], "samples": [], "estimate": [], "count": [], "other": []}
    for k in sorted(common):
        a, b = run_a.metrics[k], run_b.metrics[k]
        r = Row(a, b, rule_for(rules, b))
        if a.kind == b.kind == "samples":
            judge_samples(r)
            rows["samples"].append(r)
        elif a.kind == b.kind == "estimate":
            judge_estimate(r)
            rows["estimate"].append(r)
        elif a.kind == b.kind and a.kind in ("count", "summary"):
            judge_count(r)
            if a.kind == "summary":
                r.result, r.note = "not judged", "old record without raw samples"
            rows["count"].append(r)
        elif a.kind == b.kind == "text":
            judge_text(r)
            rows["text"].append(r)
        else:
            r.result = "not compared"
            r.note = f"{a.kind} in A, {b.kind} in B"
            if b.kind == "skipped" and b.reason:
                r.note += f" ({b.reason})"
            rows["other"].append(r)
    return rows, only_a, only_b


def tables(rows):
    """[(heading, header, [cells])] in display order."""
    out = []
    changed = [r for r in rows["text"] if r.result != "="]
    if changed:
        out.append(("Verdict and text changes", ["metric", "A", "B", "result", "note"],
                    [[r.label, r.a.value, r.b.value, r.result, r.note] for r in changed]))
    same = [r for r in rows["text"] if r.result == "="]
    if same:
        out.append(("Verdicts and text values, unchanged", ["metric", "A", "B", "result", "note"],
                    [[r.label, r.a.value, r.b.value, r.result, ""] for r in same]))
    if rows["samples"]:
        out.append(("Sample metrics (stat: p50 = median unless tests.cfg says; CI: bootstrap %d%% of the "
                    "delta; p: Mann-Whitney U)" % (LEVEL * 100),
                    ["metric", "unit", "n A/B", "stat", "A", "B", "delta", "CI", "p", "floor", "result", "note"],
                    [[r.label, r.b.unit or "", f"{len(r.a.samples)}/{len(r.b.samples)}", f"p{r.rule.stat:g}",
                      fmt(r.va), fmt(r.vb), fmt_pct(r.pct) if r.pct is not None else fmt(r.delta),
                      (f"{r.ci_pct[0]:+.1f}%..{r.ci_pct[1]:+.1f}%" if r.ci_pct else f"{fmt(r.ci[0])}..{fmt(r.ci[1])}"),
                      fmt_p(r.p), r.floor_text, r.result, r.note] for r in rows["samples"]]))
    if rows["estimate"]:
        out.append(("Estimates (value and its interval, as recorded)",
                    ["metric", "unit", "A", "A interval", "B", "B interval", "delta", "floor", "result", "note"],
                    [[r.label, r.b.unit or "", fmt(r.a.value), f"{fmt(r.a.ci[0])}..{fmt(r.a.ci[1])}",
                      fmt(r.b.value), f"{fmt(r.b.ci[0])}..{fmt(r.b.ci[1])}",
                      fmt_pct(r.pct) if r.pct is not None else fmt(r.delta),
                      r.floor_text, r.result, r.note] for r in rows["estimate"]]))
    if rows["count"]:
        out.append(("Counts (exact difference)",
                    ["metric", "unit", "A", "B", "diff", "floor", "result", "note"],
                    [[r.label, r.b.unit or "", fmt(r.a.value), fmt(r.b.value),
                      ("+" if r.delta > 0 else "") + fmt(r.delta)
                      + (f" ({r.pct:+.1f}%)" if r.pct is not None and r.delta else ""),
                      r.floor_text, r.result, r.note] for r in rows["count"]]))
    if rows["other"]:
        out.append(("Not compared", ["metric", "A", "B", "note"],
                    [[r.label, r.a.kind, r.b.kind, r.note] for r in rows["other"]]))
    return out


def text_table(header, cells):
    rows = [header] + [[str(c) for c in row] for row in cells]
    w = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for r in rows:
        lines.append("  ".join(c.ljust(w[i]) if i < len(r) - 1 else c for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


def md_table(header, cells):
    def esc(c):
        return str(c).replace("|", "\\|") or " "

    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in cells]
    return "\n".join(lines)


def summary(rows, only_a, only_b):
    allr = [r for v in rows.values() for r in v]
    n = {}
    for r in allr:
        n[r.result] = n.get(r.result, 0) + 1
    undeclared = sum(1 for r in allr if r.rule.kind == "none")
    s = (f"{len(allr)} metrics compared: {n.get('REGRESSED', 0)} regressed, "
         f"{n.get('improved', 0)} improved, {len([r for r in rows['text'] if r.result == '='])} "
         f"verdicts unchanged")
    extra = []
    if only_a:
        extra.append(f"{len(only_a)} missing from B")
    if only_b:
        extra.append(f"{len(only_b)} only in B")
    if undeclared:
        extra.append(f"{undeclared} without a metric.* entry in tests.cfg (shown, not judged)")
    return s + ("; " + "; ".join(extra) if extra else "")


def short_labels(metrics):
    """Bar labels: the test and metric only where they differ between the
    bars, the variant, and only the params whose values differ."""
    def varies(f):
        return len({f(m) for m in metrics}) > 1

    keys = sorted({k for m in metrics for k in m.params})
    keys = [k for k in keys if varies(lambda m, k=k: str(m.params.get(k)))]
    out = []
    for m in metrics:
        bits = [m.test] if varies(lambda m: m.test) else []
        bits.append(m.variant)
        if varies(lambda m: m.name):
            bits.append(m.name)
        bits += [f"{k}={m.params[k]}" for k in keys if k in m.params]
        out.append(" ".join(b for b in bits if b))
    return out


def draw(rows, run_b):
    """Comparison plots: delta bars with CIs, CDF overlays (flagged first)."""
    samples = rows["samples"]
    if not samples:
        return []
    d = os.path.join(run_b.path, "plots", "compare")
    os.makedirs(d, exist_ok=True)
    msgs = []
    names = short_labels([r.b for r in samples])
    bars = [(names[i], r.pct, r.ci_pct[0], r.ci_pct[1])
            for i, r in enumerate(samples) if r.ci_pct and r.pct is not None]
    err = plots.bars(os.path.join(d, "delta"), bars,
                     "delta B vs A (each metric's stat), %d%% bootstrap CI" % (LEVEL * 100), "delta %",
                     errors=True)
    if err:
        msgs.append(err)
    rank = {"REGRESSED": 0, "improved": 1}
    for r in sorted(samples, key=lambda r: rank.get(r.result, 2))[:MAX_CDF_PLOTS]:
        err = plots.cdf(os.path.join(d, "cdf-" + plots.slug(r.label)),
                        [("A " + r.a_run, r.a.samples), ("B " + r.b_run, r.b.samples)],
                        f"{r.label}: {r.result or '~'}", r.b.unit)
        if err:
            msgs.append(err)
    if len(samples) > MAX_CDF_PLOTS:
        msgs.append(f"CDF overlays for the first {MAX_CDF_PLOTS} of {len(samples)} sample metrics")
    return msgs


def main(argv):
    md = None
    draw_plots = True
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(USAGE)
            return 0
        if a == "--md":
            if i + 1 >= len(argv):
                die("option --md needs a file")
            md = argv[i + 1]
            i += 2
            continue
        if a == "--no-plots":
            draw_plots = False
        elif a.startswith("-"):
            die(f"unknown option '{a}' (try 'run.sh compare --help')")
        else:
            args.append(a)
        i += 1
    if len(args) != 2:
        die("needs two results folders: RUN_A RUN_B (try 'run.sh compare --help')")
    try:
        # A torn last line (a run cut short) is dropped with a warning; B
        # may hold no records at all: then every metric of A is missing.
        run_a = load(resolve(args[0]), torn_ok=True)
        run_b = load(resolve(args[1]), empty_ok=True, torn_ok=True)
        rules = metric_rules()
        rows, only_a, only_b = compare(run_a, run_b, rules)
    except BadInput as e:
        die(str(e))
    for r in (x for v in rows.values() for x in v):
        r.a_run, r.b_run = run_a.name, run_b.name
    for w in run_a.warnings + run_b.warnings:
        print(f"run.sh compare: warning: {w}", file=sys.stderr)

    head = [f"A: {run_a.path} ({run_a.describe()})", f"B: {run_b.path} ({run_b.describe()})"]
    tabs = tables(rows)
    summ = summary(rows, only_a, only_b)
    regressed = [r for v in rows.values() for r in v if r.regressed()]

    # What A had and B lacks is B's failure (a test crashed, the run was
    # cut short): shown first, and it fails the comparison.
    missing = [run_a.metrics[k].label() for k in only_a]
    print("\n".join(head))
    if missing:
        print(f"\nMISSING from B ({len(missing)} metric(s) that A has):")
        print("\n".join("  " + m for m in missing[:20]))
        if len(missing) > 20:
            print(f"  ... and {len(missing) - 20} more (see the markdown)")
    for title, header, cells in tabs:
        # The terminal shows what moved and is judged; compare.md has all.
        res = header.index("result") if "result" in header else None
        shown = [c for c in cells if res is None or (c[res] != "=" and c[-1] != "info")]
        if not shown:
            print(f"\n{title}: {len(cells)} unchanged or info only (see the markdown)")
            continue
        hidden = len(cells) - len(shown)
        print(f"\n{title}:" + (f" ({hidden} unchanged or info rows: see the markdown)" if hidden else ""))
        print(text_table(header, shown))
    print()
    if missing:
        print(f"MISSING: {len(missing)} metric(s) of A not in B")
    if regressed:
        print("REGRESSED: " + "; ".join(r.label for r in regressed))
    print(summ)

    md_path = md or os.path.join(run_b.path, "compare.md")
    try:
        write_md(md_path, run_a, run_b, head, missing, tabs, summ, regressed)
    except OSError as e:
        die(f"cannot write {md_path}: {e.strerror}")
    print(f"markdown: {md_path}")
    # The same tables for RUN_B/report.html (lib/report/html_report.py).
    with open(os.path.join(run_b.path, "compare.json"), "w") as f:
        json.dump({"head": head, "summary": summ, "regressed": [r.label for r in regressed],
                   "tables": [{"title": t, "header": h, "cells": c} for t, h, c in tabs]}, f, default=str)

    if draw_plots:
        msgs = draw(rows, run_b)
        if rows["samples"]:
            where = os.path.join(run_b.path, "plots", "compare")
            print(f"plots: {where}" + (f" ({'; '.join(sorted(set(msgs)))})" if msgs else ""))
    if os.path.exists(os.path.join(run_b.path, "status.tsv")):
        try:
            print(f"report: {html_report.write(run_b.path, torn_ok=True)}")
        except (BadInput, OSError) as e:
            print(f"run.sh compare: warning: no report.html: {e}", file=sys.stderr)
    return 1 if regressed or missing else 0


def write_md(md_path, run_a, run_b, head, missing, tabs, summ, regressed):
    """compare.md, whole or not at all (temp file, then rename)."""
    with open(md_path + ".tmp", "w") as f:
        f.write(f"# irqbench compare: {run_b.name} vs {run_a.name}\n\n")
        f.write("\n".join(f"- {h}" for h in head) + "\n")
        if missing:
            f.write(f"\n## MISSING from B\n\n{len(missing)} metric(s) that A has:\n\n")
            f.write("".join(f"- `{m}`\n" for m in missing))
        for title, header, cells in tabs:
            f.write(f"\n## {title}\n\n{md_table(header, cells)}\n")
        f.write(f"\n{summ}\n")
        if regressed:
            f.write("\n**Regressed:** " + "; ".join(f"`{r.label}`" for r in regressed) + "\n")
    os.replace(md_path + ".tmp", md_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""run.sh report RUN: RUN/report.html, one self-contained page of a run.

The run's meta (kernel, host, KVM module and parameters, load), the result
of each test, its verdict table (one row per variant, lib/report/cases.py:
the KTAP result and the verdict records), each plot tests.cfg declares
(inlined SVG from RUN/plots/) next to the numbers it draws, the fixes table
(lib/report/fixes.py), and, when run.sh compare has judged RUN against a
reference (RUN/compare.json), the comparison with regressions first.  No
script, no style sheet or image from elsewhere: it reads the same from a CI
artifact store, a mail attachment or a laptop without network.

Exit: 0 written, 2 bad input.
"""

import html
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from records import BadInput, Run, table_keys  # noqa: E402
import cases  # noqa: E402
import fixes  # noqa: E402

USAGE = """usage: run.sh report RUN
  Writes RUN/report.html: meta, verdicts per test and variant, plots with
  their numbers, fixes, and the comparison run.sh compare made (if any)."""

VERDICT_METRICS = ("verdict", "control")

STYLE = """
body { font: 14px/1.4 sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #111; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.PASS, .present, .improved { background: #dfd; } .FAIL, .ERROR, .absent, .REGRESSED { background: #fcc; }
.SKIP, .TODO { background: #ffd; } .DONE { background: #eef; }
.plotrow { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; margin: 1em 0; }
.plotrow figure { flex: 1 1 640px; max-width: 900px; margin: 0; }
.plotrow figure svg { width: 100%; height: auto; display: block; border: 1px solid #ddd; background: #fff; }
.plotrow .numbers { flex: 1 1 400px; max-height: 600px; overflow: auto; }
figcaption { font-size: .9em; color: #444; }
.missing { color: #a00; }
code { font-size: .95em; }
"""


def esc(v):
    return html.escape("" if v is None else str(v), quote=True)


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.6g}"
    return str(v)


def table(header, rows, cls=None, attrs=None):
    """An HTML table; ROWS of cells (numbers right-aligned); CLS(row) gives
    a row's class, ATTRS(row) its data- attributes."""
    out = ["<table>"]
    if any(header):
        out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
    for r in rows:
        c = f' class="{esc(cls(r))}"' if cls and cls(r) else ""
        a = "".join(f' data-{k}="{esc(v)}"' for k, v in (attrs(r) if attrs else {}).items())
        cells = "".join(f'<td class="num">{esc(fmt(x))}</td>' if isinstance(x, (int, float)) and not isinstance(x, bool)
                        else f"<td>{esc(x)}</td>" for x in r)
        out.append(f"<tr{c}{a}>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


_svg_seq = [0]


def inline_svg(path, label):
    """The SVG file as markup to inline: no XML prolog, its ids prefixed so
    that several plots on one page keep their own markers."""
    with open(path, encoding="utf-8", errors="replace") as f:
        svg = f.read()
    svg = svg[svg.find("<svg"):]
    _svg_seq[0] += 1
    p = f"p{_svg_seq[0]}-"
    svg = re.sub(r"""\bid=(['"])""", lambda m: f"id={m.group(1)}{p}", svg)
    svg = re.sub(r"""(href=['"])#""", lambda m: f"{m.group(1)}#{p}", svg)
    svg = re.sub(r"url\(#", f"url(#{p}", svg)
    return svg.replace("<svg", f'<svg class="plot" role="img" aria-label="{esc(label)}"', 1)


def meta_section(run):
    m = run.meta
    load = (m.get("host_load") or {}).get("raw")
    runner = m.get("kernel_runner") or {}
    rows = [
        ("kernel", f"{m.get('kernel_release') or '?'} {m.get('kernel_version') or ''}".strip()),
        ("date", m.get("date")), ("profile", m.get("profile")),
        ("host", f"{m.get('hostname') or '?'}: {m.get('cpu_model') or '?'}, {m.get('ncpus') or '?'} CPUs"
                 + (", in a VM" if m.get("hypervisor") else "")),
        ("KVM module", m.get("kvm_vendor")), ("load", load),
        ("irqbench", m.get("irqbench_version")), ("built against", m.get("ksrc_version")),
        ("timing comparable", "no (emulated: times are emulation cost)" if m.get("timing_comparable") is False else None),
        ("kernel runner", ", ".join(f"{k}={v}" for k, v in runner.items() if v not in (None, "")) or None),
        ("command line", m.get("cmdline")),
    ]
    out = ['<h2 id="meta">Run</h2>', table(["", ""], [r for r in rows if r[1] not in (None, "")])]
    mods = m.get("kvm_modules") or {}
    if mods:
        out.append("<details><summary>KVM module parameters</summary>")
        for mod, params in mods.items():
            out.append(f"<h3>{esc(mod)}</h3>")
            out.append(table(["parameter", "value"], sorted((params or {}).items())))
        out.append("</details>")
    return "\n".join(out)


def summary_section(run, suites):
    rows = [(s.test, s.status, s.seconds if s.seconds is not None else "", s.reason) for s in suites]
    n = {k: sum(1 for s in suites if s.status == k) for k in ("PASS", "FAIL", "SKIP")}
    line = f"{n['PASS']} passed, {n['FAIL']} failed, {n['SKIP']} skipped"
    return "\n".join([f'<p id="verdict-line"><b>{esc(line)}</b></p>',
                      table(["test", "result", "seconds", "reason"], rows, cls=lambda r: r[1],
                            attrs=lambda r: {"test": r[0]})])


def verdict_text(c):
    """The case's verdict records: "value" or "value [params]; ..."."""
    vs = [m for m in c.metrics if m.name in VERDICT_METRICS and m.kind in ("text", "skipped")]
    return "; ".join(f"{m.name}={m.value if m.kind == 'text' else 'skipped'}" + (f" [{m.params_str}]" if m.params_str else "")
                     for m in vs)


def plot_numbers(run, test, metric):
    """The rows a plot draws: one per record of METRIC."""
    rows = []
    for m in run.metrics.values():
        if m.test != test or m.name != metric:
            continue
        d = cases.numbers(m)
        if d is None:
            continue
        rows.append((m.variant, m.params_str, d.get("n", ""), d.get("p50", d.get("value", "")),
                     d.get("p90", ""), d.get("p99", ""), d.get("max", ""), m.unit or ""))
    return rows


def plots_of(run, test, declared):
    out = []
    for name, spec in sorted(declared.items()):
        w = spec.split()
        metric = w[1] if len(w) > 1 else ""
        rows = plot_numbers(run, test, metric)
        if not rows:
            skipped = [m for m in run.metrics.values() if m.test == test and m.name == metric and m.kind == "skipped"]
            if skipped:
                out.append(f'<p class="note">{esc(test)}.{esc(name)}: nothing to draw, {esc(metric)} skipped: '
                           f'{esc(skipped[0].reason or "no reason")}</p>')
            continue  # nothing recorded to draw (skipped metric, other arch)
        svg = os.path.join(run.path, "plots", f"{test}.{name}.svg")
        caption = f"{test}.{name}: {spec}"
        if os.path.exists(svg):
            fig = f'<figure data-plot="{esc(test)}.{esc(name)}">{inline_svg(svg, caption)}<figcaption>{esc(caption)}</figcaption></figure>'
        else:
            fig = (f'<figure data-plot="{esc(test)}.{esc(name)}" class="missing"><p>not drawn: '
                   f'{esc(os.path.relpath(svg, run.path))} is missing (plot.log says why)</p></figure>')
        nums = table(["variant", "params", "n", "p50 / value", "p90", "p99", "max", "unit"], rows)
        out.append(f'<div class="plotrow">{fig}<div class="numbers">{nums}</div></div>')
    return out


def test_section(run, s, declared):
    out = [f'<h2 id="test-{esc(s.test)}">{esc(s.test)}: <span class="{esc(s.status)}">{esc(s.status)}</span></h2>']
    if s.reason:
        out.append(f"<p>{esc(s.reason)}</p>")
    rows = [(c.name, c.status, verdict_text(c), c.reason) for c in s.cases]
    out.append(f'<div class="verdicts" data-test="{esc(s.test)}">'
               + table(["variant", "result", "verdict records", "reason / note"], rows, cls=lambda r: r[1],
                       attrs=lambda r: {"variant": r[0]}) + "</div>")
    out += plots_of(run, s.test, declared)
    metrics = [(c.name, cases.metric_key(m), d.get("n", ""), d.get("p50", d.get("value", "")), d.get("p99", ""),
                m.unit or "") for c in s.cases for m in c.metrics if (d := cases.numbers(m)) is not None]
    if metrics:
        out.append(f"<details><summary>All {len(metrics)} numeric metrics of {esc(s.test)}</summary>")
        out.append(table(["variant", "metric", "n", "p50 / value", "p99", "unit"], metrics))
        out.append("</details>")
    return "\n".join(out)


def fixes_section(run):
    try:
        fx = fixes.read_fixes()
    except (BadInput, OSError) as e:
        return f'<h2 id="fixes">Known fixes</h2><p class="missing">{esc(e)}</p>'
    rows = []
    for f in fx:
        state, why = fixes.judge(f, run)
        rows.append((f["name"], f["seed"], state, f"{f['test']} {f['metric']}: {why}", f["upstream"]))
    return '<h2 id="fixes">Known fixes (lib/fixes.tsv)</h2>\n' + table(
        ["fix", "seed", "state", "evidence / reason", "upstream"], rows, cls=lambda r: r[2].split()[0])


def compare_section(run):
    p = os.path.join(run.path, "compare.json")
    if not os.path.exists(p):
        return ""
    try:
        with open(p) as f:
            c = json.load(f)
    except ValueError as e:
        return f'<h2 id="compare">Comparison</h2><p class="missing">{esc(p)}: bad JSON: {esc(e)}</p>'
    out = ['<h2 id="compare">Comparison with the reference</h2>', "<ul>"]
    out += [f"<li>{esc(h)}</li>" for h in c.get("head", [])]
    out += ["</ul>", f"<p><b>{esc(c.get('summary', ''))}</b></p>"]
    tabs = c.get("tables", [])
    regressed = []
    for t in tabs:
        hdr = t["header"]
        if "result" in hdr:
            ri = hdr.index("result")
            regressed += [[t["title"].split(" (")[0]] + row for row in t["cells"] if row[ri] == "REGRESSED"]
    out.append('<h3 id="regressions">Regressions</h3>')
    if regressed:
        width = max(len(r) for r in regressed)
        out.append(table(["table", "metric"] + [""] * (width - 2), [r + [""] * (width - len(r)) for r in regressed],
                         cls=lambda r: "REGRESSED"))
    else:
        out.append("<p>none</p>")
    for t in tabs:
        hdr = t["header"]
        cells = t["cells"]
        ri = hdr.index("result") if "result" in hdr else None
        if ri is not None:
            rank = {"REGRESSED": 0, "improved": 1}
            cells = sorted(cells, key=lambda r: rank.get(r[ri], 2))
        out.append(f"<h3>{esc(t['title'])}</h3>")
        out.append(table(hdr, cells, cls=(lambda r, ri=ri: r[ri]) if ri is not None else None))
    d = os.path.join(run.path, "plots", "compare")
    if os.path.isdir(d):
        svgs = sorted(f for f in os.listdir(d) if f.endswith(".svg"))
        svgs.sort(key=lambda f: (f != "delta.svg", f))
        for f in svgs:
            out.append(f'<div class="plotrow"><figure data-plot="compare/{esc(f[:-4])}">'
                       f'{inline_svg(os.path.join(d, f), f[:-4])}<figcaption>{esc(f[:-4])}</figcaption></figure></div>')
    return "\n".join(out)


def render(run):
    suites = cases.suites(run)
    declared = table_keys("plot")
    title = f"irqbench {run.name}: {run.meta.get('kernel_release') or ''}"
    toc = " · ".join(f'<a href="#test-{esc(s.test)}">{esc(s.test)}</a>' for s in suites)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p>{toc} · <a href="#fixes">fixes</a>'
        + (' · <a href="#compare">comparison</a>' if os.path.exists(os.path.join(run.path, "compare.json")) else "")
        + "</p>",
        summary_section(run, suites),
        compare_section(run),
        meta_section(run),
    ]
    parts += [test_section(run, s, declared.get(s.test, {})) for s in suites]
    parts.append(fixes_section(run))
    parts.append(f"<p><small>{esc(run.path)}</small></p></body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def write(path, torn_ok=False):
    """Write PATH/report.html; returns its path.  Raises BadInput.
    torn_ok: a torn last line is left out (the caller has warned of it)."""
    run = Run(path, need_records=False, torn_ok=torn_ok)
    if not run.status:
        raise BadInput(f"{os.path.join(run.path, 'status.tsv')}: missing (not a finished run?)")
    out = os.path.join(run.path, "report.html")
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write(render(run))
    os.replace(out + ".tmp", out)
    return out


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    bad = [a for a in argv if a.startswith("-")]
    if bad:
        print(f"run.sh report: unknown option '{bad[0]}' (try 'run.sh report --help')", file=sys.stderr)
        return 2
    if len(argv) != 1:
        print("run.sh report: needs one results folder (try 'run.sh report --help')", file=sys.stderr)
        return 2
    try:
        print(f"report: {write(argv[0])}")
    except BadInput as e:
        print(f"run.sh report: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"run.sh report: cannot write {argv[0]}/report.html: {e.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""run.sh plot RUN: (re)draw every plot the test table declares (plot.NAME
entries of the tests in RUN) from RUN's records, into RUN/plots/ as
TEST.NAME.{png,svg} plus the .dat file gnuplot read.

Exit: 0 drawn (or nothing declared), 2 bad input, 4 gnuplot missing (data
files still written).
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from records import BadInput, Run, table_keys  # noqa: E402
from significance import percentile  # noqa: E402
import plots  # noqa: E402

USAGE = """usage: run.sh plot RUN
  Draws the plots tests.cfg declares (plot.NAME = cdf|series|bars ...) for
  the tests in RUN, into RUN/plots/TEST.NAME.{png,svg}."""


def die(msg):
    print(f"run.sh plot: {msg}", file=sys.stderr)
    sys.exit(2)


def stat(m, which):
    """A metric's STAT (p50 p90 p99 min max mean value), or None."""
    if m.kind == "samples":
        s = sorted(m.samples)
        if which == "mean":
            return sum(s) / len(s)
        if which == "min":
            return s[0]
        if which == "max":
            return s[-1]
        if which in ("value", "p50"):
            return percentile(s, 50)
        return percentile(s, float(which[1:]))
    if m.kind in ("count", "summary", "estimate"):
        return m.value
    return None


def line_title(m, drop=()):
    bits = [m.variant] if m.variant else []
    bits += [f"{k}={v}" for k, v in sorted(m.params.items()) if k not in drop]
    return " ".join(bits) or m.name


def series_of(m):
    """The line a record of a series belongs to: its variant less a last
    token that only restates a param's value (halt_wakeup's
    "ipi.rr.poll-on.p2.m64" with vcpus=64 is on line "ipi.rr.poll-on.p2")."""
    head, _, last = m.variant.rpartition(".")
    d = re.fullmatch(r"[a-z]+([0-9]+)", last)
    if head and d and any(isinstance(v, (int, float)) and not isinstance(v, bool) and v == int(d.group(1))
                          for v in m.params.values()):
        return head
    return m.variant


def draw(run, test, name, spec):
    w = spec.split()
    kind, metric = w[0], w[1]
    recs = [m for m in run.metrics.values() if m.test == test and m.name == metric]
    out = os.path.join(run.path, "plots", f"{test}.{name}")
    unit = next((m.unit for m in recs if m.unit), "")
    if kind == "cdf":
        lines = [(line_title(m), m.samples) for m in recs if m.kind == "samples"]
        return plots.cdf(out, lines, f"{test}: {metric} CDF", f"{metric} ({unit})" if unit else metric)
    if kind == "series":
        st, xparam = w[2], w[4]
        by = w[6] if len(w) > 6 else None
        lines = {}
        for m in recs:
            x, y = m.params.get(xparam), stat(m, st)
            if not isinstance(x, (int, float)) or y is None:
                continue
            key = " ".join(filter(None, [series_of(m), f"{by}={m.params.get(by)}" if by else ""])) or metric
            lines.setdefault(key, []).append((float(x), float(y)))
        return plots.series(out, sorted(lines.items()), f"{test}: {metric} {st} vs {xparam}",
                            xparam, f"{metric} {st}" + (f" ({unit})" if unit else ""))
    if kind == "bars":
        st = w[2] if len(w) > 2 else "value"
        rows = [(line_title(m), stat(m, st), None, None) for m in recs]
        rows = [r for r in rows if r[1] is not None]
        return plots.bars(out, rows, f"{test}: {metric}" + (f" {st}" if st != "value" else ""),
                          metric + (f" ({unit})" if unit else ""))
    return f"unknown plot kind {kind}"


def main(argv):
    args = [a for a in argv if not a.startswith("-")]
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    bad = [a for a in argv if a.startswith("-")]
    if bad:
        die(f"unknown option '{bad[0]}' (try 'run.sh plot --help')")
    if len(args) != 1:
        die("needs one results folder (try 'run.sh plot --help')")
    try:
        run = Run(args[0])
        decl = table_keys("plot")
    except BadInput as e:
        die(str(e))
    tests = sorted({m.test for m in run.metrics.values()})
    os.makedirs(os.path.join(run.path, "plots"), exist_ok=True)
    drawn = 0
    missing_gnuplot = not plots.have_gnuplot()
    for t in tests:
        for name, spec in sorted(decl.get(t, {}).items()):
            err = draw(run, t, name, spec)
            where = os.path.join(run.path, "plots", f"{t}.{name}")
            if err and err != "gnuplot not found":
                print(f"plot {t}.{name}: {err}")
            elif not err:
                drawn += 1
                print(f"plot: {where}.png {where}.svg")
    if missing_gnuplot:
        print("run.sh plot: gnuplot not found: data files written, no images", file=sys.stderr)
        return 4
    if not drawn:
        print(f"run.sh plot: no plots declared for {', '.join(tests)} in tests.cfg (plot.NAME entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

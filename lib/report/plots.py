# SPDX-License-Identifier: GPL-2.0-only
"""The one way irqbench draws: data files fed to the gnuplot scripts in
lib/plot/ (cdf.gp, series.gp, bars.gp), PNG + SVG side by side.

Used by run.sh plot (the test table's plot.* entries) and run.sh compare
(CDF overlays, delta bars with intervals).  Without gnuplot nothing is
drawn and the callers say so; data files are still written.
"""

import os
import re
import shutil
import subprocess
import zlib

from records import ROOT

PLOT_DIR = os.path.join(ROOT, "lib", "plot")
MAX_CDF_POINTS = 2000  # per line: enough for the eye, small SVGs


def have_gnuplot():
    return shutil.which("gnuplot") is not None


def slug(text):
    """A file name for TEXT: readable, short, and unique (a CRC of the whole
    text follows the first 80 characters)."""
    s = re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")
    if len(s) <= 80:
        return s
    return f"{s[:80]}-{zlib.crc32(text.encode()):08x}"


def _q(s):
    """A gnuplot string literal."""
    return "'" + str(s).replace("'", "''") + "'"


def _title_line(title):
    return '"' + str(title).replace('"', "'").replace("\t", " ") + '"\n'


def _gnuplot(script, data, out, ptitle, pxlabel, pylabel, n=1, **extra):
    """Run lib/plot/SCRIPT; returns None or a one-line error."""
    if not have_gnuplot():
        return "gnuplot not found"
    sets = {"data": _q(data), "out": _q(out), "ptitle": _q(ptitle),
            "pxlabel": _q(pxlabel), "pylabel": _q(pylabel), "n": str(n),
            "dir": _q(PLOT_DIR + "/")}
    sets.update({k: str(v) for k, v in extra.items()})
    expr = "; ".join(f"{k}={v}" for k, v in sets.items())
    p = subprocess.run(["gnuplot", "-e", expr, os.path.join(PLOT_DIR, script)],
                       capture_output=True, text=True)
    if p.returncode:
        err = (p.stderr.strip().splitlines() or ["failed"])[-1]
        return f"gnuplot {script}: {err}"
    return None


def _thin(sorted_vals):
    """(value, fraction) steps of a CDF, at most MAX_CDF_POINTS of them."""
    n = len(sorted_vals)
    if n <= MAX_CDF_POINTS:
        idx = range(n)
    else:
        idx = sorted({int(i * (n - 1) / (MAX_CDF_POINTS - 1)) for i in range(MAX_CDF_POINTS)})
    return [(sorted_vals[i], (i + 1) / n) for i in idx]


def cdf(out, lines, ptitle, unit):
    """lines: [(title, samples)].  Writes OUT.dat, OUT.png, OUT.svg."""
    lines = [(t, sorted(s)) for t, s in lines if s]
    if not lines:
        return "no samples"
    with open(out + ".dat", "w") as f:
        for i, (t, s) in enumerate(lines):
            if i:
                f.write("\n\n")
            f.write(_title_line(t))
            for v, p in _thin(s):
                f.write(f"{v:.9g}\t{p:.6g}\n")
    lo = min(s[0] for _, s in lines)
    hi = max(s[-1] for _, s in lines)
    logx = 1 if lo > 0 and hi / lo > 50 else 0
    return _gnuplot("cdf.gp", out + ".dat", out, ptitle, unit or "value", "", n=len(lines), logx=logx)


def series(out, lines, ptitle, pxlabel, pylabel):
    """lines: [(title, [(x, y)])] (x numeric)."""
    lines = [(t, sorted(pts)) for t, pts in lines if pts]
    if not lines:
        return "no points"
    with open(out + ".dat", "w") as f:
        for i, (t, pts) in enumerate(lines):
            if i:
                f.write("\n\n")
            f.write(_title_line(t))
            for x, y in pts:
                f.write(f"{x:.9g}\t{y:.9g}\n")
    xs = [x for _, pts in lines for x, _ in pts]
    logx = 1 if min(xs) > 0 and max(xs) / min(xs) >= 16 else 0
    return _gnuplot("series.gp", out + ".dat", out, ptitle, pxlabel, pylabel, n=len(lines), logx=logx)


def bars(out, rows, ptitle, pylabel, errors=False):
    """rows: [(label, value, low, high)] (low/high used with errors)."""
    if not rows:
        return "no values"
    with open(out + ".dat", "w") as f:
        for label, v, lo, hi in rows:
            label = str(label).replace("\t", " ")
            f.write(f"{label}\t{v:.9g}\t{lo if lo is not None else v:.9g}\t{hi if hi is not None else v:.9g}\n")
    longest = max(len(str(r[0])) for r in rows)
    # Vertical labels at about 6 pixels a character: grow the canvas for them.
    return _gnuplot("bars.gp", out + ".dat", out, ptitle, "", pylabel, errors=1 if errors else 0,
                    bmargin=max(6, longest * 0.4 + 2), height=450 + longest * 6)

"""Statistics for run.sh compare: medians and percentiles, Mann-Whitney U
(scipy.stats), and a bootstrap confidence interval of the difference of two
quantiles.

The bootstrap is ours, not scipy.stats.bootstrap: it resamples whole
arrays (3.4 s per metric at 20000 samples a side, 36 s BCa), where an exact
draw of each replicate's order statistic takes 0.05 s for the same interval
(tests/test_compare.sh checks it against scipy's).

Everything is deterministic: the bootstrap draws from random.Random(seed),
so the same two runs give the same table.  Runs under the interpreter that
has Debian's python3-scipy (run.sh's PYTHON).
"""

import math
import random

import numpy as np
from scipy import stats


def median(s):
    """Median of samples."""
    return float(np.median(s)) if len(s) else float("nan")


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test.  Returns (U of a, p): the exact
    distribution for small samples without ties (both at most 20), else
    the normal approximation with tie and continuity corrections."""
    if not len(a) or not len(b):
        return float("nan"), float("nan")
    exact = len(a) <= 20 and len(b) <= 20 and len(set(a) | set(b)) == len(a) + len(b)
    r = stats.mannwhitneyu(a, b, alternative="two-sided", method="exact" if exact else "asymptotic")
    p = float(r.pvalue)
    return float(r.statistic), 1.0 if math.isnan(p) else p


def _boot_quantile(rng, s, q):
    """One bootstrap replicate of the q-quantile (lib/stats.c's definition:
    linear interpolation at rank q * (n - 1)) of sorted samples s, exactly
    and in O(1): the k-th smallest of n indices drawn with replacement is
    ceil(n * U(k)), where U(k), the k-th order statistic of n uniforms, is
    Beta(k, n - k + 1); the next one up is U(k) plus the minimum of the
    n - k uniforms above it."""
    n = len(s)
    rank = q * (n - 1)
    k = int(rank) + 1  # 1-based order statistic below the rank
    frac = rank - (k - 1)
    u = rng.betavariate(k, n - k + 1)
    lo = s[min(n - 1, max(0, math.ceil(n * u) - 1))]
    if frac == 0 or k >= n:
        return lo
    u2 = u + (1 - u) * rng.betavariate(1, n - k)
    return lo + frac * (s[min(n - 1, max(0, math.ceil(n * u2) - 1))] - lo)


def bootstrap_delta(a, b, seed, reps=4000, level=0.95, q=0.5):
    """Percentile bootstrap CIs of the q-quantile (default: the median) of b
    minus that of a, absolute and in % of a's.  a, b: sorted.  Returns
    ((lo, hi), (lo_pct, hi_pct)); the % interval is None when a's replicate
    can be 0."""
    rng = random.Random(seed)
    d = []
    dp = []
    pct_ok = True
    for _ in range(reps):
        ma = _boot_quantile(rng, a, q)
        mb = _boot_quantile(rng, b, q)
        d.append(mb - ma)
        if ma == 0:
            pct_ok = False
        elif pct_ok:
            dp.append((mb - ma) / abs(ma) * 100)
    q = (1 - level) / 2

    def interval(x):
        x.sort()
        return (x[int(q * (len(x) - 1))], x[int(math.ceil((1 - q) * (len(x) - 1)))])

    return interval(d), (interval(dp) if pct_ok else None)


def percentile(s, pct):
    """Percentile (0..100) of samples, linear interpolation at rank
    pct / 100 * (n - 1): lib/stats.c percentile_sorted()'s definition, so
    plots match records."""
    return float(np.percentile(s, pct)) if len(s) else float("nan")

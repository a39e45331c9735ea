# SPDX-License-Identifier: GPL-2.0-only
"""Statistics for run.sh compare: medians, Mann-Whitney U, and a bootstrap
confidence interval of the difference of two medians.

Python stdlib only.  Everything is deterministic: the bootstrap draws from
random.Random(seed), so the same two runs give the same table.
"""

import math
import random


def median(s):
    """Median of sorted samples."""
    n = len(s)
    if not n:
        return float("nan")
    h = n // 2
    return s[h] if n % 2 else (s[h - 1] + s[h]) / 2


def _ranks(a, b):
    """Sum of a's ranks in a+b (ties get the mean rank) and the tie term
    sum(t^3 - t) over groups of equal values."""
    both = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    r1 = 0.0
    ties = 0.0
    i = 0
    n = len(both)
    while i < n:
        j = i
        while j + 1 < n and both[j + 1][0] == both[i][0]:
            j += 1
        rank = (i + j) / 2 + 1
        t = j - i + 1
        if t > 1:
            ties += t ** 3 - t
        for k in range(i, j + 1):
            if both[k][1] == 0:
                r1 += rank
        i = j + 1
    return r1, ties


def _exact_p(u, n1, n2):
    """Two-sided exact p of U (no ties): count the orderings with U <= u."""
    # f[j][v]: number of arrangements of i a's and j b's with U = v, built
    # row by row over i (the classic Mann-Whitney recursion).
    umax = n1 * n2
    prev = [[1] + [0] * umax for _ in range(n2 + 1)]  # i = 0: U = 0 only
    for i in range(1, n1 + 1):
        cur = [[0] * (umax + 1) for _ in range(n2 + 1)]
        cur[0][0] = 1
        for j in range(1, n2 + 1):
            for v in range(umax + 1):
                # Last element is an a (adds j to U) or a b.
                c = cur[j - 1][v]
                if v >= j:
                    c += prev[j][v - j]
                cur[j][v] = c
        prev = cur
    counts = prev[n2]
    total = math.comb(n1 + n2, n1)
    lo = min(u, umax - u)
    tail = sum(counts[: int(math.floor(lo)) + 1]) / total
    return min(1.0, 2 * tail)


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test.  Returns (U of a, p).  Exact for small
    samples without ties, else the normal approximation with tie and
    continuity corrections."""
    n1, n2 = len(a), len(b)
    if not n1 or not n2:
        return float("nan"), float("nan")
    r1, ties = _ranks(a, b)
    u1 = r1 - n1 * (n1 + 1) / 2
    if ties == 0 and n1 <= 20 and n2 <= 20:
        return u1, _exact_p(u1, n1, n2)
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return u1, 1.0  # every value equal
    z = max(0.0, abs(u1 - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    return u1, math.erfc(z / math.sqrt(2))


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
    """Percentile (0..100) of sorted samples, linear interpolation: the same
    definition as lib/stats.c percentile_sorted(), so plots match records."""
    n = len(s)
    if not n:
        return float("nan")
    rank = pct / 100 * (n - 1)
    lo = int(rank)
    if lo + 1 >= n:
        return s[n - 1]
    return s[lo] + (rank - lo) * (s[lo + 1] - s[lo])

// SPDX-License-Identifier: GPL-2.0-only
/* lib/linreg: least squares, medians and the bootstrap slope interval. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/linreg.h"
#include "lib/stats.h"
#include "tests/unit/unit.h"

#define NEAR(a, b, eps) (fabs((a) - (b)) <= (eps))

static void test_fit(void)
{
	double x[] = { 1, 2, 3, 4 }, y[] = { 5, 7, 9, 11 };
	double same[] = { 2, 2, 2 };
	struct linreg f;

	CHECK(!linreg_fit(x, y, 4, &f) && NEAR(f.slope, 2, 1e-12) &&
		      NEAR(f.intercept, 3, 1e-12),
	      "exact line: slope %g intercept %g", f.slope, f.intercept);
	CHECK(linreg_fit(x, y, 1, &f) == -1, "one point: no line");
	CHECK(linreg_fit(same, y, 3, &f) == -1, "one distinct x: no line");
}

static void test_median(void)
{
	double odd[] = { 9, 1, 5, 3, 7 }, even[] = { 4, 1, 3, 2 };
	double dup[] = { 2, 2, 2, 1, 2, 3 };

	CHECK(median_of(odd, 5) == 5, "median of 5 values");
	CHECK(median_of(even, 4) == 2.5, "median of 4 values");
	CHECK(median_of(dup, 6) == 2, "median with duplicates");
	CHECK(isnan(median_of(odd, 0)), "median of nothing is NaN");
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Selection agrees with sorting on random arrays with many ties. */
static void test_median_random(void)
{
	double v[257], sorted[257], want;
	unsigned int s = 7, bad = 0;
	int round, n, i;

	for (round = 0; round < 2000; round++) {
		n = 1 + round % 257;
		for (i = 0; i < n; i++) {
			s = s * 1103515245 + 12345;
			v[i] = sorted[i] = (s >> 16) % (round % 2 ? 10 : 1000);
		}
		qsort(sorted, n, sizeof(double), cmp);
		want = n % 2 ? sorted[n / 2] :
			       (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
		bad += median_of(v, n) != want;
	}
	CHECK(!bad, "median by selection equals median by sorting (%u bad)",
	      bad);
}

/* y = 3x + 100 plus noise: the interval must hold 3 and be narrow-ish. */
static void test_bootstrap(void)
{
	static double samples[4][2001];
	struct linreg_group g[4];
	struct linreg_ci ci, again;
	unsigned int s = 1;
	int i, j;

	for (i = 0; i < 4; i++) {
		for (j = 0; j < 2001; j++) {
			s = s * 1103515245 + 12345;
			samples[i][j] = 3.0 * (1 << (2 * i)) + 100 +
					((s >> 16) % 1000) / 100.0 - 5;
		}
		g[i] = (struct linreg_group){ 1 << (2 * i), samples[i], 2001 };
	}
	CHECK(!linreg_median_slope(g, 4, 500, 0.95, 42, &ci),
	      "slope with interval computed");
	CHECK(NEAR(ci.fit.slope, 3, 0.05), "slope of medians %g near 3",
	      ci.fit.slope);
	CHECK(ci.ci_low <= 3 && 3 <= ci.ci_high && ci.ci_high - ci.ci_low < 0.5,
	      "95%% interval [%g, %g] holds 3", ci.ci_low, ci.ci_high);
	CHECK(ci.ci_low <= ci.fit.slope && ci.fit.slope <= ci.ci_high,
	      "interval holds the point estimate");
	CHECK(ci.iters == 500 && ci.level == 0.95, "iterations and level kept");
	linreg_median_slope(g, 4, 500, 0.95, 42, &again);
	CHECK(again.ci_low == ci.ci_low && again.ci_high == ci.ci_high,
	      "same seed, same interval");
	/* A flat line: the interval must hold 0. */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 2001; j++)
			samples[i][j] -= 3.0 * (1 << (2 * i));
	linreg_median_slope(g, 4, 500, 0.95, 7, &ci);
	CHECK(ci.ci_low <= 0 && 0 <= ci.ci_high && NEAR(ci.fit.slope, 0, 0.05),
	      "flat: slope %g in [%g, %g]", ci.fit.slope, ci.ci_low,
	      ci.ci_high);
	CHECK(linreg_median_slope(g, 1, 100, 0.95, 1, &ci) == -1,
	      "one group: no slope");
	g[1].n = 0;
	CHECK(linreg_median_slope(g, 4, 100, 0.95, 1, &ci) == -1,
	      "an empty group: no slope");
}

int main(void)
{
	test_fit();
	test_median();
	test_median_random();
	test_bootstrap();
	return unit_exit();
}

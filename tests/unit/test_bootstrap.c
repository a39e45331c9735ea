// SPDX-License-Identifier: GPL-2.0-only
/* The bootstrap interval of a difference of medians (lib/bootstrap). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/bootstrap.h"
#include "tests/unit/unit.h"

int main(void)
{
	double a[200], b[200], c[3] = { 5, 5, 5 }, one = 7;
	struct median_diff d, again;
	int i;

	/* Two groups whose medians differ by exactly 10, same spread. */
	for (i = 0; i < 200; i++) {
		a[i] = (i * 37) % 200; /* 0..199 shuffled */
		b[i] = a[i] + 10;
	}
	CHECK(!bootstrap_median_diff(a, 200, b, 200, 2000, 0.95, 42, &d),
	      "bootstrap runs");
	CHECK(d.diff == 10, "difference of medians %g", d.diff);
	CHECK(d.ci_low < 10 && d.ci_high > 10,
	      "interval [%g, %g] covers the difference", d.ci_low, d.ci_high);
	CHECK(d.ci_high - d.ci_low < 40,
	      "interval [%g, %g] narrower than the spread", d.ci_low,
	      d.ci_high);
	bootstrap_median_diff(a, 200, b, 200, 2000, 0.95, 42, &again);
	CHECK(again.ci_low == d.ci_low && again.ci_high == d.ci_high,
	      "deterministic for a seed");

	/* Identical groups: the interval covers 0. */
	bootstrap_median_diff(a, 200, a, 200, 2000, 0.95, 7, &d);
	CHECK(d.diff == 0 && d.ci_low <= 0 && d.ci_high >= 0,
	      "same groups: 0 in [%g, %g]", d.ci_low, d.ci_high);

	/* Groups of different sizes; a constant group has no spread. */
	bootstrap_median_diff(c, 3, &one, 1, 500, 0.9, 1, &d);
	CHECK(d.diff == 2 && d.ci_low == 2 && d.ci_high == 2,
	      "constant groups {7} minus {5,5,5}: %g [%g, %g]", d.diff,
	      d.ci_low, d.ci_high);
	CHECK(bootstrap_median_diff(a, 0, b, 10, 100, 0.95, 1, &d) == -1 &&
		      isnan(d.diff),
	      "an empty group gives -1 and NaN, not 0");
	return unit_exit();
}

// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bootstrap.h"
#include "lib/random.h"
#include "lib/stats.h"

static double resampled_median(const double *v, size_t n, double *tmp,
			       uint64_t *seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		tmp[i] = v[xorshift64star(seed) % n];
	return median_of(tmp, n);
}

int bootstrap_median_diff(const double *a, size_t na, const double *b,
			  size_t nb, unsigned int iters, double level,
			  uint64_t seed, struct median_diff *out)
{
	double *tmp, *diffs;
	unsigned int i;

	out->diff = out->ci_low = out->ci_high = NAN;
	out->level = level;
	out->iters = iters;
	if (!na || !nb || !iters)
		return -1;
	tmp = malloc((na > nb ? na : nb) * sizeof(*tmp));
	diffs = malloc(iters * sizeof(*diffs));
	if (!tmp || !diffs) {
		free(tmp);
		free(diffs);
		return -1;
	}
	memcpy(tmp, b, nb * sizeof(*tmp));
	out->diff = median_of(tmp, nb);
	memcpy(tmp, a, na * sizeof(*tmp));
	out->diff -= median_of(tmp, na);
	seed = seed ? seed : 0x9e3779b97f4a7c15ull;
	for (i = 0; i < iters; i++) {
		double mb = resampled_median(b, nb, tmp, &seed);

		diffs[i] = mb - resampled_median(a, na, tmp, &seed);
	}
	qsort(diffs, iters, sizeof(*diffs), cmp_double);
	out->ci_low = percentile_sorted(diffs, iters, 50 * (1 - level));
	out->ci_high = percentile_sorted(diffs, iters, 100 - 50 * (1 - level));
	free(tmp);
	free(diffs);
	return 0;
}

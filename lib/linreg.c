// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/linreg.h"
#include "lib/random.h"
#include "lib/stats.h"

int linreg_fit(const double *x, const double *y, size_t n, struct linreg *fit)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0;
	size_t i;

	if (n < 2)
		return -1;
	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	for (i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (sxx <= 0)
		return -1;
	fit->slope = sxy / sxx;
	fit->intercept = my - fit->slope * mx;
	return 0;
}

int linreg_median_slope(const struct linreg_group *g, size_t nr_groups,
			unsigned int iters, double level, uint64_t seed,
			struct linreg_ci *out)
{
	double *x, *y, *scratch, *slopes;
	size_t i, j, most = 0, ok = 0;
	uint64_t state = seed ? seed : 0x9e3779b97f4a7c15ull;
	struct linreg fit;
	unsigned int b;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nr_groups; i++) {
		if (!g[i].n)
			return -1;
		if (g[i].n > most)
			most = g[i].n;
	}
	x = calloc(nr_groups, sizeof(*x));
	y = calloc(nr_groups, sizeof(*y));
	scratch = calloc(most ? most : 1, sizeof(*scratch));
	slopes = calloc(iters ? iters : 1, sizeof(*slopes));
	if (!x || !y || !scratch || !slopes)
		goto out;

	for (i = 0; i < nr_groups; i++) {
		x[i] = g[i].x;
		memcpy(scratch, g[i].samples, g[i].n * sizeof(*scratch));
		y[i] = median_of(scratch, g[i].n);
	}
	if (linreg_fit(x, y, nr_groups, &out->fit))
		goto out;

	for (b = 0; b < iters; b++) {
		for (i = 0; i < nr_groups; i++) {
			for (j = 0; j < g[i].n; j++)
				scratch[j] =
					g[i].samples[xorshift64star(&state) %
						     g[i].n];
			y[i] = median_of(scratch, g[i].n);
		}
		if (!linreg_fit(x, y, nr_groups, &fit))
			slopes[ok++] = fit.slope;
	}
	out->level = level;
	out->iters = ok;
	if (ok) {
		qsort(slopes, ok, sizeof(*slopes), cmp_double);
		out->ci_low = percentile_sorted(slopes, ok, 50 * (1 - level));
		out->ci_high = percentile_sorted(slopes, ok, 50 * (1 + level));
	} else {
		out->ci_low = out->ci_high = out->fit.slope;
	}
	ret = 0;
out:
	free(x);
	free(y);
	free(scratch);
	free(slopes);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/linreg.h"
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

/* Moves the k-th smallest of v[0..n) to v[k] (Hoare selection). */
static void select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2], t;
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

double linreg_median(double *v, size_t n)
{
	double lower;
	size_t i;

	if (!n)
		return NAN;
	select_kth(v, n, n / 2);
	if (n % 2)
		return v[n / 2];
	/* The lower middle is the largest of v[0..n/2). */
	lower = v[0];
	for (i = 1; i < n / 2; i++)
		if (v[i] > lower)
			lower = v[i];
	return (lower + v[n / 2]) / 2;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* xorshift64*: a reproducible bootstrap, independent of libc's rand(). */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
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
		y[i] = linreg_median(scratch, g[i].n);
	}
	if (linreg_fit(x, y, nr_groups, &out->fit))
		goto out;

	for (b = 0; b < iters; b++) {
		for (i = 0; i < nr_groups; i++) {
			for (j = 0; j < g[i].n; j++)
				scratch[j] = g[i].samples[next_random(&state) %
							  g[i].n];
			y[i] = linreg_median(scratch, g[i].n);
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

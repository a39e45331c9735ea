// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/stats.h"

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double percentile_sorted(const double *sorted, size_t n, double pct)
{
	double rank, frac;
	size_t lo;

	if (!n)
		return NAN;
	rank = pct / 100.0 * (n - 1);
	lo = (size_t)rank;
	if (lo + 1 >= n)
		return sorted[n - 1];
	frac = rank - lo;
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void summarize(double *samples, size_t n, struct summary *s)
{
	double sum = 0, sq = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if (!n) {
		s->min = s->p50 = s->p90 = s->p99 = s->max = NAN;
		s->mean = s->stddev = NAN;
		return;
	}
	qsort(samples, n, sizeof(*samples), cmp_double);
	for (i = 0; i < n; i++)
		sum += samples[i];
	s->mean = sum / n;
	for (i = 0; i < n; i++)
		sq += (samples[i] - s->mean) * (samples[i] - s->mean);
	s->stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
	s->min = samples[0];
	s->max = samples[n - 1];
	s->p50 = percentile_sorted(samples, n, 50);
	s->p90 = percentile_sorted(samples, n, 90);
	s->p99 = percentile_sorted(samples, n, 99);
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

double median_of(double *v, size_t n)
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

double median_copy(const double *v, size_t n)
{
	double *tmp = malloc((n ? n : 1) * sizeof(*tmp)), m;

	if (!tmp)
		return NAN;
	memcpy(tmp, v, n * sizeof(*tmp));
	m = median_of(tmp, n);
	free(tmp);
	return m;
}

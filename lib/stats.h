/* SPDX-License-Identifier: GPL-2.0-only */
/* Distribution summaries of samples (latencies): never only a mean. */
#ifndef IRQBENCH_STATS_H
#define IRQBENCH_STATS_H

#include <stddef.h>

struct summary {
	size_t n;
	double min, p50, p90, p99, max, mean, stddev;
};

/* Sorts @samples in place. */
void summarize(double *samples, size_t n, struct summary *s);
/* Percentile (0..100) of sorted samples, linear interpolation. */
double percentile_sorted(const double *sorted, size_t n, double pct);
/* qsort() order of doubles. */
int cmp_double(const void *a, const void *b);
/*
 * The median of @v, reordering it (selection, not a sort: bootstraps take
 * many); NaN if @n is 0.  median_copy() leaves @v alone.
 */
double median_of(double *v, size_t n);
double median_copy(const double *v, size_t n);

#endif

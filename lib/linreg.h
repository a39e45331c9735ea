/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least-squares lines with a confidence interval: the slope of a latency
 * against a load (e.g. ns per blocked vCPU), fitted on per-group medians so
 * that outliers in one group do not tilt it, with a percentile bootstrap
 * (resampling within each group) for the interval.
 */
#ifndef IRQBENCH_LINREG_H
#define IRQBENCH_LINREG_H

#include <stddef.h>
#include <stdint.h>

struct linreg {
	double slope, intercept;
};

/* Fits y = slope * x + intercept; -1 if fewer than two distinct x. */
int linreg_fit(const double *x, const double *y, size_t n, struct linreg *fit);

/* The samples of one x (e.g. all latencies at one vCPU count). */
struct linreg_group {
	double x;
	const double *samples;
	size_t n;
};

struct linreg_ci {
	struct linreg fit; /* on the groups' medians */
	double ci_low, ci_high; /* of the slope */
	double level; /* e.g. 0.95 */
	unsigned int iters; /* bootstrap resamples */
};

/*
 * Slope of the groups' medians against x with a @level percentile bootstrap
 * interval from @iters resamples, deterministic for a @seed.  -1 if fewer
 * than two distinct x or a group is empty.
 */
int linreg_median_slope(const struct linreg_group *g, size_t nr_groups,
			unsigned int iters, double level, uint64_t seed,
			struct linreg_ci *out);

#endif

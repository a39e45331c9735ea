/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The difference of two groups' medians (e.g. an idle guest's tick lateness
 * with a storm on, minus the same with it off) with a percentile bootstrap
 * interval: each group is resampled with replacement on its own.
 */
#ifndef IRQBENCH_BOOTSTRAP_H
#define IRQBENCH_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

struct median_diff {
	double diff; /* median(b) - median(a) */
	double ci_low, ci_high;
	double level; /* e.g. 0.95 */
	unsigned int iters;
};

/*
 * median(@b) - median(@a) with a @level interval from @iters resamples,
 * deterministic for a @seed.  -1 (and NaNs) if either group is empty.
 */
int bootstrap_median_diff(const double *a, size_t na, const double *b,
			  size_t nb, unsigned int iters, double level,
			  uint64_t seed, struct median_diff *out);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One JSON record per metric, appended to the run's results.jsonl
 * ($IRQBENCH_RESULTS_DIR, set by run.sh).  Each record stands alone (test,
 * variant, metric, unit, value or summary, kernel, host) so that a run cut
 * short keeps every record already written.
 */
#ifndef IRQBENCH_RESULTS_H
#define IRQBENCH_RESULTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/host.h"

struct results {
	int fd; /* -1: no results folder, records are not kept */
	const char *test;
	struct host_facts host;
	int timing_comparable; /* 0 under emulation (TCG), from the runner */
	char params[256]; /* "key=value ..." for the records that follow */
	char base_params[64]; /* for every record, before those */
	char path[PATH_MAX]; /* results.jsonl, for messages */
};

/* @dir NULL: $IRQBENCH_RESULTS_DIR; neither set: records are dropped. */
void results_open(struct results *r, const char *test, const char *dir);
/* Closing fails like a write: the test exits 1 (see results_lost()). */
void results_close(struct results *r);
/*
 * The test's records are lost (@what @r->path: strerror(@err)): "Bail out!"
 * on stdout and one line on stderr, "results folder full: ..." for ENOSPC
 * and EDQUOT, then exit(1): a test whose records could not be written is a
 * failure, never a pass.
 */
void results_lost(struct results *r, const char *what, int err)
	__attribute__((noreturn));
void results_count(struct results *r, const char *variant, const char *metric,
		   const char *unit, long long value);
/* A count (unit "count") if @ok, else the metric SKIPs with @why. */
void results_count_or_skip(struct results *r, const char *variant,
			   const char *metric, bool ok, long long value,
			   const char *why);
/*
 * Scenario parameters (e.g. "vcpus=64 pcpus=2 source=ipi") attached, as a
 * "params" object, to every record written until the next call; NULL or ""
 * clears them.  Values that parse as numbers are written as numbers, so
 * that plots and comparisons can use them as axes.
 */
void results_params(struct results *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Params of every record of the run (the harness's, e.g. the placement). */
void results_base_params(struct results *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Summarizes (and sorts) @samples: n, min, p50, p90, p99, max, mean; the
 * raw samples are kept too ("samples": [...]), for significance tests and
 * distribution plots (run.sh compare, run.sh plot).
 */
void results_samples(struct results *r, const char *variant, const char *metric,
		     const char *unit, double *samples, size_t n);
void results_text(struct results *r, const char *variant, const char *metric,
		  const char *value, const char *reason);
void results_skip(struct results *r, const char *variant, const char *metric,
		  const char *reason);
/*
 * An estimate with its confidence interval (e.g. a fitted slope):
 * "value", "ci_low", "ci_high", "ci_level" and how it was obtained
 * ("method", e.g. "least squares on per-M medians, bootstrap").
 */
void results_estimate(struct results *r, const char *variant,
		      const char *metric, const char *unit, double value,
		      double ci_low, double ci_high, double ci_level,
		      const char *method);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KTAP output, as kselftest prints it, with the four kinds of result the
 * scenarios need: ok, not ok, ok # SKIP, and not ok # TODO (a known,
 * unfixed kernel behaviour: reported, but not a failure of the run).
 * Not kselftest.h's ksft_test_result_*(): from 6.1 to 6.12 its skip prints
 * "ok N # SKIP msg", the test's name after the directive, where KTAP
 * parsers (and our JSON variant names) expect it before; and it writes
 * only to stdout.
 */
#ifndef IRQBENCH_KTAP_H
#define IRQBENCH_KTAP_H

#include <stdio.h>

enum ktap_result {
	KTAP_PASS,
	KTAP_FAIL,
	KTAP_SKIP,
	KTAP_TODO,
	/*
	 * "ok # SKIP" for one optional metric the platform cannot give (e.g. a
	 * tracer it lacks) when the scenario itself ran: it does not turn the
	 * whole test into a skip.
	 */
	KTAP_SKIP_METRIC,
};

struct ktap {
	FILE *out;
	unsigned int planned;
	unsigned int number;
	unsigned int counts[5];
};

void ktap_init(struct ktap *k, FILE *out, unsigned int planned);
void ktap_comment(struct ktap *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* @directive_text follows "# SKIP", "# TODO" or, for ok/not ok, "# ". */
void ktap_result(struct ktap *k, enum ktap_result r, const char *name,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * kselftest exit code: 1 if anything failed, 4 (skip) if any result was
 * skipped and nothing failed (a scenario that could not be provoked must
 * never read as a pass), else 0.
 */
int ktap_exit_code(const struct ktap *k);

#endif

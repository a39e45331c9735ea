// SPDX-License-Identifier: GPL-2.0-only
/* Distribution summaries and the stale-EOI verdict thresholds. */
#include <math.h>
#include <stdbool.h>

#include <string.h>

#include "lib/eoi_verdict.h"
#include "lib/stats.h"
#include "tests/unit/unit.h"

static void test_summary(void)
{
	double v[101];
	struct summary s;
	int i;

	for (i = 0; i <= 100; i++)
		v[i] = 100 - i; /* unsorted on purpose */
	summarize(v, 101, &s);
	CHECK(s.n == 101 && s.min == 0 && s.max == 100, "summary: n, min, max");
	CHECK(s.p50 == 50 && s.p90 == 90 && s.p99 == 99,
	      "summary: percentiles %g %g %g", s.p50, s.p90, s.p99);
	CHECK(fabs(s.mean - 50) < 1e-9 && fabs(s.stddev - 29.3001706) < 1e-6,
	      "summary: mean %g, sample stddev %g", s.mean, s.stddev);
	summarize(v, 0, &s);
	CHECK(s.n == 0 && isnan(s.p50), "summary: no samples gives NaN, not 0");
	v[0] = 1;
	v[1] = 3;
	CHECK(percentile_sorted(v, 2, 50) == 2, "percentile: interpolates");
}

static enum eoi_verdict verdict(bool in_service, bool eoi_ok, bool measurable,
				uint64_t exits)
{
	struct eoi_observation o = {
		.in_service_guest = in_service,
		.in_service_host = in_service,
		.eoi_checked = true,
		.eoi_reached_ioapic = eoi_ok,
		.exits_measurable = measurable,
		.reuse_exits = exits,
		.reuses = 1000,
	};

	return eoi_verdict(&o);
}

static void test_verdict(void)
{
	struct eoi_observation half = { .in_service_guest = true,
					.reuses = 1000 };

	CHECK(verdict(false, true, true, 1000) == VERDICT_NOT_PROVOKED,
	      "verdict: precondition failed wins over any count");
	half.in_service_host = false;
	CHECK(eoi_verdict(&half) == VERDICT_NOT_PROVOKED,
	      "verdict: guest and host must both see V in service");
	CHECK(verdict(true, false, true, 0) == VERDICT_LOST_EOI,
	      "verdict: lost EOI (6.1 split)");
	CHECK(verdict(true, true, true, 1001) == VERDICT_STALE_EXITS,
	      "verdict: N+1 exits: stale");
	CHECK(verdict(true, true, true, 999) == VERDICT_STALE_EXITS,
	      "verdict: N-1 exits: stale");
	CHECK(verdict(true, true, true, 1) == VERDICT_FIXED,
	      "verdict: one exit: fixed");
	CHECK(verdict(true, true, true, 0) == VERDICT_FIXED,
	      "verdict: no exit: fixed");
	CHECK(verdict(true, true, true, 2) == VERDICT_AMBIGUOUS,
	      "verdict: 2 exits: ambiguous");
	CHECK(verdict(true, true, true, 500) == VERDICT_AMBIGUOUS,
	      "verdict: N/2: ambiguous");
	{
		struct eoi_observation vec = { .in_service_guest = true,
					       .in_service_host = true,
					       .exits_measurable = true,
					       .vector_left_routes = true,
					       .reuses = 1000 };

		CHECK(eoi_verdict(&vec) == VERDICT_UNAFFECTED &&
			      !strcmp(eoi_verdict_kinds[VERDICT_UNAFFECTED].name,
				      "unaffected"),
		      "verdict: vector changed, 0 exits is unaffected, not fixed");
		vec.reuse_exits = 1000;
		CHECK(eoi_verdict(&vec) == VERDICT_STALE_EXITS,
		      "verdict: vector changed, yet every reuse exits: stale-exits");
	}
	CHECK(verdict(true, true, false, 0) == VERDICT_UNMEASURED,
	      "verdict: no counter: unmeasured, never fixed");
	CHECK(eoi_control_sees_exits(999, 1000) &&
		      eoi_control_sees_exits(1001, 1000),
	      "control: N-1 and N+1 see the exits");
	CHECK(!eoi_control_sees_exits(0, 1000) &&
		      !eoi_control_sees_exits(990, 1000),
	      "control: a blind counter is caught");
}

int main(void)
{
	test_summary();
	test_verdict();
	return unit_exit();
}

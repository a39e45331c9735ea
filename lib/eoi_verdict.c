// SPDX-License-Identifier: GPL-2.0-only
#include "lib/eoi_verdict.h"

/* "About N": at least 90% of the reuses exited. */
static bool about_all(uint64_t exits, uint32_t reuses)
{
	return reuses && exits * 10 >= (uint64_t)reuses * 9;
}

enum eoi_verdict eoi_verdict(const struct eoi_observation *o)
{
	/* Both views must agree that V was in service: never judge otherwise. */
	if (!o->in_service_guest || !o->in_service_host)
		return VERDICT_NOT_PROVOKED;
	if (o->eoi_checked && !o->eoi_reached_ioapic)
		return VERDICT_LOST_EOI;
	if (!o->exits_measurable)
		return VERDICT_UNMEASURED;
	if (o->reuse_exits <= 1)
		return o->vector_left_routes ? VERDICT_UNAFFECTED :
					       VERDICT_FIXED;
	if (about_all(o->reuse_exits, o->reuses))
		return VERDICT_STALE_EXITS;
	return VERDICT_AMBIGUOUS;
}

/*
 * not-provoked and unmeasured are SKIPs (nothing judged); stale-exits is a
 * known, unfixed kernel behaviour (TODO), not a failure of the run.
 */
const struct verdict_kind eoi_verdict_kinds[] = {
	[VERDICT_NOT_PROVOKED] = { "not-provoked", KTAP_SKIP },
	[VERDICT_LOST_EOI] = { "lost-eoi", KTAP_FAIL },
	[VERDICT_STALE_EXITS] = { "stale-exits", KTAP_TODO },
	[VERDICT_FIXED] = { "fixed", KTAP_PASS },
	[VERDICT_UNMEASURED] = { "unmeasured", KTAP_SKIP },
	[VERDICT_AMBIGUOUS] = { "ambiguous", KTAP_FAIL },
	[VERDICT_UNAFFECTED] = { "unaffected", KTAP_PASS },
};

/* N-1..N+2 for N reuses: runs were seen to differ by one exit. */
bool eoi_control_sees_exits(uint64_t exits, uint32_t reuses)
{
	return exits + 1 >= reuses && exits <= (uint64_t)reuses + 2;
}

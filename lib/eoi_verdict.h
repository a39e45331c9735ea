/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The stale-IOAPIC-EOI verdict (seed 004) from what a run observed.  Counts
 * use thresholds, not equality: runs were seen to differ by one exit.
 */
#ifndef IRQBENCH_EOI_VERDICT_H
#define IRQBENCH_EOI_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/harness.h"

enum eoi_verdict {
	VERDICT_NOT_PROVOKED, /* V was not in service inside its ISR */
	VERDICT_LOST_EOI, /* the in-service EOI never reached the IOAPIC */
	VERDICT_STALE_EXITS, /* about one exit per reuse: fix absent */
	VERDICT_FIXED, /* at most one exit */
	VERDICT_UNMEASURED, /* provoked, but exits cannot be counted here */
	VERDICT_AMBIGUOUS, /* a count between the two thresholds */
	VERDICT_UNAFFECTED, /* V left every route: no exits expected, none seen */
};

struct eoi_observation {
	bool in_service_guest; /* ISR bit read by the guest in its ISR */
	bool in_service_host; /* ISR bit in KVM_GET_LAPIC at that point */
	bool eoi_checked; /* whether this variant judges the EOI path */
	bool eoi_reached_ioapic;
	bool exits_measurable;
	/*
	 * The reprogram changed the vector, so no route uses V any more: every
	 * kernel drops V at the next scan, with or without the fix.  At most
	 * one exit then says nothing about the fix ("unaffected").
	 */
	bool vector_left_routes;
	uint64_t reuse_exits; /* EOI exits of V during the reuse phase */
	uint32_t reuses;
};

enum eoi_verdict eoi_verdict(const struct eoi_observation *o);
/* Each verdict's name (the record's value) and KTAP kind. */
extern const struct verdict_kind eoi_verdict_kinds[];
/* The control must see about one exit per reuse, or the counter is blind. */
bool eoi_control_sees_exits(uint64_t exits, uint32_t reuses);

#endif

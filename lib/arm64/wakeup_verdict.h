/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The verdicts of the arm64 wakeup tests (seed 002): every interrupt
 * handled exactly once, every one sent to a blocked vCPU woke it.
 */
#ifndef IRQBENCH_ARM64_WAKEUP_VERDICT_H
#define IRQBENCH_ARM64_WAKEUP_VERDICT_H

#include "lib/harness.h"

enum wakeup_verdict {
	WAKEUP_DELIVERED, /* each handled once, the wakeups counted */
	WAKEUP_NOT_DELIVERED, /* KVM did not deliver what it was given */
	WAKEUP_MISCOUNTED, /* handled a different number of times */
	WAKEUP_MISSING_WAKEUP, /* fewer KVM wakeups than blocked deliveries */
	WAKEUP_MISSING_DOORBELL, /* fewer GICv4 doorbells than blocked vLPIs */
	WAKEUP_LOST, /* a vCPU left asleep with its interrupt pending */
};

extern const struct verdict_kind wakeup_verdicts[];

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TSC stamps usable in guest and host alike (guest and host share the TSC
 * up to the vCPU's offset), calibrated to nanoseconds on the host.
 */
#ifndef IRQBENCH_TSC_H
#define IRQBENCH_TSC_H

#include <stdint.h>

static inline uint64_t tsc_now(void)
{
	uint32_t lo, hi;

	/* lfence: the stamp is not taken before earlier loads complete. */
	asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* TSC ticks per second, measured once against CLOCK_MONOTONIC_RAW. */
uint64_t tsc_hz(void);
double tsc_to_ns(uint64_t ticks);

#endif

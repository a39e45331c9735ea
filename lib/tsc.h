/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Time stamps usable in guest and host alike, converted to nanoseconds on
 * the host.  x86: the TSC (guest and host share it up to the vCPU's offset),
 * calibrated once.  arm64: the virtual counter CNTVCT_EL0 (guest and host
 * share it up to the VM's counter offset, see KVM_ARM_SET_COUNTER_OFFSET),
 * whose frequency CNTFRQ_EL0 states.
 */
#ifndef IRQBENCH_TSC_H
#define IRQBENCH_TSC_H

#include <stdint.h>

#if defined(__x86_64__)
static inline uint64_t tsc_now(void)
{
	uint32_t lo, hi;

	/* lfence: the stamp is not taken before earlier loads complete. */
	asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#elif defined(__aarch64__)
static inline uint64_t tsc_now(void)
{
	uint64_t cnt;

	/* isb: the counter is not read ahead of earlier instructions. */
	asm volatile("isb; mrs %0, cntvct_el0" : "=r"(cnt)::"memory");
	return cnt;
}

static inline uint64_t tsc_counter_freq(void)
{
	uint64_t freq;

	asm volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	return freq;
}
#else
#error "lib/tsc.h: no time stamp counter for this architecture"
#endif

/* Ticks per second: x86 measured once against CLOCK_MONOTONIC_RAW. */
uint64_t tsc_hz(void);
double tsc_to_ns(uint64_t ticks);

#endif

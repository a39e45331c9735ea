/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest side of x86/inject_isolation (seed 001).  Storm guests halt and
 * count the MSIs that injector threads send through irqfds (one vector per
 * vCPU, so the handler needs no APIC ID read).  Idle guests halt between
 * LAPIC timer ticks (periodic or TSC-deadline), publish KVM steal time
 * (MSR_KVM_STEAL_TIME) and log each tick's lateness.  The host writes
 * inject_isolation_params before the run and reads inject_isolation_state
 * and inject_isolation_steal (guest memory) while the vCPUs run.
 */
#ifndef IRQBENCH_GUEST_INJECT_ISOLATION_H
#define IRQBENCH_GUEST_INJECT_ISOLATION_H

#include <stdint.h>

#define INJECT_ISOLATION_MAX_STORM_VCPUS 8
#define INJECT_ISOLATION_RING 16384

enum inject_isolation_role { ISO_ROLE_STORM, ISO_ROLE_IDLE };
enum inject_isolation_timer { ISO_TIMER_PERIODIC, ISO_TIMER_DEADLINE };

/* GUEST_SYNC stage. */
#define INJECT_ISOLATION_READY 1

struct inject_isolation_params {
	uint32_t role;
	uint32_t timer;
	uint8_t storm_vector; /* vCPU i takes storm_vector + i */
	uint8_t timer_vector;
	uint8_t kick_vector;
	uint64_t period_tsc; /* tick period in TSC ticks */
	uint64_t calibrate_tsc; /* APIC timer calibration window */
	uint64_t steal_gpa; /* 0: steal time not enabled */
};

struct inject_isolation_state {
	volatile uint64_t storm_irqs[INJECT_ISOLATION_MAX_STORM_VCPUS];
	volatile uint64_t ticks;
	/*
	 * Lateness of tick n at [n % RING]: TSC ticks past the deadline
	 * (TSC-deadline), or APIC timer counts since the first periodic
	 * reload it was not delivered at (coalesced periods included).
	 */
	volatile int64_t lateness[INJECT_ISOLATION_RING];
	/* Ticks never delivered (the timer coalesced them) or skipped. */
	volatile uint64_t missed;
	/* APIC timer counts in cal_tsc TSC ticks (divide by 1). */
	volatile uint64_t cal_counts, cal_tsc;
	/* Control: spin (interrupts on) instead of halting while set. */
	volatile uint32_t busy;
	volatile uint32_t stop;
};

extern struct inject_isolation_params inject_isolation_params;
extern struct inject_isolation_state inject_isolation_state;
struct kvm_steal_time;
extern struct kvm_steal_time inject_isolation_steal;

void inject_isolation_guest(void);
struct ex_regs;
void inject_isolation_storm_isr(struct ex_regs *regs);
void inject_isolation_timer_isr(struct ex_regs *regs);
void inject_isolation_kick_isr(struct ex_regs *regs);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest side of x86/irqfd_resample (seed 003): a level-triggered IOAPIC pin
 * driven by resampling irqfds.  Each "device" (source) is a pair of counters
 * in guest memory: the host bumps produced and asserts the line; the guest's
 * ISR consumes one event per source that has one (consumed++), stamps the
 * TSC and EOIs.  Shared by guest and host: the host writes
 * irqfd_resample_params before the run and reads irqfd_resample_state (guest
 * memory) while the vCPU runs.
 */
#ifndef IRQBENCH_GUEST_IRQFD_RESAMPLE_H
#define IRQBENCH_GUEST_IRQFD_RESAMPLE_H

#include <stdint.h>

#define IRQFD_RESAMPLE_MAX_SOURCES 2
/* EOI stamps kept: the host reads the newest one at each notification. */
#define IRQFD_RESAMPLE_EOI_RING 64

/* GUEST_SYNC stages. */
enum irqfd_resample_stage {
	IRQFD_RESAMPLE_READY = 1, /* LAPIC and IOAPIC pin set up, halting */
	IRQFD_RESAMPLE_IN_ISR, /* first ISR: the host reads KVM_GET_LAPIC */
};

struct irqfd_resample_params {
	uint8_t pin;
	uint8_t vector;
	uint8_t kick_vector; /* edge MSI the host sends to end the halt */
	uint8_t nr_sources;
};

/* One device's status register, as the guest's driver sees it. */
struct irqfd_resample_source {
	volatile uint64_t produced; /* written by the host */
	volatile uint64_t consumed; /* written by the guest ISR */
};

struct irqfd_resample_state {
	struct irqfd_resample_source src[IRQFD_RESAMPLE_MAX_SOURCES];
	volatile uint64_t interrupts; /* ISR entries for the pin's vector */
	volatile uint64_t spurious; /* ISR entries with nothing pending */
	volatile uint64_t eois;
	volatile uint64_t eoi_tsc[IRQFD_RESAMPLE_EOI_RING]; /* guest TSC */
	/*
	 * EOI writes completed with the vector in service (KVM notified the
	 * resampler inside each), and those with nothing in service.
	 */
	volatile uint64_t eois_done;
	volatile uint64_t eois_nothing_in_service;
	/* ISR entries with the vector's ISR bit clear (a second delivery). */
	volatile uint64_t isr_clear;
	/*
	 * Asserts the host made (any source), counted before each irqfd
	 * write; host_asserts as the ISR saw it before its EOI write; ISR
	 * entries with no assert since the previous EOI (a line left
	 * asserted, or asserted by someone else).
	 */
	volatile uint64_t host_asserts;
	volatile uint64_t asserts_at_eoi;
	volatile uint64_t unasserted;
	/* The vector's ISR bit inside its first ISR (0 on kvm_pvm). */
	volatile uint32_t in_service_in_isr;
	volatile uint32_t probed;
	/* Vector found in service with no handler running (platform quirk). */
	volatile uint32_t stray_in_service;
	volatile uint32_t stop;
};

extern struct irqfd_resample_params irqfd_resample_params;
extern struct irqfd_resample_state irqfd_resample_state;

void irqfd_resample_guest(void);
struct ex_regs;
void irqfd_resample_isr(struct ex_regs *regs);
void irqfd_resample_kick_isr(struct ex_regs *regs);

#endif

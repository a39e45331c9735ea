/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest side of x86/ioapic_eoi_reuse (seed 004): a level-triggered IOAPIC
 * interrupt on vector V is in service on vCPU 0 when its route is changed;
 * then V is reused N times for interrupts that do not come from the IOAPIC.
 * Shared by guest and host: the host writes eoi_reuse_params before the run
 * and reads eoi_reuse_state (guest memory) while the vCPUs run.
 */
#ifndef IRQBENCH_GUEST_IOAPIC_EOI_REUSE_H
#define IRQBENCH_GUEST_IOAPIC_EOI_REUSE_H

#include <stdint.h>

#include "guest_code/guest_irq.h"

enum eoi_reuse_reprogram {
	REPROGRAM_NONE, /* control: the route stays aimed at vCPU 0 */
	REPROGRAM_DEST, /* destination moved to the peer's APIC ID */
	REPROGRAM_VECTOR, /* vector changed to new_vector, same destination */
};

enum eoi_reuse_source {
	REUSE_SELF_IPI, /* vCPU 0 sends V to itself */
	REUSE_PEER_IPI, /* vCPU 1 sends V to vCPU 0 */
	REUSE_MSI, /* the host sends V as an edge MSI (KVM_SIGNAL_MSI) */
};

/* GUEST_SYNC stages: the host acts on each. */
enum eoi_reuse_stage {
	STAGE_ROUTED = 1, /* RTE programmed: the host asserts the line */
	STAGE_IN_ISR, /* in V's ISR, before the reprogram */
	STAGE_AFTER_EOI, /* first ISR done, redelivery waited for */
	STAGE_REUSE_START, /* tallies snapshot; MSI source starts */
	STAGE_REUSE_DONE, /* tallies snapshot */
};

/* The "device": a guest write to this port acknowledges it (line low). */
#define EOI_REUSE_DEVICE_ACK_PORT 0x510

struct eoi_reuse_params {
	uint8_t pin;
	uint8_t vector;
	uint8_t new_vector;
	uint8_t peer_apic_id;
	uint32_t reprogram;
	uint32_t source;
	uint32_t reuses;
	/* How long vCPU 0 waits for the redelivery of the line, in TSC ticks. */
	uint64_t redelivery_wait_tsc;
};

struct eoi_reuse_state {
	/* V's ISR bit as read inside V's ISR, before the reprogram. */
	volatile uint32_t in_service_in_isr;
	volatile uint32_t first_isr_done;
	/* Redeliveries of the still-asserted line after the first EOI. */
	volatile uint32_t redelivered_vcpu0; /* V (control) or new_vector */
	volatile uint32_t redelivered_peer; /* V on the new destination */
	/* Reuse interrupts handled on vCPU 0. */
	volatile uint32_t reused;
	/* V found in service after its handlers returned (platform quirk). */
	volatile uint32_t stray_in_service;
	/* Entries of V or new_vector that repeated a delivery (guest_irq.h). */
	volatile uint32_t repeated_deliveries;
	volatile uint32_t reuse_phase;
	/*
	 * The peer's APIC is enabled and takes interrupts.  A software-disabled
	 * APIC drops fixed interrupts, so a redelivery to the peer before this
	 * would look like a lost EOI.
	 */
	volatile uint32_t peer_ready;
	volatile uint32_t peer_go;
	volatile uint32_t done;
};

extern struct eoi_reuse_params eoi_reuse_params;
extern struct eoi_reuse_state eoi_reuse_state;

void eoi_reuse_guest_vcpu0(void);
void eoi_reuse_guest_peer(void);
/* Interrupt handlers the host installs on both vCPUs. */
struct ex_regs;
void eoi_reuse_isr_vector(struct ex_regs *regs);
void eoi_reuse_isr_new_vector(struct ex_regs *regs);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest side of x86/halt_wakeup (seed 000): vCPU 0 is the waker, vCPUs
 * 1..M are targets that halt with interrupts enabled (x2APIC) and stamp the
 * TSC at their ISR entry.  Shared by guest and host: the host writes
 * halt_wakeup_params and, before each IPI phase, halt_wakeup_ipi; it reads
 * halt_wakeup_state (guest memory) while the vCPUs run.
 */
#ifndef IRQBENCH_GUEST_HALT_WAKEUP_H
#define IRQBENCH_GUEST_HALT_WAKEUP_H

#include <stdint.h>

#include "guest_code/guest_irq.h"

/* x2APIC IDs up to 1024: the host enables KVM_X2APIC_API_USE_32BIT_IDS. */
#define HALT_WAKEUP_MAX_TARGETS 1024
/*
 * Rounds per phase (--wakes): the round arrays are guest bss, and a static
 * image (the nested guests' copy) must leave the lib's 512-page memslot 0
 * one free run for the ucall pool (~140 pages): 8192 did not.
 */
#define HALT_WAKEUP_MAX_ROUNDS 4096
#define HALT_WAKEUP_VECTOR 0xb0 /* the wakeup being measured */
#define HALT_WAKEUP_STOP_VECTOR 0xb1 /* end of the run: targets leave */

/* GUEST_SYNC stage of the waker: it waits for the next IPI phase. */
#define HALT_WAKEUP_WAKER_IDLE 1

/*
 * Targets leave KVM_RUN through port I/O, not ucalls: the selftests lib's
 * ucall pool holds 512 entries, fewer than 1023 targets stopping at once.
 */
#define HALT_WAKEUP_READY_PORT 0x520 /* set up; ready_tsc written */
#define HALT_WAKEUP_DONE_PORT 0x521 /* stopped */

/* One target; a cache line each so that targets do not share lines. */
struct halt_wakeup_target {
	/* Guest TSC at the ISR entry of the latest wakeup. */
	volatile uint64_t isr_tsc;
	/* ISR entries of HALT_WAKEUP_VECTOR: written after isr_tsc. */
	volatile uint32_t wakes;
	/* wakes + 1 once the target is about to halt again (IF=0 until hlt). */
	volatile uint32_t armed;
	volatile uint32_t stop_seen;
	/*
	 * ISR entries where hardware never takes one, seen only nested under
	 * QEMU TCG (the host tolerates them there alone, and names them):
	 *  - before_hlt: between sti and hlt (the interrupt shadow of sti was
	 *    lost).  A wake: the ISR returns past the hlt, as if it had run.
	 *  - if_clear: a repeated delivery (guest_irq_repeated_delivery()).
	 *    Not a wake: the entry it interrupted counts and EOIs it.
	 *  - elsewhere: any other place; counted to explain a failure.
	 */
	volatile uint32_t isr_before_hlt, isr_elsewhere, isr_if_clear;
	/* The latest entry elsewhere (RIP, RFLAGS), and with IF clear (RIP). */
	volatile uint64_t elsewhere_rip, elsewhere_rflags, if_clear_rip;
	/* Guest TSC just before the READY exit. */
	volatile uint64_t ready_tsc;
} __attribute__((aligned(64)));
/* At 128 bytes the static image left memslot 0 no free page (nested abort). */
_Static_assert(sizeof(struct halt_wakeup_target) == 64, "one cache line");

struct halt_wakeup_state {
	struct halt_wakeup_target t[HALT_WAKEUP_MAX_TARGETS];
	volatile uint32_t stop;
};

struct halt_wakeup_params {
	uint32_t nr_targets;
	/* How long the waker waits for a target before calling it lost. */
	uint64_t wake_timeout_tsc;
};

/* One IPI phase, written by the host; the waker vCPU fills the stamps. */
struct halt_wakeup_ipi {
	uint32_t rounds;
	/* Test hook: this round (1-based) is never sent; 0 = none. */
	uint32_t skip_round;
	uint16_t seq[HALT_WAKEUP_MAX_ROUNDS]; /* target index per round */
	uint64_t send_tsc[HALT_WAKEUP_MAX_ROUNDS]; /* waker TSC before ICR */
	uint64_t isr_tsc[HALT_WAKEUP_MAX_ROUNDS]; /* target TSC at its ISR */
	volatile uint32_t done_rounds;
	/* Set when a target was not woken (or did not re-arm) in time. */
	volatile uint32_t lost;
	volatile uint32_t lost_target;
	volatile uint32_t lost_round;
	volatile uint32_t lost_rearm; /* 1: it never re-armed its halt */
	volatile uint32_t doubled; /* 1: more ISR entries than interrupts */
};

extern struct halt_wakeup_params halt_wakeup_params;
extern struct halt_wakeup_state halt_wakeup_state;
extern struct halt_wakeup_ipi halt_wakeup_ipi;

/* Entry point of every vCPU: vCPU 0 wakes, the others halt. */
void halt_wakeup_guest_main(void);
struct ex_regs;
void halt_wakeup_isr(struct ex_regs *regs);
void halt_wakeup_stop_isr(struct ex_regs *regs);

#endif

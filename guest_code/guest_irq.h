/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest-side LAPIC/IOAPIC helpers shared by guest payloads (xAPIC mode).
 * Every guest_code object links into every program: names are prefixed.
 */
#ifndef IRQBENCH_GUEST_IRQ_H
#define IRQBENCH_GUEST_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "apic.h"

/* Registers not in every tree's apic.h (6.1 lacks them). */
#ifndef APIC_ISR
#define APIC_ISR 0x100
#endif
#ifndef APIC_LVT0
#define APIC_LVT0 0x350
#endif
#ifndef APIC_LVT_MASKED
#define APIC_LVT_MASKED (1 << 16)
#endif
#ifndef APIC_LVTT
#define APIC_LVTT 0x320
#endif
#ifndef APIC_TMICT
#define APIC_TMICT 0x380
#endif
#ifndef APIC_TMCCT
#define APIC_TMCCT 0x390
#endif
#ifndef APIC_TDCR
#define APIC_TDCR 0x3E0
#endif
#ifndef APIC_LVT_TIMER_PERIODIC
#define APIC_LVT_TIMER_PERIODIC (1 << 17)
#endif
#ifndef APIC_LVT_TIMER_TSCDEADLINE
#define APIC_LVT_TIMER_TSCDEADLINE (2 << 17)
#endif

/*
 * xAPIC on, TPR 0, LINT0 masked: KVM resets the BSP's LINT0 to ExtINT, and
 * with an in-kernel PIC an asserted GSI < 16 would also inject the
 * (unprogrammed) PIC's vector.  Only the IOAPIC and MSIs may deliver.
 */
void guest_irq_lapic_setup(void);
/* IOAPIC redirection entry: @flags are RTE_* bits (e.g. RTE_LEVEL). */
void guest_irq_ioapic_write_rte(uint8_t pin, uint8_t vector, uint8_t dest,
				uint64_t flags);
/* @vector's bit in the LAPIC ISR. */
bool guest_irq_in_service(uint8_t vector);
/* Halts with interrupts enabled until *@counter reaches @target. */
void guest_irq_halt_until(volatile uint32_t *counter, uint32_t target);

#define RFLAGS_IF (1ul << 9) /* ex_regs.rflags: interrupts enabled */

/*
 * A maskable interrupt that interrupted code running with IF clear
 * (@rflags: the interrupted context's, ex_regs.rflags).  No CPU takes one
 * there; nested under QEMU TCG the platform sometimes delivers an interrupt
 * a second time in its own entry path (IDT stub, route_exception) before
 * its handler ran.  Not an interrupt of its own: the entry it interrupted
 * counts and EOIs it.
 */
static inline bool guest_irq_repeated_delivery(uint64_t rflags)
{
	return !(rflags & RFLAGS_IF);
}

#endif

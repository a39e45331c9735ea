// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest code of the irqfd resample scenario (seed 003): the driver of one or
 * two level-triggered devices sharing an IOAPIC pin.  See irqfd_resample.h.
 */
#include "apic.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_code/guest_irq.h"
#include "guest_code/irqfd_resample.h"
#include "lib/ioapic_model.h"

struct irqfd_resample_params irqfd_resample_params;
struct irqfd_resample_state irqfd_resample_state;

#define P irqfd_resample_params
#define S irqfd_resample_state

/*
 * The pin's handler, as a shared-line driver does it: read every device's
 * status, serve one event of each device that has one, then EOI.  An
 * interrupt that finds nothing is spurious: on one source that means the
 * line was delivered twice for one event.  An interrupt with no host assert
 * since the previous EOI (which de-asserted the line) is counted as
 * unasserted: the line was left asserted, or another source raised it.
 */
void irqfd_resample_isr(struct ex_regs *regs)
{
	bool served = false, again;
	uint64_t n;
	int s;

	if (!S.probed) {
		S.in_service_in_isr = guest_irq_in_service(P.vector);
		S.probed = 1;
		GUEST_SYNC(IRQFD_RESAMPLE_IN_ISR);
	}
	S.interrupts++;
	/*
	 * Where the platform keeps the vector in service in its ISR, an entry
	 * with the bit clear is the same interrupt delivered a second time
	 * (seen under nested KVM on TCG): its EOI finds nothing in service and
	 * reaches no IOAPIC, so it neither de-asserts nor notifies.
	 */
	again = S.in_service_in_isr && !guest_irq_in_service(P.vector);
	if (again)
		S.isr_clear++;
	/* The previous EOI de-asserted the line: who asserted it again? */
	else if (S.host_asserts == S.asserts_at_eoi)
		S.unasserted++;
	for (s = 0; s < P.nr_sources; s++) {
		if (S.src[s].consumed < S.src[s].produced) {
			S.src[s].consumed++;
			served = true;
		}
	}
	if (!served)
		S.spurious++;
	/* Stamp first, then publish: the host reads eois, then the stamp. */
	n = S.eois;
	if (!again)
		S.asserts_at_eoi = S.host_asserts;
	S.eoi_tsc[n % IRQFD_RESAMPLE_EOI_RING] = rdtsc();
	S.eois = n + 1;
	xapic_write_reg(APIC_EOI, 0);
	if (!again)
		S.eois_done++;
	else
		S.eois_nothing_in_service++;
}

void irqfd_resample_kick_isr(struct ex_regs *regs)
{
	xapic_write_reg(APIC_EOI, 0);
}

void irqfd_resample_guest(void)
{
	guest_irq_lapic_setup();
	guest_irq_ioapic_write_rte(P.pin, P.vector, 0, RTE_LEVEL);
	asm volatile("sti");
	GUEST_SYNC(IRQFD_RESAMPLE_READY);
	guest_irq_halt_until(&S.stop, 1);

	/* No handler runs now: a set ISR bit is a leftover of the platform. */
	asm volatile("cli");
	while (guest_irq_in_service(P.vector) && S.stray_in_service < 16) {
		S.stray_in_service++;
		xapic_write_reg(APIC_EOI, 0);
	}
	GUEST_DONE();
}

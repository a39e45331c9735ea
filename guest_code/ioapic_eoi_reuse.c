// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest code of the stale IOAPIC EOI scenario (seed 004).  Runs inside the
 * VM; see ioapic_eoi_reuse.h for the protocol with the host.
 */
#include "apic.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_code/ioapic_eoi_reuse.h"
#include "lib/ioapic_model.h"

struct eoi_reuse_params eoi_reuse_params;
struct eoi_reuse_state eoi_reuse_state;

#define P eoi_reuse_params
#define S eoi_reuse_state

static void device_ack(void)
{
	asm volatile("outb %%al, %%dx"
		     :
		     : "a"(0), "d"(EOI_REUSE_DEVICE_ACK_PORT));
}

static void first_isr(void)
{
	S.in_service_in_isr = guest_irq_in_service(P.vector);
	GUEST_SYNC(STAGE_IN_ISR);

	switch (P.reprogram) {
	case REPROGRAM_DEST:
		guest_irq_ioapic_write_rte(P.pin, P.vector, P.peer_apic_id,
					   RTE_LEVEL);
		break;
	case REPROGRAM_VECTOR:
		guest_irq_ioapic_write_rte(P.pin, P.new_vector, 0, RTE_LEVEL);
		break;
	default:
		/* The control rewrites the same entry: a rescan, same route. */
		guest_irq_ioapic_write_rte(P.pin, P.vector, 0, RTE_LEVEL);
		break;
	}
	S.first_isr_done = 1;
	xapic_write_reg(APIC_EOI, 0);
}

/* V: the IOAPIC interrupt first, then (on vCPU 0) the reuses. */
void eoi_reuse_isr_vector(struct ex_regs *regs)
{
	if (guest_irq_repeated_delivery(regs->rflags)) {
		S.repeated_deliveries++;
		return;
	}
	if (GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID)) != 0) {
		/* The line, redelivered to its new destination. */
		S.redelivered_peer++;
		device_ack();
	} else if (!S.first_isr_done) {
		first_isr();
		return;
	} else if (!S.reuse_phase) {
		/*
		 * The still-asserted line again, before any reuse: the control's
		 * redelivery, or one that came early because the platform EOIs
		 * at delivery.  Either way the device is served here.
		 */
		S.redelivered_vcpu0++;
		device_ack();
	} else {
		S.reused++;
	}
	xapic_write_reg(APIC_EOI, 0);
}

void eoi_reuse_isr_new_vector(struct ex_regs *regs)
{
	if (guest_irq_repeated_delivery(regs->rflags)) {
		S.repeated_deliveries++;
		return;
	}
	S.redelivered_vcpu0++;
	device_ack();
	xapic_write_reg(APIC_EOI, 0);
}

static void send_ipi(uint8_t dest, uint32_t icr)
{
	xapic_write_reg(APIC_ICR2, (uint32_t)dest << 24);
	xapic_write_reg(APIC_ICR,
			icr | APIC_DM_FIXED | APIC_INT_ASSERT | P.vector);
}

static void wait_redelivery(void)
{
	uint64_t deadline = rdtsc() + P.redelivery_wait_tsc;

	while (!S.redelivered_vcpu0 && !S.redelivered_peer &&
	       rdtsc() < deadline)
		cpu_relax();
}

void eoi_reuse_guest_vcpu0(void)
{
	uint32_t i;

	guest_irq_lapic_setup();
	while (!S.peer_ready)
		cpu_relax();
	guest_irq_ioapic_write_rte(P.pin, P.vector, 0, RTE_LEVEL);
	asm volatile("sti");
	GUEST_SYNC(STAGE_ROUTED);
	guest_irq_halt_until(&S.first_isr_done, 1);

	wait_redelivery();
	GUEST_SYNC(STAGE_AFTER_EOI);

	/*
	 * No handler runs now, so V must not be in service.  A platform that
	 * loses track of ISR (kvm_pvm EOIs at delivery) can leave it set and
	 * block every reuse: count and clear such leftovers.
	 */
	asm volatile("cli");
	while (guest_irq_in_service(P.vector)) {
		S.stray_in_service++;
		xapic_write_reg(APIC_EOI, 0);
	}
	asm volatile("sti");

	/* Before the sync: the host's first MSI may arrive right after it. */
	S.reuse_phase = 1;
	GUEST_SYNC(STAGE_REUSE_START);
	if (P.source == REUSE_SELF_IPI) {
		for (i = 0; i < P.reuses; i++) {
			send_ipi(0, APIC_DEST_SELF);
			guest_irq_halt_until(&S.reused, i + 1);
		}
	} else {
		/* The peer (IPIs) or the host (MSIs) sends them, one at a time. */
		S.peer_go = P.source == REUSE_PEER_IPI;
		guest_irq_halt_until(&S.reused, P.reuses);
	}
	GUEST_SYNC(STAGE_REUSE_DONE);
	S.done = 1;
	GUEST_DONE();
}

void eoi_reuse_guest_peer(void)
{
	uint32_t i;

	guest_irq_lapic_setup();
	asm volatile("sti");
	S.peer_ready = 1;
	while (!S.peer_go && !S.done)
		cpu_relax();
	if (P.source == REUSE_PEER_IPI) {
		for (i = 0; i < P.reuses; i++) {
			send_ipi(0, APIC_DEST_PHYSICAL);
			while (S.reused < i + 1)
				cpu_relax();
		}
	}
	while (!S.done)
		cpu_relax();
	GUEST_DONE();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest code of the halt wakeup scenario (seed 000).  Runs inside the VM;
 * see halt_wakeup.h for the protocol with the host.
 */
#include "apic.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_code/halt_wakeup.h"

struct halt_wakeup_params halt_wakeup_params;
struct halt_wakeup_state halt_wakeup_state;
struct halt_wakeup_ipi halt_wakeup_ipi;

#define P halt_wakeup_params
#define S halt_wakeup_state
#define I halt_wakeup_ipi

/* Target index of this vCPU: x2APIC ID (= vCPU id) - 1. */
static uint32_t target_index(void)
{
	return (uint32_t)x2apic_read_reg(APIC_ID) - 1;
}

/*
 * The hot path's x2APIC writes, without the lib's fault fixup around wrmsr
 * (x2apic_write_reg(): ten instructions).  Where the CPU is emulated while
 * IF is clear (kvm_pvm emulates every such instruction: kvm:kvm_emulate_insn),
 * each instruction of the ISR and of the waker is a cost upstream's
 * xapic_ipi_test does not pay.  Neither write can fault: x2APIC is on.
 */
static inline void x2apic_write_fast(uint32_t reg, uint64_t value)
{
	asm volatile("wrmsr"
		     :
		     : "c"(APIC_BASE_MSR + (reg >> 4)), "a"((uint32_t)value),
		       "d"((uint32_t)(value >> 32))
		     : "memory");
}

/*
 * The hot path's TSC reads, without the lib's lfences (rdtsc(): each lfence
 * is emulated twice on kvm_pvm).  They cannot make a latency shorter than
 * it was: the send stamp retires before the ICR write takes effect, and
 * the ISR's read comes after the interrupt's delivery, which the pipeline
 * does not run ahead of.  At most they make it longer by the read's lead.
 */
static inline uint64_t tsc_plain(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The instruction after target()'s hlt: where each wakeup returns to. */
extern const char halt_wakeup_after_hlt[];

/*
 * The wakeup is taken only inside target()'s "sti; hlt", which holds the
 * target's slot in rbx: no x2APIC ID read (an MSR access, which exits
 * where the APIC is not virtualized) on the path upstream's
 * xapic_ipi_test does not take either.
 */
void halt_wakeup_isr(struct ex_regs *regs)
{
	/*
	 * First: the latency ends at ISR entry.  The TSC read as two halves,
	 * stored as two halves (two instructions, not four: see tsc_plain()).
	 */
	struct halt_wakeup_target *t = (void *)regs->rbx;
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));

	/*
	 * Just past the hlt: a wakeup, and the only case that costs more than
	 * one compare.  An entry there has IF set (the hlt ran with it): never
	 * a repeated delivery, which interrupts the ISR itself.
	 */
	if (regs->rip != (uint64_t)halt_wakeup_after_hlt) {
		/*
		 * Not a wake (see halt_wakeup.h).  The target comes from the
		 * APIC ID here: the interrupted code may have used rbx.
		 */
		if (guest_irq_repeated_delivery(regs->rflags)) {
			t = &S.t[target_index()];
			t->if_clear_rip = regs->rip;
			t->isr_if_clear++;
			return;
		}
		if (regs->rip + 1 == (uint64_t)halt_wakeup_after_hlt) {
			/* At the hlt (one byte): past it, as if it had run. */
			t->isr_before_hlt++;
			regs->rip++;
		} else {
			t->elsewhere_rip = regs->rip;
			t->elsewhere_rflags = regs->rflags;
			t->isr_elsewhere++;
		}
	}
	((volatile uint32_t *)&t->isr_tsc)[0] = lo;
	((volatile uint32_t *)&t->isr_tsc)[1] = hi;
	/* The waker reads isr_tsc once it sees the count move (one incl). */
	asm volatile("incl %0" : "+m"(t->wakes) : : "memory");
	x2apic_write_fast(APIC_EOI, 0);
}

void halt_wakeup_stop_isr(struct ex_regs *regs)
{
	S.t[target_index()].stop_seen++;
	x2apic_write_reg(APIC_EOI, 0);
}

static void port_exit(uint16_t port)
{
	asm volatile("outb %%al, %%dx" : : "a"(0), "d"(port) : "memory");
}

static void target(void)
{
	struct halt_wakeup_target *t = &S.t[target_index()];

	t->ready_tsc = rdtsc();
	port_exit(HALT_WAKEUP_READY_PORT);
	asm volatile("cli");
	while (!S.stop) {
		/*
		 * Armed with IF=0, then sti;hlt (atomic: the interrupt shadow
		 * covers hlt), so a wakeup sent once armed is taken from hlt.
		 */
		t->armed = t->wakes + 1;
		asm volatile("sti; hlt\n"
			     ".globl halt_wakeup_after_hlt\n"
			     "halt_wakeup_after_hlt: cli"
			     :
			     : "b"(t)
			     : "memory");
	}
	asm volatile("sti");
	port_exit(HALT_WAKEUP_DONE_PORT);
}

/*
 * The count at @v once it reaches @want (or jumps past it: the caller
 * checks), or what it still was at @deadline.
 */
static uint32_t wait_count(volatile uint32_t *v, uint32_t want,
			   uint64_t deadline)
{
	uint32_t seen;

	while ((int32_t)((seen = *v) - want) < 0)
		if (tsc_plain() > deadline)
			break;
	return seen;
}

/* One round per target in I.seq: send, wait for its ISR, keep both stamps. */
static void ipi_phase(void)
{
	const uint64_t timeout = P.wake_timeout_tsc;
	uint32_t k, idx, want, seen;
	struct halt_wakeup_target *t;
	uint64_t send;

	for (k = 0; k < I.rounds; k++) {
		idx = I.seq[k];
		t = &S.t[idx];
		/* Kept in a register: gcc would compute it three times. */
		asm("" : "+r"(t));
		want = t->wakes + 1;
		/* Halted again (the deadline read only if it has to wait). */
		if ((int32_t)(t->armed - want) < 0 &&
		    (int32_t)(wait_count(&t->armed, want,
					 tsc_plain() + timeout) -
			      want) < 0) {
			I.lost_rearm = 1;
			goto lost;
		}
		send = tsc_plain();
		if (k + 1 != I.skip_round)
			x2apic_write_fast(APIC_ICR,
					  ((uint64_t)(idx + 1) << 32) |
						  APIC_DEST_PHYSICAL |
						  APIC_DM_FIXED |
						  HALT_WAKEUP_VECTOR);
		seen = wait_count(&t->wakes, want, send + timeout);
		if (seen != want) {
			/* A later double still shows in the phase's totals. */
			I.doubled = (int32_t)(seen - want) > 0;
			goto lost;
		}
		I.send_tsc[k] = send;
		I.isr_tsc[k] = t->isr_tsc;
	}
	I.done_rounds = k;
	return;
lost:
	I.done_rounds = k;
	I.lost_target = idx;
	I.lost_round = k;
	I.lost = 1;
}

static void waker(void)
{
	for (;;) {
		GUEST_SYNC(HALT_WAKEUP_WAKER_IDLE);
		if (S.stop)
			break;
		ipi_phase();
	}
	GUEST_DONE();
}

void halt_wakeup_guest_main(void)
{
	x2apic_enable();
	x2apic_write_reg(APIC_TASKPRI, 0);
	if (x2apic_read_reg(APIC_ID) == 0)
		waker();
	else
		target();
}

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
 * The wakeup is taken only inside target()'s "sti; hlt", which holds the
 * target's slot in rbx: no x2APIC ID read (an MSR access, which exits
 * where the APIC is not virtualized) on the path upstream's
 * xapic_ipi_test does not take either.
 */
void halt_wakeup_isr(struct ex_regs *regs)
{
	/*
	 * First: the latency ends at ISR entry.  rdtsc() as two halves, stored
	 * as two halves (two instructions, not four: see x2apic_write_fast()).
	 */
	struct halt_wakeup_target *t = (void *)regs->rbx;
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));

	/*
	 * Not a wake (see halt_wakeup.h).  The target comes from the APIC ID
	 * here: the interrupted code may have used rbx.
	 */
	if (guest_irq_repeated_delivery(regs->rflags)) {
		t = &S.t[target_index()];
		t->if_clear_rip = regs->rip;
		t->isr_if_clear++;
		return;
	}
	((volatile uint32_t *)&t->isr_tsc)[0] = lo;
	((volatile uint32_t *)&t->isr_tsc)[1] = hi;
	/*
	 * 0xf4 = hlt: the target takes its interrupts just past it (checked
	 * first: the common case costs one compare), or at it.
	 */
	if (*(volatile uint8_t *)(regs->rip - 1) != 0xf4) {
		if (*(volatile uint8_t *)regs->rip == 0xf4) {
			/* Past it, as if it had run and this had woken it. */
			t->isr_before_hlt++;
			regs->rip++;
		} else {
			t->elsewhere_rip = regs->rip;
			t->elsewhere_rflags = regs->rflags;
			t->isr_elsewhere++;
		}
	}
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
		asm volatile("sti; hlt; cli" : : "b"(t) : "memory");
	}
	asm volatile("sti");
	port_exit(HALT_WAKEUP_DONE_PORT);
}

/* At least: a count that jumps past @want is caught by the caller. */
static bool wait_tsc(volatile uint32_t *v, uint32_t want, uint64_t deadline)
{
	while ((int32_t)(*v - want) < 0)
		if (rdtsc() > deadline)
			return false;
	return true;
}

/* The same, the deadline read only if it has to wait (saves a rdtsc). */
static bool wait_from_now(volatile uint32_t *v, uint32_t want, uint64_t timeout)
{
	return (int32_t)(*v - want) >= 0 ||
	       wait_tsc(v, want, rdtsc() + timeout);
}

/* One round per target in I.seq: send, wait for its ISR, keep both stamps. */
static void ipi_phase(void)
{
	uint32_t k, idx, want;
	struct halt_wakeup_target *t;
	uint64_t send;

	for (k = 0; k < I.rounds; k++) {
		idx = I.seq[k];
		t = &S.t[idx];
		want = t->wakes + 1;
		if (!wait_from_now(&t->armed, want, P.wake_timeout_tsc)) {
			I.lost_rearm = 1;
			goto lost;
		}
		send = rdtsc();
		if (k + 1 != I.skip_round)
			x2apic_write_fast(APIC_ICR,
					  ((uint64_t)(idx + 1) << 32) |
						  APIC_DEST_PHYSICAL |
						  APIC_DM_FIXED |
						  HALT_WAKEUP_VECTOR);
		if (!wait_tsc(&t->wakes, want, send + P.wake_timeout_tsc))
			goto lost;
		if (t->wakes != want) {
			I.doubled = 1;
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

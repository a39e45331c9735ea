// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest code of the injection-storm isolation scenario (seed 001); see
 * inject_isolation.h.
 */
#include <asm/kvm_para.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_code/guest_irq.h"
#include "guest_code/inject_isolation.h"

struct inject_isolation_params inject_isolation_params;
struct inject_isolation_state inject_isolation_state;
/* KVM writes it at each vCPU entry; 64-byte aligned, within one page. */
struct kvm_steal_time inject_isolation_steal __attribute__((aligned(64)));

#define P inject_isolation_params
#define S inject_isolation_state

#ifndef MSR_IA32_TSC_DEADLINE
#define MSR_IA32_TSC_DEADLINE 0x6e0
#endif
#define APIC_TDCR_DIV_1 0xb

static uint64_t next_deadline, last_tick_tsc;
static int64_t last_pos;

/* APIC timer counts in @tsc TSC ticks, in two steps so as not to overflow. */
static int64_t tsc_to_counts(uint64_t tsc)
{
	return tsc / S.cal_tsc * S.cal_counts +
	       tsc % S.cal_tsc * S.cal_counts / S.cal_tsc;
}

void inject_isolation_storm_isr(struct ex_regs *regs)
{
	S.storm_irqs[(regs->vector - P.storm_vector) %
		     INJECT_ISOLATION_MAX_STORM_VCPUS]++;
	xapic_write_reg(APIC_EOI, 0);
}

void inject_isolation_kick_isr(struct ex_regs *regs)
{
	xapic_write_reg(APIC_EOI, 0);
}

void inject_isolation_timer_isr(struct ex_regs *regs)
{
	uint64_t now = rdtsc(), n = S.ticks;

	if (P.timer == ISO_TIMER_DEADLINE) {
		S.lateness[n % INJECT_ISOLATION_RING] =
			(int64_t)(now - next_deadline);
		next_deadline += P.period_tsc;
		/* Behind by whole periods: skip them rather than fire at once. */
		while ((int64_t)(next_deadline - now) <= 0) {
			next_deadline += P.period_tsc;
			S.missed++;
		}
		wrmsr(MSR_IA32_TSC_DEADLINE, next_deadline);
	} else {
		int64_t period = xapic_read_reg(APIC_TMICT);
		int64_t pos = period - xapic_read_reg(APIC_TMCCT);
		int64_t late = pos, ended;

		/*
		 * Stopped (the run's end writes TMICT 0 with interrupts on):
		 * a tick that was already pending is not one of the run's,
		 * and a period of 0 divides nothing (#DE, exit 254).
		 */
		if (!period)
			goto eoi;
		/*
		 * Counts since the reload are only the position in the
		 * current period: the timer coalesces the ticks it could not
		 * deliver.  The periods that ended since the previous handler
		 * (its TSC gap, less the change of position) tell how many:
		 * all but the first went undelivered, and this tick is late
		 * by them too, as a TSC-deadline tick would be.
		 */
		if (last_tick_tsc) {
			ended = (tsc_to_counts(now - last_tick_tsc) - pos +
				 last_pos + period / 2) /
				period;
			if (ended > 1) {
				S.missed += ended - 1;
				late += (ended - 1) * period;
			}
		}
		S.lateness[n % INJECT_ISOLATION_RING] = late;
		last_pos = pos;
		last_tick_tsc = now;
	}
	S.ticks = n + 1;
eoi:
	xapic_write_reg(APIC_EOI, 0);
}

/* APIC timer counts per TSC tick, against a free-running one-shot count. */
static void calibrate_apic_timer(void)
{
	uint32_t c0, c1;
	uint64_t t0, t1;

	xapic_write_reg(APIC_TDCR, APIC_TDCR_DIV_1);
	xapic_write_reg(APIC_LVTT, APIC_LVT_MASKED | P.timer_vector);
	xapic_write_reg(APIC_TMICT, 0xffffffff);
	c0 = xapic_read_reg(APIC_TMCCT);
	t0 = rdtsc();
	while (rdtsc() - t0 < P.calibrate_tsc)
		cpu_relax();
	c1 = xapic_read_reg(APIC_TMCCT);
	t1 = rdtsc();
	xapic_write_reg(APIC_TMICT, 0);
	S.cal_counts = c0 - c1;
	S.cal_tsc = t1 - t0;
}

static void start_timer(void)
{
	if (P.timer == ISO_TIMER_DEADLINE) {
		xapic_write_reg(APIC_LVTT,
				APIC_LVT_TIMER_TSCDEADLINE | P.timer_vector);
		next_deadline = rdtsc() + P.period_tsc;
		wrmsr(MSR_IA32_TSC_DEADLINE, next_deadline);
	} else {
		xapic_write_reg(APIC_LVTT,
				APIC_LVT_TIMER_PERIODIC | P.timer_vector);
		xapic_write_reg(APIC_TMICT,
				P.period_tsc * S.cal_counts / S.cal_tsc);
	}
}

static void idle_loop(void)
{
	asm volatile("cli");
	while (!S.stop) {
		if (S.busy) {
			/* Control: runnable all the time, interrupts on. */
			asm volatile("sti");
			while (S.busy && !S.stop)
				cpu_relax();
			asm volatile("cli");
			continue;
		}
		asm volatile("sti; hlt; cli");
	}
	asm volatile("sti");
}

void inject_isolation_guest(void)
{
	guest_irq_lapic_setup();
	if (P.role == ISO_ROLE_IDLE) {
		calibrate_apic_timer();
		if (P.steal_gpa)
			wrmsr(MSR_KVM_STEAL_TIME,
			      P.steal_gpa | KVM_MSR_ENABLED);
		start_timer();
	}
	asm volatile("sti");
	GUEST_SYNC(INJECT_ISOLATION_READY);
	if (P.role == ISO_ROLE_IDLE) {
		idle_loop();
		xapic_write_reg(APIC_LVTT, APIC_LVT_MASKED);
		xapic_write_reg(APIC_TMICT, 0);
	} else {
		guest_irq_halt_until(&S.stop, 1);
	}
	GUEST_DONE();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Halt under overcommit: wakeup latency against blocked vCPUs (seed 000).
 *
 * M vCPUs on P physical CPUs (vCPU j's thread pinned on the (j mod P)-th
 * CPU): vCPU 0 is the waker, vCPUs 1..M-1 halt with interrupts enabled in
 * x2APIC mode.  One target at a time (round-robin, or at random without
 * immediate repeats) is woken by (a) an x2APIC ICR write from the waker
 * vCPU, (b) an MSI through an irqfd written by a host thread, (c)
 * KVM_SIGNAL_MSI; the next wakeup waits until the target has taken its ISR
 * and re-armed its halt.  Latency = TSC at the send to TSC at the target's
 * ISR entry, on the host's timeline (see read_tsc_offset()).
 *
 * On VMX with VT-d posting, every blocked vCPU that owns a posted IRTE sits
 * on its pCPU's wakeup list and the wakeup-vector handler walks that list:
 * the cost grows with blocked vCPUs per pCPU.  ns_per_blocked_vcpu, the
 * slope of the median latency against blocked vCPUs per pCPU with a
 * bootstrap interval, is how a user sees that cost and what a fix (multiple
 * wakeup vectors, listing only vCPUs with posted IRTEs) removes.  Which
 * posted-interrupt paths the host has is detected and recorded; this test
 * assigns no device, so it cannot make VT-d post (said in the record).
 *
 * Correctness is exact: every interrupt enters its target's ISR exactly
 * once (a lost one fails, naming the vCPU, bounded by --wake-timeout-ms),
 * halt_exits rises by one per wakeup, polling stats stay zero with halt
 * polling off (KVM_CAP_HALT_POLL 0 for the VM), kvm:kvm_vcpu_wakeup never
 * exceeds the wakeups, and a control wakes each long-blocked target once
 * with polling off: kvm:kvm_vcpu_wakeup (waited) and halt_exits must count
 * exactly those wakeups and halt_wakeup at least them, after a quiet window
 * in which all must count nothing.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "guest_code/halt_wakeup.h"
#include "lib/ftrace_graph.h"
#include "lib/harness.h"
#include "lib/kvm_stats.h"
#include "lib/linreg.h"
#include "lib/placement.h"
#include "lib/random.h"
#include "lib/results.h"
#include "lib/stats.h"
#include "lib/trace_counter.h"
#include "lib/tsc.h"
#include "lib/x86/vm.h"

#define MAX_SIZES 16
#define MAX_CPUS 64
#define CONTROL_WAKES 32
#define QUIET_MS 20
/*
 * KVM kicks every vCPU of a VM about 100 ms after a vCPU's first entry
 * (KVM_REQ_GLOBAL_CLOCK_UPDATE -> kvmclock_update_work, x86.c), and every
 * 300 s (kvmclock_sync_work): a kick of a blocked vCPU counts halt_wakeup
 * and nothing else.  The quiet window starts this long after the last
 * target entered its halt, and is retried once when only halt_wakeup moved.
 */
#define QUIET_DELAY_MS 300
#define SETTLE_MS 1000
#define BOOTSTRAP_ITERS 1000

enum source { SRC_IPI, SRC_IRQFD, SRC_SIGNAL_MSI, NR_SOURCES };
enum order { ORDER_RR, ORDER_RANDOM, NR_ORDERS };
enum poll { POLL_OFF, POLL_ON, NR_POLLS };
enum halt_stat {
	ST_HALT_EXITS,
	ST_HALT_WAKEUP,
	ST_POLL_OK,
	ST_POLL_TRIED,
	NR_STATS
};

static const char *const source_names[] = { "ipi", "irqfd", "signal_msi",
					    NULL };
static const char *const order_names[] = { "rr", "random", NULL };
static const char *const poll_names[] = { "off", "on", NULL };
static const char *const inject_quiet_names[] = { "none", "wakeup", "kicks",
						  NULL };
static const char *const stat_names[] = { "halt_exits", "halt_wakeup",
					  "halt_successful_poll",
					  "halt_attempted_poll" };

struct config {
	struct option_list vcpus, pcpus;
	bool source[NR_SOURCES], order[NR_ORDERS], poll[NR_POLLS];
	unsigned long wakes;
	unsigned long wake_timeout_ms;
	unsigned long inject_lost; /* drop this round of the first cell */
	const char *inject_quiet; /* "none", "wakeup" or "kicks" */
	unsigned long seed;
	/* --placement: the waker on A's first CPU, the targets on B's. */
	const struct placement_group *waker_cpus, *target_cpus;
	uint64_t halt_poll_ns; /* "on": the kvm module's default */
};

struct target {
	struct kvm_vcpu *vcpu;
	int index, cpu, tid;
	pthread_t thread;
	int64_t tsc_offset;
	/* The READY stamp (guest TSC) and the host stamps around that run. */
	uint64_t ready_tsc, run_h0, run_h1;
	struct kvm_stats stats;
	bool stats_ok;
	int eventfd;
	uint32_t sent; /* this phase */
	uint32_t wakes_before;
	uint32_t before_hlt_before, elsewhere_before, if_clear_before;
	uint64_t stat_before[NR_STATS];
	/* halt_exits once its current halt has reached KVM (host sources). */
	uint64_t halt_exits_need;
	unsigned int neighbours; /* targets on this pCPU, itself included */
};

struct vmrun {
	const struct config *c;
	int m, p; /* vCPUs, pCPUs */
	int nr_targets;
	struct kvm_vm *vm;
	struct kvm_vcpu *waker;
	int waker_cpu;
	int64_t waker_offset;
	const char *offset_how;
	struct target *t;
	struct halt_wakeup_state *st; /* guest memory */
	struct halt_wakeup_ipi *ipi; /* guest memory */
	_Atomic int ready;
	struct trace_counter wake_all, wake_waited, pi_irte, reinjected;
	bool wake_ok, pi_ok, reinjected_ok;
	char wake_why[192];
	double blocked_per_pcpu;
	uint64_t halted_tsc; /* when every target was seen halted */
	bool lost; /* a wakeup was lost: the VM's state is unknown */
	bool under_tcg; /* QEMU TCG's quirks are tolerated (halt_wakeup.h) */
	/* Why the TSC offsets may not hold: the host's clocksource, or "". */
	char tsc_note[96];
	uint16_t *seq;
	double *lat;
};

struct phase {
	enum source src;
	enum order order;
	enum poll poll;
	unsigned int rounds, skip_round;
	/* Outcome */
	unsigned int done;
	bool lost, lost_rearm, doubled;
	unsigned int lost_target, lost_round;
	unsigned int negative;
	uint64_t wall_ns;
	uint64_t stat[NR_STATS];
	uint64_t wake_all, wake_waited, pi_irte;
	/* Wakeup vectors KVM injected again after an exit cut delivery short. */
	uint64_t reinjected;
	/*
	 * ISR entries away from the hlt (halt_wakeup.h), this phase; the
	 * latest IF-clear and elsewhere ones' RIP (and RFLAGS).
	 */
	uint64_t isr_if_clear, isr_before_hlt, isr_elsewhere;
	uint64_t if_clear_rip, elsewhere_rip, elsewhere_rflags;
	char fail[448];
};

/* Samples kept across VMs for the slope: [pcpus][source][poll][vcpus]. */
struct series_cell {
	double x;
	double *samples;
	size_t n;
};
static struct series_cell series[MAX_SIZES][NR_SOURCES][NR_POLLS][MAX_SIZES];

static struct vmrun *current;
/* kvm:kvm_pi_irte_update over every phase, for the detection record. */
static uint64_t pi_irte_total;
static bool pi_irte_counted;
static char stage_text[160];

/* What a hang looks like, printed by the watchdog. */
static void dump_run(void)
{
	struct vmrun *r = current;
	int i, shown = 0;

	if (!r || !r->st)
		return;
	printf("# %s; M=%d P=%d, %d of %d targets ready\n", stage_text, r->m,
	       r->p, r->ready, r->nr_targets);
	for (i = 0; i < r->nr_targets && shown < 8; i++) {
		struct halt_wakeup_target *g = &r->st->t[i];

		if (g->armed == g->wakes + 1)
			continue;
		printf("# vCPU %d (pCPU %d): wakes %u armed %u\n", i + 1,
		       r->t[i].cpu, g->wakes, g->armed);
		shown++;
	}
}

static void stage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(stage_text, sizeof(stage_text), fmt, ap);
	va_end(ap);
	watchdog_stage(stage_text);
}

/* ---- TSC timeline ------------------------------------------------------------- */

/*
 * Guest TSC = host TSC + the vCPU's TSC offset (no TSC scaling: the VM keeps
 * the host's frequency).  The offset is read from KVM (KVM_VCPU_TSC_OFFSET,
 * 5.16+), or else from KVM_GET_MSRS(IA32_TSC) bracketed by two host stamps
 * (error: half the ioctl).  Every target's READY stamp, minus its offset,
 * must fall between the host stamps around the run that produced it.
 */
static int64_t read_tsc_offset(struct kvm_vcpu *vcpu, const char **how)
{
	uint64_t off, h0, h1, g;

	if (!__vcpu_has_device_attr(vcpu, KVM_VCPU_TSC_CTRL,
				    KVM_VCPU_TSC_OFFSET)) {
		vcpu_device_attr_get(vcpu, KVM_VCPU_TSC_CTRL,
				     KVM_VCPU_TSC_OFFSET, &off);
		*how = "KVM_VCPU_TSC_OFFSET";
		return (int64_t)off;
	}
	h0 = tsc_now();
	g = vcpu_get_msr(vcpu, MSR_IA32_TSC);
	h1 = tsc_now();
	*how = "KVM_GET_MSRS(IA32_TSC)";
	return (int64_t)(g - (h0 + (h1 - h0) / 2));
}

static double latency_ns(uint64_t isr_guest, int64_t isr_off,
			 uint64_t send_guest, int64_t send_off)
{
	int64_t d = (int64_t)((isr_guest - isr_off) - (send_guest - send_off));

	return d < 0 ? -tsc_to_ns(-d) : tsc_to_ns(d);
}

/* ---- vCPU threads ------------------------------------------------------------ */

/* A target exits to userspace only through its READY and DONE ports. */
static void expect_port(struct target *t, uint16_t port)
{
	struct kvm_run *run = t->vcpu->run;
	struct ucall uc;

	if (run->exit_reason == KVM_EXIT_IO && run->io.port == port)
		return;
	if (get_ucall(t->vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_FAIL("vCPU %d: unexpected exit %s (port 0x%x), wanted port 0x%x",
		  t->index + 1, exit_reason_str(run->exit_reason),
		  run->exit_reason == KVM_EXIT_IO ? run->io.port : 0, port);
}

static void *target_thread(void *arg)
{
	struct target *t = arg;

	harness_pin(pthread_self(), t->cpu);
	t->tid = gettid();
	t->run_h0 = tsc_now();
	vcpu_run(t->vcpu);
	t->run_h1 = tsc_now();
	expect_port(t, HALT_WAKEUP_READY_PORT);
	t->ready_tsc = current->st->t[t->index].ready_tsc;
	atomic_fetch_add(&current->ready, 1);

	/* Halted in KVM from here on, until the stop vector. */
	vcpu_run(t->vcpu);
	expect_port(t, HALT_WAKEUP_DONE_PORT);
	return NULL;
}

/* The waker vCPU runs on the main thread, one IPI phase per KVM_RUN. */
static void run_waker(struct vmrun *r, uint64_t expect)
{
	struct ucall uc;

	vcpu_run(r->waker);
	switch (get_ucall(r->waker, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == expect, "waker: stage %lu",
			    uc.args[1]);
		return;
	case UCALL_DONE:
		TEST_ASSERT(expect == UCALL_DONE, "waker finished early");
		return;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		return;
	default:
		TEST_FAIL("waker: unexpected exit %s",
			  exit_reason_str(r->waker->run->exit_reason));
	}
}

/* ---- sending --------------------------------------------------------------- */

/* MSI to x2APIC ID @id: bits 8-31 of the ID in address_hi (32-bit IDs). */
static void msi_for(uint32_t id, uint32_t *lo, uint32_t *hi)
{
	*lo = 0xfee00000 | (id & 0xff) << 12;
	*hi = id & 0xffffff00;
}

static void signal_msi(struct vmrun *r, int target, uint8_t vector)
{
	struct kvm_msi msi = { .data = vector };
	int ret;

	msi_for(target + 1, &msi.address_lo, &msi.address_hi);
	ret = __vm_ioctl(r->vm, KVM_SIGNAL_MSI, &msi);
	TEST_ASSERT(ret >= 0, "KVM_SIGNAL_MSI: %s", strerror(errno));
}

static void host_send(struct vmrun *r, enum source src, int target)
{
	uint64_t one = 1;

	if (src == SRC_IRQFD)
		TEST_ASSERT(write(r->t[target].eventfd, &one, 8) == 8,
			    "eventfd write: %s", strerror(errno));
	else
		signal_msi(r, target, HALT_WAKEUP_VECTOR);
}

/* One GSI (= target index) per target, MSI-routed to it, with its irqfd. */
static void setup_irqfds(struct vmrun *r)
{
	struct kvm_irq_routing *routing;
	int i;

	routing =
		calloc(1, sizeof(*routing) +
				  r->nr_targets * sizeof(routing->entries[0]));
	TEST_ASSERT(routing, "out of memory");
	routing->nr = r->nr_targets;
	for (i = 0; i < r->nr_targets; i++) {
		struct kvm_irq_routing_entry *e = &routing->entries[i];

		e->gsi = i;
		e->type = KVM_IRQ_ROUTING_MSI;
		msi_for(i + 1, &e->u.msi.address_lo, &e->u.msi.address_hi);
		e->u.msi.data = HALT_WAKEUP_VECTOR;
	}
	vm_ioctl(r->vm, KVM_SET_GSI_ROUTING, routing);
	free(routing);
	for (i = 0; i < r->nr_targets; i++) {
		struct kvm_irqfd irqfd = { .gsi = i };

		r->t[i].eventfd = eventfd(0, EFD_CLOEXEC);
		TEST_ASSERT(r->t[i].eventfd >= 0, "eventfd: %s",
			    strerror(errno));
		irqfd.fd = r->t[i].eventfd;
		vm_ioctl(r->vm, KVM_IRQFD, &irqfd);
	}
}

/* ---- counters -------------------------------------------------------------- */

static void read_stats(struct target *t, uint64_t *v)
{
	int s;

	for (s = 0; s < NR_STATS; s++)
		if (!t->stats_ok ||
		    !kvm_stats_read(&t->stats, stat_names[s], &v[s]))
			v[s] = 0;
}

static void snapshot(struct vmrun *r)
{
	int i;

	for (i = 0; i < r->nr_targets; i++) {
		r->t[i].sent = 0;
		r->t[i].wakes_before = r->st->t[i].wakes;
		r->t[i].before_hlt_before = r->st->t[i].isr_before_hlt;
		r->t[i].elsewhere_before = r->st->t[i].isr_elsewhere;
		r->t[i].if_clear_before = r->st->t[i].isr_if_clear;
		read_stats(&r->t[i], r->t[i].stat_before);
		r->t[i].halt_exits_need = r->t[i].stat_before[ST_HALT_EXITS];
	}
	if (r->wake_ok) {
		trace_counter_reset(&r->wake_all);
		trace_counter_reset(&r->wake_waited);
	}
	if (r->pi_ok)
		trace_counter_reset(&r->pi_irte);
	if (r->reinjected_ok)
		trace_counter_reset(&r->reinjected);
}

static void stat_deltas(struct vmrun *r, uint64_t *sum)
{
	uint64_t v[NR_STATS];
	int i, s;

	memset(sum, 0, NR_STATS * sizeof(*sum));
	for (i = 0; i < r->nr_targets; i++) {
		read_stats(&r->t[i], v);
		for (s = 0; s < NR_STATS; s++)
			sum[s] += v[s] - r->t[i].stat_before[s];
	}
}

static bool all_armed(struct vmrun *r)
{
	int i;

	for (i = 0; i < r->nr_targets; i++)
		if (r->st->t[i].armed != r->st->t[i].wakes + 1)
			return false;
	return true;
}

/*
 * After the last wakeup: every target re-arms and halts again, and KVM
 * counts that HLT exit a little after the guest's flag.  The woken vCPU
 * can also trace kvm_vcpu_wakeup (waited) before its waker has counted
 * halt_wakeup (kvm_vcpu_wake_up() counts after the wake).  Wait (bounded)
 * until halt_exits has caught up with the wakeups sent and halt_wakeup
 * with the waited wakeups traced.
 */
static void settle(struct vmrun *r, uint64_t sent, uint64_t *sum)
{
	uint64_t deadline = tsc_now() + tsc_hz() / 1000 * SETTLE_MS;

	while (!all_armed(r) && tsc_now() < deadline)
		usleep(100);
	do {
		stat_deltas(r, sum);
		if (sum[ST_HALT_EXITS] >= sent &&
		    (!r->wake_ok ||
		     sum[ST_HALT_WAKEUP] >=
			     trace_counter_read(&r->wake_waited)))
			break;
		usleep(200);
	} while (tsc_now() < deadline);
}

static void set_halt_poll(struct vmrun *r, enum poll poll)
{
	vm_enable_cap(r->vm, KVM_CAP_HALT_POLL,
		      poll == POLL_ON ? r->c->halt_poll_ns : 0);
}

/* ---- one phase --------------------------------------------------------------- */

static void make_sequence(struct vmrun *r, struct phase *ph, uint64_t *rng)
{
	unsigned int k;
	int prev = -1, next;

	for (k = 0; k < ph->rounds; k++) {
		if (ph->order == ORDER_RR) {
			next = k % r->nr_targets;
		} else {
			do {
				next = xorshift64star(rng) % r->nr_targets;
			} while (next == prev && r->nr_targets > 1);
		}
		r->seq[k] = next;
		prev = next;
	}
}

/* At least: a count that jumps past @want is caught by the caller. */
static bool wait_for(volatile uint32_t *v, uint32_t want, uint64_t deadline)
{
	while ((int32_t)(__atomic_load_n(v, __ATOMIC_ACQUIRE) - want) < 0) {
		if (tsc_now() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

/*
 * A host waker sees the HLT exit itself (the target's halt_exits), not only
 * the guest's flag: the wakeup then finds the vCPU in KVM's halt path
 * (polling or blocked), not still on its way there.  The guest waker
 * cannot; its own ICR exit gives the target that time.
 */
static bool wait_halt_exit(struct target *t, uint64_t deadline)
{
	uint64_t v;

	if (!t->stats_ok)
		return true;
	while (kvm_stats_read(&t->stats, "halt_exits", &v) &&
	       v < t->halt_exits_need) {
		if (tsc_now() > deadline)
			return false;
		sched_yield();
	}
	t->halt_exits_need = v + 1;
	return true;
}

static void host_rounds(struct vmrun *r, struct phase *ph)
{
	uint64_t timeout = tsc_hz() / 1000 * r->c->wake_timeout_ms;
	unsigned int k;

	for (k = 0; k < ph->rounds; k++) {
		int idx = r->seq[k];
		struct halt_wakeup_target *g = &r->st->t[idx];
		uint32_t want = g->wakes + 1;
		uint64_t send;

		if (!wait_for(&g->armed, want, tsc_now() + timeout) ||
		    !wait_halt_exit(&r->t[idx], tsc_now() + timeout)) {
			ph->lost_rearm = true;
			goto lost;
		}
		send = tsc_now();
		if (k + 1 != ph->skip_round)
			host_send(r, ph->src, idx);
		r->t[idx].sent++;
		if (!wait_for(&g->wakes, want, send + timeout))
			goto lost;
		if (g->wakes != want) {
			ph->doubled = true;
			goto lost;
		}
		r->lat[k] =
			latency_ns(g->isr_tsc, r->t[idx].tsc_offset, send, 0);
		ph->done = k + 1;
	}
	return;
lost:
	ph->lost = true;
	ph->lost_target = r->seq[k];
	ph->lost_round = k;
}

static void ipi_rounds(struct vmrun *r, struct phase *ph)
{
	struct halt_wakeup_ipi *ipi = r->ipi;
	unsigned int k;

	ipi->rounds = ph->rounds;
	ipi->skip_round = ph->skip_round;
	memcpy(ipi->seq, r->seq, ph->rounds * sizeof(r->seq[0]));
	ipi->done_rounds = 0;
	ipi->lost = 0;
	ipi->lost_rearm = 0;
	ipi->doubled = 0;
	run_waker(r, HALT_WAKEUP_WAKER_IDLE);
	ph->done = ipi->done_rounds;
	for (k = 0; k < ph->done; k++) {
		r->t[r->seq[k]].sent++;
		r->lat[k] = latency_ns(ipi->isr_tsc[k],
				       r->t[r->seq[k]].tsc_offset,
				       ipi->send_tsc[k], r->waker_offset);
	}
	if (ipi->lost) {
		ph->lost = true;
		ph->lost_rearm = ipi->lost_rearm;
		ph->doubled = ipi->doubled;
		ph->lost_target = ipi->lost_target;
		ph->lost_round = ipi->lost_round;
		if (!ph->lost_rearm)
			r->t[ph->lost_target].sent++;
	}
}

/* Exact checks of a phase; the first failure is kept in ph->fail. */
static void check_phase(struct vmrun *r, struct phase *ph, uint64_t sent)
{
	int i;

	/* Hardware never does either: KVM broke IF or the sti shadow. */
	if (!r->under_tcg && (ph->isr_if_clear || ph->isr_before_hlt)) {
		snprintf(
			ph->fail, sizeof(ph->fail),
			"%lu ISR entries interrupted code running with IF clear (last at halt_wakeup_isr%+ld), %lu interrupted sti;hlt before the hlt (the sti shadow was lost)",
			ph->isr_if_clear,
			(long)(ph->if_clear_rip - (uint64_t)halt_wakeup_isr),
			ph->isr_before_hlt);
		return;
	}
	if (ph->lost && ph->doubled) {
		struct target *t = &r->t[ph->lost_target];

		snprintf(
			ph->fail, sizeof(ph->fail),
			"doubled wakeup: vCPU %d (pCPU %d) entered its ISR %u times for the %u interrupts sent to it this phase (KVM re-injected the vector %lu times%s)",
			ph->lost_target + 1, t->cpu,
			r->st->t[ph->lost_target].wakes - t->wakes_before,
			t->sent, ph->reinjected,
			r->reinjected_ok ? "" : ": not countable");
		return;
	}
	if (ph->lost) {
		struct target *t = &r->t[ph->lost_target];

		snprintf(
			ph->fail, sizeof(ph->fail),
			ph->lost_rearm ?
				"vCPU %d (pCPU %d) never halted again before round %u (ISR entries this phase %u)" :
				"lost wakeup: vCPU %d (pCPU %d) did not enter its ISR within %u ms of interrupt %u of the phase (ISR entries this phase %u)",
			ph->lost_target + 1, t->cpu,
			ph->lost_rearm ? ph->lost_round + 1 :
					 (unsigned int)r->c->wake_timeout_ms,
			ph->lost_rearm ? r->st->t[ph->lost_target].wakes -
						 t->wakes_before :
					 ph->lost_round + 1,
			r->st->t[ph->lost_target].wakes - t->wakes_before);
		return;
	}
	for (i = 0; i < r->nr_targets; i++) {
		uint32_t got = r->st->t[i].wakes - r->t[i].wakes_before;

		if (got != r->t[i].sent) {
			snprintf(
				ph->fail, sizeof(ph->fail),
				"vCPU %d: %u ISR entries for %u interrupts sent",
				i + 1, got, r->t[i].sent);
			return;
		}
	}
	if (ph->negative) {
		snprintf(
			ph->fail, sizeof(ph->fail),
			"%u latencies below zero: the TSC offsets (%s) do not put guest and host on one timeline%s",
			ph->negative, r->offset_how, r->tsc_note);
		return;
	}
	if (r->t[0].stats_ok &&
	    ph->stat[ST_HALT_EXITS] != sent - ph->isr_before_hlt) {
		snprintf(
			ph->fail, sizeof(ph->fail),
			"halt_exits rose by %lu for %lu wakeups (%lu taken before the hlt)",
			ph->stat[ST_HALT_EXITS], sent, ph->isr_before_hlt);
		return;
	}
	if (ph->poll == POLL_OFF &&
	    (ph->stat[ST_POLL_TRIED] || ph->stat[ST_POLL_OK])) {
		snprintf(
			ph->fail, sizeof(ph->fail),
			"halt polling off, yet halt_attempted_poll %lu halt_successful_poll %lu",
			ph->stat[ST_POLL_TRIED], ph->stat[ST_POLL_OK]);
		return;
	}
	/*
	 * kvm_vcpu_wakeup fires once per halt KVM completed (polled or
	 * waited): at most one per wakeup (none when the interrupt beat the
	 * halt), and every waited one was ended by a counted halt_wakeup.
	 * halt_wakeup itself may exceed the wakeups (a kick of a vCPU still
	 * waking counts again), so it is not an equality.
	 */
	if (r->wake_ok && (ph->wake_all > sent ||
			   ph->wake_waited > ph->stat[ST_HALT_WAKEUP])) {
		snprintf(
			ph->fail, sizeof(ph->fail),
			"kvm:kvm_vcpu_wakeup fired %lu times (waited %lu, halt_wakeup %lu) for %lu wakeups",
			ph->wake_all, ph->wake_waited, ph->stat[ST_HALT_WAKEUP],
			sent);
		return;
	}
}

/*
 * A failure says where the ISR entries of this phase interrupted the
 * target, when that was not at its hlt (nested under QEMU TCG only).
 */
static void explain_failure(struct phase *ph)
{
	size_t len = strlen(ph->fail);

	if (!len || !ph->isr_elsewhere)
		return;
	/* Where: as an offset from the ISR (same ELF in guest and host). */
	snprintf(
		ph->fail + len, sizeof(ph->fail) - len,
		"; %lu ISR entries elsewhere (last at halt_wakeup_isr%+ld, IF %d)",
		ph->isr_elsewhere,
		(long)(ph->elsewhere_rip - (uint64_t)halt_wakeup_isr),
		!!(ph->elsewhere_rflags & RFLAGS_IF));
}

/* Sums what the targets sent and where their ISR entries landed. */
static uint64_t count_phase(struct vmrun *r, struct phase *ph)
{
	uint64_t sent = 0;
	int i;

	for (i = 0; i < r->nr_targets; i++) {
		volatile struct halt_wakeup_target *g = &r->st->t[i];
		struct target *t = &r->t[i];

		sent += t->sent;
		ph->isr_before_hlt += g->isr_before_hlt - t->before_hlt_before;
		if (g->isr_if_clear != t->if_clear_before)
			ph->if_clear_rip = g->if_clear_rip;
		ph->isr_if_clear += g->isr_if_clear - t->if_clear_before;
		if (g->isr_elsewhere != t->elsewhere_before) {
			ph->elsewhere_rip = g->elsewhere_rip;
			ph->elsewhere_rflags = g->elsewhere_rflags;
		}
		ph->isr_elsewhere += g->isr_elsewhere - t->elsewhere_before;
	}
	return sent;
}

static void run_phase(struct vmrun *r, struct phase *ph, uint64_t *rng)
{
	uint64_t t0, sent;
	unsigned int k;

	set_halt_poll(r, ph->poll);
	make_sequence(r, ph, rng);
	snapshot(r);
	t0 = tsc_now();
	if (ph->src == SRC_IPI)
		ipi_rounds(r, ph);
	else
		host_rounds(r, ph);
	ph->wall_ns = tsc_to_ns(tsc_now() - t0);
	sent = count_phase(r, ph);
	for (k = 0; k < ph->done; k++)
		ph->negative += r->lat[k] < 0;
	/* A wake taken before its hlt skipped the hlt (halt_wakeup.h). */
	if (!ph->lost)
		settle(r, sent - ph->isr_before_hlt, ph->stat);
	else
		stat_deltas(r, ph->stat);
	if (r->wake_ok) {
		ph->wake_all = trace_counter_read(&r->wake_all);
		ph->wake_waited = trace_counter_read(&r->wake_waited);
	}
	if (r->reinjected_ok)
		ph->reinjected = trace_counter_read(&r->reinjected);
	if (r->pi_ok) {
		ph->pi_irte = trace_counter_read(&r->pi_irte);
		pi_irte_total += ph->pi_irte;
		pi_irte_counted = true;
	}
	check_phase(r, ph, sent);
	explain_failure(ph);
}

/* ---- the VM ---------------------------------------------------------------- */

static void open_trace_counters(struct vmrun *r)
{
	char filter[80];
	pid_t *tids = calloc(r->nr_targets, sizeof(*tids));
	int i;

	/*
	 * kvm_vcpu_wakeup has no vCPU field and fires in the woken vCPU's own
	 * thread: counted per target thread, only this VM's targets count.
	 */
	TEST_ASSERT(tids, "calloc");
	for (i = 0; i < r->nr_targets; i++)
		tids[i] = r->t[i].tid;
	r->wake_ok = !trace_counter_open_tasks(&r->wake_all, "kvm",
					       "kvm_vcpu_wakeup", NULL, tids,
					       r->nr_targets) &&
		     !trace_counter_open_tasks(&r->wake_waited, "kvm",
					       "kvm_vcpu_wakeup", "waited == 1",
					       tids, r->nr_targets);
	if (!r->wake_ok)
		snprintf(r->wake_why, sizeof(r->wake_why), "%s",
			 r->wake_all.why[0] ? r->wake_all.why :
					      r->wake_waited.why);
	r->pi_ok = !trace_counter_open(&r->pi_irte, "kvm", "kvm_pi_irte_update",
				       NULL);
	/*
	 * A delivery cut short by an exit is re-injected from the exit's
	 * event info (in the target's thread, at entry): the evidence to look
	 * at when a target's ISR count runs ahead of the interrupts sent.
	 */
	snprintf(filter, sizeof(filter), "vector == %d && reinjected == 1",
		 HALT_WAKEUP_VECTOR);
	r->reinjected_ok = !trace_counter_open_tasks(&r->reinjected, "kvm",
						     "kvm_inj_virq", filter,
						     tids, r->nr_targets);
	free(tids);
}

static void create_vm(struct vmrun *r)
{
	struct kvm_vcpu **vcpus = calloc(r->m, sizeof(*vcpus));
	struct halt_wakeup_params *p = &halt_wakeup_params;
	unsigned int *per_cpu = calloc(r->p, sizeof(*per_cpu));
	uint64_t deadline;
	int i;

	TEST_ASSERT(vcpus && per_cpu, "out of memory");
	stage("M=%d P=%d: creating the VM", r->m, r->p);
	r->vm = vm_create_with_vcpus(r->m, halt_wakeup_guest_main, vcpus);
	vm_enable_cap(r->vm, KVM_CAP_X2APIC_API,
		      KVM_X2APIC_API_USE_32BIT_IDS |
			      KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK);
	x86_vm_descriptor_tables(r->vm, vcpus, r->m);
	vm_install_exception_handler(r->vm, HALT_WAKEUP_VECTOR,
				     halt_wakeup_isr);
	vm_install_exception_handler(r->vm, HALT_WAKEUP_STOP_VECTOR,
				     halt_wakeup_stop_isr);

	*p = (struct halt_wakeup_params){
		.nr_targets = r->nr_targets,
		.wake_timeout_tsc = tsc_hz() / 1000 * r->c->wake_timeout_ms,
	};
	sync_global_to_guest(r->vm, halt_wakeup_params);
	r->st = addr_gva2hva(r->vm, (vm_vaddr_t)&halt_wakeup_state);
	r->ipi = addr_gva2hva(r->vm, (vm_vaddr_t)&halt_wakeup_ipi);
	memset(r->st, 0, sizeof(*r->st));

	r->waker = vcpus[0];
	r->waker_cpu = r->c->waker_cpus->cpus[0];
	r->t = calloc(r->nr_targets, sizeof(*r->t));
	TEST_ASSERT(r->t, "out of memory");
	for (i = 0; i < r->nr_targets; i++) {
		struct target *t = &r->t[i];

		t->vcpu = vcpus[i + 1];
		t->index = i;
		/*
		 * vCPU j on the (j mod P)-th CPU of B: the waker is vCPU 0
		 * (same-node: A and B are the same CPUs).
		 */
		t->cpu = r->c->target_cpus->cpus[(i + 1) % r->p];
		per_cpu[(i + 1) % r->p]++;
		t->eventfd = -1;
		t->stats_ok = !kvm_stats_open(&t->stats, t->vcpu->fd);
		t->tsc_offset = read_tsc_offset(t->vcpu, &r->offset_how);
	}
	r->waker_offset = read_tsc_offset(r->waker, &r->offset_how);
	for (i = 0; i < r->nr_targets; i++) {
		r->t[i].neighbours = per_cpu[(i + 1) % r->p];
		r->blocked_per_pcpu +=
			(double)r->t[i].neighbours / r->nr_targets;
	}
	if (r->c->source[SRC_IRQFD])
		setup_irqfds(r);

	/* The waker first, on its pCPU: its first stop is WAKER_IDLE. */
	harness_pin(pthread_self(), r->waker_cpu);
	run_waker(r, HALT_WAKEUP_WAKER_IDLE);
	stage("M=%d P=%d: starting %d targets", r->m, r->p, r->nr_targets);
	for (i = 0; i < r->nr_targets; i++) {
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 1 << 20);
		TEST_ASSERT(!pthread_create(&r->t[i].thread, &attr,
					    target_thread, &r->t[i]),
			    "pthread_create: vCPU %d", i + 1);
		pthread_attr_destroy(&attr);
	}
	deadline = tsc_now() + tsc_hz() * 120;
	while (r->ready < r->nr_targets && tsc_now() < deadline)
		usleep(1000);
	TEST_ASSERT(r->ready == r->nr_targets, "%d of %d targets ready",
		    r->ready, r->nr_targets);
	/* All halted (armed) before anything is measured. */
	while (!all_armed(r) && tsc_now() < deadline)
		usleep(1000);
	TEST_ASSERT(all_armed(r), "targets did not halt");
	r->halted_tsc = tsc_now();
	open_trace_counters(r);
	free(vcpus);
	free(per_cpu);
}

static void destroy_vm(struct vmrun *r)
{
	int i;

	stage("M=%d P=%d: stopping", r->m, r->p);
	r->st->stop = 1;
	for (i = 0; i < r->nr_targets; i++)
		signal_msi(r, i, HALT_WAKEUP_STOP_VECTOR);
	/*
	 * A stop can be lost like any wakeup (a KVM that drops wake-ups):
	 * send it again to a target that has not left, rather than hang.
	 */
	for (i = 0; i < r->nr_targets; i++) {
		unsigned long tries = 0;
		struct timespec ts;

		for (;;) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			ts.tv_sec += ts.tv_nsec / 1000000000;
			ts.tv_nsec %= 1000000000;
			if (!pthread_timedjoin_np(r->t[i].thread, NULL, &ts))
				break;
			tries++;
			TEST_ASSERT(
				tries * 100 < r->c->wake_timeout_ms + 100,
				"vCPU %d did not stop after %lu stop messages",
				i + 1, tries);
			signal_msi(r, i, HALT_WAKEUP_STOP_VECTOR);
		}
	}
	run_waker(r, UCALL_DONE);
	trace_counter_close(&r->wake_all);
	trace_counter_close(&r->wake_waited);
	trace_counter_close(&r->pi_irte);
	trace_counter_close(&r->reinjected);
	for (i = 0; i < r->nr_targets; i++) {
		if (r->t[i].stats_ok)
			kvm_stats_close(&r->t[i].stats);
		if (r->t[i].eventfd >= 0)
			close(r->t[i].eventfd);
	}
	kvm_vm_free(r->vm);
	free(r->t);
}

/* ---- reporting --------------------------------------------------------------- */

static const char *pi_path; /* "none", "apicv", ... for every record */

static void set_params(struct results *res, struct vmrun *r, const char *src,
		       const char *order, const char *poll)
{
	results_params(
		res,
		"vcpus=%d pcpus=%d source=%s order=%s halt_poll=%s blocked_per_pcpu=%.4g pi_path=%s",
		r->m, r->p, src, order, poll, r->blocked_per_pcpu, pi_path);
}

/*
 * A cell's records: their variant is its KTAP name, "ipi.rr.poll-off.p2.m64";
 * the series (one line per source, order, polling and pCPUs across M, in
 * plots) is that name less its last token, the vCPU count, which is also
 * the "vcpus" param.
 */
static void report_phase(struct harness *h, struct vmrun *r, struct phase *ph,
			 const char *name)
{
	struct results *res = &h->res;
	double rate = ph->wall_ns ? ph->done * 1e9 / ph->wall_ns : 0;
	char quirks[200] = "";
	struct summary s;
	int s_i;

	set_params(res, r, source_names[ph->src], order_names[ph->order],
		   poll_names[ph->poll]);
	if (ph->done) {
		/* results_samples() sorts: keep the slope's copy unsorted. */
		results_samples(res, name, "wakeup_latency", "ns", r->lat,
				ph->done);
		summarize(r->lat, ph->done, &s);
	} else {
		memset(&s, 0, sizeof(s));
	}
	results_count(res, name, "interrupts_sent", "count", ph->done);
	results_count(res, name, "wakeups_per_sec", "1/s", (long long)rate);
	results_count(res, name, "wall_time", "ns", ph->wall_ns);
	for (s_i = 0; s_i < NR_STATS; s_i++)
		results_count_or_skip(res, name, stat_names[s_i],
				      r->t[0].stats_ok, ph->stat[s_i],
				      "no binary stats (KVM_GET_STATS_FD)");
	results_count_or_skip(res, name, "kvm_vcpu_wakeup", r->wake_ok,
			      ph->wake_all, r->wake_why);
	if (r->wake_ok)
		results_count(res, name, "kvm_vcpu_wakeup_waited", "count",
			      ph->wake_waited);
	results_count_or_skip(res, name, "kvm_pi_irte_update", r->pi_ok,
			      ph->pi_irte, r->pi_irte.why);
	results_count_or_skip(res, name, "wakeup_vector_reinjected",
			      r->reinjected_ok, ph->reinjected,
			      r->reinjected.why);
	results_count(res, name, "isr_entries_if_clear", "count",
		      ph->isr_if_clear);
	results_count(res, name, "isr_entries_before_hlt", "count",
		      ph->isr_before_hlt);

	ktap_comment(
		&h->k,
		"%s: %u wakeups, %.0f/s; latency p50 %.0f p90 %.0f p99 %.0f max %.0f ns; "
		"halt_exits %lu halt_wakeup %lu poll ok/tried %lu/%lu; kvm_vcpu_wakeup %lu (waited %lu)",
		name, ph->done, rate, s.p50, s.p90, s.p99, s.max,
		ph->stat[ST_HALT_EXITS], ph->stat[ST_HALT_WAKEUP],
		ph->stat[ST_POLL_OK], ph->stat[ST_POLL_TRIED], ph->wake_all,
		ph->wake_waited);
	/* Tolerated under QEMU TCG only (check_phase()): named, never silent. */
	if (r->under_tcg && (ph->isr_if_clear || ph->isr_before_hlt))
		snprintf(
			quirks, sizeof(quirks),
			"; QEMU TCG: %lu ISR entries with IF clear left out (last at halt_wakeup_isr%+ld), %lu wakes taken before the hlt (the sti shadow lost), halt_wakeup.h",
			ph->isr_if_clear,
			(long)(ph->if_clear_rip - (uint64_t)halt_wakeup_isr),
			ph->isr_before_hlt);
	if (ph->fail[0])
		report_verdict(h, name, &verdict_fail, "%s%s", ph->fail,
			       quirks);
	else
		report_verdict(
			h, name, &verdict_pass,
			"%u wakeups, each exactly once; p50 %.0f ns p99 %.0f ns%s",
			ph->done, s.p50, s.p99, quirks);
	results_params(res, NULL);
}

/* What one quiet window counted: all of it must be 0. */
struct quiet {
	uint64_t stat[NR_STATS], isr, events;
};

/* A vector of priority class 0: never deliverable, so KVM only kicks. */
#define QUIET_KICK_VECTOR 0x0f

static void quiet_window(struct vmrun *r, bool first, struct quiet *q)
{
	const char *inject = r->c->inject_quiet;
	int i;

	snapshot(r);
	if (!strcmp(inject, "kicks") || (first && !strcmp(inject, "wakeup")))
		signal_msi(r, 0,
			   strcmp(inject, "kicks") ? HALT_WAKEUP_VECTOR :
						     QUIET_KICK_VECTOR);
	usleep(QUIET_MS * 1000);
	stat_deltas(r, q->stat);
	q->isr = 0;
	for (i = 0; i < r->nr_targets; i++)
		q->isr += r->st->t[i].wakes - r->t[i].wakes_before;
	q->events = r->wake_ok ? trace_counter_read(&r->wake_all) : 0;
}

static bool quiet_only_kicks(const struct quiet *q)
{
	return q->stat[ST_HALT_WAKEUP] && !q->isr && !q->stat[ST_HALT_EXITS] &&
	       !q->events;
}

static bool quiet_zero(const struct quiet *q)
{
	return !q->stat[ST_HALT_WAKEUP] && !q->isr && !q->stat[ST_HALT_EXITS] &&
	       !q->events;
}

/*
 * The control: counters must count nothing in a quiet window, then exactly
 * one blocked wakeup per target woken once with halt polling off (each has
 * been blocked since the start), so that they demonstrably see the effect.
 * The window starts QUIET_DELAY_MS after the targets halted (KVM's kvmclock
 * kick); one window that saw only halt_wakeup move (a kick: no ISR entry,
 * no HLT exit, no kvm_vcpu_wakeup) is retried once, and counted.
 */
static void run_control(struct harness *h, struct vmrun *r, const char *name)
{
	struct results *res = &h->res;
	unsigned int n = r->nr_targets < CONTROL_WAKES ? r->nr_targets :
							 CONTROL_WAKES;
	struct phase ph = { .src = SRC_SIGNAL_MSI,
			    .order = ORDER_RR,
			    .poll = POLL_OFF,
			    .rounds = n };
	uint64_t quiet_at = r->halted_tsc + tsc_hz() / 1000 * QUIET_DELAY_MS;
	uint64_t retry_kicks = 0;
	struct quiet q;
	char why[448] = "";
	unsigned int bad_tsc = 0;
	int i, first_bad = -1;

	stage("M=%d P=%d: control", r->m, r->p);
	for (i = 0; i < r->nr_targets; i++) {
		struct target *t = &r->t[i];
		uint64_t host = t->ready_tsc - t->tsc_offset;

		if (host < t->run_h0 || host > t->run_h1) {
			bad_tsc++;
			if (first_bad < 0)
				first_bad = i;
		}
	}
	set_halt_poll(r, POLL_OFF);
	while (tsc_now() < quiet_at)
		usleep(1000);
	quiet_window(r, true, &q);
	if (quiet_only_kicks(&q)) {
		retry_kicks = q.stat[ST_HALT_WAKEUP];
		quiet_window(r, false, &q);
	}

	run_phase(r, &ph, &(uint64_t){ 1 });

	set_params(res, r, "signal_msi", "rr", "off");
	results_text(
		res, name, "tsc_offset_source", r->offset_how,
		"guest TSC = host TSC + offset; latencies on the host timeline");
	results_count(res, name, "tsc_offset_outside_bracket", "count",
		      bad_tsc);
	results_count(res, name, "control_wakeups", "count", ph.done);
	results_count(res, name, "quiet_retry_kicks", "count", retry_kicks);
	for (i = 0; i < NR_STATS; i++)
		results_count(res, name, stat_names[i], "count", ph.stat[i]);
	if (r->wake_ok)
		results_count(res, name, "kvm_vcpu_wakeup_waited", "count",
			      ph.wake_waited);

	if (bad_tsc)
		snprintf(
			why, sizeof(why),
			"vCPU %d: READY stamp minus its TSC offset (%s) lies outside the host stamps around it (%u vCPUs)%s",
			first_bad + 1, r->offset_how, bad_tsc, r->tsc_note);
	else if (!quiet_zero(&q))
		snprintf(
			why, sizeof(why),
			"quiet window%s: %lu ISR entries, halt_exits %lu, halt_wakeup %lu, kvm_vcpu_wakeup %lu (want 0)",
			retry_kicks ? " (retried after a kick)" : "", q.isr,
			q.stat[ST_HALT_EXITS], q.stat[ST_HALT_WAKEUP],
			q.events);
	else if (ph.fail[0])
		snprintf(why, sizeof(why), "%s", ph.fail);
	else if (!r->t[0].stats_ok)
		snprintf(why, sizeof(why), "no binary stats");
	else if (ph.stat[ST_HALT_WAKEUP] < n || ph.stat[ST_HALT_EXITS] != n)
		snprintf(
			why, sizeof(why),
			"%u blocked targets woken, halt_wakeup %lu halt_exits %lu: the stats are blind",
			n, ph.stat[ST_HALT_WAKEUP], ph.stat[ST_HALT_EXITS]);
	else if (r->wake_ok && (ph.wake_waited != n || ph.wake_all != n))
		snprintf(
			why, sizeof(why),
			"%u blocked targets woken, kvm:kvm_vcpu_wakeup %lu (waited %lu): the tracepoint is blind",
			n, ph.wake_all, ph.wake_waited);

	if (why[0])
		report_control(h, name, false, "%s", why);
	else
		report_control(
			h, name, true,
			"quiet window counts 0 (%lu kicks retried); %u blocked wakeups: halt_wakeup %lu, halt_exits %lu, kvm_vcpu_wakeup waited %s; TSC offsets (%s) verified",
			retry_kicks, n, ph.stat[ST_HALT_WAKEUP],
			ph.stat[ST_HALT_EXITS],
			r->wake_ok ? "exact" : r->wake_why, r->offset_how);
	results_params(res, NULL);
	if (ph.lost)
		r->lost = true;
}

/* ---- posted-interrupt paths ------------------------------------------------------ */

struct pi_facts {
	char apicv[16], ipiv[16], avic[16];
	bool iommu;
	char handler_why[200];
};

/*
 * pi_wakeup_handler (VMX) walks this CPU's list of blocked vCPUs on every
 * wakeup notification: timed per cell where function_graph can trace it.
 */
static struct ftrace_graph pi_graph;

static void detect_pi(struct results *res, struct pi_facts *f)
{
	char line[256];
	FILE *file;

	memset(f, 0, sizeof(*f));
	if (!host_module_param("kvm_intel", "enable_apicv", f->apicv,
			       sizeof(f->apicv)))
		snprintf(f->apicv, sizeof(f->apicv), "absent");
	if (!host_module_param("kvm_intel", "enable_ipiv", f->ipiv,
			       sizeof(f->ipiv)))
		snprintf(f->ipiv, sizeof(f->ipiv), "absent");
	if (!host_module_param("kvm_amd", "avic", f->avic, sizeof(f->avic)))
		snprintf(f->avic, sizeof(f->avic), "absent");
	f->iommu = !access("/sys/class/iommu", F_OK) &&
		   (file = popen("ls /sys/class/iommu 2>/dev/null", "r")) &&
		   fgets(line, sizeof(line), file) && !pclose(file);

	if (res->host.apicv && f->ipiv[0] == 'Y')
		pi_path = "apicv+ipiv";
	else if (res->host.apicv)
		pi_path = strcmp(res->host.kvm_module, "kvm_amd") ? "apicv" :
								    "avic";
	else
		pi_path = "none";

	if (ftrace_graph_open(&pi_graph, "pi_wakeup_handler", f->handler_why,
			      sizeof(f->handler_why)))
		snprintf(
			f->handler_why, sizeof(f->handler_why), "%s",
			res->host.apicv && f->ipiv[0] == 'Y' ?
				"timed per cell (function_graph): IPI virtualization posts IPIs to blocked vCPUs" :
				"timed per cell (function_graph), but it runs only for posted interrupts to blocked vCPUs: IPI virtualization (off here) or VT-d posting (needs an assigned device, none here)");
}

static void report_pi(struct harness *h, const struct pi_facts *f,
		      uint64_t irte_updates, bool irte_ok)
{
	struct results *res = &h->res;
	char text[512];

	snprintf(
		text, sizeof(text),
		"module %s; enable_apicv %s; enable_ipiv %s; avic %s; APICv/AVIC %s; "
		"IOMMU %s; blocked vCPUs sit on VMX's per-pCPU wakeup list only with IPI virtualization "
		"(then the ipi source pays the list walk) or VT-d posting (needs an assigned VFIO device, none here); "
		"kvm:kvm_pi_irte_update %s",
		res->host.kvm_module, f->apicv, f->ipiv, f->avic,
		res->host.apicv ? "on" : "off", f->iommu ? "present" : "absent",
		irte_ok ? (irte_updates ? "fired" : "never fired") :
			  "not countable");
	results_params(res, "pi_path=%s", pi_path);
	if (harness_wanted(h, "posted_interrupts.detect")) {
		report_text(h, "posted_interrupts.detect",
			    "posted_interrupt_paths", pi_path, "%s", text);
		if (irte_ok)
			results_count(res, "posted_interrupts.detect",
				      "kvm_pi_irte_update", "count",
				      irte_updates);
	}
	/* Traced: the cells wrote its records (report_handler()). */
	if (harness_wanted(h, "posted_interrupts.pi_wakeup_handler_duration")) {
		if (pi_graph.open)
			report_case(
				h, KTAP_PASS,
				"posted_interrupts.pi_wakeup_handler_duration",
				"%s", f->handler_why);
		else
			report_skip_metric(
				h,
				"posted_interrupts.pi_wakeup_handler_duration",
				"pi_wakeup_handler_duration", "%s",
				f->handler_why);
	}
	results_params(res, NULL);
}

/* ---- the slope ------------------------------------------------------------------- */

static void report_slope(struct harness *h, const struct config *c, int pi,
			 enum source s, enum poll poll)
{
	struct results *res = &h->res;
	struct linreg_group g[MAX_SIZES];
	char name[96], method[160];
	struct linreg_ci ci;
	int i, n = 0;

	snprintf(name, sizeof(name), "ns_per_blocked_vcpu.%s.poll-%s.p%d",
		 source_names[s], poll_names[poll], (int)c->pcpus.v[pi]);
	if (!harness_wanted(h, name))
		return;
	for (i = 0; i < c->vcpus.n; i++) {
		struct series_cell *sc = &series[pi][s][poll][i];

		if (sc->n)
			g[n++] = (struct linreg_group){ sc->x, sc->samples,
							sc->n };
	}
	results_params(res, "pcpus=%d source=%s halt_poll=%s pi_path=%s",
		       (int)c->pcpus.v[pi], source_names[s], poll_names[poll],
		       pi_path);
	if (linreg_median_slope(g, n, BOOTSTRAP_ITERS, 0.95, c->seed, &ci)) {
		report_skip(
			h, name, "ns_per_blocked_vcpu",
			"needs latencies at two or more blocked-vCPU counts (%d)",
			n);
	} else {
		snprintf(
			method, sizeof(method),
			"least squares of per-M median latency on blocked vCPUs per pCPU, %u-resample percentile bootstrap",
			ci.iters);
		report_estimate(
			h, name, "ns_per_blocked_vcpu", "ns", ci.fit.slope,
			ci.ci_low, ci.ci_high, ci.level, method,
			"%.2f ns per blocked vCPU, 95%% CI [%.2f, %.2f], over %d vCPU counts",
			ci.fit.slope, ci.ci_low, ci.ci_high, n);
	}
	results_params(res, NULL);
}

static void keep_for_slope(const struct vmrun *r, int pi, int vi,
			   const struct phase *ph)
{
	struct series_cell *sc = &series[pi][ph->src][ph->poll][vi];

	if (ph->fail[0] || !ph->done)
		return;
	sc->samples =
		realloc(sc->samples, (sc->n + ph->done) * sizeof(*sc->samples));
	TEST_ASSERT(sc->samples, "out of memory");
	memcpy(sc->samples + sc->n, r->lat, ph->done * sizeof(*r->lat));
	sc->n += ph->done;
	sc->x = r->blocked_per_pcpu;
}

/* ---- plan and main ----------------------------------------------------------------- */

static void cell_name(char *buf, size_t size, int m, int p, enum source s,
		      enum order o, enum poll poll)
{
	snprintf(buf, size, "%s.%s.poll-%s.p%d.m%d", source_names[s],
		 order_names[o], poll_names[poll], p, m);
}

/* pi_wakeup_handler's durations during the cell just run, if traced. */
static void report_handler(struct results *res, struct vmrun *r,
			   struct phase *ph, const char *name)
{
	double *ns;
	size_t n;

	if (!pi_graph.open)
		return;
	n = ftrace_graph_stop(&pi_graph, &ns);
	set_params(res, r, source_names[ph->src], order_names[ph->order],
		   poll_names[ph->poll]);
	if (n)
		results_samples(res, name, "pi_wakeup_handler_duration", "ns",
				ns, n);
	else
		results_skip(res, name, "pi_wakeup_handler_duration",
			     "pi_wakeup_handler did not run in this cell");
	results_params(res, NULL);
	free(ns);
}

static void run_vm(struct harness *h, struct config *c, int pi, int vi,
		   bool *injected)
{
	struct results *res = &h->res;
	struct vmrun r = { .c = c,
			   .m = c->vcpus.v[vi],
			   .p = c->pcpus.v[pi],
			   .under_tcg = res->host.under_tcg };
	uint64_t rng = c->seed + r.m * 131 + r.p;
	unsigned long rounds;
	char name[96];
	int s, o, p;

	if (res->host.clocksource[0] && strcmp(res->host.clocksource, "tsc"))
		snprintf(
			r.tsc_note, sizeof(r.tsc_note),
			"; this host's clocksource is %s: its kernel found the TSC unstable",
			res->host.clocksource);

	r.nr_targets = r.m - 1;
	/* The control sends up to CONTROL_WAKES, which may exceed --wakes. */
	rounds = c->wakes > CONTROL_WAKES ? c->wakes : CONTROL_WAKES;
	r.seq = calloc(rounds, sizeof(*r.seq));
	r.lat = calloc(rounds, sizeof(*r.lat));
	TEST_ASSERT(r.seq && r.lat, "out of memory");
	current = &r;
	create_vm(&r);
	ktap_comment(
		&h->k,
		"M=%d vCPUs on P=%d pCPUs: %d halted targets, %.3g per pCPU; waker on CPU %d; TSC offsets via %s; %s",
		r.m, r.p, r.nr_targets, r.blocked_per_pcpu, r.waker_cpu,
		r.offset_how, r.wake_why[0] ? r.wake_why : "");
	snprintf(name, sizeof(name), "control.p%d.m%d", r.p, r.m);
	if (harness_wanted(h, name))
		run_control(h, &r, name);

	for (p = 0; p < NR_POLLS; p++)
		for (s = 0; s < NR_SOURCES; s++)
			for (o = 0; o < NR_ORDERS; o++) {
				struct phase ph = { .src = s,
						    .order = o,
						    .poll = p,
						    .rounds = c->wakes };

				cell_name(name, sizeof(name), r.m, r.p, s, o,
					  p);
				if (!harness_wanted(h, name))
					continue;
				if (r.lost) {
					report_skip(
						h, name, "verdict",
						"not run: a wakeup in this VM was lost");
					continue;
				}
				if (c->inject_lost && !*injected) {
					ph.skip_round = c->inject_lost;
					*injected = true;
				}
				stage("%s", name);
				ftrace_graph_start(&pi_graph);
				run_phase(&r, &ph, &rng);
				if (ph.lost)
					r.lost = true;
				keep_for_slope(&r, pi, vi, &ph);
				report_phase(h, &r, &ph, name);
				report_handler(res, &r, &ph, name);
			}
	if (r.lost) {
		/* A target may never leave: the watchdog would only hang. */
		ktap_comment(&h->k,
			     "M=%d P=%d: VM left running after a lost wakeup",
			     r.m, r.p);
		current = NULL;
		return;
	}
	destroy_vm(&r);
	free(r.seq);
	free(r.lat);
	current = NULL;
}

/* ---- the descriptor ------------------------------------------------------------ */

static struct config config = {
	.vcpus = { { 2, 4, 8, 16 }, 4 },
	.pcpus = { { 2 }, 1 },
	.source = { true, true, true },
	.order = { true, true },
	.poll = { true, true },
	.wakes = 500,
	.wake_timeout_ms = 2000,
	.seed = 1,
	.inject_quiet = "none",
};

/*
 * Per pCPU count and vCPU count: the control, then every cell; then the
 * slopes per pCPU count; then the posted-interrupt detection.  Records name
 * a series (the vCPU count is a param, see report_phase()).
 */
static void plan(struct harness *h)
{
	struct config *c = &config;
	char name[96];
	int i, j, s, o, p;

	if (c->inject_lost > c->wakes)
		harness_bad_input(h, "--inject-lost-wakeup %lu is past --wakes",
				  c->inject_lost);
	for (i = 0; i < c->pcpus.n; i++)
		for (j = 0; j < c->vcpus.n; j++) {
			int m = c->vcpus.v[j], pc = c->pcpus.v[i];

			harness_add_case(h, NULL, "control.p%d.m%d", pc, m);
			for (p = 0; p < NR_POLLS; p++)
				for (s = 0; s < NR_SOURCES; s++)
					for (o = 0; o < NR_ORDERS; o++) {
						if (!c->poll[p] ||
						    !c->source[s] ||
						    !c->order[o])
							continue;
						cell_name(name, sizeof(name), m,
							  pc, s, o, p);
						harness_add_case(h, NULL, "%s",
								 name);
					}
		}
	for (i = 0; i < c->pcpus.n; i++)
		for (p = 0; p < NR_POLLS; p++)
			for (s = 0; s < NR_SOURCES; s++)
				if (c->poll[p] && c->source[s])
					harness_add_case(
						h, NULL,
						"ns_per_blocked_vcpu.%s.poll-%s.p%d",
						source_names[s], poll_names[p],
						(int)c->pcpus.v[i]);
	harness_add_case(h, NULL, "posted_interrupts.detect");
	harness_add_case(h, NULL,
			 "posted_interrupts.pi_wakeup_handler_duration");
}

static const char *unmet(struct harness *h)
{
	static char why[96];
	struct config *c = &config;
	int i, max_vcpus;

	c->waker_cpus = &h->a;
	c->target_cpus = &h->b;
	for (i = 0; !h->unplaced[0] && i < c->pcpus.n; i++)
		if ((int)c->pcpus.v[i] > h->b.nr_cpus) {
			snprintf(why, sizeof(why),
				 "--pcpus %lu: this process may use %d CPUs%s",
				 c->pcpus.v[i], h->b.nr_cpus,
				 strcmp(h->placement, "same-node") ?
					 " on the targets' node" :
					 "");
			return why;
		}
	max_vcpus = kvm_check_cap(KVM_CAP_MAX_VCPUS);
	for (i = 0; i < c->vcpus.n; i++)
		if ((int)c->vcpus.v[i] > max_vcpus) {
			snprintf(
				why, sizeof(why),
				"--vcpus %lu: this KVM runs up to %d (KVM_CAP_MAX_VCPUS)",
				c->vcpus.v[i], max_vcpus);
			return why;
		}
	return NULL;
}

static void describe(struct harness *h, char *buf, size_t size)
{
	char val[32];

	(void)h;
	/* "on": the module's halt_poll_ns, set explicitly per VM. */
	config.halt_poll_ns = 200000;
	if (host_module_param("kvm", "halt_poll_ns", val, sizeof(val)))
		config.halt_poll_ns = strtoull(val, NULL, 0);
	snprintf(buf, size, "%lu wakeups per cell; halt polling on = %lu ns",
		 config.wakes, config.halt_poll_ns);
}

static void run(struct harness *h)
{
	struct config *c = &config;
	bool injected = false;
	struct pi_facts pi;
	int i, j, s, p;

	/* A vCPU fd, a stats fd and an eventfd per vCPU, and perf fds. */
	setrlimit(RLIMIT_NOFILE, &(struct rlimit){ 65536, 65536 });
	detect_pi(&h->res, &pi);
	for (i = 0; i < c->pcpus.n; i++)
		for (j = 0; j < c->vcpus.n; j++)
			run_vm(h, c, i, j, &injected);
	for (i = 0; i < c->pcpus.n; i++)
		for (p = 0; p < NR_POLLS; p++)
			for (s = 0; s < NR_SOURCES; s++)
				if (c->poll[p] && c->source[s])
					report_slope(h, c, i, s, p);
	report_pi(h, &pi, pi_irte_total, pi_irte_counted);
	ftrace_graph_close(&pi_graph);
}

static const struct harness_option options[] = {
	{ "vcpus", OPT_LIST, &config.vcpus, 2, HALT_WAKEUP_MAX_TARGETS,
	  .help = "vCPUs per VM (vCPU 0 wakes, the rest halt)" },
	{ "pcpus", OPT_LIST, &config.pcpus, 1, MAX_CPUS,
	  .help = "physical CPUs the vCPUs are pinned on" },
	{ "sources", OPT_NAMES, config.source, .choices = source_names,
	  .help = "how the wakeup is sent" },
	{ "orders", OPT_NAMES, config.order, .choices = order_names,
	  .help = "order of the targets" },
	{ "halt-poll", OPT_NAMES, config.poll, .choices = poll_names,
	  .help = "halt polling" },
	{ "wakes", OPT_UINT, &config.wakes, 1, HALT_WAKEUP_MAX_ROUNDS,
	  .help = "wakeups per cell" },
	{ "wake-timeout-ms", OPT_UINT, &config.wake_timeout_ms, 1, 600000,
	  .help = "after this a wakeup is lost" },
	{ "seed", OPT_UINT, &config.seed, 0, ~0ul,
	  .help = "seed of the random order and the bootstrap" },
	{ "inject-lost-wakeup", OPT_UINT, &config.inject_lost, 1, ~0ul,
	  .help = "drop this round of the first cell (tests the test)" },
	{ "inject-quiet", OPT_CHOICE, &config.inject_quiet,
	  .choices = inject_quiet_names,
	  .help = "disturb the controls' quiet windows: a wakeup, or a kick in each (tests the test)" },
	{}
};

HARNESS_MAIN(.name = "halt_wakeup", .options = options,
	     HARNESS_CAPS(KVM_CAP_SIGNAL_MSI, KVM_CAP_IRQFD, KVM_CAP_X2APIC_API,
			  KVM_CAP_HALT_POLL),
	     .timeout = 600, .placement = true, .plan = plan, .unmet = unmet,
	     .describe = describe, .run = run, .dump = dump_run);

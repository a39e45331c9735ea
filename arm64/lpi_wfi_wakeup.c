// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPI wakeups of vCPUs blocked in WFI (seed 002).
 *
 * Each vCPU blocks in WFI; host threads raise LPIs through the emulated ITS
 * (KVM_SIGNAL_MSI, or an irqfd on an MSI route with a device ID), one at a
 * time per vCPU, each only once KVM reports the target vCPU blocked
 * ("blocking" binary stat).  Every LPI must wake its target exactly once:
 * the guest counts each LPI it handles (and stamps it with CNTVCT_EL0),
 * the host counts what it injected and the wakeups KVM sent (halt_wakeup).
 * A lost wakeup leaves a vCPU asleep with its LPI pending: the host gives up
 * after --lost-after seconds and reports it, with the state, as a FAIL.
 *
 * The "+spi" variant injects edge SPIs with KVM_IRQ_LINE from a second host
 * thread on the same host CPU as the LPI injector and the vCPU: the
 * doorbell / ap_list deadlock of the seed needs both injections on one CPU.
 * A hang there is a FAIL with the state dumped (watchdog).
 *
 * The control blocks vCPU 0, raises an event the ITS has no translation
 * for (KVM must drop it: no LPI, no wakeup, the vCPU stays blocked), then
 * a mapped one (one LPI, one wakeup): the counters see a delivery and see
 * its absence, so a lost wakeup cannot pass unnoticed.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "vgic.h"

#include "guest_code/lpi_wfi_wakeup.h"
#include "lib/arm64/its_vm.h"
#include "lib/arm64/wakeup_verdict.h"
#include "lib/harness.h"
#include "lib/kvm_stats.h"
#include "lib/placement.h"
#include "lib/results.h"
#include "lib/tsc.h"

#define DEVICE_ID 0x21
#define UNMAPPED_EVENT (ITS_VM_MAX_VCPUS + 3)

enum inject { INJECT_SIGNAL_MSI, INJECT_IRQFD };

struct variant {
	const char *name;
	enum inject inject;
	bool spis; /* concurrent KVM_IRQ_LINE SPIs on the same host CPU */
	bool control;
};

static const struct variant variants[] = {
	{ "control.unmapped_event", INJECT_SIGNAL_MSI, false, true },
	{ "signal_msi", INJECT_SIGNAL_MSI, false, false },
	{ "irqfd", INJECT_IRQFD, false, false },
	{ "irqfd+spi", INJECT_IRQFD, true, false },
};

#define NR_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* What one vCPU's injector threads did. */
struct injector {
	struct run *r;
	int k;
	pthread_t lpi_thread, spi_thread;
	uint64_t injected, kvm_delivered, not_blocked, lost;
	uint64_t spis_sent, spis_lost;
	double *latency_ns;
	size_t nr_latency;
};

struct run {
	const struct variant *v;
	int nr_vcpus;
	uint32_t lpis, spis;
	double lost_after_s;
	struct its_vm its;
	struct lpi_wfi_state *state; /* guest memory, live */
	const struct placement_group *cpus; /* the harness's: every usable CPU */
	int eventfd[ITS_VM_MAX_VCPUS];
	struct kvm_stats stats[ITS_VM_MAX_VCPUS];
	bool stats_ok[ITS_VM_MAX_VCPUS];
	uint64_t wakeups0[ITS_VM_MAX_VCPUS], wfi_exits0[ITS_VM_MAX_VCPUS];
	pthread_barrier_t ready;
	pthread_t vcpu_thread[ITS_VM_MAX_VCPUS];
	struct injector inj[ITS_VM_MAX_VCPUS];
	/* control */
	int unmapped_ret, mapped_ret;
	uint64_t unmapped_lpis, unmapped_wakeups, mapped_wakeups;
	bool unmapped_still_blocked;
};

static struct run *current_run;

static uint64_t stat_of(struct run *r, int k, const char *name)
{
	uint64_t v = 0;

	if (r->stats_ok[k])
		kvm_stats_read(&r->stats[k], name, &v);
	return v;
}

/* What a hang or a lost wakeup looks like, printed by the watchdog. */
static void dump_run(void)
{
	struct run *r = current_run;
	int k;

	if (!r || !r->state)
		return;
	for (k = 0; k < r->nr_vcpus; k++) {
		struct lpi_wfi_vcpu *g = &r->state->vcpu[k];
		struct injector *in = &r->inj[k];

		printf("# state of %s vCPU %d: guest waiting %lu lpis %lu spis %lu stray %lu "
		       "(last INTID %u) spurious %lu wfis %lu; host injected %lu kvm_delivered %lu "
		       "not_blocked %lu lost %lu spis_sent %lu; KVM blocking %lu halt_wakeup %lu "
		       "wfi_exit_stat %lu\n",
		       r->v->name, k, g->waiting, g->lpis, g->spis, g->stray,
		       g->last_stray_intid, g->spurious, g->wfis, in->injected,
		       in->kvm_delivered, in->not_blocked, in->lost,
		       in->spis_sent, stat_of(r, k, "blocking"),
		       stat_of(r, k, "halt_wakeup"),
		       stat_of(r, k, "wfi_exit_stat"));
	}
	fflush(stdout);
}

static uint64_t deadline_after(double seconds)
{
	return tsc_now() + (uint64_t)(seconds * tsc_hz());
}

/*
 * Waits until vCPU @k waits for LPI number @seq in its WFI loop and KVM
 * reports it blocked.  False when it did not block in time (it may be
 * running, e.g. handling an SPI): the LPI is then injected anyway.
 */
static bool wait_blocked(struct run *r, int k, uint64_t seq)
{
	uint64_t end = deadline_after(r->lost_after_s / 4);

	while (tsc_now() < end) {
		if (r->state->vcpu[k].waiting == seq &&
		    (!r->stats_ok[k] || stat_of(r, k, "blocking")))
			return true;
		sched_yield();
	}
	return false;
}

static void inject_lpi(struct run *r, struct injector *in)
{
	uint64_t one = 1;

	if (r->v->inject == INJECT_SIGNAL_MSI) {
		if (its_vm_signal_msi(&r->its, in->k) == 1)
			in->kvm_delivered++;
	} else {
		TEST_ASSERT(write(r->eventfd[in->k], &one, 8) == 8,
			    "eventfd write");
	}
	in->injected++;
}

static void *lpi_injector(void *arg)
{
	struct injector *in = arg;
	struct run *r = in->r;
	struct lpi_wfi_vcpu *g = &r->state->vcpu[in->k];
	uint32_t i;

	for (i = 0; i < r->lpis; i++) {
		uint64_t t0;

		if (!wait_blocked(r, in->k, i + 1))
			in->not_blocked++;
		t0 = tsc_now();
		inject_lpi(r, in);
		if (!its_vm_wait_count(&g->lpis, i + 1, r->lost_after_s)) {
			in->lost++;
			return NULL;
		}
		in->latency_ns[in->nr_latency++] =
			(double)(int64_t)(g->last_lpi_stamp - t0) * 1e9 /
			tsc_hz();
	}
	return NULL;
}

/* Edge SPIs, one at a time: each must be handled before the next. */
static void *spi_injector(void *arg)
{
	struct injector *in = arg;
	struct run *r = in->r;
	uint32_t intid = ITS_VM_SPI_BASE + in->k, i;

	for (i = 0; i < r->spis; i++) {
		kvm_arm_irq_line(r->its.vm, intid, 1);
		kvm_arm_irq_line(r->its.vm, intid, 0);
		in->spis_sent++;
		if (!its_vm_wait_count(&r->state->vcpu[in->k].spis, i + 1,
				       r->lost_after_s)) {
			in->spis_lost++;
			return NULL;
		}
	}
	return NULL;
}

static void *vcpu_thread(void *arg)
{
	its_vm_vcpu_loop(arg, &current_run->ready);
	return NULL;
}

/* ---- set-up ---------------------------------------------------------------- */

static int setup_vm(struct run *r, char *why, int len)
{
	struct lpi_wfi_params *p = &lpi_wfi_params;
	uint32_t gsis[ITS_VM_MAX_VCPUS], events[ITS_VM_MAX_VCPUS];
	int k;

	if (its_vm_create(&r->its, r->nr_vcpus, DEVICE_ID, lpi_wfi_guest_main,
			  lpi_wfi_irq_handler, why, len))
		return -1;
	memset(p, 0, sizeof(*p));
	p->its = r->its.layout;
	p->use_spis = r->v->spis;
	for (k = 0; k < r->nr_vcpus; k++) {
		p->expected_lpis[k] = r->v->control ? (k == 0) : r->lpis;
		p->expected_spis[k] = r->v->spis ? r->spis : 0;
	}
	sync_global_to_guest(r->its.vm, lpi_wfi_params);
	memset(&lpi_wfi_state, 0, sizeof(lpi_wfi_state));
	sync_global_to_guest(r->its.vm, lpi_wfi_state);
	r->state = addr_gva2hva(r->its.vm, (vm_vaddr_t)&lpi_wfi_state);

	for (k = 0; k < r->nr_vcpus; k++)
		r->stats_ok[k] =
			!kvm_stats_open(&r->stats[k], r->its.vcpu[k]->fd);
	if (r->v->inject == INJECT_IRQFD) {
		for (k = 0; k < r->nr_vcpus; k++) {
			gsis[k] = k;
			events[k] = k;
		}
		its_vm_route_msi(&r->its, gsis, events, r->nr_vcpus);
		for (k = 0; k < r->nr_vcpus; k++) {
			r->eventfd[k] = eventfd(0, 0);
			TEST_ASSERT(r->eventfd[k] >= 0, "eventfd");
			TEST_ASSERT(!its_vm_irqfd(&r->its, r->eventfd[k], k,
						  true),
				    "KVM_IRQFD");
		}
	}
	return 0;
}

static void start_vcpus(struct run *r)
{
	int k;

	pthread_barrier_init(&r->ready, NULL, r->nr_vcpus + 1);
	for (k = 0; k < r->nr_vcpus; k++) {
		TEST_ASSERT(!pthread_create(&r->vcpu_thread[k], NULL,
					    vcpu_thread, r->its.vcpu[k]),
			    "pthread_create");
		harness_pin(r->vcpu_thread[k], placement_spread(r->cpus, k));
	}
	watchdog_stage("guest set-up (GIC, ITS mappings)");
	pthread_barrier_wait(&r->ready);
	for (k = 0; k < r->nr_vcpus; k++) {
		r->wakeups0[k] = stat_of(r, k, "halt_wakeup");
		r->wfi_exits0[k] = stat_of(r, k, "wfi_exit_stat");
	}
}

static void join_vcpus(struct run *r)
{
	int k;

	for (k = 0; k < r->nr_vcpus; k++)
		pthread_join(r->vcpu_thread[k], NULL);
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* ---- the control ------------------------------------------------------------ */

static bool run_control(struct run *r)
{
	struct lpi_wfi_vcpu *g = &r->state->vcpu[0];
	uint64_t w0;

	watchdog_stage("control: unmapped event");
	if (!wait_blocked(r, 0, 1))
		return false;
	w0 = stat_of(r, 0, "halt_wakeup");
	r->unmapped_ret = its_vm_signal_msi(&r->its, UNMAPPED_EVENT);
	/* Long enough for a delivery to land, even under emulation. */
	sleep_s(r->lost_after_s / 10);
	r->unmapped_lpis = g->lpis + g->stray;
	r->unmapped_wakeups = stat_of(r, 0, "halt_wakeup") - w0;
	r->unmapped_still_blocked = !r->stats_ok[0] ||
				    stat_of(r, 0, "blocking");

	watchdog_stage("control: mapped event");
	w0 = stat_of(r, 0, "halt_wakeup");
	r->mapped_ret = its_vm_signal_msi(&r->its, 0);
	r->inj[0].injected = 1;
	if (!its_vm_wait_count(&g->lpis, 1, r->lost_after_s)) {
		r->inj[0].lost = 1;
		return false;
	}
	r->mapped_wakeups = stat_of(r, 0, "halt_wakeup") - w0;
	return true;
}

static void judge_control(struct harness *h, struct run *r, bool completed)
{
	struct results *res = &h->res;
	const char *name = r->v->name;
	bool ok;

	results_count(res, name, "unmapped_signal_msi_ret", "count",
		      r->unmapped_ret);
	results_count(res, name, "unmapped_lpis_handled", "count",
		      r->unmapped_lpis);
	results_count(res, name, "unmapped_wakeups", "count",
		      r->unmapped_wakeups);
	results_count(res, name, "mapped_lpis_handled", "count",
		      r->state->vcpu[0].lpis);
	results_count(res, name, "mapped_wakeups", "count", r->mapped_wakeups);
	ok = completed && r->unmapped_ret == 0 && r->unmapped_lpis == 0 &&
	     r->unmapped_wakeups == 0 && r->unmapped_still_blocked &&
	     r->mapped_ret == 1 && r->state->vcpu[0].lpis == 1 &&
	     (!r->stats_ok[0] || r->mapped_wakeups >= 1);
	report_control(
		h, name, ok,
		"%sunmapped event: KVM_SIGNAL_MSI %d, %lu LPIs, %lu wakeups, vCPU %s; "
		"mapped event: KVM_SIGNAL_MSI %d, %lu LPIs, %lu wakeups",
		completed ? "" : "vCPU 0 never blocked or woke; ",
		r->unmapped_ret, r->unmapped_lpis, r->unmapped_wakeups,
		r->unmapped_still_blocked ? "still blocked" : "woke",
		r->mapped_ret, r->state->vcpu[0].lpis, r->mapped_wakeups);
}

/* ---- the wakeup variants ------------------------------------------------------ */

static void run_injectors(struct run *r)
{
	int k;

	watchdog_stage(r->v->name);
	for (k = 0; k < r->nr_vcpus; k++) {
		struct injector *in = &r->inj[k];
		int cpu = placement_spread(r->cpus, k);

		in->r = r;
		in->k = k;
		in->latency_ns = calloc(r->lpis, sizeof(double));
		TEST_ASSERT(in->latency_ns, "out of memory");
		TEST_ASSERT(!pthread_create(&in->lpi_thread, NULL, lpi_injector,
					    in),
			    "pthread_create");
		/* Same host CPU as the vCPU: injection races the wakeup. */
		harness_pin(in->lpi_thread, cpu);
		if (r->v->spis) {
			TEST_ASSERT(!pthread_create(&in->spi_thread, NULL,
						    spi_injector, in),
				    "pthread_create");
			harness_pin(in->spi_thread, cpu);
		}
	}
	for (k = 0; k < r->nr_vcpus; k++) {
		pthread_join(r->inj[k].lpi_thread, NULL);
		if (r->v->spis)
			pthread_join(r->inj[k].spi_thread, NULL);
	}
}

static void judge_wakeups(struct harness *h, struct run *r, uint64_t wall_ns)
{
	const struct verdict_kind *verdicts = wakeup_verdicts;
	struct results *res = &h->res;
	const char *name = r->v->name;
	uint64_t injected = 0, handled = 0, blocked = 0, wakeups = 0;
	uint64_t spis_sent = 0, spis = 0, stray = 0, wfis = 0, wfi_exits = 0;
	uint64_t kvm_delivered = 0;
	bool exact = true, wakeups_ok = true;
	double *lat = calloc(r->nr_vcpus * r->lpis + 1, sizeof(double));
	size_t nlat = 0;
	int k;

	TEST_ASSERT(lat, "out of memory");
	for (k = 0; k < r->nr_vcpus; k++) {
		struct injector *in = &r->inj[k];
		struct lpi_wfi_vcpu *g = &r->state->vcpu[k];
		uint64_t w = stat_of(r, k, "halt_wakeup") - r->wakeups0[k];

		injected += in->injected;
		handled += g->lpis;
		blocked += in->injected - in->not_blocked;
		wakeups += w;
		spis_sent += in->spis_sent;
		spis += g->spis;
		stray += g->stray;
		wfis += g->wfis;
		wfi_exits += stat_of(r, k, "wfi_exit_stat") - r->wfi_exits0[k];
		kvm_delivered += in->kvm_delivered;
		exact &= g->lpis == in->injected && g->spis == in->spis_sent;
		/* Each LPI sent to a blocked vCPU owes one wakeup. */
		if (!r->v->spis && r->stats_ok[k])
			wakeups_ok &= w >= in->injected - in->not_blocked;
		memcpy(lat + nlat, in->latency_ns,
		       in->nr_latency * sizeof(double));
		nlat += in->nr_latency;
	}

	ktap_comment(
		&h->k,
		"%s: LPIs injected %lu handled %lu (to blocked vCPUs %lu); KVM wakeups %lu; "
		"WFI exits %lu, guest WFI returns %lu; SPIs sent %lu handled %lu; stray %lu",
		name, injected, handled, blocked, wakeups, wfi_exits, wfis,
		spis_sent, spis, stray);
	results_count(res, name, "lpis_injected", "count", injected);
	results_count(res, name, "lpis_handled", "count", handled);
	results_count(res, name, "lpis_to_blocked_vcpu", "count", blocked);
	if (r->v->inject == INJECT_SIGNAL_MSI)
		results_count(res, name, "kvm_signal_msi_delivered", "count",
			      kvm_delivered);
	if (r->stats_ok[0]) {
		results_count(res, name, "halt_wakeups", "count", wakeups);
		results_count(res, name, "wfi_exits", "count", wfi_exits);
	} else {
		results_skip(res, name, "halt_wakeups",
			     "no KVM binary stats (KVM_GET_STATS_FD)");
	}
	results_count(res, name, "guest_wfi_returns", "count", wfis);
	if (r->v->spis) {
		results_count(res, name, "spis_injected", "count", spis_sent);
		results_count(res, name, "spis_handled", "count", spis);
	}
	results_count(res, name, "stray_interrupts", "count", stray);
	if (r->its.same_counter)
		results_samples(res, name, "wakeup_latency", "ns", lat, nlat);
	else
		results_skip(res, name, "wakeup_latency",
			     r->its.why_not_same_counter);
	results_count(res, name, "wall_time", "ns", wall_ns);
	free(lat);

	if (r->v->inject == INJECT_SIGNAL_MSI && kvm_delivered != injected)
		report_verdict(
			h, name, &verdicts[WAKEUP_NOT_DELIVERED],
			"KVM_SIGNAL_MSI delivered %lu of %lu LPIs (ITS translation missing)",
			kvm_delivered, injected);
	else if (!exact || stray)
		report_verdict(
			h, name, &verdicts[WAKEUP_MISCOUNTED],
			"LPIs %lu handled for %lu injected, SPIs %lu for %lu, %lu stray",
			handled, injected, spis, spis_sent, stray);
	else if (!wakeups_ok)
		report_verdict(
			h, name, &verdicts[WAKEUP_MISSING_WAKEUP],
			"KVM sent %lu wakeups for %lu LPIs to blocked vCPUs",
			wakeups, blocked);
	else
		report_verdict(
			h, name, &verdicts[WAKEUP_DELIVERED],
			"%lu LPIs, each handled once (%lu to blocked vCPUs, %lu KVM wakeups)%s",
			injected, blocked, wakeups,
			r->v->spis ? "; concurrent SPIs all handled" : "");
}

/* A vCPU still asleep with its interrupt pending: report and end. */
static void __attribute__((noreturn))
report_lost(struct harness *h, struct run *r)
{
	uint64_t lost = 0, spis_lost = 0;
	int k;

	for (k = 0; k < r->nr_vcpus; k++) {
		lost += r->inj[k].lost;
		spis_lost += r->inj[k].spis_lost;
	}
	dump_run();
	report_bail_out(
		h, r->v->name, &wakeup_verdicts[WAKEUP_LOST],
		"%lu LPIs and %lu SPIs not handled %.0f s after injection: vCPU left asleep",
		lost, spis_lost, r->lost_after_s);
}

static unsigned long opt_lpis = 200, opt_vcpus = 2, opt_lost_after = 10;

static void run_case(struct harness *h, const struct harness_case *c)
{
	const struct variant *v = c->data;
	struct results *res = &h->res;
	int nr_vcpus = opt_vcpus;
	uint32_t lpis = opt_lpis;
	double lost_after_s = opt_lost_after;
	struct run *r = calloc(1, sizeof(*r));
	uint64_t t0 = tsc_now(), lost = 0;
	char why[160] = "";
	bool completed = true;
	int k;

	TEST_ASSERT(r, "out of memory");
	r->v = v;
	r->nr_vcpus = nr_vcpus;
	r->lpis = lpis;
	r->spis = v->spis ? lpis : 0;
	r->lost_after_s = lost_after_s;
	r->cpus = &h->a;
	TEST_ASSERT(r->cpus->nr_cpus > 0, "no CPUs");
	current_run = r;
	watchdog_stage(v->name);
	results_params(res, "vcpus=%d lpis=%u inject=%s spis=%u", nr_vcpus,
		       v->control ? 1 : lpis,
		       v->inject == INJECT_IRQFD ? "irqfd" : "signal_msi",
		       r->spis);
	if (setup_vm(r, why, sizeof(why))) {
		report_skip(h, v->name, "verdict", "%s", why);
		goto out;
	}
	start_vcpus(r);
	if (v->control)
		completed = run_control(r);
	else
		run_injectors(r);
	for (k = 0; k < nr_vcpus; k++)
		lost += r->inj[k].lost + r->inj[k].spis_lost;
	if (lost || !completed)
		report_lost(h, r);
	watchdog_stage("vCPUs finishing");
	join_vcpus(r);
	if (v->control)
		judge_control(h, r, completed);
	else
		judge_wakeups(h, r, tsc_to_ns(tsc_now() - t0));
	for (k = 0; k < nr_vcpus; k++) {
		if (r->stats_ok[k])
			kvm_stats_close(&r->stats[k]);
		if (v->inject == INJECT_IRQFD && !v->control)
			close(r->eventfd[k]);
		free(r->inj[k].latency_ns);
	}
	its_vm_free(&r->its);
out:
	results_params(res, NULL);
	current_run = NULL;
	free(r);
}

/* ---- the descriptor ------------------------------------------------------------ */

static void plan(struct harness *h)
{
	size_t i;

	for (i = 0; i < NR_VARIANTS; i++)
		harness_add_case(h, &variants[i], "%s", variants[i].name);
}

static void describe(struct harness *h, char *buf, size_t size)
{
	(void)h;
	snprintf(
		buf, size,
		"%lu vCPUs, %lu LPIs per vCPU, lost after %lu s; counter %lu Hz",
		opt_vcpus, opt_lpis, opt_lost_after, tsc_hz());
}

static const struct harness_option options[] = {
	{ "lpis", OPT_UINT, &opt_lpis, 1, 1000000, .help = "LPIs per vCPU" },
	{ "vcpus", OPT_UINT, &opt_vcpus, 1, ITS_VM_MAX_VCPUS,
	  .help = "vCPUs blocking in WFI" },
	{ "lost-after", OPT_UINT, &opt_lost_after, 1, 3600,
	  .help = "seconds after which an unhandled LPI is lost" },
	{}
};

HARNESS_MAIN(.name = "lpi_wfi_wakeup", .options = options,
	     HARNESS_CAPS(KVM_CAP_SIGNAL_MSI, KVM_CAP_IRQFD,
			  KVM_CAP_IRQ_ROUTING),
	     .timeout = 300, .plan = plan, .describe = describe,
	     .run_case = run_case, .dump = dump_run);

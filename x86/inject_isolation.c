// SPDX-License-Identifier: GPL-2.0-only
/*
 * Injection-storm isolation (seed 001).
 *
 * Xen's global tasklet lock on the passthrough-interrupt path gave idle
 * guests about 40% steal time.  The KVM question: does an interrupt storm
 * into some guests take time from idle guests, on the same CPU and on other
 * CPUs?  A storm VM's vCPUs take MSIs through irqfds (GSI routes of type
 * MSI) written by K injector threads, paced or flat out; idle VMs halt
 * between LAPIC timer ticks (one periodic, one TSC-deadline), publish KVM
 * steal time and log each tick's lateness (actual minus programmed expiry).
 *
 * Per placement (storm vCPUs on the idle vCPUs' CPU, or on another one) and
 * storm rate: the idle guests' steal % (per window), tick lateness, and the
 * storm's delivered rate; the storm-off baseline is measured in the same
 * run, and each difference comes with a bootstrap interval of the
 * difference of medians.  Then injection throughput against the number of
 * injector threads: flat or falling per-thread throughput points to a
 * shared lock.  A control holds off the idle guests' interrupts and puts a
 * CPU hog beside them: steal and lateness must both rise, or the counters
 * are blind.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <asm/kvm_para.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "guest_code/inject_isolation.h"
#include "lib/bootstrap.h"
#include "lib/harness.h"
#include "lib/kvm_compat.h"
#include "lib/placement.h"
#include "lib/results.h"
#include "lib/stats.h"
#include "lib/tsc.h"
#include "lib/x86/vm.h"

#define ISO_STORM_VECTOR 0x40
#define ISO_TIMER_VECTOR 0xec
#define ISO_KICK_VECTOR 0xf0
#define ISO_MAX_INJECTORS 16
#define ISO_IDLE 2 /* periodic, TSC-deadline */
#define ISO_BOOTSTRAP_ITERS 2000

static const char *const timer_names[] = { "periodic", "deadline" };

struct options {
	unsigned long phase_ms, window_ms, period_us;
	unsigned long storm_vcpus;
	unsigned long injectors; /* for the rate phases */
	struct option_list rates; /* MSIs per second in all; 0: flat out */
	struct option_list scaling; /* injector counts, flat out */
};

struct guest_vm {
	const char *name;
	bool present;
	char why[160]; /* when not present */
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu[INJECT_ISOLATION_MAX_STORM_VCPUS];
	int nr_vcpus;
	pthread_t thread[INJECT_ISOLATION_MAX_STORM_VCPUS];
	_Atomic pid_t tid[INJECT_ISOLATION_MAX_STORM_VCPUS];
	_Atomic int ready;
	struct inject_isolation_state *st;
	struct kvm_steal_time *steal; /* NULL: not enabled */
	int efd[INJECT_ISOLATION_MAX_STORM_VCPUS]; /* storm: irqfds */
};

struct injector {
	pthread_t thread;
	int idx;
	double rate; /* per thread, 0: flat out */
	_Atomic uint64_t sent;
};

struct ctx {
	struct options o;
	/*
	 * --placement: the idle guests on A's first CPU; "others" (the storm
	 * in "different", the injectors) the rest of A (same-node) or B
	 * (cross-node).  One CPU: everything shares it (has_other false).
	 */
	int idle_cpu, nr_cpus;
	struct placement_group others;
	bool has_other, cross_node;
	struct guest_vm storm, idle[ISO_IDLE];
	struct injector inj[ISO_MAX_INJECTORS];
	int nr_inj;
	_Atomic bool injecting, hogging;
	struct results *res;
	struct harness *h;
	const char *stage;
};

/* What one phase measured. */
struct phase {
	size_t nr_win;
	double *steal_pct[ISO_IDLE], *run_delay_pct[ISO_IDLE];
	double *lateness_ns[ISO_IDLE];
	size_t nr_lat[ISO_IDLE];
	uint64_t missed[ISO_IDLE], ticks[ISO_IDLE];
	double *inj_rate, *storm_rate; /* per window, 1/s */
	double injections_per_s, storm_irqs_per_s;
};

static struct ctx *current_ctx;

static void dump_ctx(void)
{
	struct ctx *c = current_ctx;
	int i;

	if (!c)
		return;
	printf("# stage %s; storm irqs %lu; ", c->stage ? c->stage : "?",
	       c->storm.st ? c->storm.st->storm_irqs[0] : 0);
	for (i = 0; i < ISO_IDLE; i++)
		if (c->idle[i].present)
			printf("%s ticks %lu missed %lu; ", c->idle[i].name,
			       c->idle[i].st->ticks, c->idle[i].st->missed);
	printf("\n");
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Time the thread waited runnable on a runqueue: what KVM reports as steal. */
static uint64_t run_delay_ns(pid_t tid)
{
	char path[64];
	uint64_t run = 0, delay = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &run, &delay) != 2)
		delay = 0;
	fclose(f);
	return delay;
}

/* The steal field, read while KVM is not updating it (version even). */
static uint64_t read_steal(struct kvm_steal_time *st)
{
	uint32_t v;
	uint64_t steal;

	do {
		v = __atomic_load_n(&st->version, __ATOMIC_ACQUIRE);
		steal = __atomic_load_n(&st->steal, __ATOMIC_ACQUIRE);
	} while ((v & 1) ||
		 v != __atomic_load_n(&st->version, __ATOMIC_ACQUIRE));
	return steal;
}

/* ---- VMs and vCPU threads ---------------------------------------------------- */

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct guest_vm *g = NULL;
	struct ctx *c = current_ctx;
	struct ucall uc;
	uint64_t cmd;
	int i;

	for (i = 0; i < ISO_IDLE; i++)
		if (c->idle[i].present && c->idle[i].vcpu[0] == vcpu)
			g = &c->idle[i];
	if (!g)
		g = &c->storm;
	g->tid[vcpu->id] = syscall(SYS_gettid);
	while ((cmd = x86_vcpu_run(vcpu, &uc)) != UCALL_DONE) {
		TEST_ASSERT(cmd == UCALL_SYNC, "%s vCPU %d: unexpected exit %s",
			    g->name, vcpu->id,
			    exit_reason_str(vcpu->run->exit_reason));
		g->ready++;
	}
	return NULL;
}

static void vm_common(struct guest_vm *g, int nr_vcpus)
{
	int i;

	irqchip_select(IRQCHIP_KERNEL);
	g->vm = vm_create_with_vcpus(nr_vcpus, inject_isolation_guest, g->vcpu);
	g->nr_vcpus = nr_vcpus;
	x86_vm_descriptor_tables(g->vm, g->vcpu, nr_vcpus);
	for (i = 0; i < nr_vcpus; i++)
		vm_install_exception_handler(g->vm, ISO_STORM_VECTOR + i,
					     inject_isolation_storm_isr);
	vm_install_exception_handler(g->vm, ISO_TIMER_VECTOR,
				     inject_isolation_timer_isr);
	vm_install_exception_handler(g->vm, ISO_KICK_VECTOR,
				     inject_isolation_kick_isr);
	virt_pg_map(g->vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	memset(&inject_isolation_state, 0, sizeof(inject_isolation_state));
	sync_global_to_guest(g->vm, inject_isolation_state);
	g->st = addr_gva2hva(g->vm, (vm_vaddr_t)&inject_isolation_state);
	g->present = true;
}

/* vCPU i's GSI i is an MSI route to APIC ID i, vector base + i; an irqfd each. */
static void storm_vm_create(struct ctx *c)
{
	struct guest_vm *g = &c->storm;
	struct kvm_irq_routing *routing;
	int i, n = c->o.storm_vcpus;

	g->name = "storm";
	vm_common(g, n);
	inject_isolation_params = (struct inject_isolation_params){
		.role = ISO_ROLE_STORM,
		.storm_vector = ISO_STORM_VECTOR,
		.timer_vector = ISO_TIMER_VECTOR,
		.kick_vector = ISO_KICK_VECTOR,
	};
	sync_global_to_guest(g->vm, inject_isolation_params);
	routing = calloc(1, sizeof(*routing) + n * sizeof(routing->entries[0]));
	TEST_ASSERT(routing, "out of memory");
	for (i = 0; i < n; i++) {
		routing->entries[i].gsi = i;
		routing->entries[i].type = KVM_IRQ_ROUTING_MSI;
		routing->entries[i].u.msi.address_lo = 0xfee00000 | (i << 12);
		routing->entries[i].u.msi.data = ISO_STORM_VECTOR + i;
	}
	routing->nr = n;
	vm_ioctl(g->vm, KVM_SET_GSI_ROUTING, routing);
	free(routing);
	for (i = 0; i < n; i++) {
		struct kvm_irqfd irqfd = { .gsi = i };

		g->efd[i] = eventfd(0, EFD_CLOEXEC);
		TEST_ASSERT(g->efd[i] >= 0, "eventfd: %s", strerror(errno));
		irqfd.fd = g->efd[i];
		vm_ioctl(g->vm, KVM_IRQFD, &irqfd);
	}
}

static void idle_vm_create(struct ctx *c, int i)
{
	struct guest_vm *g = &c->idle[i];
	bool steal = kvm_cpu_has(X86_FEATURE_KVM_STEAL_TIME);

	g->name = timer_names[i];
	if (i == ISO_TIMER_DEADLINE &&
	    !kvm_cpu_has(X86_FEATURE_TSC_DEADLINE_TIMER)) {
		snprintf(
			g->why, sizeof(g->why),
			"KVM does not offer the TSC-deadline timer (CPUID.1:ECX.24)");
		return;
	}
	vm_common(g, 1);
	inject_isolation_params = (struct inject_isolation_params){
		.role = ISO_ROLE_IDLE,
		.timer = i,
		.storm_vector = ISO_STORM_VECTOR,
		.timer_vector = ISO_TIMER_VECTOR,
		.kick_vector = ISO_KICK_VECTOR,
		.period_tsc = c->o.period_us * (tsc_hz() / 1000000),
		.calibrate_tsc = tsc_hz() / 50, /* 20 ms */
		.steal_gpa =
			steal ? addr_gva2gpa(
					g->vm,
					(vm_vaddr_t)&inject_isolation_steal) :
				0,
	};
	sync_global_to_guest(g->vm, inject_isolation_params);
	if (steal)
		g->steal = addr_gva2hva(g->vm,
					(vm_vaddr_t)&inject_isolation_steal);
}

static void vm_start(struct guest_vm *g)
{
	int i;

	if (!g->present)
		return;
	for (i = 0; i < g->nr_vcpus; i++)
		TEST_ASSERT(!pthread_create(&g->thread[i], NULL, vcpu_thread,
					    g->vcpu[i]),
			    "pthread_create");
}

static void vm_wait_ready(struct guest_vm *g)
{
	while (g->present && g->ready < g->nr_vcpus)
		usleep(1000);
}

static void vm_stop(struct guest_vm *g)
{
	int i;

	if (!g->present)
		return;
	g->st->stop = 1;
	for (i = 0; i < g->nr_vcpus; i++) {
		struct kvm_msi kick = {
			.address_lo = 0xfee00000 | (i << 12),
			.data = ISO_KICK_VECTOR,
		};

		/* Returns how many vCPUs took it: < 0 only on error. */
		TEST_ASSERT(__vm_ioctl(g->vm, KVM_SIGNAL_MSI, &kick) >= 0,
			    "KVM_SIGNAL_MSI: %s", strerror(errno));
	}
	for (i = 0; i < g->nr_vcpus; i++)
		pthread_join(g->thread[i], NULL);
	for (i = 0; g == &current_ctx->storm && i < g->nr_vcpus; i++)
		close(g->efd[i]);
	kvm_vm_free(g->vm);
	g->present = false;
}

/* ---- injectors ------------------------------------------------------------------ */

static void *injector_thread(void *arg)
{
	struct injector *in = arg;
	struct ctx *c = current_ctx;
	int fd = c->storm.efd[in->idx % c->storm.nr_vcpus];
	uint64_t one = 1, next = mono_ns(), interval = 0;

	if (in->rate > 0)
		interval = 1e9 / in->rate;
	while (c->injecting) {
		if (interval) {
			uint64_t now = mono_ns();

			if (now < next) {
				struct timespec ts = {
					.tv_sec = next / 1000000000,
					.tv_nsec = next % 1000000000,
				};

				if (next - now > 20000)
					clock_nanosleep(CLOCK_MONOTONIC,
							TIMER_ABSTIME, &ts,
							NULL);
				continue;
			}
			next += interval;
			/* Never make up for more than 10 ms of lag in a burst. */
			if (now > next + 10000000)
				next = now;
		}
		TEST_ASSERT(write(fd, &one, 8) == 8, "irqfd write: %s",
			    strerror(errno));
		in->sent++;
	}
	return NULL;
}

static void injectors_start(struct ctx *c, int n, double rate)
{
	int i;

	c->nr_inj = n;
	c->injecting = true;
	for (i = 0; i < n; i++) {
		c->inj[i].idx = i;
		c->inj[i].rate = rate > 0 ? rate / n : 0;
		c->inj[i].sent = 0;
		TEST_ASSERT(!pthread_create(&c->inj[i].thread, NULL,
					    injector_thread, &c->inj[i]),
			    "pthread_create");
		harness_pin(c->inj[i].thread, placement_spread(&c->others, i));
	}
}

static void injectors_stop(struct ctx *c)
{
	int i;

	c->injecting = false;
	for (i = 0; i < c->nr_inj; i++)
		pthread_join(c->inj[i].thread, NULL);
	c->nr_inj = 0;
}

static uint64_t injected(struct ctx *c)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < c->nr_inj; i++)
		n += c->inj[i].sent;
	return n;
}

static uint64_t storm_irqs(struct ctx *c)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < c->storm.nr_vcpus; i++)
		n += c->storm.st->storm_irqs[i];
	return n;
}

/* ---- phases ------------------------------------------------------------------------ */

struct snap {
	uint64_t t, steal[ISO_IDLE], delay[ISO_IDLE], ticks[ISO_IDLE];
	uint64_t missed[ISO_IDLE];
	uint64_t irqs, sent;
};

static void snapshot(struct ctx *c, struct snap *s)
{
	int i;

	s->t = mono_ns();
	s->irqs = storm_irqs(c);
	s->sent = injected(c);
	for (i = 0; i < ISO_IDLE; i++) {
		struct guest_vm *g = &c->idle[i];

		if (!g->present)
			continue;
		s->steal[i] = g->steal ? read_steal(g->steal) : 0;
		s->delay[i] = run_delay_ns(g->tid[0]);
		s->ticks[i] = g->st->ticks;
		s->missed[i] = g->st->missed;
	}
}

/* Tick @n's lateness in ns: TSC ticks, or APIC counts since the reload. */
static double lateness_ns(struct guest_vm *g, int timer, uint64_t n)
{
	int64_t raw = g->st->lateness[n % INJECT_ISOLATION_RING];

	if (timer == ISO_TIMER_PERIODIC)
		return raw * (double)g->st->cal_tsc / g->st->cal_counts * 1e9 /
		       tsc_hz();
	return raw >= 0 ? tsc_to_ns(raw) : -tsc_to_ns(-raw);
}

static void *alloc_doubles(size_t n)
{
	double *p = calloc(n ? n : 1, sizeof(double));

	TEST_ASSERT(p, "out of memory");
	return p;
}

/*
 * @injectors threads at @rate per second in all (0: flat out; no injectors:
 * the storm is off) for phase_ms, sampled every window_ms after one window
 * to settle.
 */
static void run_phase(struct ctx *c, struct phase *p, int injectors,
		      double rate)
{
	size_t w, nw = c->o.phase_ms / c->o.window_ms;
	struct snap s0, s1, first;
	int i;

	memset(p, 0, sizeof(*p));
	p->nr_win = nw;
	p->inj_rate = alloc_doubles(nw);
	p->storm_rate = alloc_doubles(nw);
	for (i = 0; i < ISO_IDLE; i++) {
		p->steal_pct[i] = alloc_doubles(nw);
		p->run_delay_pct[i] = alloc_doubles(nw);
	}
	if (injectors)
		injectors_start(c, injectors, rate);
	usleep(c->o.window_ms * 1000);
	snapshot(c, &s0);
	first = s0;
	for (w = 0; w < nw; w++) {
		double dt;

		usleep(c->o.window_ms * 1000);
		snapshot(c, &s1);
		dt = (s1.t - s0.t) / 1e9;
		p->inj_rate[w] = (s1.sent - s0.sent) / dt;
		p->storm_rate[w] = (s1.irqs - s0.irqs) / dt;
		for (i = 0; i < ISO_IDLE; i++) {
			p->steal_pct[i][w] = 100.0 *
					     (s1.steal[i] - s0.steal[i]) /
					     (dt * 1e9);
			p->run_delay_pct[i][w] = 100.0 *
						 (s1.delay[i] - s0.delay[i]) /
						 (dt * 1e9);
		}
		s0 = s1;
	}
	p->injections_per_s = (s1.sent - first.sent) / ((s1.t - first.t) / 1e9);
	p->storm_irqs_per_s = (s1.irqs - first.irqs) / ((s1.t - first.t) / 1e9);
	if (injectors)
		injectors_stop(c);
	for (i = 0; i < ISO_IDLE; i++) {
		struct guest_vm *g = &c->idle[i];
		uint64_t n, t0 = first.ticks[i], t1 = s1.ticks[i];

		if (!g->present)
			continue;
		if (t1 - t0 > INJECT_ISOLATION_RING)
			t0 = t1 - INJECT_ISOLATION_RING;
		p->ticks[i] = t1 - t0;
		p->lateness_ns[i] = alloc_doubles(t1 - t0);
		for (n = t0; n < t1; n++)
			p->lateness_ns[i][p->nr_lat[i]++] =
				lateness_ns(g, i, n);
		p->missed[i] = s1.missed[i] - first.missed[i];
	}
}

static void phase_free(struct phase *p)
{
	int i;

	free(p->inj_rate);
	free(p->storm_rate);
	for (i = 0; i < ISO_IDLE; i++) {
		free(p->steal_pct[i]);
		free(p->run_delay_pct[i]);
		free(p->lateness_ns[i]);
	}
}

/* ---- records -------------------------------------------------------------------------- */

static double mean_of(const double *v, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += v[i];
	return n ? sum / n : 0;
}

static void record_diff(struct ctx *c, const char *variant, const char *metric,
			const char *unit, const double *base, size_t nb,
			const double *v, size_t nv)
{
	struct median_diff d;

	if (bootstrap_median_diff(base, nb, v, nv, ISO_BOOTSTRAP_ITERS, 0.95, 1,
				  &d))
		return;
	results_estimate(
		c->res, variant, metric, unit, d.diff, d.ci_low, d.ci_high,
		d.level,
		"median(storm) - median(storm off), percentile bootstrap (2000 resamples)");
}

/*
 * The idle guests' records for one phase; @base (NULL for the baseline
 * itself) is the storm-off phase of the same placement.
 */
static void record_idle(struct ctx *c, const char *placement,
			const struct phase *p, const struct phase *base,
			const char *storm, double rate, int injectors)
{
	char variant[64];
	int i;

	for (i = 0; i < ISO_IDLE; i++) {
		struct guest_vm *g = &c->idle[i];
		double *tmp;

		snprintf(variant, sizeof(variant), "%s.%s", placement,
			 timer_names[i]);
		results_params(
			c->res,
			"rate=%.0f injectors=%d placement=%s storm=%s timer=%s storm_vcpus=%lu period_us=%lu",
			rate, injectors, placement, storm, timer_names[i],
			c->o.storm_vcpus, c->o.period_us);
		if (!g->present) {
			results_skip(c->res, variant, "tick_lateness", g->why);
			continue;
		}
		if (g->steal) {
			tmp = alloc_doubles(p->nr_win);
			memcpy(tmp, p->steal_pct[i], p->nr_win * sizeof(*tmp));
			results_samples(c->res, variant, "steal_pct", "%", tmp,
					p->nr_win);
			free(tmp);
		} else {
			results_skip(
				c->res, variant, "steal_pct",
				"KVM does not offer steal time (KVM_FEATURE_STEAL_TIME)");
		}
		tmp = alloc_doubles(p->nr_win);
		memcpy(tmp, p->run_delay_pct[i], p->nr_win * sizeof(*tmp));
		results_samples(c->res, variant, "vcpu_run_delay_pct", "%", tmp,
				p->nr_win);
		free(tmp);
		tmp = alloc_doubles(p->nr_lat[i]);
		memcpy(tmp, p->lateness_ns[i], p->nr_lat[i] * sizeof(*tmp));
		results_samples(c->res, variant, "tick_lateness", "ns", tmp,
				p->nr_lat[i]);
		free(tmp);
		results_count(c->res, variant, "ticks", "count", p->ticks[i]);
		results_count(c->res, variant, "missed_ticks", "count",
			      p->missed[i]);
		if (!base)
			continue;
		if (g->steal)
			record_diff(c, variant, "steal_pct_delta", "%",
				    base->steal_pct[i], base->nr_win,
				    p->steal_pct[i], p->nr_win);
		record_diff(c, variant, "tick_lateness_delta", "ns",
			    base->lateness_ns[i], base->nr_lat[i],
			    p->lateness_ns[i], p->nr_lat[i]);
	}
}

static void record_storm(struct ctx *c, const char *variant,
			 const struct phase *p, const char *placement,
			 const char *storm, double rate, int injectors)
{
	double *tmp = alloc_doubles(p->nr_win);

	results_params(
		c->res,
		"rate=%.0f injectors=%d placement=%s storm=%s storm_vcpus=%lu",
		rate, injectors, placement, storm, c->o.storm_vcpus);
	memcpy(tmp, p->inj_rate, p->nr_win * sizeof(*tmp));
	results_samples(c->res, variant, "injections_per_s", "1/s", tmp,
			p->nr_win);
	memcpy(tmp, p->storm_rate, p->nr_win * sizeof(*tmp));
	results_samples(c->res, variant, "storm_irqs_per_s", "1/s", tmp,
			p->nr_win);
	results_count(c->res, variant, "injections_per_s_per_thread", "1/s",
		      injectors ? (long long)(p->injections_per_s / injectors) :
				  0);
	free(tmp);
}

/* ---- placements ------------------------------------------------------------------------ */

/*
 * same: storm vCPUs share the idle vCPUs' CPU, injectors elsewhere;
 * different: storm vCPUs and injectors on the other CPUs.
 */
static void place(struct ctx *c, bool same)
{
	int i;

	for (i = 0; i < ISO_IDLE; i++)
		if (c->idle[i].present)
			harness_pin(c->idle[i].thread[0], c->idle_cpu);
	for (i = 0; i < c->storm.nr_vcpus; i++)
		harness_pin(c->storm.thread[i],
			    same ? c->idle_cpu :
				   placement_spread(&c->others, i));
}

static bool phase_sane(struct ctx *c, const struct phase *p, bool storm,
		       char *why, size_t len)
{
	int i;

	for (i = 0; i < ISO_IDLE; i++)
		if (c->idle[i].present && !p->ticks[i]) {
			snprintf(why, len, "%s idle guest: no timer tick",
				 timer_names[i]);
			return false;
		}
	if (storm && !p->storm_irqs_per_s) {
		snprintf(why, len, "storm guest received no MSI");
		return false;
	}
	return true;
}

static void run_placement(struct ctx *c, bool same)
{
	const char *placement = same ? "same" : "different";
	struct phase base, p;
	char why[160] = "", line[1024];
	size_t n = 0;
	bool ok = true;
	int r, i;

	c->stage = placement;
	watchdog_stage(placement);
	place(c, same);
	run_phase(c, &base, 0, 0);
	record_idle(c, placement, &base, NULL, "off", 0, 0);
	ok = phase_sane(c, &base, false, why, sizeof(why));
	for (r = 0; ok && r < c->o.rates.n; r++) {
		double rate = c->o.rates.v[r];
		char variant[64];

		run_phase(c, &p, c->o.injectors, rate);
		/* Flat out: the rate axis is the rate reached. */
		if (!rate)
			rate = p.injections_per_s;
		snprintf(variant, sizeof(variant), "%s.storm", placement);
		record_storm(c, variant, &p, placement,
			     c->o.rates.v[r] ? "paced" : "max", rate,
			     c->o.injectors);
		record_idle(c, placement, &p, &base,
			    c->o.rates.v[r] ? "paced" : "max", rate,
			    c->o.injectors);
		ok = phase_sane(c, &p, true, why, sizeof(why));
		n += snprintf(
			line + n, n < sizeof(line) ? sizeof(line) - n : 0,
			"%s %.0f/s: storm %.0f/s, steal p50 %s%.2f%%, lateness p50 %.1f us (off: %.1f); ",
			c->o.rates.v[r] ? "paced" : "max", rate,
			p.storm_irqs_per_s, c->idle[0].steal ? "" : "n/a ",
			median_copy(p.steal_pct[0], p.nr_win),
			median_copy(p.lateness_ns[0], p.nr_lat[0]) / 1e3,
			median_copy(base.lateness_ns[0], base.nr_lat[0]) / 1e3);
		phase_free(&p);
	}
	phase_free(&base);
	results_params(c->res, NULL);
	if (n)
		ktap_comment(&c->h->k, "%s (periodic idle guest): %s",
			     placement, line);
	if (ok)
		report_verdict(c->h, placement, &verdict_pass,
			       "storm-off baseline and %d storm rates measured",
			       c->o.rates.n);
	else
		report_verdict(c->h, placement, &verdict_fail, "%s", why);
	for (i = 0; i < ISO_IDLE; i++)
		if (!c->idle[i].present)
			ktap_comment(&c->h->k, "%s idle guest skipped: %s",
				     timer_names[i], c->idle[i].why);
}

/* Flat-out injection throughput against the number of injector threads. */
static void run_scaling(struct ctx *c)
{
	char line[512];
	size_t n = 0;
	struct phase p;
	bool ok = true;
	int s;

	c->stage = "scaling";
	watchdog_stage("scaling");
	place(c, !c->has_other);
	for (s = 0; s < c->o.scaling.n; s++) {
		int k = c->o.scaling.v[s];

		run_phase(c, &p, k, 0);
		record_storm(c, "scaling", &p,
			     c->has_other ? "different" : "same", "max",
			     p.injections_per_s, k);
		ok &= p.storm_irqs_per_s > 0;
		n += snprintf(
			line + n, n < sizeof(line) ? sizeof(line) - n : 0,
			"%d: %.0f/s (%.0f per thread), delivered %.0f/s; ", k,
			p.injections_per_s, p.injections_per_s / k,
			p.storm_irqs_per_s);
		phase_free(&p);
	}
	results_params(c->res, NULL);
	ktap_comment(&c->h->k, "injector threads: %s", line);
	report_verdict(
		c->h, "scaling", ok ? &verdict_pass : &verdict_fail,
		ok ? "injection throughput measured for %d thread counts" :
		     "a phase delivered no MSI (of %d)",
		c->o.scaling.n);
}

static void *hog_thread(void *arg)
{
	struct ctx *c = arg;

	while (c->hogging)
		;
	return NULL;
}

/*
 * The instruments' control: the idle guests spin instead of halting and a
 * CPU hog shares their CPU, so they are runnable and wait for it: steal must
 * rise, and so must tick lateness (a tick waits for the vCPU to run).
 */
static void run_control(struct ctx *c)
{
	struct phase base, p;
	struct median_diff late;
	double sb, sc;
	char why[512];
	pthread_t hog;
	bool blind = false;
	size_t n = 0;
	int i;

	c->stage = "control";
	watchdog_stage("control");
	place(c, false);
	run_phase(c, &base, 0, 0);
	for (i = 0; i < ISO_IDLE; i++)
		if (c->idle[i].present)
			c->idle[i].st->busy = 1;
	c->hogging = true;
	TEST_ASSERT(!pthread_create(&hog, NULL, hog_thread, c),
		    "pthread_create");
	harness_pin(hog, c->idle_cpu);
	run_phase(c, &p, 0, 0);
	c->hogging = false;
	pthread_join(hog, NULL);
	for (i = 0; i < ISO_IDLE; i++)
		if (c->idle[i].present)
			c->idle[i].st->busy = 0;
	record_idle(c, "control", &p, &base, "off", 0, 0);
	results_params(c->res, NULL);

	why[0] = '\0';
	for (i = 0; i < ISO_IDLE; i++) {
		struct guest_vm *g = &c->idle[i];
		if (!g->present)
			continue;
		/*
		 * Steal lands at vCPU entries, which a spinning guest makes
		 * rarely, and kvm_pvm reported more steal than wall time for
		 * halting vCPUs: shown (phase mean), judged on lateness only.
		 */
		sb = mean_of(base.steal_pct[i], base.nr_win);
		sc = mean_of(p.steal_pct[i], p.nr_win);
		if (p.nr_lat[i]) {
			bootstrap_median_diff(base.lateness_ns[i],
					      base.nr_lat[i], p.lateness_ns[i],
					      p.nr_lat[i], 500, 0.95, 1, &late);
			if (!(late.ci_low > 0))
				blind = true;
			n += snprintf(why + n,
				      n < sizeof(why) ? sizeof(why) - n : 0,
				      "%s: lateness %+.0f us [%.0f, %.0f]",
				      g->name, late.diff / 1e3,
				      late.ci_low / 1e3, late.ci_high / 1e3);
		} else {
			/* Not one tick in the phase: as late as it gets. */
			n += snprintf(why + n,
				      n < sizeof(why) ? sizeof(why) - n : 0,
				      "%s: no tick delivered in the phase",
				      g->name);
		}
		if (g->steal)
			n += snprintf(why + n,
				      n < sizeof(why) ? sizeof(why) - n : 0,
				      ", steal %.1f%% -> %.1f%% (phase mean)",
				      sb, sc);
		n += snprintf(why + n, n < sizeof(why) ? sizeof(why) - n : 0,
			      "; ");
	}
	phase_free(&base);
	phase_free(&p);
	report_control(c->h, "control", !blind,
		       "%sidle guests spinning beside a CPU hog: %s",
		       blind ? "counters blind: " : "", why);
}

/* ---- the descriptor ------------------------------------------------------------ */

static struct ctx ctx = {
	.o = { .phase_ms = 2000,
	       .window_ms = 50,
	       .period_us = 1000,
	       .storm_vcpus = 1,
	       .injectors = 1,
	       .rates = { { 1000, 10000, 100000, 0 }, 4 },
	       .scaling = { { 1, 2, 4 }, 3 } },
};

static void run_same(struct ctx *c)
{
	run_placement(c, true);
}

static void run_different(struct ctx *c)
{
	run_placement(c, false);
}

static const char *storm_elsewhere(struct ctx *c)
{
	static char why[128];

	snprintf(
		why, sizeof(why),
		"cross-node: the storm vCPUs are on node %d, never on the idle vCPUs' CPU",
		c->others.node);
	return c->cross_node ? why : NULL;
}

static const char *one_cpu_storm(struct ctx *c)
{
	return c->has_other ? NULL :
			      "one CPU available: no other CPU for the storm";
}

static const char *one_cpu_hog(struct ctx *c)
{
	return c->has_other ?
		       NULL :
		       "one CPU available: the hog would share it with the injector-free storm VM";
}

/* The plan: each part, what it records its verdict as, when it cannot run. */
static const struct part {
	const char *name, *metric;
	void (*run)(struct ctx *c);
	const char *(*unrunnable)(struct ctx *c);
} parts[] = {
	{ "same", "verdict", run_same, storm_elsewhere },
	{ "different", "verdict", run_different, one_cpu_storm },
	{ "scaling", "verdict", run_scaling, NULL },
	{ "control", "control", run_control, one_cpu_hog },
};

static void plan(struct harness *h)
{
	struct options *o = &ctx.o;
	size_t i;

	if (o->phase_ms / o->window_ms < 2)
		harness_bad_input(
			h, "--phase-ms %lu must hold at least two windows",
			o->phase_ms);
	if (o->phase_ms * 1000 / o->period_us >= INJECT_ISOLATION_RING)
		harness_bad_input(
			h,
			"--phase-ms/--period-us: more ticks per phase than the guest log holds (%d)",
			INJECT_ISOLATION_RING);
	for (i = 0; i < ARRAY_SIZE(parts); i++)
		harness_add_case(h, &parts[i], "%s", parts[i].name);
}

static const char *unmet(struct harness *h)
{
	struct ctx *c = &ctx;

	if (h->unplaced[0])
		return NULL; /* every case SKIPs with the reason */
	if (!h->a.nr_cpus)
		return "no CPU to run on";
	c->idle_cpu = h->a.cpus[0];
	c->cross_node = strcmp(h->placement, "same-node");
	c->others = h->b;
	if (!c->cross_node && h->a.nr_cpus > 1) {
		c->others.cpus++;
		c->others.nr_cpus--;
	}
	c->has_other = c->cross_node || h->a.nr_cpus > 1;
	c->nr_cpus = h->a.nr_cpus + (c->cross_node ? h->b.nr_cpus : 0);
	return NULL;
}

static void describe(struct harness *h, char *buf, size_t size)
{
	const struct options *o = &ctx.o;

	(void)h;
	snprintf(
		buf, size,
		"%d CPUs; %lu storm vCPU(s), %lu injector(s); %lu us ticks; phases of %lu ms in %lu ms windows; steal time %s",
		ctx.nr_cpus, o->storm_vcpus, o->injectors, o->period_us,
		o->phase_ms, o->window_ms,
		kvm_cpu_has(X86_FEATURE_KVM_STEAL_TIME) ? "on" : "not offered");
}

/* One storm VM and the idle VMs serve every case. */
static void run(struct harness *h)
{
	struct ctx *c = &ctx;
	int i;

	c->h = h;
	c->res = &h->res;
	current_ctx = c;
	c->stage = "setup";
	storm_vm_create(c);
	for (i = 0; i < ISO_IDLE; i++)
		idle_vm_create(c, i);
	vm_start(&c->storm);
	for (i = 0; i < ISO_IDLE; i++)
		vm_start(&c->idle[i]);
	vm_wait_ready(&c->storm);
	for (i = 0; i < ISO_IDLE; i++)
		vm_wait_ready(&c->idle[i]);

	for (i = 0; i < h->nr_cases; i++) {
		const struct part *pt = h->cases[i].data;
		const char *why = pt->unrunnable ? pt->unrunnable(c) : NULL;

		if (why)
			report_skip(h, pt->name, pt->metric, "%s", why);
		else
			pt->run(c);
	}

	c->stage = "teardown";
	vm_stop(&c->storm);
	for (i = 0; i < ISO_IDLE; i++)
		vm_stop(&c->idle[i]);
}

static const struct harness_option options[] = {
	{ "rates", OPT_LIST, &ctx.o.rates, 1, 100000000, .word = "max",
	  .help = "MSIs per second in all, 'max' = flat out" },
	{ "injectors", OPT_UINT, &ctx.o.injectors, 1, ISO_MAX_INJECTORS,
	  .help = "injector threads of the rate phases" },
	{ "scaling", OPT_LIST, &ctx.o.scaling, 1, ISO_MAX_INJECTORS,
	  .help = "injector thread counts, flat out" },
	{ "storm-vcpus", OPT_UINT, &ctx.o.storm_vcpus, 1,
	  INJECT_ISOLATION_MAX_STORM_VCPUS,
	  .help = "vCPUs of the storm guest" },
	{ "phase-ms", OPT_UINT, &ctx.o.phase_ms, 100, 60000,
	  .help = "length of a phase" },
	{ "window-ms", OPT_UINT, &ctx.o.window_ms, 10, 10000,
	  .help = "sampling window" },
	{ "period-us", OPT_UINT, &ctx.o.period_us, 100, 100000,
	  .help = "idle guests' timer period" },
	{}
};

HARNESS_MAIN(.name = "inject_isolation", .options = options,
	     HARNESS_CAPS(KVM_CAP_IRQFD, KVM_CAP_IRQ_ROUTING,
			  KVM_CAP_SIGNAL_MSI),
	     .timeout = 600, .placement = true, .plan = plan, .unmet = unmet,
	     .describe = describe, .run = run, .dump = dump_ctx);

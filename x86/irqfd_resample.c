// SPDX-License-Identifier: GPL-2.0-only
/*
 * EOI notification through irqfd resample (seed 003).
 *
 * The KVM_EOIFD debate ended upstream as KVM_IRQFD with
 * KVM_IRQFD_FLAG_RESAMPLE: a level-triggered INTx line is asserted through
 * an irqfd, KVM de-asserts it when the guest EOIs, and the resample eventfd
 * tells the device (userspace) to assert again if it still needs service.
 *
 * The device here is a pending-event count in guest memory; the guest's ISR
 * serves one event per interrupt and EOIs; the host re-asserts on each
 * resample notification while events remain.  Checked exactly: events
 * delivered == produced (none lost: a stall with events pending is a lost
 * assert), and on one source one interrupt per event (none doubled: an
 * interrupt that finds nothing pending).  Two sources on one GSI (the
 * shared line of the thread) must also deliver everything; their spurious
 * resamples (notifications with nothing pending) are a metric.  Lifecycle:
 * the resample fd or the irqfd closed, or the irqfd deassigned, while
 * interrupts are in flight, then reassigned: no hang, no leaked fd, no lost
 * assert after the reassign.  Cost: EOI-to-notification latency (guest TSC
 * just before the EOI write to host TSC at the eventfd wakeup, the vCPU's
 * TSC offset removed) and level interrupts per second.
 *
 * Level semantics only mean something if the vector is in service inside
 * its ISR (kvm_pvm EOIs at delivery): every run checks that in the guest and
 * with KVM_GET_LAPIC and reports not-provoked otherwise.  A control withholds
 * one re-assert and injects one assert with nothing pending, and must see a
 * stall and one spurious interrupt, or the counters are blind.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "guest_code/irqfd_resample.h"
#include "lib/ioapic_model.h"
#include "lib/harness.h"
#include "lib/kvm_compat.h"
#include "lib/results.h"
#include "lib/tsc.h"
#include "lib/x86/lapic.h"
#include "lib/x86/vm.h"

/* An IOAPIC-only pin: GSIs >= 16 have no PIC route. */
#define RS_GSI 20
#define RS_VECTOR 0x63
#define RS_KICK_VECTOR 0x73
#define RS_CONTROL_EVENTS 20

enum rs_kind { RS_BURST, RS_ASYNC, RS_SHARED, RS_LIFECYCLE, RS_CONTROL };
static const char *const kind_names[] = { "burst", "async", "shared",
					  "lifecycle", "control" };
#define RS_KINDS 5

/* Lifecycle actions while interrupts are in flight. */
enum rs_action { CLOSE_RESAMPLEFD, CLOSE_IRQFD, DEASSIGN, RS_ACTIONS };
static const char *const action_names[] = { "close_resamplefd", "close_irqfd",
					    "deassign" };

struct variant {
	enum irqchip_kind irqchip;
	enum rs_kind kind;
	char name[64];
};

struct options {
	unsigned long events;
	unsigned long loops;
	unsigned long stall_ms;
	unsigned long seed;
};

/* The host half of one device. */
struct source {
	int irqfd, resamplefd; /* -1 when closed */
	bool assigned;
	uint64_t target; /* events this source produces in all */
	uint64_t asserts;
	uint64_t notifications; /* eventfd counts read */
	uint64_t wakeups; /* reads of the resample fd */
	uint64_t spurious_resamples; /* wakeups with nothing pending */
	uint64_t unnotified; /* completed EOIs never notified to this source */
};

struct run {
	const struct variant *v;
	const struct options *o;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct irqfd_resample_state *st; /* guest memory, live */
	int nr_sources;
	struct source src[IRQFD_RESAMPLE_MAX_SOURCES];
	pthread_t vcpu_thread, producer;
	bool producer_running;
	_Atomic bool ready, in_service_host;
	int64_t tsc_offset; /* guest TSC - host TSC */
	uint64_t tsc_offset_err; /* +- ticks */
	double *lat; /* EOI to notification, ns */
	size_t nr_lat, lat_cap;
	uint64_t unpaired; /* wakeups whose EOI could not be matched */
	uint64_t stalls; /* serve() gave up with events pending */
	unsigned int rand;
	/* lifecycle */
	uint64_t lost_after_reassign[RS_ACTIONS];
	uint64_t actions[RS_ACTIONS];
	uint64_t doubled_after[RS_ACTIONS]; /* interrupts with nothing pending */
	int assign_errors, fds_before, fds_after;
	/* control */
	bool stall_seen;
	uint64_t stall_pending, control_spurious;
	uint64_t control_unasserted, control_unnotified;
	uint64_t control_left; /* events pending when nothing should be */
	uint64_t wall_ns;
	unsigned long stall_ms; /* serve() gives up after this */
};

static struct run *current_run;

static void dump_run(void)
{
	struct run *r = current_run;
	int s;

	if (!r || !r->st)
		return;
	printf("# state of %s: interrupts %lu spurious %lu eois %lu stop %u\n",
	       r->v->name, r->st->interrupts, r->st->spurious, r->st->eois,
	       r->st->stop);
	for (s = 0; s < r->nr_sources; s++)
		printf("#   source %d: produced %lu consumed %lu target %lu asserts %lu "
		       "notifications %lu assigned %d\n",
		       s, r->st->src[s].produced, r->st->src[s].consumed,
		       r->src[s].target, r->src[s].asserts,
		       r->src[s].notifications, r->src[s].assigned);
}

/* ---- the device ------------------------------------------------------------ */

static uint64_t pending(struct run *r, int s)
{
	return r->st->src[s].produced - r->st->src[s].consumed;
}

static uint64_t consumed_all(struct run *r)
{
	uint64_t n = 0;
	int s;

	for (s = 0; s < r->nr_sources; s++)
		n += r->st->src[s].consumed;
	return n;
}

static void assert_line(struct run *r, int s)
{
	uint64_t one = 1;

	/* Before the write: the ISR it causes must see it. */
	__atomic_fetch_add(&r->st->host_asserts, 1, __ATOMIC_SEQ_CST);
	TEST_ASSERT(write(r->src[s].irqfd, &one, 8) == 8, "irqfd write: %s",
		    strerror(errno));
	r->src[s].asserts++;
}

static int irqfd_ioctl(struct run *r, int s, uint32_t flags)
{
	struct kvm_irqfd irqfd = {
		.fd = r->src[s].irqfd,
		.gsi = RS_GSI,
		.flags = flags,
		.resamplefd = r->src[s].resamplefd,
	};

	return __vm_ioctl(r->vm, KVM_IRQFD, &irqfd) ? -errno : 0;
}

/* Fresh eventfds as needed, then KVM_IRQFD in resample mode. */
static int source_assign(struct run *r, int s)
{
	struct source *src = &r->src[s];
	int ret;

	if (src->irqfd < 0)
		src->irqfd = eventfd(0, EFD_CLOEXEC);
	if (src->resamplefd < 0)
		src->resamplefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	TEST_ASSERT(src->irqfd >= 0 && src->resamplefd >= 0, "eventfd: %s",
		    strerror(errno));
	ret = irqfd_ioctl(r, s, KVM_IRQFD_FLAG_RESAMPLE);
	src->assigned = !ret;
	return ret;
}

static void source_close(struct run *r, int s)
{
	struct source *src = &r->src[s];

	if (src->assigned)
		TEST_ASSERT(!irqfd_ioctl(r, s, KVM_IRQFD_FLAG_DEASSIGN),
			    "KVM_IRQFD deassign: %s", strerror(errno));
	src->assigned = false;
	if (src->irqfd >= 0)
		close(src->irqfd);
	if (src->resamplefd >= 0)
		close(src->resamplefd);
	src->irqfd = src->resamplefd = -1;
}

static void produce(struct run *r, int s, uint64_t n)
{
	/* The ISR reads produced; the assert must follow the new count. */
	__atomic_store_n(&r->st->src[s].produced, r->st->src[s].produced + n,
			 __ATOMIC_RELEASE);
	assert_line(r, s);
}

/*
 * One resample notification of source @s, read at host TSC @now.  On one
 * source exactly one EOI is outstanding per notification (the device asserts
 * again only from here), so the newest EOI stamp is this notification's.
 */
static void on_resample(struct run *r, int s, uint64_t now, bool reassert)
{
	struct source *src = &r->src[s];
	uint64_t count, eois, guest_tsc;
	double ns;

	if (read(src->resamplefd, &count, 8) != 8)
		return; /* EAGAIN: the other source's wakeup consumed it */
	src->wakeups++;
	src->notifications += count;
	eois = r->st->eois;
	if (r->nr_sources == 1 && count == 1 && eois) {
		guest_tsc =
			r->st->eoi_tsc[(eois - 1) % IRQFD_RESAMPLE_EOI_RING];
		ns = tsc_to_ns(now) -
		     tsc_to_ns((uint64_t)((int64_t)guest_tsc - r->tsc_offset));
		if (r->nr_lat < r->lat_cap)
			r->lat[r->nr_lat++] = ns;
	} else if (r->nr_sources == 1) {
		r->unpaired++;
	}
	if (!pending(r, s)) {
		src->spurious_resamples++;
		return;
	}
	if (reassert)
		assert_line(r, s);
}

/*
 * Serves resample notifications until every source consumed @upto[s] (or all
 * of its target with @upto NULL).  Gives up after stall_ms without progress:
 * events pending and no interrupt is a lost assert.  @skip_at: the
 * notification count of source 0 at which the control withholds a re-assert.
 */
static bool serve(struct run *r, const uint64_t *upto, uint64_t skip_at)
{
	uint64_t progress = consumed_all(r), last = tsc_now();
	uint64_t stall = r->stall_ms * (tsc_hz() / 1000);
	struct pollfd pfd[IRQFD_RESAMPLE_MAX_SOURCES];
	int s, n, ret;

	for (;;) {
		bool done = true;

		for (s = 0; s < r->nr_sources; s++)
			if (r->st->src[s].consumed <
			    (upto ? upto[s] : r->src[s].target))
				done = false;
		if (done)
			return true;
		for (s = n = 0; s < r->nr_sources; s++) {
			if (!r->src[s].assigned)
				continue;
			pfd[n].fd = r->src[s].resamplefd;
			pfd[n].events = POLLIN;
			n++;
		}
		ret = poll(pfd, n, 20);
		if (ret > 0) {
			uint64_t now = tsc_now();

			for (s = n = 0; s < r->nr_sources; s++) {
				if (!r->src[s].assigned)
					continue;
				if (pfd[n++].revents & POLLIN)
					on_resample(r, s, now,
						    !(s == 0 && skip_at &&
						      r->src[0].wakeups + 1 ==
							      skip_at));
			}
		}
		if (consumed_all(r) != progress) {
			progress = consumed_all(r);
			last = tsc_now();
		} else if (tsc_now() - last > stall) {
			r->stalls++;
			return false;
		}
	}
}

/* EOI writes completed, with or without the vector in service. */
static uint64_t eois_completed(struct run *r)
{
	return r->st->eois_done + r->st->eois_nothing_in_service;
}

/*
 * After the traffic: waits (at most stall_ms) until the EOI write of the
 * last ISR completed, then reads what is left on every resample fd.  KVM
 * signals the resample fd inside the EOI write, before the guest counts it
 * in eois_done: so reading eois_done first, every EOI it counts has been
 * notified once the fd is read, and a completed EOI beyond the notifications
 * counted was never notified.  On a shared line every EOI notifies every
 * source.  An EOI with nothing in service (the guest saw the ISR bit clear:
 * a second delivery of one interrupt) reaches no IOAPIC and is not counted.
 */
static void count_unnotified(struct run *r)
{
	uint64_t deadline = tsc_now() + r->stall_ms * (tsc_hz() / 1000);
	uint64_t done;
	int s;

	usleep(1000);
	while (eois_completed(r) != r->st->eois && tsc_now() < deadline)
		usleep(100);
	done = r->st->eois_done;
	for (s = 0; s < r->nr_sources; s++) {
		on_resample(r, s, tsc_now(), false);
		r->src[s].unnotified = done > r->src[s].notifications ?
					       done - r->src[s].notifications :
					       0;
	}
}

/* Random bursts at random times, racing the ISR and the resamples. */
static void *producer_thread(void *arg)
{
	struct run *r = arg;
	unsigned int seed = r->rand ^ 0x9e3779b9;
	uint64_t left[IRQFD_RESAMPLE_MAX_SOURCES];
	int s;

	for (s = 0; s < r->nr_sources; s++)
		left[s] = r->src[s].target;
	for (;;) {
		uint64_t n;

		s = r->nr_sources > 1 && rand_r(&seed) % 4 == 0;
		if (!left[s]) {
			s = !s;
			if (r->nr_sources == 1 || !left[s])
				break;
		}
		n = 1 + rand_r(&seed) % 8;
		if (n > left[s])
			n = left[s];
		produce(r, s, n);
		left[s] -= n;
		/* Mostly back to back, sometimes a gap that lets the line drop. */
		if (rand_r(&seed) % 4 == 0) {
			struct timespec ts = { 0, 1000 * (rand_r(&seed) % 50) };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* ---- vCPU ------------------------------------------------------------------ */

static void *vcpu_thread(void *arg)
{
	struct run *r = arg;
	struct ucall uc;
	uint64_t cmd;

	while ((cmd = x86_vcpu_run(r->vcpu, &uc)) != UCALL_DONE) {
		TEST_ASSERT(cmd == UCALL_SYNC, "%s: unexpected exit %s",
			    r->v->name,
			    exit_reason_str(r->vcpu->run->exit_reason));
		if (uc.args[1] == IRQFD_RESAMPLE_READY)
			r->ready = true;
		else
			r->in_service_host =
				lapic_vector_in_service(r->vcpu, RS_VECTOR);
	}
	return NULL;
}

/* Guest TSC - host TSC, from the narrowest of a few bracketed reads. */
static void measure_tsc_offset(struct run *r)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 8; i++) {
		uint64_t t0 = tsc_now();
		uint64_t g = vcpu_get_msr(r->vcpu, MSR_IA32_TSC);
		uint64_t t1 = tsc_now();

		if (t1 - t0 < best) {
			best = t1 - t0;
			r->tsc_offset = (int64_t)(g - (t0 + (t1 - t0) / 2));
		}
	}
	r->tsc_offset_err = best / 2;
}

static void setup_vm(struct run *r)
{
	struct irqfd_resample_params *p = &irqfd_resample_params;
	int s;

	r->vm = x86_irqchip_vm_create(r->v->irqchip, &r->vcpu,
				      irqfd_resample_guest);
	vm_install_exception_handler(r->vm, RS_VECTOR, irqfd_resample_isr);
	vm_install_exception_handler(r->vm, RS_KICK_VECTOR,
				     irqfd_resample_kick_isr);
	*p = (struct irqfd_resample_params){
		.pin = RS_GSI,
		.vector = RS_VECTOR,
		.kick_vector = RS_KICK_VECTOR,
		.nr_sources = r->nr_sources,
	};
	sync_global_to_guest(r->vm, irqfd_resample_params);
	memset(&irqfd_resample_state, 0, sizeof(irqfd_resample_state));
	sync_global_to_guest(r->vm, irqfd_resample_state);
	r->st = addr_gva2hva(r->vm, (vm_vaddr_t)&irqfd_resample_state);
	for (s = 0; s < IRQFD_RESAMPLE_MAX_SOURCES; s++)
		r->src[s].irqfd = r->src[s].resamplefd = -1;
}

static void start_vcpu(struct run *r)
{
	measure_tsc_offset(r);
	TEST_ASSERT(!pthread_create(&r->vcpu_thread, NULL, vcpu_thread, r),
		    "pthread_create");
	while (!r->ready)
		usleep(100);
}

static void stop_vcpu(struct run *r)
{
	struct kvm_msi kick = {
		.address_lo = 0xfee00000, /* physical APIC ID 0 */
		.data = RS_KICK_VECTOR, /* fixed, edge */
	};

	r->st->stop = 1;
	TEST_ASSERT(__vm_ioctl(r->vm, KVM_SIGNAL_MSI, &kick) >= 0,
		    "KVM_SIGNAL_MSI: %s", strerror(errno));
	pthread_join(r->vcpu_thread, NULL);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	TEST_ASSERT(d, "opendir /proc/self/fd");
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* ---- the scenarios ------------------------------------------------------------- */

static void run_traffic(struct run *r)
{
	uint64_t t0;
	int s;

	/*
	 * Shared line: source 1 is the quieter device, so that most EOIs are
	 * source 0's and notify source 1 with nothing pending.
	 */
	r->src[0].target = r->nr_sources == 1 ? r->o->events :
						r->o->events * 3 / 4;
	r->src[1].target = r->o->events - r->src[0].target;
	for (s = 0; s < r->nr_sources; s++) {
		TEST_ASSERT(!source_assign(r, s), "KVM_IRQFD resample: %s",
			    strerror(errno));
	}
	watchdog_stage(r->v->name);
	t0 = tsc_now();
	if (r->v->kind == RS_BURST) {
		produce(r, 0, r->src[0].target);
	} else {
		TEST_ASSERT(!pthread_create(&r->producer, NULL, producer_thread,
					    r),
			    "pthread_create");
		r->producer_running = true;
	}
	serve(r, NULL, 0);
	r->wall_ns = tsc_to_ns(tsc_now() - t0);
	if (r->producer_running)
		pthread_join(r->producer, NULL);
	/* The last EOI's notification, so that the counts are final. */
	count_unnotified(r);
	for (s = 0; s < r->nr_sources; s++)
		source_close(r, s);
}

/*
 * Interrupts in flight (an assert delivered, events pending) when the
 * resample fd is closed, the irqfd closed (KVM releases it on POLLHUP) or
 * deassigned; then assigned again.  The device asserts on (re)assign while
 * it has events, as a device whose interrupt was released must: after that
 * every event must still arrive.
 */
static void run_lifecycle(struct run *r)
{
	uint64_t upto[1];
	unsigned long i;

	r->src[0].target = UINT64_MAX;
	r->fds_before = count_fds();
	for (i = 0; i < r->o->loops; i++) {
		enum rs_action a = i % RS_ACTIONS;
		uint64_t n = 2 + rand_r(&r->rand) % 7;
		uint64_t spurious0 = r->st->spurious;

		watchdog_stage(action_names[a]);
		if (!r->src[0].assigned && source_assign(r, 0)) {
			r->assign_errors++;
			break;
		}
		produce(r, 0, n);
		/* In flight: the first event served, the rest pending. */
		upto[0] = r->st->src[0].consumed + 1;
		serve(r, upto, 0);
		r->actions[a]++;
		switch (a) {
		case CLOSE_RESAMPLEFD:
			close(r->src[0].resamplefd);
			r->src[0].resamplefd = -1;
			source_close(r, 0);
			break;
		case CLOSE_IRQFD:
			close(r->src[0].irqfd);
			r->src[0].irqfd = -1;
			r->src[0].assigned = false;
			source_close(r, 0);
			break;
		case DEASSIGN:
			TEST_ASSERT(!irqfd_ioctl(r, 0, KVM_IRQFD_FLAG_DEASSIGN),
				    "KVM_IRQFD deassign: %s", strerror(errno));
			r->src[0].assigned = false;
			break;
		default:
			break;
		}
		if (source_assign(r, 0)) {
			r->assign_errors++;
			break;
		}
		if (pending(r, 0))
			assert_line(r, 0);
		upto[0] = r->st->src[0].produced;
		if (!serve(r, upto, 0))
			r->lost_after_reassign[a] += pending(r, 0);
		r->doubled_after[a] += r->st->spurious - spurious0;
		if (pending(r, 0))
			break; /* lost: stop here, it is reported */
	}
	usleep(1000);
	on_resample(r, 0, tsc_now(), false);
	source_close(r, 0);
	r->fds_after = count_fds();
	r->src[0].target = r->st->src[0].produced;
}

/* Until no interrupt arrived for 50 ms: what is in flight has landed. */
static void quiesce(struct run *r)
{
	uint64_t seen;

	do {
		seen = r->st->interrupts;
		usleep(50000);
		on_resample(r, 0, tsc_now(), false);
	} while (r->st->interrupts != seen);
}

/*
 * One level interrupt on the pin raised by userspace (KVM_IRQ_LINE, its own
 * IRQ source), not through the irqfd: high then low, so that it is
 * delivered once and its EOI leaves the line low (once more per EOI the
 * guest makes before the line is low again, if this thread is preempted
 * between the two ioctls).  Waits (at most
 * stall_ms) for that EOI to complete; returns the EOIs completed.
 */
static uint64_t pulse_line(struct run *r)
{
	uint64_t deadline = tsc_now() + r->o->stall_ms * (tsc_hz() / 1000);
	uint64_t done0 = r->st->eois_done, all0 = eois_completed(r);

	kvm_irq_line(r->vm, RS_GSI, 1);
	kvm_irq_line(r->vm, RS_GSI, 0);
	while (eois_completed(r) == all0 && tsc_now() < deadline)
		usleep(100);
	usleep(1000);
	return r->st->eois_done - done0;
}

/*
 * Proves the counters see every failure kind: one withheld re-assert must
 * leave events pending with no interrupt (what a lost assert looks like),
 * one assert with nothing pending must be counted as one spurious
 * interrupt (what a doubled interrupt looks like), one interrupt raised
 * with no irqfd assert must be counted as unasserted (what a line left
 * asserted looks like), and one EOI with the irqfd deassigned (no
 * resampler left to notify) must be counted as not notified (what a lost
 * notification looks like).
 */
static void run_control(struct run *r)
{
	uint64_t spurious0, deadline, stall_window, consumed;
	uint64_t unasserted0, notified0, notified, eois;
	int i;
	bool ok;

	/* An interrupt takes well under a ms even nested: a short window. */
	r->stall_ms = r->o->stall_ms / 4;
	r->src[0].target = RS_CONTROL_EVENTS;
	TEST_ASSERT(!source_assign(r, 0), "KVM_IRQFD resample: %s",
		    strerror(errno));
	watchdog_stage("control: withheld re-assert");
	produce(r, 0, RS_CONTROL_EVENTS);
	ok = serve(r, NULL, RS_CONTROL_EVENTS / 2);
	/* serve() stalled at the withheld re-assert: look at the line. */
	r->stall_pending = pending(r, 0);
	r->stall_seen = !ok && r->stall_pending;
	r->stalls = 0;
	/*
	 * Drain what is left, asserting again (as a device's timeout would)
	 * if a notification goes missing: the next steps need a quiet line
	 * with nothing pending.
	 */
	for (i = 0; i < 3 && pending(r, 0); i++) {
		assert_line(r, 0);
		serve(r, NULL, 0);
	}
	r->control_left = pending(r, 0);

	watchdog_stage("control: assert with nothing pending");
	quiesce(r);
	spurious0 = r->st->spurious;
	consumed = r->st->src[0].consumed;
	assert_line(r, 0);
	stall_window = r->o->stall_ms * (tsc_hz() / 1000);
	r->stall_ms = r->o->stall_ms;
	deadline = tsc_now() + stall_window;
	while (r->st->spurious == spurious0 && tsc_now() < deadline)
		usleep(100);
	usleep(1000);
	on_resample(r, 0, tsc_now(), false);
	r->control_spurious = r->st->spurious - spurious0;

	watchdog_stage("control: interrupt with no irqfd assert");
	quiesce(r);
	unasserted0 = r->st->unasserted;
	pulse_line(r);
	on_resample(r, 0, tsc_now(), false);
	r->control_unasserted = r->st->unasserted - unasserted0;

	watchdog_stage("control: EOI with no resampler");
	quiesce(r);
	TEST_ASSERT(!irqfd_ioctl(r, 0, KVM_IRQFD_FLAG_DEASSIGN),
		    "KVM_IRQFD deassign: %s", strerror(errno));
	r->src[0].assigned = false;
	notified0 = r->src[0].notifications;
	eois = pulse_line(r);
	on_resample(r, 0, tsc_now(), false);
	notified = r->src[0].notifications - notified0;
	r->control_unnotified = eois > notified ? eois - notified : 0;
	/* An interrupt that consumed an event was not one with nothing pending. */
	r->control_left += r->st->src[0].consumed - consumed;
	source_close(r, 0);
}

/* ---- reporting -------------------------------------------------------------------- */

static void record_counts(struct results *res, struct run *r)
{
	const char *v = r->v->name;
	char m[64];
	int s;

	results_count(res, v, "in_service_in_isr_guest", "bool",
		      r->st->in_service_in_isr);
	results_count(res, v, "in_service_in_isr_host", "bool",
		      r->in_service_host);
	results_count(res, v, "interrupts", "count", r->st->interrupts);
	results_count(res, v, "spurious_interrupts", "count", r->st->spurious);
	results_count(res, v, "eois", "count", r->st->eois);
	results_count(res, v, "stray_in_service", "count",
		      r->st->stray_in_service);
	results_count(res, v, "unasserted_interrupts", "count",
		      r->st->unasserted);
	results_count(res, v, "isr_clear_interrupts", "count",
		      r->st->isr_clear);
	for (s = 0; s < r->nr_sources; s++) {
		snprintf(m, sizeof(m), "src%d_produced", s);
		results_count(res, v, m, "count", r->st->src[s].produced);
		snprintf(m, sizeof(m), "src%d_delivered", s);
		results_count(res, v, m, "count", r->st->src[s].consumed);
		snprintf(m, sizeof(m), "src%d_asserts", s);
		results_count(res, v, m, "count", r->src[s].asserts);
		snprintf(m, sizeof(m), "src%d_resample_notifications", s);
		results_count(res, v, m, "count", r->src[s].notifications);
		snprintf(m, sizeof(m), "src%d_spurious_resamples", s);
		results_count(res, v, m, "count", r->src[s].spurious_resamples);
		/* Lifecycle closes fds on purpose, the control deassigns. */
		if (r->v->kind == RS_LIFECYCLE || r->v->kind == RS_CONTROL)
			continue;
		snprintf(m, sizeof(m), "src%d_unnotified_eois", s);
		results_count(res, v, m, "count", r->src[s].unnotified);
	}
	results_count(res, v, "stalls", "count", r->stalls);
	results_count(res, v, "wall_time", "ns", r->wall_ns);
}

/* What the run got wrong, as one line; empty when nothing. */
static void correctness(struct run *r, char *why, size_t len)
{
	size_t n = 0;
	int s;

	why[0] = '\0';
#define WHY(...) n += snprintf(why + n, n < len ? len - n : 0, __VA_ARGS__)
	for (s = 0; s < r->nr_sources; s++)
		if (r->st->src[s].consumed != r->st->src[s].produced ||
		    r->st->src[s].produced != r->src[s].target)
			WHY("source %d: %lu of %lu events lost (%lu delivered, target %lu); ",
			    s, r->st->src[s].produced - r->st->src[s].consumed,
			    r->st->src[s].produced, r->st->src[s].consumed,
			    r->src[s].target);
	/* Every completed EOI of the pin notifies every source on it. */
	for (s = 0; s < r->nr_sources && r->v->kind != RS_LIFECYCLE; s++)
		if (r->src[s].unnotified)
			WHY("source %d: notified of %lu of %lu EOIs (%lu resample notifications lost); ",
			    s, r->src[s].notifications,
			    r->src[s].notifications + r->src[s].unnotified,
			    r->src[s].unnotified);
	if (r->stalls)
		WHY("%lu stalls with events pending (lost assert); ",
		    r->stalls);
	if (r->nr_sources == 1 && r->v->kind != RS_LIFECYCLE &&
	    r->st->interrupts != r->st->src[0].consumed)
		WHY("%lu interrupts for %lu events; ", r->st->interrupts,
		    r->st->src[0].consumed);
	/*
	 * Lifecycle judges lost asserts, hangs and leaks; an interrupt with
	 * nothing pending after a release is counted per action, not judged:
	 * asserts of a resample irqfd are injected from a work item, so one
	 * queued before the release may land after the reassign.
	 */
	if (r->nr_sources == 1 && r->v->kind != RS_LIFECYCLE && r->st->spurious)
		WHY("%lu interrupts found nothing pending (doubled); ",
		    r->st->spurious);
	/*
	 * In burst the device asserts only after a notification, i.e. after
	 * the EOI whose assert count the ISR saw: an interrupt with no assert
	 * since then was redelivered by a line left asserted.  Elsewhere a
	 * producer's assert queued before an EOI may be injected after it, so
	 * the count is recorded, not judged.
	 */
	if (r->v->kind == RS_BURST && r->st->unasserted)
		WHY("%lu interrupts redelivered with no assert since the previous EOI (line not de-asserted); ",
		    r->st->unasserted);
	if (r->v->kind == RS_LIFECYCLE) {
		for (s = 0; s < RS_ACTIONS; s++)
			if (r->lost_after_reassign[s])
				WHY("%lu events lost after %s + reassign; ",
				    r->lost_after_reassign[s], action_names[s]);
		if (r->assign_errors)
			WHY("KVM_IRQFD reassign failed; ");
		if (r->fds_after != r->fds_before)
			WHY("%d fds before, %d after (leak); ", r->fds_before,
			    r->fds_after);
	}
#undef WHY
	if (n >= 2 && n < len)
		why[n - 2] = '\0';
}

static void judge(struct harness *h, struct run *r)
{
	struct results *res = &h->res;
	const struct variant *v = r->v;
	bool provoked = r->st->in_service_in_isr && r->in_service_host;
	char why[512];
	int a;

	results_params(res,
		       "irqchip=%s kind=%s sources=%d events=%lu loops=%lu",
		       irqchip_name(v->irqchip), kind_names[v->kind],
		       r->nr_sources,
		       v->kind == RS_CONTROL ? RS_CONTROL_EVENTS : r->o->events,
		       v->kind == RS_LIFECYCLE ? r->o->loops : 0);
	record_counts(res, r);
	if (v->kind == RS_BURST || v->kind == RS_ASYNC) {
		/* Without an EOI that ends the ISR there is no EOI to time. */
		if (provoked)
			results_samples(res, v->name, "eoi_to_resample_latency",
					"ns", r->lat, r->nr_lat);
		else
			results_skip(
				res, v->name, "eoi_to_resample_latency",
				"not-provoked: the vector is not in service inside its ISR");
		results_count(res, v->name, "latency_unpaired", "count",
			      r->unpaired);
		results_count(res, v->name, "tsc_offset_error", "ns",
			      (long long)tsc_to_ns(r->tsc_offset_err));
		results_count(res, v->name, "level_irqs_per_s", "1/s",
			      r->wall_ns ? (long long)(r->st->interrupts * 1e9 /
						       r->wall_ns) :
					   0);
	}
	if (v->kind == RS_LIFECYCLE) {
		for (a = 0; a < RS_ACTIONS; a++) {
			char m[64];

			snprintf(m, sizeof(m), "%s_loops", action_names[a]);
			results_count(res, v->name, m, "count", r->actions[a]);
			snprintf(m, sizeof(m), "%s_lost_after_reassign",
				 action_names[a]);
			results_count(res, v->name, m, "count",
				      r->lost_after_reassign[a]);
			snprintf(m, sizeof(m), "%s_doubled_after_reassign",
				 action_names[a]);
			results_count(res, v->name, m, "count",
				      r->doubled_after[a]);
		}
		results_count(res, v->name, "fd_leak", "count",
			      r->fds_after - r->fds_before);
		ktap_comment(
			&h->k,
			"%s: interrupts with nothing pending after close_resamplefd %lu, close_irqfd %lu, deassign %lu",
			v->name, r->doubled_after[CLOSE_RESAMPLEFD],
			r->doubled_after[CLOSE_IRQFD],
			r->doubled_after[DEASSIGN]);
	}
	ktap_comment(
		&h->k,
		"%s: V=0x%x in service in ISR: guest %u host %d; interrupts %lu spurious %lu "
		"unasserted %lu with ISR bit clear %lu eois %lu; delivered %lu/%lu%s; notifications %lu spurious resamples %lu; "
		"%lu latency samples; %lu ms",
		v->name, RS_VECTOR, r->st->in_service_in_isr,
		(int)r->in_service_host, r->st->interrupts, r->st->spurious,
		r->st->unasserted, r->st->isr_clear, r->st->eois,
		r->st->src[0].consumed, r->st->src[0].produced,
		r->nr_sources > 1 ? " (source 0)" : "",
		r->src[0].notifications + r->src[1].notifications,
		r->src[0].spurious_resamples + r->src[1].spurious_resamples,
		r->nr_lat, r->wall_ns / 1000000);

	if (v->kind == RS_CONTROL) {
		/* Seeing the effect is the point: 1 expected, more is reported. */
		bool blind = !r->stall_seen || !r->control_spurious ||
			     !r->control_unasserted || !r->control_unnotified ||
			     r->control_left;

		results_count(res, v->name, "control_stall_pending", "count",
			      r->stall_pending);
		results_count(res, v->name, "control_spurious", "count",
			      r->control_spurious);
		results_count(res, v->name, "control_unasserted", "count",
			      r->control_unasserted);
		results_count(res, v->name, "control_unnotified", "count",
			      r->control_unnotified);
		report_control(
			h, v->name, !blind,
			"%swithheld re-assert: %s (%lu events pending); assert with nothing pending: %lu spurious interrupts; "
			"KVM_IRQ_LINE pulse: %lu unasserted interrupts; EOI with the irqfd deassigned: %lu unnotified%s",
			blind ? "counters blind: " : "",
			r->stall_seen ? "stall seen" : "NO stall seen",
			r->stall_pending, r->control_spurious,
			r->control_unasserted, r->control_unnotified,
			r->control_left ?
				"; events still pending after 3 re-asserts, so the later steps saw no quiet line" :
				"");
		return;
	}

	correctness(r, why, sizeof(why));
	if (!provoked) {
		report_verdict(
			h, v->name, &verdict_not_provoked,
			"V=0x%x not in service inside its ISR (guest ISR bit %u, host KVM_GET_LAPIC %d)%s; "
			"unjudged: %s",
			RS_VECTOR, r->st->in_service_in_isr,
			(int)r->in_service_host,
			!strcmp(res->host.kvm_module, "kvm_pvm") ?
				": kvm_pvm EOIs at delivery, so level-triggered resample semantics cannot be trusted" :
				"",
			why[0] ? why : "counts consistent");
	} else if (why[0]) {
		report_verdict(h, v->name, &verdict_fail, "%s", why);
	} else {
		report_verdict(
			h, v->name, &verdict_pass,
			"%lu events delivered exactly once%s",
			r->st->src[0].consumed + r->st->src[1].consumed,
			v->kind == RS_LIFECYCLE ?
				", nothing lost after any reassign, no fd leaked" :
				"");
	}
}

/*
 * Resample needs KVM_CAP_IRQFD_RESAMPLE, and x86 KVM has only accepted it
 * with the in-kernel IOAPIC (split: EINVAL).  Probed on a throwaway VM.
 */
static bool resample_supported(enum irqchip_kind chip, char *why, size_t len)
{
	struct run probe = {};
	struct variant v = { .irqchip = chip };
	int ret;

	if (!kvm_has_cap(KVM_CAP_IRQFD_RESAMPLE)) {
		snprintf(why, len, "kernel lacks KVM_CAP_IRQFD_RESAMPLE");
		return false;
	}
	probe.v = &v;
	probe.nr_sources = 1;
	setup_vm(&probe);
	ret = source_assign(&probe, 0);
	source_close(&probe, 0);
	kvm_vm_free(probe.vm);
	if (!ret && chip == IRQCHIP_SPLIT) {
		snprintf(
			why, len,
			"kernel accepts resample with split irqchip; this test's userspace-IOAPIC resample path is not written yet");
		return false;
	}
	if (ret)
		snprintf(
			why, len,
			"KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE refused with %s irqchip (%s)%s",
			irqchip_name(chip), strerror(-ret),
			chip == IRQCHIP_SPLIT ?
				": this kernel resamples only through the in-kernel IOAPIC" :
				"");
	return !ret;
}

static struct options opt = { .events = 100000,
			      .loops = 300,
			      .stall_ms = 2000,
			      .seed = 1 };
static const char *opt_irqchip = "all";

static void run_case(struct harness *h, const struct harness_case *c)
{
	const struct variant *v = c->data;
	const struct options *o = &opt;
	struct results *res = &h->res;
	struct run *r = calloc(1, sizeof(*r));
	char why[256];
	uint64_t t0;

	TEST_ASSERT(r, "out of memory");
	watchdog_stage(v->name);
	if (!resample_supported(v->irqchip, why, sizeof(why))) {
		results_params(res, "irqchip=%s kind=%s",
			       irqchip_name(v->irqchip), kind_names[v->kind]);
		report_skip(h, v->name, "verdict", "%s", why);
		results_params(res, NULL);
		free(r);
		return;
	}
	r->v = v;
	r->o = o;
	r->stall_ms = o->stall_ms;
	r->rand = o->seed + v->kind;
	r->nr_sources = v->kind == RS_SHARED ? 2 : 1;
	if (v->kind == RS_BURST || v->kind == RS_ASYNC) {
		r->lat_cap = o->events + 16;
		r->lat = calloc(r->lat_cap, sizeof(*r->lat));
		TEST_ASSERT(r->lat, "out of memory");
	}
	current_run = r;
	setup_vm(r);
	start_vcpu(r);
	t0 = tsc_now();
	switch (v->kind) {
	case RS_LIFECYCLE:
		run_lifecycle(r);
		break;
	case RS_CONTROL:
		run_control(r);
		break;
	default:
		run_traffic(r);
		break;
	}
	if (v->kind == RS_LIFECYCLE || v->kind == RS_CONTROL)
		r->wall_ns = tsc_to_ns(tsc_now() - t0);
	stop_vcpu(r);
	judge(h, r);
	results_params(res, NULL);
	kvm_vm_free(r->vm);
	current_run = NULL;
	free(r->lat);
	free(r);
}

/* ---- the descriptor ------------------------------------------------------------ */

/* irqchip x kind, in this order. */
static void plan(struct harness *h)
{
	static const enum irqchip_kind chips[] = { IRQCHIP_KERNEL,
						   IRQCHIP_SPLIT };
	static struct variant variants[2 * RS_KINDS];
	int c, kind, n = 0;

	for (c = 0; c < 2; c++)
		for (kind = 0; kind < RS_KINDS; kind++) {
			struct variant *v = &variants[n++];

			*v = (struct variant){ chips[c], kind };
			snprintf(v->name, sizeof(v->name), "%s.%s",
				 irqchip_name(chips[c]), kind_names[kind]);
			if (irqchip_wanted(opt_irqchip, chips[c]))
				harness_add_case(h, v, "%s", v->name);
		}
}

static void describe(struct harness *h, char *buf, size_t size)
{
	(void)h;
	snprintf(buf, size,
		 "%lu events per variant, %lu lifecycle loops, stall %lu ms",
		 opt.events, opt.loops, opt.stall_ms);
}

static const struct harness_option options[] = {
	{ "events", OPT_UINT, &opt.events, 2, 10000000,
	  .help = "level events per variant" },
	{ "loops", OPT_UINT, &opt.loops, 1, 1000000,
	  .help = "lifecycle loops" },
	{ "stall-ms", OPT_UINT, &opt.stall_ms, 10, 600000,
	  .help = "how long a withheld re-assert may stall" },
	{ "seed", OPT_UINT, &opt.seed, 0, ~0ul,
	  .help = "seed of the random event pattern" },
	OPT_IRQCHIP(opt_irqchip),
	{}
};

HARNESS_MAIN(.name = "irqfd_resample", .options = options,
	     HARNESS_CAPS(KVM_CAP_IRQFD, KVM_CAP_SIGNAL_MSI), .timeout = 300,
	     .plan = plan, .describe = describe, .run_case = run_case,
	     .dump = dump_run);

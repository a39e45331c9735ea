// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stale IOAPIC EOI exits (seed 004).
 *
 * A level-triggered IOAPIC interrupt on vector V is in service on vCPU 0
 * when the guest changes the pin's route, mid-ISR.  KVM's route scan keeps
 * V in vCPU 0's ioapic_handled_vectors because its EOI is still pending, so
 * that the EOI reaches the IOAPIC.  Without the highest_stale_pending_ioapic_eoi
 * fix nothing ever rescans, and when V is then reused for interrupts that do
 * not come from the IOAPIC, every EOI of V exits; with it, at most one does.
 *
 * Counted exactly for the split irqchip (each such EOI is a
 * KVM_EXIT_IOAPIC_EOI to userspace, which also plays the IOAPIC).  For the
 * in-kernel IOAPIC the same EOI is a trip into kvm_ioapic_update_eoi(),
 * which acks each pin with vector V (kvm:kvm_ack_irq, irqchip 2): those
 * acks on vCPU 0's thread are the in-kernel count, with or without APICv;
 * with APICv (VMX) the EOI-induced exits (kvm:kvm_exit) are recorded too.
 * A control keeps the route on vCPU 0 and must count one per reuse, or the
 * counter is blind.  Every run checks the precondition (V in service inside
 * its ISR, seen by guest and host) and reports not-provoked when it fails.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apic.h"
#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "guest_code/ioapic_eoi_reuse.h"
#include "lib/eoi_verdict.h"
#include "lib/ioapic_model.h"
#include "lib/harness.h"
#include "lib/kvm_compat.h"
#include "lib/kvm_stats.h"
#include "lib/results.h"
#include "lib/trace_counter.h"
#include "lib/tsc.h"
#include "lib/x86/lapic.h"
#include "lib/x86/vm.h"

#define EOI_PIN 10
#define EOI_VECTOR 0x62
#define EOI_NEW_VECTOR 0x72
#define PEER_APIC_ID 1
/* VMX exit reason EXIT_REASON_EOI_INDUCED (APICv). */
#define VMX_EXIT_REASON_EOI_INDUCED 45

static const char *const reprogram_names[] = { "control", "dest", "vector" };
static const char *const source_names[] = { "self_ipi", "peer_ipi", "msi" };

struct variant {
	enum irqchip_kind irqchip;
	enum eoi_reuse_reprogram reprogram;
	enum eoi_reuse_source source;
	char name[64];
};

struct run {
	const struct variant *v;
	uint32_t reuses;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu[2];
	struct eoi_reuse_state *state; /* guest memory, live */

	pthread_mutex_t lock; /* the IOAPIC model, the line */
	struct ioapic_model ioapic;

	/* KVM_EXIT_IOAPIC_EOI per vCPU and vector. */
	_Atomic uint64_t eoi_exits[2][256];
	uint64_t exits_at_reuse_start, exits_at_reuse_done;
	uint64_t first_eoi_exits;
	bool in_service_host;
	bool remote_irr_after_eoi;
	uint64_t vcpu0_exits_reuse;

	struct trace_counter kvm_eoi;
	bool kvm_eoi_ok;
	uint64_t kvm_eoi_events;

	/* In-kernel IOAPIC: vCPU 0's own events, opened on its thread. */
	struct trace_counter ioapic_ack, kvm_exit;
	bool ioapic_ack_ok, kvm_exit_ok;
	uint64_t ioapic_ack_events, kvm_exit_events;
	bool exits_countable; /* EOI-induced exits exist here (APICv, VMX) */
	char exit_why[192]; /* why not, or why kvm:kvm_exit did not open */

	struct kvm_stats vcpu0_stats;
	bool vcpu0_stats_ok;
	uint64_t vcpu0_exits_before;

	pthread_t injector;
	bool injector_running;
	_Atomic uint32_t msis_sent, msis_coalesced;
};

static struct run *current_run;

/* What a hang looks like, printed by the watchdog. */
static void dump_run(void)
{
	struct run *r = current_run;
	struct eoi_reuse_state *st;

	if (!r || !r->state)
		return;
	st = r->state;
	printf("# state of %s: peer_ready %u first_isr_done %u in_service %u "
	       "redelivered vcpu0 %u peer %u reuse_phase %u reused %u of %u; "
	       "MSIs sent %u coalesced %u; EOI exits of V on vCPU0 %lu\n",
	       r->v->name, st->peer_ready, st->first_isr_done,
	       st->in_service_in_isr, st->redelivered_vcpu0,
	       st->redelivered_peer, st->reuse_phase, st->reused, r->reuses,
	       r->msis_sent, r->msis_coalesced,
	       (uint64_t)r->eoi_exits[0][EOI_VECTOR]);
}

/* ---- the line and the IOAPIC ---------------------------------------------- */

/* KVM_SIGNAL_MSI returns how many vCPUs took it: <0 only on error. */
static int signal_msi(struct kvm_vm *vm, struct kvm_msi *msi)
{
	int ret = __vm_ioctl(vm, KVM_SIGNAL_MSI, msi);

	TEST_ASSERT(ret >= 0, "KVM_SIGNAL_MSI failed: %s", strerror(errno));
	return ret;
}

static void split_send_msi(struct ioapic_model *m, int pin,
			   const struct ioapic_msi *msi)
{
	struct run *r = m->owner;
	struct kvm_msi kmsi = {
		.address_lo = (uint32_t)msi->address,
		.address_hi = msi->address >> 32,
		.data = msi->data,
	};

	signal_msi(r->vm, &kmsi);
}

/* The pins' MSI routes, which KVM scans to decide which EOIs exit. */
static void split_routes_changed(struct ioapic_model *m)
{
	struct run *r = m->owner;
	struct kvm_irq_routing *routing;
	struct ioapic_msi msi;
	int pin, n = 0;

	routing = calloc(1, sizeof(*routing) +
				    IOAPIC_PINS * sizeof(routing->entries[0]));
	TEST_ASSERT(routing, "out of memory");
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		if (m->rte[pin] & RTE_MASKED)
			continue;
		ioapic_model_msi(m, pin, &msi);
		routing->entries[n].gsi = pin;
		routing->entries[n].type = KVM_IRQ_ROUTING_MSI;
		routing->entries[n].u.msi.address_lo = (uint32_t)msi.address;
		routing->entries[n].u.msi.address_hi = msi.address >> 32;
		routing->entries[n].u.msi.data = msi.data;
		n++;
	}
	routing->nr = n;
	vm_ioctl(r->vm, KVM_SET_GSI_ROUTING, routing);
	free(routing);
}

static const struct ioapic_model_ops split_ops = {
	.send_msi = split_send_msi,
	.routes_changed = split_routes_changed,
};

static void set_line(struct run *r, bool asserted)
{
	if (r->v->irqchip == IRQCHIP_KERNEL) {
		kvm_irq_line(r->vm, EOI_PIN, asserted);
		return;
	}
	pthread_mutex_lock(&r->lock);
	ioapic_model_set_line(&r->ioapic, EOI_PIN, asserted);
	pthread_mutex_unlock(&r->lock);
}

static bool remote_irr(struct run *r)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	bool irr;

	if (r->v->irqchip == IRQCHIP_KERNEL) {
		vm_ioctl(r->vm, KVM_GET_IRQCHIP, &chip);
		return chip.chip.ioapic.redirtbl[EOI_PIN].fields.remote_irr;
	}
	pthread_mutex_lock(&r->lock);
	irr = ioapic_model_remote_irr(&r->ioapic, EOI_PIN);
	pthread_mutex_unlock(&r->lock);
	return irr;
}

/* ---- MSI source of the reuse phase ---------------------------------------- */

static void *msi_injector(void *arg)
{
	struct run *r = arg;
	struct kvm_msi msi = {
		.address_lo = 0xfee00000, /* physical APIC ID 0 */
		.data = EOI_VECTOR, /* fixed, edge */
	};
	uint32_t i;

	for (i = 0; i < r->reuses; i++) {
		/* 0: coalesced, V was still pending in IRR (never expected). */
		if (!signal_msi(r->vm, &msi))
			r->msis_coalesced++;
		r->msis_sent++;
		/* One at a time: each must be EOI'd before the next. */
		while (r->state->reused < i + 1)
			sched_yield();
	}
	return NULL;
}

/* ---- vCPU threads --------------------------------------------------------- */

static void handle_stage(struct run *r, uint64_t stage)
{
	uint8_t v = EOI_VECTOR;

	switch (stage) {
	case STAGE_ROUTED:
		watchdog_stage("assert line");
		set_line(r, true);
		break;
	case STAGE_IN_ISR:
		r->in_service_host = lapic_vector_in_service(r->vcpu[0], v);
		r->first_eoi_exits = r->eoi_exits[0][v];
		watchdog_stage("first ISR: reprogram and EOI");
		break;
	case STAGE_AFTER_EOI:
		r->first_eoi_exits = r->eoi_exits[0][v] - r->first_eoi_exits;
		r->remote_irr_after_eoi = remote_irr(r);
		/* Quiesce the device: the reuse phase must see V alone. */
		set_line(r, false);
		break;
	case STAGE_REUSE_START:
		watchdog_stage("reuse");
		r->exits_at_reuse_start = r->eoi_exits[0][v];
		if (r->kvm_eoi_ok)
			trace_counter_reset(&r->kvm_eoi);
		if (r->ioapic_ack_ok)
			trace_counter_reset(&r->ioapic_ack);
		if (r->kvm_exit_ok)
			trace_counter_reset(&r->kvm_exit);
		if (r->vcpu0_stats_ok)
			kvm_stats_read(&r->vcpu0_stats, "exits",
				       &r->vcpu0_exits_before);
		if (r->v->source == REUSE_MSI) {
			TEST_ASSERT(!pthread_create(&r->injector, NULL,
						    msi_injector, r),
				    "pthread_create");
			r->injector_running = true;
		}
		break;
	case STAGE_REUSE_DONE:
		r->exits_at_reuse_done = r->eoi_exits[0][v];
		if (r->kvm_eoi_ok)
			r->kvm_eoi_events = trace_counter_read(&r->kvm_eoi);
		if (r->ioapic_ack_ok)
			r->ioapic_ack_events =
				trace_counter_read(&r->ioapic_ack);
		if (r->kvm_exit_ok)
			r->kvm_exit_events = trace_counter_read(&r->kvm_exit);
		if (r->vcpu0_stats_ok &&
		    kvm_stats_read(&r->vcpu0_stats, "exits",
				   &r->vcpu0_exits_reuse))
			r->vcpu0_exits_reuse -= r->vcpu0_exits_before;
		watchdog_stage("finish");
		break;
	default:
		TEST_FAIL("unknown stage %lu", stage);
	}
}

static void handle_mmio(struct run *r, struct kvm_run *run)
{
	uint64_t offset = run->mmio.phys_addr - IOAPIC_DEFAULT_GPA;
	uint32_t value = 0;

	TEST_ASSERT(r->v->irqchip == IRQCHIP_SPLIT && offset < 0x100 &&
			    run->mmio.len == 4,
		    "unexpected MMIO at 0x%llx len %u", run->mmio.phys_addr,
		    run->mmio.len);
	pthread_mutex_lock(&r->lock);
	if (run->mmio.is_write) {
		memcpy(&value, run->mmio.data, 4);
		ioapic_model_write(&r->ioapic, offset, value);
	} else {
		value = ioapic_model_read(&r->ioapic, offset);
		memcpy(run->mmio.data, &value, 4);
	}
	pthread_mutex_unlock(&r->lock);
}

static void open_vcpu0_counters(struct run *r);

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct run *r = current_run;
	int idx = vcpu->id;
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	uint64_t cmd;

	/* Before its first entry, so before the reuse phase it starts. */
	if (idx == 0)
		open_vcpu0_counters(r);
	while ((cmd = x86_vcpu_run(vcpu, &uc)) != UCALL_DONE) {
		if (cmd == UCALL_SYNC) {
			handle_stage(r, uc.args[1]);
			continue;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			TEST_ASSERT(run->io.port == EOI_REUSE_DEVICE_ACK_PORT,
				    "unexpected port 0x%x", run->io.port);
			set_line(r, false);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(r, run);
			break;
		case KVM_EXIT_IOAPIC_EOI:
			r->eoi_exits[idx][run->eoi.vector]++;
			pthread_mutex_lock(&r->lock);
			ioapic_model_eoi(&r->ioapic, run->eoi.vector);
			pthread_mutex_unlock(&r->lock);
			break;
		default:
			TEST_FAIL(
				"vCPU %d: unexpected exit %s (internal suberror %u), stage %s",
				idx, exit_reason_str(run->exit_reason),
				run->exit_reason == KVM_EXIT_INTERNAL_ERROR ?
					run->internal.suberror :
					0,
				r->state ? "running" : "setup");
		}
	}
	return NULL;
}

/* ---- one variant -------------------------------------------------------------- */

static void setup_vm(struct run *r)
{
	struct eoi_reuse_params *p = &eoi_reuse_params;

	r->vm = x86_irqchip_vm_create(r->v->irqchip, &r->vcpu[0],
				      eoi_reuse_guest_vcpu0);
	r->vcpu[1] = x86_vcpu_add(r->vm, 1, eoi_reuse_guest_peer);
	vm_install_exception_handler(r->vm, EOI_VECTOR, eoi_reuse_isr_vector);
	vm_install_exception_handler(r->vm, EOI_NEW_VECTOR,
				     eoi_reuse_isr_new_vector);

	*p = (struct eoi_reuse_params){
		.pin = EOI_PIN,
		.vector = EOI_VECTOR,
		.new_vector = EOI_NEW_VECTOR,
		.peer_apic_id = PEER_APIC_ID,
		.reprogram = r->v->reprogram,
		.source = r->v->source,
		.reuses = r->reuses,
		/* Generous: under nested emulation a redelivery takes ms. */
		.redelivery_wait_tsc = 5 * tsc_hz(),
	};
	sync_global_to_guest(r->vm, eoi_reuse_params);
	memset(&eoi_reuse_state, 0, sizeof(eoi_reuse_state));
	sync_global_to_guest(r->vm, eoi_reuse_state);
	r->state = addr_gva2hva(r->vm, (vm_vaddr_t)&eoi_reuse_state);

	pthread_mutex_init(&r->lock, NULL);
	ioapic_model_init(&r->ioapic, &split_ops, r);
	r->vcpu0_stats_ok = !kvm_stats_open(&r->vcpu0_stats, r->vcpu[0]->fd);
}

static bool in_kernel_exits_countable(const struct results *res, char *why,
				      size_t len)
{
	if (!res->host.apicv) {
		snprintf(
			why, len,
			"no EOI-induced exits without APICv (%s: every EOI traps, counted in ioapic_acks)",
			res->host.kvm_module);
		return false;
	}
	if (strcmp(res->host.kvm_module, "kvm_intel")) {
		snprintf(
			why, len,
			"EOI-induced exit counting is implemented for VMX only (%s)",
			res->host.kvm_module);
		return false;
	}
	return true;
}

static void open_counters(struct run *r, const struct results *res)
{
	char filter[64];

	snprintf(filter, sizeof(filter), "vector == %d", EOI_VECTOR);
	r->kvm_eoi_ok =
		!trace_counter_open(&r->kvm_eoi, "kvm", "kvm_eoi", filter);
	if (r->v->irqchip == IRQCHIP_KERNEL)
		r->exits_countable = in_kernel_exits_countable(
			res, r->exit_why, sizeof(r->exit_why));
}

/*
 * The in-kernel counts, on vCPU 0's thread, which handles its EOIs (trapped
 * or EOI-induced) and so fires both events: no other VM on the host counts.
 */
static void open_vcpu0_counters(struct run *r)
{
	pid_t tid = gettid();
	char filter[64];

	if (r->v->irqchip != IRQCHIP_KERNEL)
		return;
	snprintf(filter, sizeof(filter), "irqchip == %d && pin == %d",
		 KVM_IRQCHIP_IOAPIC, EOI_PIN);
	r->ioapic_ack_ok = !trace_counter_open_tasks(
		&r->ioapic_ack, "kvm", "kvm_ack_irq", filter, &tid, 1);
	if (!r->exits_countable)
		return;
	/* VMX: the exit qualification (info1) of an EOI-induced exit is V. */
	snprintf(filter, sizeof(filter), "exit_reason == %d && info1 == %d",
		 VMX_EXIT_REASON_EOI_INDUCED, EOI_VECTOR);
	r->kvm_exit_ok = !trace_counter_open_tasks(&r->kvm_exit, "kvm",
						   "kvm_exit", filter, &tid, 1);
	if (!r->kvm_exit_ok)
		snprintf(r->exit_why, sizeof(r->exit_why), "%s",
			 r->kvm_exit.why);
}

static void run_vcpus(struct run *r)
{
	pthread_t threads[2];
	int i;

	for (i = 0; i < 2; i++)
		TEST_ASSERT(!pthread_create(&threads[i], NULL, vcpu_thread,
					    r->vcpu[i]),
			    "pthread_create");
	for (i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	if (r->injector_running)
		pthread_join(r->injector, NULL);
}

/*
 * What the verdict counted, for its reason: "100 EOI exits" (split), "100
 * IOAPIC acks of pin 10" (in-kernel), with the EOI-induced exits where
 * APICv makes them distinct.
 */
static const char *count_text(const struct run *r, uint64_t n, char *buf,
			      size_t len)
{
	int used;

	if (r->v->irqchip == IRQCHIP_SPLIT) {
		snprintf(buf, len, "%lu EOI exits", n);
		return buf;
	}
	used = snprintf(buf, len, "%lu IOAPIC acks of pin %d", n, EOI_PIN);
	if (r->kvm_exit_ok && used > 0 && (size_t)used < len)
		snprintf(buf + used, len - used, " (%lu EOI-induced exits)",
			 r->kvm_exit_events);
	return buf;
}

/*
 * The control proves that the counter sees EOIs (eoi_control_sees_exits())
 * and, where V really was in service mid-ISR, that the EOI path works
 * (remote IRR cleared, the still-asserted line delivered again).  On a
 * platform that EOIs at delivery, level-triggered state is not the guest's
 * to judge.
 */
static void judge_control(struct harness *h, struct run *r,
			  const struct eoi_observation *o, const char *why,
			  bool redelivered)
{
	bool judge_eoi_path = o->in_service_guest && o->in_service_host;
	uint32_t repeats = r->state->repeated_deliveries;
	const char *name = r->v->name;
	char counted[96], repeated[128] = "";

	count_text(r, o->reuse_exits, counted, sizeof(counted));
	/* Left out of every count: tolerated under QEMU TCG only, and named. */
	if (repeats)
		snprintf(
			repeated, sizeof(repeated),
			"; QEMU TCG: %u deliveries repeated in their own entry path left out (guest_irq.h)",
			repeats);
	if (repeats && !h->res.host.under_tcg)
		report_control(
			h, name, false,
			"%u ISR entries interrupted code running with IF clear: KVM broke IF",
			repeats);
	else if (judge_eoi_path && !redelivered)
		report_control(h, name, false,
			       "line not redelivered after EOI (remote IRR %d)",
			       r->remote_irr_after_eoi);
	else if (o->exits_measurable &&
		 !eoi_control_sees_exits(o->reuse_exits, r->reuses))
		report_control(h, name, false,
			       "%s for %u reuses: the counter is blind%s",
			       counted, r->reuses, repeated);
	else if (!o->exits_measurable)
		report_skip(h, name, "control", "%s", why);
	else
		report_control(h, name, true, "%s for %u reuses%s%s", counted,
			       r->reuses,
			       judge_eoi_path ? "; line redelivered" : "",
			       repeated);
}

static void judge(struct harness *h, struct run *r, uint64_t wall_ns)
{
	struct results *res = &h->res;
	const struct variant *v = r->v;
	bool split = v->irqchip == IRQCHIP_SPLIT;
	uint64_t reuse_exits = r->exits_at_reuse_done - r->exits_at_reuse_start;
	/* Split: KVM_EXIT_IOAPIC_EOI; in-kernel: the IOAPIC's acks of the pin. */
	bool measurable = split || r->ioapic_ack_ok;
	const char *why = r->ioapic_ack.why;
	bool redelivered = r->state->redelivered_peer ||
			   r->state->redelivered_vcpu0;
	struct eoi_observation o = {
		.in_service_guest = r->state->in_service_in_isr,
		.in_service_host = r->in_service_host,
		/*
		 * Changing the vector leaves V in no route: the IOAPIC matches
		 * EOIs by vector, so the old vector's EOI cannot clear remote
		 * IRR there on any kernel.  Only a destination change judges
		 * the EOI path.
		 */
		.eoi_checked = v->reprogram == REPROGRAM_DEST,
		/*
		 * A level line is delivered again only once the EOI cleared
		 * remote IRR: the redelivery is the proof.  Remote IRR read at
		 * the sync may belong to that redelivery, still in flight.
		 */
		.eoi_reached_ioapic = redelivered,
		.exits_measurable = measurable,
		.vector_left_routes = v->reprogram == REPROGRAM_VECTOR,
		.reuse_exits = split ? reuse_exits : r->ioapic_ack_events,
		.reuses = r->reuses,
	};
	enum eoi_verdict verdict = eoi_verdict(&o);
	const struct verdict_kind *kind = &eoi_verdict_kinds[verdict];
	char counted[96];

	count_text(r, o.reuse_exits, counted, sizeof(counted));
	ktap_comment(
		&h->k,
		"%s: V=0x%x in service in ISR: guest %d host %d; first EOI exits %lu; "
		"remote IRR after EOI %d; redelivered vcpu0 %u peer %u; reuse: %s "
		"of %u; kvm_eoi %lu; vCPU0 exits %lu; deliveries repeated %u",
		v->name, EOI_VECTOR, o.in_service_guest, o.in_service_host,
		r->first_eoi_exits, r->remote_irr_after_eoi,
		r->state->redelivered_vcpu0, r->state->redelivered_peer,
		measurable ? counted : "uncounted", r->reuses,
		r->kvm_eoi_events, r->vcpu0_exits_reuse,
		r->state->repeated_deliveries);

	results_count(res, v->name, "reuses", "count", r->reuses);
	results_count(res, v->name, "in_service_in_isr_guest", "bool",
		      o.in_service_guest);
	results_count(res, v->name, "in_service_in_isr_host", "bool",
		      o.in_service_host);
	results_count(res, v->name, "first_eoi_exits", "count",
		      r->first_eoi_exits);
	results_count(res, v->name, "remote_irr_after_eoi", "bool",
		      r->remote_irr_after_eoi);
	results_count(res, v->name, "redelivered", "count",
		      r->state->redelivered_peer + r->state->redelivered_vcpu0);
	if (split)
		results_count(res, v->name, "eoi_exits", "count", reuse_exits);
	else if (r->kvm_exit_ok)
		results_count(res, v->name, "eoi_exits", "count",
			      r->kvm_exit_events);
	else
		results_skip(res, v->name, "eoi_exits", r->exit_why);
	if (!split && r->ioapic_ack_ok)
		results_count(res, v->name, "ioapic_acks", "count",
			      r->ioapic_ack_events);
	else if (!split)
		results_skip(res, v->name, "ioapic_acks", why);
	if (r->kvm_eoi_ok)
		results_count(res, v->name, "kvm_eoi_events", "count",
			      r->kvm_eoi_events);
	else
		results_skip(res, v->name, "kvm_eoi_events", r->kvm_eoi.why);
	if (r->vcpu0_stats_ok)
		results_count(res, v->name, "vcpu0_exits_during_reuse", "count",
			      r->vcpu0_exits_reuse);
	results_count(res, v->name, "repeated_deliveries", "count",
		      r->state->repeated_deliveries);
	results_count(res, v->name, "wall_time", "ns", wall_ns);

	if (v->reprogram == REPROGRAM_NONE) {
		judge_control(h, r, &o, why, redelivered);
		return;
	}

	switch (verdict) {
	case VERDICT_NOT_PROVOKED:
		report_verdict(
			h, v->name, kind,
			"V=0x%x not in service inside its ISR (guest ISR bit %d, host KVM_GET_LAPIC %d)%s",
			EOI_VECTOR, o.in_service_guest, o.in_service_host,
			!strcmp(res->host.kvm_module, "kvm_pvm") ?
				": kvm_pvm EOIs at delivery, so the mid-ISR reprogram cannot be provoked" :
				"");
		break;
	case VERDICT_LOST_EOI:
		report_verdict(
			h, v->name, kind,
			"EOI of the in-service V never reached the IOAPIC (remote IRR %d, redelivered %d)",
			r->remote_irr_after_eoi, redelivered);
		break;
	case VERDICT_STALE_EXITS:
		report_verdict(h, v->name, kind,
			       "%s for %u reuses of V (fix absent)", counted,
			       r->reuses);
		break;
	case VERDICT_FIXED:
		report_verdict(h, v->name, kind, "%s for %u reuses of V",
			       counted, r->reuses);
		break;
	case VERDICT_UNAFFECTED:
		report_verdict(
			h, v->name, kind,
			"%s for %u reuses of V; V left every route, so no kernel keeps it (says nothing about the fix)",
			counted, r->reuses);
		break;
	case VERDICT_UNMEASURED:
		report_verdict(h, v->name, kind, "%s; EOI path: %s", why,
			       redelivered ? "line redelivered after the EOI" :
					     "no redelivery expected");
		break;
	case VERDICT_AMBIGUOUS:
		report_verdict(h, v->name, kind,
			       "%s for %u reuses: neither <= 1 nor about all",
			       counted, r->reuses);
		break;
	}
}

static unsigned long opt_reuses = 1000;
static const char *opt_irqchip = "all";

static void run_case(struct harness *h, const struct harness_case *c)
{
	struct run *r = calloc(1, sizeof(*r));
	const struct variant *v = c->data;
	uint64_t t0 = tsc_now();

	TEST_ASSERT(r, "out of memory");
	r->v = v;
	r->reuses = opt_reuses;
	current_run = r;
	watchdog_stage(v->name);
	setup_vm(r);
	open_counters(r, &h->res);
	run_vcpus(r);
	judge(h, r, tsc_to_ns(tsc_now() - t0));

	trace_counter_close(&r->kvm_eoi);
	trace_counter_close(&r->ioapic_ack);
	trace_counter_close(&r->kvm_exit);
	if (r->vcpu0_stats_ok)
		kvm_stats_close(&r->vcpu0_stats);
	kvm_vm_free(r->vm);
	current_run = NULL;
	free(r);
}

/* ---- the descriptor ------------------------------------------------------------ */

/* irqchip x source x reprogram, in this order. */
static void plan(struct harness *h)
{
	static const enum irqchip_kind chips[] = { IRQCHIP_SPLIT,
						   IRQCHIP_KERNEL };
	static struct variant variants[2 * 3 * 3];
	int c, s, p, n = 0;

	for (c = 0; c < 2; c++)
		for (s = 0; s < 3; s++)
			for (p = 0; p < 3; p++) {
				struct variant *v = &variants[n++];

				*v = (struct variant){ chips[c], p, s };
				snprintf(v->name, sizeof(v->name), "%s.%s.%s",
					 irqchip_name(chips[c]),
					 reprogram_names[p], source_names[s]);
				if (irqchip_wanted(opt_irqchip, chips[c]))
					harness_add_case(h, v, "%s", v->name);
			}
}

static void describe(struct harness *h, char *buf, size_t size)
{
	(void)h;
	snprintf(buf, size, "%lu reuses of V per variant", opt_reuses);
}

static const struct harness_option options[] = {
	{ "reuses", OPT_UINT, &opt_reuses, 1, 10000000,
	  .help = "reuses of V after the reprogram" },
	OPT_IRQCHIP(opt_irqchip),
	{}
};

HARNESS_MAIN(.name = "ioapic_eoi_reuse", .options = options,
	     HARNESS_CAPS(KVM_CAP_SPLIT_IRQCHIP, KVM_CAP_SIGNAL_MSI,
			  KVM_CAP_IRQ_ROUTING),
	     .timeout = 300, .plan = plan, .describe = describe,
	     .run_case = run_case, .dump = dump_run);

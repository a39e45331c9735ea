// SPDX-License-Identifier: GPL-2.0-only
/*
 * GICv3 + ITS VMs for LPI tests; see its_vm.h.  The set-up follows the
 * order KVM requires: vCPUs first, then the distributor and redistributors
 * (vgic_v3_setup), then the ITS, then the tables in a memslot of their own
 * at the top of the guest-physical space.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include <linux/sizes.h>

#include "kvm_util.h"
#include "processor.h"

#include "gic.h"
#include "gic_v3.h"
#include "vgic.h"

#include "lib/arm64/its_vm.h"
#include "lib/tsc.h"

#define ITS_VM_MEMSLOT 1
#define LPI_PROP_PRIORITY 0xa0

/* Device, collection, command queue, ITT, LPI properties, pending tables. */
static size_t tables_size(int nr_vcpus)
{
	return (5 + nr_vcpus) * ITS_VM_TABLE_SIZE;
}

static void setup_tables(struct its_vm *v)
{
	struct kvm_vm *vm = v->vm;
	struct its_layout *l = &v->layout;
	size_t pages = vm_calc_num_guest_pages(vm->mode, ITS_VM_TABLE_SIZE);
	size_t sz = tables_size(v->nr_vcpus);
	vm_paddr_t base;
	uint8_t *prop;
	int i;

	base = (vm_compute_max_gfn(vm) + 1) * vm->page_size - sz;
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, base,
				    ITS_VM_MEMSLOT, sz / vm->page_size, 0);
	l->device_table = vm_phy_pages_alloc(vm, pages, base, ITS_VM_MEMSLOT);
	l->collection_table =
		vm_phy_pages_alloc(vm, pages, base, ITS_VM_MEMSLOT);
	l->cmdq = vm_phy_pages_alloc(vm, pages, base, ITS_VM_MEMSLOT);
	virt_map(vm, l->cmdq, l->cmdq, pages); /* the guest writes commands */
	l->itt = vm_phy_pages_alloc(vm, pages, base, ITS_VM_MEMSLOT);
	l->prop_table = vm_phy_pages_alloc(vm, pages, base, ITS_VM_MEMSLOT);
	l->pend_tables = vm_phy_pages_alloc(vm, pages * v->nr_vcpus, base,
					    ITS_VM_MEMSLOT);

	/* Every LPI the device can raise: enabled, group 1. */
	prop = addr_gpa2hva(vm, l->prop_table);
	for (i = 0; i < ITS_VM_MAX_VCPUS; i++)
		prop[i] = LPI_PROP_PRIORITY | LPI_PROP_GROUP1 |
			  LPI_PROP_ENABLED;
}

/*
 * Guest and host then read the same counter, so that a guest stamp minus a
 * host stamp is a latency.  6.4+ (KVM_CAP_COUNTER_OFFSET).
 */
static void zero_counter_offset(struct its_vm *v)
{
#ifdef KVM_ARM_SET_COUNTER_OFFSET
	struct kvm_arm_counter_offset off = {};

	if (!vm_check_cap(v->vm, KVM_CAP_COUNTER_OFFSET)) {
		snprintf(
			v->why_not_same_counter,
			sizeof(v->why_not_same_counter),
			"no KVM_CAP_COUNTER_OFFSET: guest and host counters differ");
		return;
	}
	if (__vm_ioctl(v->vm, KVM_ARM_SET_COUNTER_OFFSET, &off)) {
		snprintf(v->why_not_same_counter,
			 sizeof(v->why_not_same_counter),
			 "KVM_ARM_SET_COUNTER_OFFSET failed: %s",
			 strerror(errno));
		return;
	}
	v->same_counter = true;
#else
	snprintf(v->why_not_same_counter, sizeof(v->why_not_same_counter),
		 "uapi headers lack KVM_ARM_SET_COUNTER_OFFSET");
#endif
}

int its_vm_create(struct its_vm *v, int nr_vcpus, uint32_t device_id,
		  void (*guest_code)(void),
		  void (*irq_handler)(struct ex_regs *regs), char *why, int len)
{
	int i;

	memset(v, 0, sizeof(*v));
	TEST_ASSERT(nr_vcpus > 0 && nr_vcpus <= ITS_VM_MAX_VCPUS,
		    "%d vCPUs (1..%d)", nr_vcpus, ITS_VM_MAX_VCPUS);
	v->nr_vcpus = nr_vcpus;
	v->vm = vm_create_with_vcpus(nr_vcpus, guest_code, v->vcpu);
	vm_init_descriptor_tables(v->vm);
	for (i = 0; i < nr_vcpus; i++)
		vcpu_init_descriptor_tables(v->vcpu[i]);
	vm_install_exception_handler(v->vm, VECTOR_IRQ_CURRENT, irq_handler);

	v->gic_fd = vgic_v3_setup(v->vm, nr_vcpus, ITS_VM_NR_IRQS);
	if (v->gic_fd < 0) {
		snprintf(why, len, "no GICv3 in this KVM (vgic_v3_setup: %s)",
			 strerror(-v->gic_fd));
		kvm_vm_free(v->vm);
		v->vm = NULL;
		return -1;
	}
	if (__kvm_test_create_device(v->vm, KVM_DEV_TYPE_ARM_VGIC_ITS)) {
		snprintf(why, len, "no emulated ITS in this KVM");
		close(v->gic_fd);
		kvm_vm_free(v->vm);
		v->vm = NULL;
		return -1;
	}
	v->its_fd = vgic_its_setup(v->vm);
	setup_tables(v);
	v->layout.nr_vcpus = nr_vcpus;
	v->layout.device_id = device_id;
	zero_counter_offset(v);
	return 0;
}

void its_vm_free(struct its_vm *v)
{
	if (!v->vm)
		return;
	close(v->its_fd);
	close(v->gic_fd);
	kvm_vm_free(v->vm);
	v->vm = NULL;
}

int its_vm_signal_msi(struct its_vm *v, uint32_t event)
{
	uint64_t doorbell = GITS_BASE_GPA + GITS_TRANSLATER;
	struct kvm_msi msi = {
		.address_lo = (uint32_t)doorbell,
		.address_hi = doorbell >> 32,
		.data = event,
		.devid = v->layout.device_id,
		.flags = KVM_MSI_VALID_DEVID,
	};
	int ret = __vm_ioctl(v->vm, KVM_SIGNAL_MSI, &msi);

	TEST_ASSERT(ret >= 0, "KVM_SIGNAL_MSI: %s", strerror(errno));
	return ret;
}

void its_vm_route_msi(struct its_vm *v, const uint32_t *gsis,
		      const uint32_t *events, int n)
{
	uint64_t doorbell = GITS_BASE_GPA + GITS_TRANSLATER;
	struct kvm_irq_routing *r;
	int i;

	r = calloc(1, sizeof(*r) + n * sizeof(r->entries[0]));
	TEST_ASSERT(r, "out of memory");
	r->nr = n;
	for (i = 0; i < n; i++) {
		r->entries[i].gsi = gsis[i];
		r->entries[i].type = KVM_IRQ_ROUTING_MSI;
		r->entries[i].flags = KVM_MSI_VALID_DEVID;
		r->entries[i].u.msi.address_lo = (uint32_t)doorbell;
		r->entries[i].u.msi.address_hi = doorbell >> 32;
		r->entries[i].u.msi.data = events[i];
		r->entries[i].u.msi.devid = v->layout.device_id;
	}
	vm_ioctl(v->vm, KVM_SET_GSI_ROUTING, r);
	free(r);
}

void its_vm_vcpu_loop(struct kvm_vcpu *vcpu, pthread_barrier_t *ready)
{
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			pthread_barrier_wait(ready);
			continue;
		case UCALL_DONE:
			return;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			return;
		default:
			TEST_FAIL("vCPU %d: unexpected exit %s", vcpu->id,
				  exit_reason_str(vcpu->run->exit_reason));
		}
	}
}

bool its_vm_wait_count(volatile uint64_t *counter, uint64_t target,
		       double seconds)
{
	uint64_t end = tsc_now() + (uint64_t)(seconds * tsc_hz());

	while (*counter < target) {
		if (tsc_now() > end)
			return false;
		sched_yield();
	}
	return true;
}

int its_vm_irqfd(struct its_vm *v, int eventfd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = eventfd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return __vm_ioctl(v->vm, KVM_IRQFD, &irqfd) ? -errno : 0;
}

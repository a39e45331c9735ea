/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * arm64 VMs with a GICv3 and an emulated ITS (KVM_DEV_TYPE_ARM_VGIC_ITS),
 * for tests that deliver LPIs: the tables the guest hands to its ITS and
 * redistributors, one ITS device whose event E targets vCPU E as LPI
 * ITS_VM_LPI_BASE + E, and the three ways the host raises such an LPI
 * (KVM_SIGNAL_MSI, an irqfd on an MSI route with a device ID, and, for
 * forwarded device MSIs, the same route fed by VFIO).
 *
 * The guest half (guest_code/lpi_wfi_wakeup.c) reads struct its_layout.
 */
#ifndef IRQBENCH_ARM64_ITS_VM_H
#define IRQBENCH_ARM64_ITS_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ITS_VM_MAX_VCPUS 8
#define ITS_VM_LPI_BASE 8192 /* first LPI INTID */
#define ITS_VM_SPI_BASE 32 /* SPI of vCPU k: ITS_VM_SPI_BASE + k */
#define ITS_VM_NR_IRQS 64 /* private + SPIs the distributor has */
#define ITS_VM_TABLE_SIZE 0x10000 /* every table: 64 KiB */

/* Guest-physical tables, identity-mapped where the guest touches them. */
struct its_layout {
	uint32_t nr_vcpus;
	uint32_t device_id; /* the one ITS device */
	uint64_t device_table;
	uint64_t collection_table;
	uint64_t cmdq; /* also its guest-virtual address */
	uint64_t itt;
	uint64_t prop_table;
	uint64_t pend_tables; /* one per vCPU, consecutive */
};

#ifndef __ASSEMBLY__
struct kvm_vm;
struct kvm_vcpu;
struct ex_regs;

struct its_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu[ITS_VM_MAX_VCPUS];
	int nr_vcpus;
	int gic_fd, its_fd;
	struct its_layout layout;
	/* Guest CNTVCT == host CNTVCT (KVM_ARM_SET_COUNTER_OFFSET to 0). */
	bool same_counter;
	char why_not_same_counter[128];
};

/*
 * Creates the VM, its vCPUs running @guest_code, the GICv3 + ITS and the
 * tables in @layout (the caller copies it to the guest's parameters).
 * Returns 0, or -1 with @why set (no GICv3 / ITS in this KVM: SKIP).
 */
int its_vm_create(struct its_vm *v, int nr_vcpus, uint32_t device_id,
		  void (*guest_code)(void),
		  void (*irq_handler)(struct ex_regs *regs), char *why,
		  int len);
void its_vm_free(struct its_vm *v);

/*
 * KVM_SIGNAL_MSI of @event on the device: KVM's answer, 1 delivered, 0
 * blocked (no translation in the ITS, e.g. an unmapped event).
 */
int its_vm_signal_msi(struct its_vm *v, uint32_t event);
/* GSI @gsi routes @event of the device as an MSI with the device ID. */
void its_vm_route_msi(struct its_vm *v, const uint32_t *gsis,
		      const uint32_t *events, int n);
/* KVM_IRQFD: @eventfd raises @gsi; returns 0 or -errno. */
int its_vm_irqfd(struct its_vm *v, int eventfd, uint32_t gsi, bool assign);

/*
 * vCPU thread body: runs @vcpu until GUEST_DONE; at each GUEST_SYNC waits
 * on @ready (the host's "guest set up" rendezvous).
 */
void its_vm_vcpu_loop(struct kvm_vcpu *vcpu, pthread_barrier_t *ready);
/* Polls (yielding) until *@counter >= @target; false after @seconds. */
bool its_vm_wait_count(volatile uint64_t *counter, uint64_t target,
		       double seconds);
#endif

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* x86 VM set-up the programs share: one copy of each step. */
#ifndef IRQBENCH_X86_VM_H
#define IRQBENCH_X86_VM_H

#include <stdint.h>

#include "lib/kvm_compat.h"

struct kvm_vm;
struct kvm_vcpu;
struct ucall;

/*
 * The IDT and GDT for the @n vCPUs' exception handlers, where the tree's
 * selftests lib leaves them to the test (vm_init_descriptor_tables(),
 * before 6.10); a no-op on later trees, which set them up at creation.
 */
void x86_vm_descriptor_tables(struct kvm_vm *vm, struct kvm_vcpu **vcpus,
			      int n);
/*
 * A VM of @kind's irqchip (lib/kvm_compat.h), vCPU 0 running @guest_code,
 * its descriptor tables set up, the LAPIC and IOAPIC MMIO pages mapped 1:1
 * for a guest that pokes them.
 */
struct kvm_vm *x86_irqchip_vm_create(enum irqchip_kind kind,
				     struct kvm_vcpu **vcpu0, void *guest_code);
/* Another vCPU for such a VM, its descriptor tables set up. */
struct kvm_vcpu *x86_vcpu_add(struct kvm_vm *vm, int id, void *guest_code);
/*
 * Runs @vcpu to its next exit: UCALL_SYNC (the guest's args in @uc) or
 * UCALL_DONE; a guest assertion fails the test (REPORT_GUEST_ASSERT);
 * any other exit is UCALL_NONE, the caller's to read in vcpu->run.
 */
uint64_t x86_vcpu_run(struct kvm_vcpu *vcpu, struct ucall *uc);

#endif

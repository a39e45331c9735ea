// SPDX-License-Identifier: GPL-2.0-only
#include "apic.h"
#include "kvm_util.h"
#include "processor.h"

#include "lib/ioapic_model.h"
#include "lib/x86/vm.h"

void x86_vm_descriptor_tables(struct kvm_vm *vm, struct kvm_vcpu **vcpus, int n)
{
#ifdef IRQBENCH_LIB_NEEDS_DESCRIPTOR_TABLES
	int i;

	vm_init_descriptor_tables(vm);
	for (i = 0; i < n; i++)
		vcpu_init_descriptor_tables(vcpus[i]);
#else
	(void)vm;
	(void)vcpus;
	(void)n;
#endif
}

uint64_t x86_vcpu_run(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	vcpu_run(vcpu);
	switch (get_ucall(vcpu, uc)) {
	case UCALL_SYNC:
		return UCALL_SYNC;
	case UCALL_DONE:
		return UCALL_DONE;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(*uc);
		/* fall through: (older libs) it returned */
	default:
		return UCALL_NONE;
	}
}

struct kvm_vcpu *x86_vcpu_add(struct kvm_vm *vm, int id, void *guest_code)
{
	struct kvm_vcpu *vcpu = vm_vcpu_add(vm, id, guest_code);

#ifdef IRQBENCH_LIB_NEEDS_DESCRIPTOR_TABLES
	vcpu_init_descriptor_tables(vcpu);
#endif
	return vcpu;
}

struct kvm_vm *x86_irqchip_vm_create(enum irqchip_kind kind,
				     struct kvm_vcpu **vcpu0, void *guest_code)
{
	struct kvm_vm *vm;

	irqchip_select(kind);
	vm = vm_create_with_one_vcpu(vcpu0, guest_code);
	x86_vm_descriptor_tables(vm, vcpu0, 1);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	virt_pg_map(vm, IOAPIC_DEFAULT_GPA, IOAPIC_DEFAULT_GPA);
	return vm;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lib/kvm_compat.h"

int __real_ioctl(int fd, unsigned long request, ...);

static enum irqchip_kind selected_irqchip = IRQCHIP_KERNEL;
static bool used_region_v1;
static bool clamped_va_bits;

void irqchip_select(enum irqchip_kind kind)
{
	selected_irqchip = kind;
}

const char *irqchip_name(enum irqchip_kind kind)
{
	static const char *const names[] = { "kernel", "split", "none" };

	return names[kind];
}

const char *const irqchip_choices[] = { "split", "kernel", "all", NULL };

bool irqchip_wanted(const char *choice, enum irqchip_kind kind)
{
	return !strcmp(choice, "all") || !strcmp(choice, irqchip_name(kind));
}

bool compat_used_memory_region_v1(void)
{
	return used_region_v1;
}

static int create_irqchip(int vm_fd)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = SPLIT_IRQCHIP_PINS,
	};

	switch (selected_irqchip) {
	case IRQCHIP_SPLIT:
		return __real_ioctl(vm_fd, KVM_ENABLE_CAP, &cap);
	case IRQCHIP_NONE:
		return 0;
	default:
		return __real_ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0);
	}
}

#ifdef KVM_SET_USER_MEMORY_REGION2
static int set_memory_region(int vm_fd, struct kvm_userspace_memory_region2 *r2)
{
	struct kvm_userspace_memory_region r1 = {
		.slot = r2->slot,
		.flags = r2->flags,
		.guest_phys_addr = r2->guest_phys_addr,
		.memory_size = r2->memory_size,
		.userspace_addr = r2->userspace_addr,
	};
	static int has_region2 = -1;

	if (has_region2 < 0)
		has_region2 = __real_ioctl(vm_fd, KVM_CHECK_EXTENSION,
					   KVM_CAP_USER_MEMORY2) > 0;
	if (has_region2)
		return __real_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, r2);
	/* guest_memfd has no pre-6.8 equivalent. */
	if (r2->flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) {
		errno = EINVAL;
		return -1;
	}
	used_region_v1 = true;
	return __real_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r1);
}
#endif

bool compat_clamped_va_bits(void)
{
	return clamped_va_bits;
}

#ifdef __x86_64__
#define X86_LA57 (1u << 16) /* CPUID.7.0:ECX */

static struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *cpuid,
					    uint32_t function, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == function &&
		    cpuid->entries[i].index == index)
			return &cpuid->entries[i];
	return NULL;
}

/*
 * Whether a vCPU with this CPUID may enter 64-bit mode with CR4.LA57, tried
 * on a scratch VM.
 */
static bool la57_accepted(int kvm_fd, struct kvm_cpuid2 *cpuid)
{
	int vm = __real_ioctl(kvm_fd, KVM_CREATE_VM, 0), vcpu = -1;
	struct kvm_sregs sregs;
	bool ok = false;

	if (vm < 0)
		return true; /* cannot tell: leave KVM's word alone */
	vcpu = __real_ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu >= 0 && !__real_ioctl(vcpu, KVM_SET_CPUID2, cpuid) &&
	    !__real_ioctl(vcpu, KVM_GET_SREGS, &sregs)) {
		sregs.cr0 = 0x80000021; /* PG | NE | PE */
		sregs.cr4 |= 0x1020; /* LA57 | PAE */
		sregs.efer |= 0x500; /* LMA | LME */
		sregs.cs.l = 1;
		sregs.cs.db = 0;
		ok = !__real_ioctl(vcpu, KVM_SET_SREGS, &sregs);
	}
	if (vcpu >= 0)
		close(vcpu);
	close(vm);
	return ok;
}

/*
 * kvm_pvm (this project's machines) advertises LA57 and 57-bit virtual
 * addresses, then refuses CR4.LA57 (KVM_SET_SREGS: EINVAL).  The 7.x lib
 * sizes its page tables from the advertised width: no vCPU at all.  Where
 * KVM refuses what it advertises, report a CPU without LA57: 48 bits.
 */
static int get_supported_cpuid(int kvm_fd, struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *leaf7, *addr;
	int ret = __real_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);

	if (ret)
		return ret;
	leaf7 = cpuid_entry(cpuid, 7, 0);
	addr = cpuid_entry(cpuid, 0x80000008, 0);
	if (leaf7 && (leaf7->ecx & X86_LA57) && !la57_accepted(kvm_fd, cpuid)) {
		leaf7->ecx &= ~X86_LA57;
		if (addr && ((addr->eax >> 8) & 0xff) > 48)
			addr->eax = (addr->eax & ~0xff00u) | (48u << 8);
		clamped_va_bits = true;
	}
	return 0;
}
#endif

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	switch (request) {
	case KVM_CREATE_IRQCHIP:
		return create_irqchip(fd);
#ifdef __x86_64__
	case KVM_GET_SUPPORTED_CPUID:
		return get_supported_cpuid(fd, arg);
#endif
#ifdef KVM_SET_USER_MEMORY_REGION2
	case KVM_CHECK_EXTENSION:
		/* The 6.8+ lib requires it; set_memory_region() provides it. */
		if ((long)arg == KVM_CAP_USER_MEMORY2)
			return 1;
		return __real_ioctl(fd, request, arg);
	case KVM_SET_USER_MEMORY_REGION2:
		return set_memory_region(fd, arg);
#endif
	default:
		return __real_ioctl(fd, request, arg);
	}
}

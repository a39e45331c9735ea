/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The link wraps ioctl() (-Wl,--wrap=ioctl) so that, without patching the
 * kernel tree's selftests lib:
 *  - each VM gets the irqchip the test asks for (the lib always creates an
 *    in-kernel one): none, split (userspace IOAPIC) or in-kernel;
 *  - the 6.8+ lib runs on older kernels (6.1 ...): KVM_SET_USER_MEMORY_REGION2
 *    falls back to KVM_SET_USER_MEMORY_REGION when the kernel lacks it, so
 *    that a bisection across such ranges does not SKIP everything;
 *  - KVM_GET_SUPPORTED_CPUID leaves LA57 out where KVM refuses CR4.LA57
 *    (the 7.x lib would ask for 5-level paging).
 * It also maps selftests lib names that changed between releases (a probe,
 * lib/build/probe-lib.sh, says which; the Makefile includes this header in
 * every irqbench file, so the programs keep one spelling):
 *  - vm_vaddr_t/vm_paddr_t (up to 6.x) are gva_t/gpa_t from 7.x.
 */
#ifndef IRQBENCH_KVM_COMPAT_H
#define IRQBENCH_KVM_COMPAT_H

#include <stdbool.h>

#ifdef IRQBENCH_LIB_GVA_T
#define vm_vaddr_t gva_t
#define vm_paddr_t gpa_t
#endif

enum irqchip_kind {
	IRQCHIP_KERNEL, /* in-kernel LAPIC, IOAPIC and PIC (the lib's default) */
	IRQCHIP_SPLIT, /* in-kernel LAPIC, IOAPIC in userspace (24 pins) */
	IRQCHIP_NONE, /* everything in userspace */
};

#define SPLIT_IRQCHIP_PINS 24

/* Applies to VMs created after the call. */
void irqchip_select(enum irqchip_kind kind);
const char *irqchip_name(enum irqchip_kind kind);
/* The values of a program's --irqchip option, and which kinds they run. */
extern const char *const irqchip_choices[];
/* That option, for a harness options table (lib/harness.h). */
#define OPT_IRQCHIP(choice)                                                       \
	{                                                                         \
		"irqchip", OPT_CHOICE, &(choice),                                 \
			.choices = irqchip_choices,                               \
			.help = "IOAPIC in userspace (split), in-kernel, or both" \
	}
bool irqchip_wanted(const char *choice, enum irqchip_kind kind);
/* True once a memory region went through the pre-6.8 fallback. */
bool compat_used_memory_region_v1(void);
/* True once LA57 was left out of KVM's supported CPUID (x86). */
bool compat_clamped_va_bits(void);

#endif

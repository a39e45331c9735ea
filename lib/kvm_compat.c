// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "lib/kvm_compat.h"

int __real_ioctl(int fd, unsigned long request, ...);

static enum irqchip_kind selected_irqchip = IRQCHIP_KERNEL;
static bool used_region_v1;

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

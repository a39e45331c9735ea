/* SPDX-License-Identifier: GPL-2.0-only */
/* Facts about the host KVM that decide what a test can measure. */
#ifndef IRQBENCH_HOST_H
#define IRQBENCH_HOST_H

#include <stdbool.h>

struct host_facts {
	char kernel[65];
	char cpu[128];
	/* kvm_intel, kvm_amd, kvm_pvm, ... or "none" */
	char kvm_module[32];
	/* APICv (Intel) or AVIC (AMD) enabled: EOI exits are then selective. */
	bool apicv;
	/*
	 * The host itself runs under QEMU TCG (x86: hypervisor CPUID leaf
	 * 0x40000000 says "TCGTCGTCGTCG"): KVM's semantics are real, but the
	 * emulated CPU under it has quirks a test may have to name.
	 */
	bool under_tcg;
	/*
	 * The kernel's clocksource ("tsc", or e.g. "hpet" once it found the
	 * TSC unstable: KVM then keeps no vCPU TSCs on one timeline); "" if
	 * unreadable.
	 */
	char clocksource[32];
};

void host_facts_read(struct host_facts *h);
/* Reads /sys/module/@module/parameters/@param into @buf; false if absent. */
bool host_module_param(const char *module, const char *param, char *buf,
		       int size);

#endif

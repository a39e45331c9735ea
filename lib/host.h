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
};

void host_facts_read(struct host_facts *h);
/* Reads /sys/module/@module/parameters/@param into @buf; false if absent. */
bool host_module_param(const char *module, const char *param, char *buf,
		       int size);

#endif

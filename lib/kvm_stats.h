/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM binary statistics (KVM_GET_STATS_FD) by name, for a VM or a vCPU fd.
 * The selftests lib's own stats helpers changed signature across releases;
 * this reader depends only on the uapi, so it works with every tree.
 */
#ifndef IRQBENCH_KVM_STATS_H
#define IRQBENCH_KVM_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

struct kvm_stats {
	int fd;
	struct kvm_stats_header header;
	char *descs; /* header.num_desc descriptors of desc_size bytes */
	size_t desc_size;
};

/* @kvm_fd: a VM or vCPU fd.  Returns 0 or -errno (no binary stats). */
int kvm_stats_open(struct kvm_stats *s, int kvm_fd);
void kvm_stats_close(struct kvm_stats *s);
/* Sum of the stat's elements; false if the kernel has no such stat. */
bool kvm_stats_read(struct kvm_stats *s, const char *name, uint64_t *value);

#endif

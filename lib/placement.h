/* SPDX-License-Identifier: GPL-2.0-only */
/* vCPU thread placement on chosen CPUs and NUMA nodes (libnuma). */
#ifndef IRQBENCH_PLACEMENT_H
#define IRQBENCH_PLACEMENT_H

#include <pthread.h>

/* CPUs this process may run on, in order; returns how many (<= max). */
int placement_cpus(int *cpus, int max);
/* The CPUs of NUMA node @node that this process may use. */
int placement_node_cpus(int node, int *cpus, int max);
/* Pins @thread to @cpu; 0 or -errno. */
int placement_pin(pthread_t thread, int cpu);
/* The CPU for the @i-th of many threads spread round-robin over @cpus. */
static inline int placement_spread(const int *cpus, int nr_cpus, int i)
{
	return cpus[i % nr_cpus];
}

#endif

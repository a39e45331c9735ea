/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Thread placement, one service for every program that pins vCPU, waker or
 * injector threads: the topology comes from libnuma (numa_available(),
 * numa_max_node(), numa_node_to_cpus()), intersected with the CPUs this
 * process may run on (sched_getaffinity()); nodes left without a CPU are
 * left out.  A placement splits it into two groups of CPUs (seed 001:
 * interrupts taken on one socket, idle guests on another):
 *
 *   same-node   both groups on the node with the most CPUs
 *   cross-node  group A on that node, group B on another one
 *
 * On a one-node machine cross-node has no second node: placement_choose()
 * says why, and the program reports its cases SKIP with that reason.
 */
#ifndef IRQBENCH_PLACEMENT_H
#define IRQBENCH_PLACEMENT_H

#include <pthread.h>
#include <stddef.h>

#define PLACEMENT_MAX_NODES 64
#define PLACEMENT_MAX_CPUS 1024

struct placement_node {
	int id;
	int nr_cpus;
	int cpus[PLACEMENT_MAX_CPUS];
};

struct placement_topology {
	int nr_nodes;
	struct placement_node node[PLACEMENT_MAX_NODES];
	struct placement_node all; /* every usable CPU, id -1 */
};

/* One group of CPUs: its node and its CPUs, in order. */
struct placement_group {
	int node;
	int nr_cpus;
	const int *cpus;
};

/* --placement's values, NULL-terminated (OPT_CHOICE). */
extern const char *const placement_names[];

/* The topology this process may use (no libnuma: one node, node 0). */
void placement_topology(struct placement_topology *t);
/* Building one by hand (unit tests): empty, then CPU by CPU. */
void placement_clear(struct placement_topology *t);
void placement_add_cpu(struct placement_topology *t, int node, int cpu);
/*
 * @kind: one of placement_names[].  0, or -1 with the reason in @why
 * (e.g. "cross-node: this machine has one NUMA node ...").
 */
int placement_choose(const struct placement_topology *t, const char *kind,
		     struct placement_group *a, struct placement_group *b,
		     char *why, size_t size);
/* Every usable CPU, on whichever node (programs without --placement). */
void placement_all(const struct placement_topology *t,
		   struct placement_group *g);
/* "2 nodes: node 0 CPUs 0-3, node 1 CPUs 4-7" (affinity applied). */
void placement_describe(const struct placement_topology *t, char *buf,
			size_t size);

/* Pins @thread to @cpu; 0 or -errno.  Programs call harness_pin(). */
int __attribute__((warn_unused_result))
placement_pin(pthread_t thread, int cpu);
/* The CPU for the @i-th of many threads spread round-robin over @g. */
static inline int placement_spread(const struct placement_group *g, int i)
{
	return g->cpus[i % g->nr_cpus];
}

#endif

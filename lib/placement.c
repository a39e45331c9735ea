// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <numa.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "lib/placement.h"

const char *const placement_names[] = { "same-node", "cross-node", NULL };

void placement_add_cpu(struct placement_topology *t, int node, int cpu)
{
	struct placement_node *n = NULL;
	int i;

	if (t->all.nr_cpus < PLACEMENT_MAX_CPUS)
		t->all.cpus[t->all.nr_cpus++] = cpu;
	for (i = 0; i < t->nr_nodes; i++)
		if (t->node[i].id == node)
			n = &t->node[i];
	if (!n) {
		if (t->nr_nodes == PLACEMENT_MAX_NODES)
			return;
		n = &t->node[t->nr_nodes++];
		n->id = node;
		n->nr_cpus = 0;
	}
	if (n->nr_cpus < PLACEMENT_MAX_CPUS)
		n->cpus[n->nr_cpus++] = cpu;
}

void placement_clear(struct placement_topology *t)
{
	t->nr_nodes = 0;
	t->all.id = -1;
	t->all.nr_cpus = 0;
}

void placement_topology(struct placement_topology *t)
{
	struct bitmask *mask;
	cpu_set_t allowed;
	int node, cpu;

	placement_clear(t);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	if (numa_available() < 0) {
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &allowed))
				placement_add_cpu(t, 0, cpu);
		return;
	}
	mask = numa_allocate_cpumask();
	for (node = 0; node <= numa_max_node(); node++) {
		if (numa_node_to_cpus(node, mask))
			continue;
		for (cpu = 0; cpu < (int)mask->size && cpu < CPU_SETSIZE; cpu++)
			if (numa_bitmask_isbitset(mask, cpu) &&
			    CPU_ISSET(cpu, &allowed))
				placement_add_cpu(t, node, cpu);
	}
	numa_free_cpumask(mask);
}

/* The node with the most CPUs (the lowest of equals). */
static int biggest(const struct placement_topology *t, int except)
{
	int i, best = -1;

	for (i = 0; i < t->nr_nodes; i++)
		if (i != except &&
		    (best < 0 || t->node[i].nr_cpus > t->node[best].nr_cpus))
			best = i;
	return best;
}

static void group_of(const struct placement_node *n, struct placement_group *g)
{
	g->node = n->id;
	g->nr_cpus = n->nr_cpus;
	g->cpus = n->cpus;
}

int placement_choose(const struct placement_topology *t, const char *kind,
		     struct placement_group *a, struct placement_group *b,
		     char *why, size_t size)
{
	int first = biggest(t, -1), other;
	char desc[256];

	if (first < 0) {
		snprintf(why, size, "%s: no CPU to run on", kind);
		return -1;
	}
	group_of(&t->node[first], a);
	if (!strcmp(kind, "same-node")) {
		*b = *a;
		return 0;
	}
	if (strcmp(kind, "cross-node")) {
		snprintf(why, size, "unknown placement '%s'", kind);
		return -1;
	}
	other = biggest(t, first);
	if (other < 0) {
		placement_describe(t, desc, sizeof(desc));
		snprintf(why, size,
			 "%s: needs two NUMA nodes with usable CPUs; %s", kind,
			 desc);
		return -1;
	}
	group_of(&t->node[other], b);
	return 0;
}

void placement_all(const struct placement_topology *t,
		   struct placement_group *g)
{
	group_of(&t->all, g);
}

/* "0-3,6": the CPUs as ranges. */
static size_t cpu_ranges(const struct placement_node *n, char *buf, size_t size)
{
	size_t len = 0;
	int i, j;

	buf[0] = '\0';
	for (i = 0; i < n->nr_cpus; i = j + 1) {
		for (j = i;
		     j + 1 < n->nr_cpus && n->cpus[j + 1] == n->cpus[j] + 1;
		     j++)
			;
		len += snprintf(buf + len, len < size ? size - len : 0,
				j > i ? "%s%d-%d" : "%s%d", i ? "," : "",
				n->cpus[i], n->cpus[j]);
	}
	return len;
}

void placement_describe(const struct placement_topology *t, char *buf,
			size_t size)
{
	size_t len;
	char cpus[128];
	int i;

	len = snprintf(buf, size, "%d NUMA node%s with usable CPUs",
		       t->nr_nodes, t->nr_nodes == 1 ? "" : "s");
	for (i = 0; i < t->nr_nodes; i++) {
		cpu_ranges(&t->node[i], cpus, sizeof(cpus));
		len += snprintf(buf + len, len < size ? size - len : 0,
				"%s node %d CPUs %s", i ? "," : ":",
				t->node[i].id, cpus);
	}
}

int placement_pin(pthread_t thread, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(thread, sizeof(set), &set);
}

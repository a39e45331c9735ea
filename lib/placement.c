// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <numa.h>
#include <sched.h>

#include "lib/placement.h"

int placement_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	return n;
}

int placement_node_cpus(int node, int *cpus, int max)
{
	struct bitmask *mask;
	cpu_set_t allowed;
	int cpu, n = 0;

	if (numa_available() < 0)
		return node == 0 ? placement_cpus(cpus, max) : -ENODEV;
	mask = numa_allocate_cpumask();
	if (numa_node_to_cpus(node, mask)) {
		numa_free_cpumask(mask);
		return -EINVAL;
	}
	sched_getaffinity(0, sizeof(allowed), &allowed);
	for (cpu = 0; cpu < (int)mask->size && cpu < CPU_SETSIZE && n < max;
	     cpu++)
		if (numa_bitmask_isbitset(mask, cpu) &&
		    CPU_ISSET(cpu, &allowed))
			cpus[n++] = cpu;
	numa_free_cpumask(mask);
	return n;
}

int placement_pin(pthread_t thread, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(thread, sizeof(set), &set);
}

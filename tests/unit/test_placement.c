// SPDX-License-Identifier: GPL-2.0-only
/* lib/placement: same-node and cross-node on made-up topologies. */
#include <stdbool.h>
#include <string.h>

#include "lib/placement.h"
#include "tests/unit/unit.h"

static struct placement_topology t;

/* @nodes nodes of @per CPUs each, numbered from @first_cpu. */
static void make(int nodes, int per, int first_cpu)
{
	int n, i;

	placement_clear(&t);
	for (n = 0; n < nodes; n++)
		for (i = 0; i < per; i++)
			placement_add_cpu(&t, n, first_cpu + n * per + i);
}

static void test_one_node(void)
{
	struct placement_group a, b;
	char why[256] = "", desc[256];

	make(1, 2, 0);
	placement_describe(&t, desc, sizeof(desc));
	CHECK(!strcmp(desc, "1 NUMA node with usable CPUs: node 0 CPUs 0-1"),
	      "one node described: %s", desc);
	CHECK(!placement_choose(&t, "same-node", &a, &b, why, sizeof(why)) &&
		      a.node == 0 && a.nr_cpus == 2 && a.cpus == b.cpus,
	      "same-node on one node: both groups its 2 CPUs");
	CHECK(placement_choose(&t, "cross-node", &a, &b, why, sizeof(why)) ==
			      -1 &&
		      strstr(why, "cross-node: needs two NUMA nodes") &&
		      strstr(why, "node 0 CPUs 0-1"),
	      "cross-node on one node: refused with the reason (%s)", why);
	CHECK(placement_choose(&t, "sideways", &a, &b, why, sizeof(why)) ==
			      -1 &&
		      strstr(why, "unknown placement"),
	      "an unknown placement is refused");
	CHECK(t.all.nr_cpus == 2, "every usable CPU listed once (%d)",
	      t.all.nr_cpus);
}

static void test_two_nodes(void)
{
	struct placement_group a, b;
	char why[256] = "", desc[256];
	int i;
	bool disjoint = true;

	make(2, 4, 0);
	CHECK(!placement_choose(&t, "cross-node", &a, &b, why, sizeof(why)) &&
		      a.node != b.node && a.nr_cpus == 4 && b.nr_cpus == 4,
	      "cross-node on two nodes: one group per node (%d, %d)", a.node,
	      b.node);
	for (i = 0; i < b.nr_cpus; i++)
		disjoint &= b.cpus[i] >= 4;
	CHECK(a.cpus[0] == 0 && disjoint, "cross-node: no CPU in both groups");
	CHECK(placement_spread(&b, 5) == b.cpus[1],
	      "spread: the 6th thread on the 2nd CPU of four");
	placement_describe(&t, desc, sizeof(desc));
	CHECK(!strcmp(desc,
		      "2 NUMA nodes with usable CPUs: node 0 CPUs 0-3, node 1 CPUs 4-7"),
	      "two nodes described: %s", desc);
}

/* The affinity left node 0 one CPU, node 1 three: same-node takes node 1. */
static void test_uneven(void)
{
	struct placement_group a, b;
	char why[256] = "";

	placement_clear(&t);
	placement_add_cpu(&t, 0, 3);
	placement_add_cpu(&t, 1, 8);
	placement_add_cpu(&t, 1, 9);
	placement_add_cpu(&t, 1, 11);
	CHECK(!placement_choose(&t, "same-node", &a, &b, why, sizeof(why)) &&
		      a.node == 1 && a.nr_cpus == 3 && b.node == 1,
	      "same-node: the node with the most usable CPUs (node %d)",
	      a.node);
	CHECK(!placement_choose(&t, "cross-node", &a, &b, why, sizeof(why)) &&
		      a.node == 1 && b.node == 0 && b.cpus[0] == 3,
	      "cross-node: the bigger node first, then the other");
	placement_clear(&t);
	CHECK(placement_choose(&t, "same-node", &a, &b, why, sizeof(why)) ==
			      -1 &&
		      strstr(why, "no CPU"),
	      "no usable CPU: refused (%s)", why);
}

/* This machine, through libnuma: every node has CPUs, all are listed. */
static void test_this_machine(void)
{
	int i, sum = 0;
	bool nonempty = true;

	placement_topology(&t);
	for (i = 0; i < t.nr_nodes; i++) {
		sum += t.node[i].nr_cpus;
		nonempty &= t.node[i].nr_cpus > 0;
	}
	CHECK(t.nr_nodes >= 1 && nonempty && sum == t.all.nr_cpus && sum > 0,
	      "libnuma: %d node(s), %d usable CPUs, none without a node",
	      t.nr_nodes, sum);
}

int main(void)
{
	test_one_node();
	test_two_nodes();
	test_uneven();
	test_this_machine();
	return unit_exit();
}

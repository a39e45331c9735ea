/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of lib/ pieces that need no KVM: each test_*.c is a program
 * whose CHECK()s print KTAP lines; it exits 1 if any failed.
 */
#ifndef IRQBENCH_UNIT_H
#define IRQBENCH_UNIT_H

#include <stdio.h>

static int unit_failed, unit_number;

#define CHECK(cond, ...)                                              \
	do {                                                          \
		bool ok_ = (cond);                                    \
		printf("%s %d ", ok_ ? "ok" : "not ok", ++unit_number); \
		printf(__VA_ARGS__);                                  \
		if (!ok_)                                             \
			printf(" # %s:%d: %s", __FILE__, __LINE__, #cond); \
		printf("\n");                                         \
		unit_failed += !ok_;                                  \
	} while (0)

static inline int unit_exit(void)
{
	printf("1..%d\n", unit_number);
	return unit_failed ? 1 : 0;
}

#endif

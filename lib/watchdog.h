/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A test never hangs: if it is still running @seconds after watchdog_arm(),
 * the watchdog prints what the test was doing (the dump callback), a KTAP
 * "Bail out!" line, and exits with KSFT_FAIL.
 */
#ifndef IRQBENCH_WATCHDOG_H
#define IRQBENCH_WATCHDOG_H

typedef void (*watchdog_dump_fn)(void);

void watchdog_arm(unsigned int seconds, watchdog_dump_fn dump);
/* What the test is doing now; printed if the watchdog fires. */
void watchdog_stage(const char *stage);
/*
 * @undo runs when the watchdog fires, before the process exits (which skips
 * atexit()): for a global setting the test changed (up to 4).
 */
void watchdog_on_timeout(void (*undo)(void));

#endif

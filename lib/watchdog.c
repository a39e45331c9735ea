// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/watchdog.h"

static watchdog_dump_fn dump_fn;
static void (*undo_fns[4])(void);
static unsigned int armed_seconds;
static const char *volatile current_stage = "start";

static void watchdog_fire(int sig)
{
	size_t i;

	(void)sig;
	/* Not async-signal-safe, but the process is about to die anyway. */
	fflush(stdout);
	printf("# watchdog: no result after %u s, stage: %s\n", armed_seconds,
	       current_stage);
	if (dump_fn)
		dump_fn();
	printf("Bail out! watchdog timeout in stage %s\n", current_stage);
	fflush(stdout);
	fprintf(stderr, "watchdog: timeout after %u s in stage %s\n",
		armed_seconds, current_stage);
	for (i = 0; i < sizeof(undo_fns) / sizeof(undo_fns[0]); i++)
		if (undo_fns[i])
			undo_fns[i]();
	_exit(1);
}

void watchdog_on_timeout(void (*undo)(void))
{
	size_t i;

	for (i = 0; i < sizeof(undo_fns) / sizeof(undo_fns[0]); i++)
		if (!undo_fns[i] || undo_fns[i] == undo) {
			undo_fns[i] = undo;
			return;
		}
}

void watchdog_arm(unsigned int seconds, watchdog_dump_fn dump)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watchdog_fire;
	sigaction(SIGALRM, &sa, NULL);
	dump_fn = dump;
	armed_seconds = seconds;
	alarm(seconds);
}

void watchdog_stage(const char *stage)
{
	current_stage = stage;
}

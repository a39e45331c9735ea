// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ftrace_graph.h"

#include "lib/watchdog.h"

/* $IRQBENCH_TRACEFS: a stand-in folder, for the unit test of the restore. */
static char tracefs[128] = "/sys/kernel/tracing/";

static bool tracefs_write(const char *file, const char *value)
{
	char path[256];
	ssize_t len = strlen(value), n;
	int fd;

	/* Async-signal-safe (open, write, close): the restore runs in handlers. */
	strcpy(path, tracefs);
	strcat(path, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = write(fd, value, len);
	close(fd);
	return n == len;
}

/* First word of tracefs file @file into @buf ("" if unreadable). */
static void tracefs_read_word(const char *file, char *buf, size_t size)
{
	char path[256], fmt[16];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s%s", tracefs, file);
	f = fopen(path, "r");
	if (!f)
		return;
	snprintf(fmt, sizeof(fmt), "%%%zus", size - 1);
	if (fscanf(f, fmt, buf) != 1)
		buf[0] = '\0';
	fclose(f);
}

/*
 * current_tracer and tracing_on are global: whatever ends the test (a
 * return, exit(), SIGTERM from the runner's timeout, SIGINT, the watchdog,
 * a crash or abort()) must give back what it found; only SIGKILL cannot
 * (timeout(1) sends it KILL_AFTER seconds after SIGTERM).  The saved values, for the restore.
 */
static char saved_tracer[64], saved_tracing_on[8];
static volatile sig_atomic_t tracer_taken;
/* The runner's and the user's signals, a closed pipe, and crashes. */
static const int restore_signals[] = { SIGTERM, SIGINT,	 SIGHUP,  SIGQUIT,
				       SIGPIPE, SIGABRT, SIGSEGV, SIGBUS,
				       SIGFPE,	SIGILL };
static struct sigaction
	saved_actions[sizeof(restore_signals) / sizeof(restore_signals[0])];

static void restore_tracer(void)
{
	if (!tracer_taken)
		return;
	tracer_taken = 0;
	tracefs_write("tracing_on", "0");
	tracefs_write("current_tracer", saved_tracer[0] ? saved_tracer : "nop");
	tracefs_write("set_ftrace_filter", "");
	if (saved_tracing_on[0])
		tracefs_write("tracing_on", saved_tracing_on);
}

static void restore_and_die(int sig)
{
	restore_tracer();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Once per process: the exit paths that do not come through close. */
static void restore_on_every_exit(void)
{
	static bool registered;
	struct sigaction sa;
	size_t i;

	if (registered)
		return;
	registered = true;
	atexit(restore_tracer);
	watchdog_on_timeout(restore_tracer);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_die;
	for (i = 0; i < sizeof(restore_signals) / sizeof(restore_signals[0]);
	     i++) {
		sigaction(restore_signals[i], NULL, &saved_actions[i]);
		/* A handler the test set is its own business. */
		if (saved_actions[i].sa_handler == SIG_DFL)
			sigaction(restore_signals[i], &sa, NULL);
	}
}

/* Is @word a whole word of a line of tracefs file @file? */
static bool tracefs_lists(const char *file, const char *word, int *err)
{
	size_t len = strlen(word);
	char path[256], line[512], *p;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", tracefs, file);
	f = fopen(path, "r");
	if (!f) {
		*err = errno;
		return false;
	}
	while (!found && fgets(line, sizeof(line), f))
		for (p = line; (p = strstr(p, word)); p += len)
			if ((p == line || p[-1] == ' ') &&
			    strchr(" \n", p[len]) && p[len]) {
				found = true;
				break;
			}
	fclose(f);
	*err = 0;
	return found;
}

bool ftrace_graph_open(struct ftrace_graph *g, const char *func, char *why,
		       size_t why_size)
{
	const char *dir = getenv("IRQBENCH_TRACEFS");
	int err;

	memset(g, 0, sizeof(*g));
	snprintf(g->func, sizeof(g->func), "%s", func);
	if (dir && *dir)
		snprintf(tracefs, sizeof(tracefs), "%s/", dir);
	if (!tracefs_lists("available_tracers", "function_graph", &err)) {
		snprintf(why, why_size,
			 err ? "tracefs available_tracers unreadable (%s)" :
			       "no function_graph tracer on this kernel%s",
			 err ? strerror(err) : "");
		return false;
	}
	if (!tracefs_lists("available_filter_functions", func, &err)) {
		snprintf(
			why, why_size,
			err ? "available_filter_functions unreadable (%s): no function tracing on this kernel" :
			      "%s not in available_filter_functions",
			err ? strerror(err) : func);
		return false;
	}
	tracefs_read_word("current_tracer", saved_tracer, sizeof(saved_tracer));
	tracefs_read_word("tracing_on", saved_tracing_on,
			  sizeof(saved_tracing_on));
	restore_on_every_exit();
	tracer_taken = 1;
	if (!tracefs_write("tracing_on", "0") ||
	    !tracefs_write("set_ftrace_filter", func) ||
	    !tracefs_write("current_tracer", "function_graph")) {
		snprintf(why, why_size,
			 "cannot set up function_graph for %s: %s", func,
			 strerror(errno));
		restore_tracer();
		return false;
	}
	g->open = true;
	return true;
}

void ftrace_graph_start(struct ftrace_graph *g)
{
	if (!g->open)
		return;
	tracefs_write("trace", "");
	tracefs_write("tracing_on", "1");
}

bool ftrace_graph_parse_line(const char *line, const char *func, double *ns)
{
	const char *bar = strrchr(line, '|'), *p, *name;
	size_t len = strlen(func);
	double v;
	char *end;

	if (!bar)
		return false;
	/* The call, complete ("func();"), after the bar. */
	for (name = bar + 1; *name == ' '; name++)
		;
	if (strncmp(name, func, len) || strncmp(name + len, "();", 3))
		return false;
	/* The duration: the last number before the bar, then its unit. */
	for (p = bar; p > line && !(p[-1] >= '0' && p[-1] <= '9'); p--)
		;
	while (p > line && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '.'))
		p--;
	v = strtod(p, &end);
	if (end == p)
		return false;
	while (*end == ' ')
		end++;
	if (!strncmp(end, "us", 2))
		*ns = v * 1e3;
	else if (!strncmp(end, "ms", 2))
		*ns = v * 1e6;
	else if (!strncmp(end, "ns", 2))
		*ns = v;
	else if (!strncmp(end, "s ", 2))
		*ns = v * 1e9;
	else
		return false;
	return true;
}

size_t ftrace_graph_stop(struct ftrace_graph *g, double **ns)
{
	size_t n = 0, cap = 0;
	char line[512], path[256];
	double v, *tmp;
	FILE *f;

	*ns = NULL;
	if (!g->open)
		return 0;
	tracefs_write("tracing_on", "0");
	snprintf(path, sizeof(path), "%strace", tracefs);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!ftrace_graph_parse_line(line, g->func, &v))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			tmp = realloc(*ns, cap * sizeof(**ns));
			if (!tmp)
				break;
			*ns = tmp;
		}
		(*ns)[n++] = v;
	}
	fclose(f);
	return n;
}

void ftrace_graph_close(struct ftrace_graph *g)
{
	if (!g->open)
		return;
	restore_tracer();
	g->open = false;
}

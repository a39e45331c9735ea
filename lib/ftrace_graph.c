// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ftrace_graph.h"

#define TRACEFS "/sys/kernel/tracing/"

static bool tracefs_write(const char *file, const char *value)
{
	char path[128];
	ssize_t len = strlen(value), n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = write(fd, value, len);
	close(fd);
	return n == len;
}

/* Is @word a whole word of a line of tracefs file @file? */
static bool tracefs_lists(const char *file, const char *word, int *err)
{
	size_t len = strlen(word);
	char path[128], line[512], *p;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), TRACEFS "%s", file);
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
	int err;

	memset(g, 0, sizeof(*g));
	snprintf(g->func, sizeof(g->func), "%s", func);
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
	if (!tracefs_write("tracing_on", "0") ||
	    !tracefs_write("set_ftrace_filter", func) ||
	    !tracefs_write("current_tracer", "function_graph")) {
		snprintf(why, why_size,
			 "cannot set up function_graph for %s: %s", func,
			 strerror(errno));
		tracefs_write("current_tracer", "nop");
		tracefs_write("set_ftrace_filter", "");
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
	char line[512];
	double v, *tmp;
	FILE *f;

	*ns = NULL;
	if (!g->open)
		return 0;
	tracefs_write("tracing_on", "0");
	f = fopen(TRACEFS "trace", "r");
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
	tracefs_write("tracing_on", "0");
	tracefs_write("current_tracer", "nop");
	tracefs_write("set_ftrace_filter", "");
	g->open = false;
}

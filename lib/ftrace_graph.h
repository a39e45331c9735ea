/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durations of one kernel function, from the function_graph tracer
 * (tracefs): e.g. pi_wakeup_handler, whose cost grows with the per-CPU list
 * of blocked vCPUs it walks (seed 000).  One user at a time: it owns the
 * global tracer while open and puts back the current_tracer it found on
 * close, exit(), SIGTERM/SIGINT/SIGHUP/SIGQUIT and a watchdog timeout.
 */
#ifndef IRQBENCH_FTRACE_GRAPH_H
#define IRQBENCH_FTRACE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

struct ftrace_graph {
	bool open;
	char func[64];
};

/*
 * Sets function_graph up for @func alone.  false, with the reason in @why,
 * when tracefs, the tracer or the function is not available.
 */
bool ftrace_graph_open(struct ftrace_graph *g, const char *func, char *why,
		       size_t why_size);
/* Clears the buffer and starts tracing. */
void ftrace_graph_start(struct ftrace_graph *g);
/*
 * Stops tracing; the durations (ns) of the calls seen since the start, in a
 * malloc'ed array (*@ns, NULL if none).  Returns how many.
 */
size_t ftrace_graph_stop(struct ftrace_graph *g, double **ns);
void ftrace_graph_close(struct ftrace_graph *g);

/*
 * One line of the function_graph "trace" file: the duration in ns of a
 * complete call of @func (" 1)   0.789 us    |  func();", with the "+",
 * "!", "#"... markers of long calls).  false for anything else.
 */
bool ftrace_graph_parse_line(const char *line, const char *func, double *ns);

#endif

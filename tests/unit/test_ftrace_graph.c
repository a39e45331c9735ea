// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parsing function_graph's trace lines (the tracer itself needs a kernel),
 * and giving current_tracer back on every way out, on a stand-in tracefs
 * folder ($IRQBENCH_TRACEFS).
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/ftrace_graph.h"
#include "lib/watchdog.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/test_ftrace_graph.XXXXXX";
static void *volatile crash_at; /* NULL */

static void put(const char *file, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void get(const char *file, char *buf, size_t size)
{
	char path[256];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

enum way_out {
	BY_CLOSE,
	BY_EXIT,
	BY_SIGTERM,
	BY_SIGINT,
	BY_WATCHDOG,
	BY_CRASH,
	BY_ABORT
};

/*
 * A child takes the tracer and leaves by @how; returns what current_tracer
 * holds afterwards ("blk": the tracer found) and sets *@taken to whether
 * the child had function_graph in place.
 */
static const char *leave(enum way_out how, bool *taken, int *status)
{
	static const struct rlimit no_core = { 0, 0 };
	static char after[64];
	struct ftrace_graph g;
	char why[128];
	pid_t pid;

	put("available_tracers", "blk function_graph nop\n");
	put("available_filter_functions", "pi_wakeup_handler\n");
	put("current_tracer", "blk\n");
	put("tracing_on", "1\n");
	put("set_ftrace_filter", "");
	put("trace", "");
	fflush(stdout);
	pid = fork();
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1); /* the watchdog's Bail out! */
		dup2(fd, 2);
		setrlimit(RLIMIT_CORE, &no_core); /* the crash cases */
		/*
		 * A make check started with & from a script inherits SIGINT
		 * ignored, which the lib rightly leaves alone: the SIGINT case
		 * is about a Ctrl-C, so it starts from the default.
		 */
		signal(SIGINT, SIG_DFL);
		if (!ftrace_graph_open(&g, "pi_wakeup_handler", why,
				       sizeof(why)))
			_exit(10);
		get("current_tracer", after, sizeof(after));
		if (strcmp(after, "function_graph"))
			_exit(11);
		ftrace_graph_start(&g);
		switch (how) {
		case BY_CLOSE:
			ftrace_graph_close(&g);
			_exit(0);
		case BY_EXIT:
			exit(3); /* e.g. a failed TEST_ASSERT */
		case BY_SIGTERM:
			raise(SIGTERM); /* the runner's timeout */
			break;
		case BY_SIGINT:
			raise(SIGINT);
			break;
		case BY_WATCHDOG:
			watchdog_arm(1, NULL);
			pause();
			break;
		case BY_CRASH:
			*(volatile int *)crash_at = 1; /* SIGSEGV */
			break;
		case BY_ABORT:
			abort(); /* assert(), a glibc heap check */
		}
		_exit(12);
	}
	waitpid(pid, status, 0);
	*taken = !(WIFEXITED(*status) && WEXITSTATUS(*status) >= 10);
	get("current_tracer", after, sizeof(after));
	after[strcspn(after, "\n")] = '\0';
	return after;
}

static void check_restores(void)
{
	static const char *const names[] = {
		"close",  "exit()",	      "SIGTERM",
		"SIGINT", "watchdog timeout", "a crash (SIGSEGV)",
		"abort()"
	};
	char on[8];
	bool taken;
	int how, status;

	if (!mkdtemp(dir))
		return;
	setenv("IRQBENCH_TRACEFS", dir, 1);
	for (how = BY_CLOSE; how <= BY_ABORT; how++) {
		const char *after = leave(how, &taken, &status);

		get("tracing_on", on, sizeof(on));
		CHECK(taken && !strcmp(after, "blk") && !strcmp(on, "1"),
		      "%s: current_tracer back to the one found ('%s'), tracing_on '%.1s' (status %#x)",
		      names[how], after, on, status);
	}
	for (how = 0; how < 6; how++) {
		static const char *const files[] = {
			"available_tracers", "available_filter_functions",
			"current_tracer",    "tracing_on",
			"set_ftrace_filter", "trace"
		};
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", dir, files[how]);
		unlink(path);
	}
	rmdir(dir);
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-6 * (fabs(b) + 1);
}

int main(void)
{
	const char *f = "pi_wakeup_handler";
	double ns = -1;

	CHECK(ftrace_graph_parse_line(
		      " 1)   0.789 us    |  pi_wakeup_handler();\n", f, &ns) &&
		      near(ns, 789),
	      "a short call: 0.789 us (%g ns)", ns);
	CHECK(ftrace_graph_parse_line(
		      " 0) + 12.345 us   |  pi_wakeup_handler();\n", f, &ns) &&
		      near(ns, 12345),
	      "'+' marker, over 10 us (%g ns)", ns);
	CHECK(ftrace_graph_parse_line(
		      " 3) ! 250.100 us  |  pi_wakeup_handler();\n", f, &ns) &&
		      near(ns, 250100),
	      "'!' marker, over 100 us (%g ns)", ns);
	CHECK(ftrace_graph_parse_line(
		      " 3) # 1234.500 us |  pi_wakeup_handler();\n", f, &ns) &&
		      near(ns, 1234500),
	      "'#' marker, over 1 ms (%g ns)", ns);
	CHECK(ftrace_graph_parse_line(
		      "  5723.001234 |   1)   1.002 us    |  pi_wakeup_handler();\n",
		      f, &ns) &&
		      near(ns, 1002),
	      "with the absolute-time column (%g ns)", ns);
	CHECK(!ftrace_graph_parse_line(
		      " 1)               |  pi_wakeup_handler() {\n", f, &ns),
	      "an opening brace is not a complete call");
	CHECK(!ftrace_graph_parse_line(
		      " 1)   0.500 us    |  kvm_vcpu_wake_up();\n", f, &ns),
	      "another function is not counted");
	CHECK(!ftrace_graph_parse_line(
		      " 1)   0.500 us    |  pi_wakeup_handler_x();\n", f, &ns),
	      "a longer name is another function");
	CHECK(!ftrace_graph_parse_line(
		      "# CPU  DURATION                  FUNCTION CALLS\n", f,
		      &ns),
	      "the header is skipped");
	check_restores();
	return unit_exit();
}

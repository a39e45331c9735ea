// SPDX-License-Identifier: GPL-2.0-only
/* Parsing function_graph's trace lines (the tracer itself needs a kernel). */
#include <math.h>
#include <stdbool.h>

#include "lib/ftrace_graph.h"
#include "tests/unit/unit.h"

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
	return unit_exit();
}

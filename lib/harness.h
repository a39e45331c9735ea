/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One harness for every test program, in the manner of kvm-unit-tests'
 * x86/vmexit.c: a program declares a descriptor (its name, its options with
 * types and ranges, its plan of cases and its run function) and main() is
 * harness_main().  The harness owns the command line (one line and exit 2
 * on bad input, --help, --list, --variant, --timeout), the /dev/kvm and
 * capability checks (SKIP with the reason), the watchdog, the results
 * file, the host line and the KTAP plan, which is the number of cases the
 * plan holds and --variant selected, never a formula.
 *
 * Every outcome goes through one call that writes the KTAP line and the
 * JSON record together: report_verdict() (metric "verdict", from the
 * program's table of verdict names and KTAP kinds), report_control()
 * (metric "control", pass or fail), report_skip() (KTAP SKIP and a record
 * with value null and the reason in "skipped", the one representation of a
 * skip), report_text() and report_estimate() (a measurement: its one
 * record and an ok line), report_skip_metric() (an optional metric the
 * platform cannot give: the skip record and "ok # SKIP") and report_case()
 * (a KTAP result whose records the program wrote over the run).
 */
#ifndef IRQBENCH_HARNESS_H
#define IRQBENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/ktap.h"
#include "lib/placement.h"
#include "lib/results.h"
#include "lib/watchdog.h"

#define HARNESS_MAX_LIST 16

enum harness_option_type {
	OPT_UINT, /* unsigned long in [min, max] */
	OPT_CHOICE, /* one of choices[]: const char * */
	OPT_LIST, /* comma-separated numbers in [min, max]: struct option_list */
	OPT_NAMES, /* comma-separated subset of choices[]: bool[] by index */
	OPT_STRING, /* any text up to max characters: const char * */
};

/* OPT_LIST values; @word (e.g. "max"), when allowed, is stored as 0. */
struct option_list {
	unsigned long v[HARNESS_MAX_LIST];
	int n;
};

struct harness_option {
	const char *name; /* --name */
	enum harness_option_type type;
	void *value; /* where the parsed value goes; its default is there */
	unsigned long min, max; /* OPT_UINT, OPT_LIST */
	const char *const *choices; /* OPT_CHOICE, OPT_NAMES: NULL-terminated */
	const char *word; /* OPT_LIST: a word allowed besides numbers */
	const char *help;
};

/*
 * The KVM capabilities a program needs, as descriptor fields:
 * HARNESS_CAPS(KVM_CAP_IRQFD, KVM_CAP_SIGNAL_MSI); their names, for the
 * SKIP line, are the macro's text.
 */
#define HARNESS_CAPS(...)                                                \
	.caps = (const long[]){ __VA_ARGS__ },                           \
	.nr_caps = sizeof((const long[]){ __VA_ARGS__ }) / sizeof(long), \
	.cap_names = #__VA_ARGS__

/*
 * One KTAP result of the plan: what --list prints and --variant selects.
 * Its name is its records' variant too (or their prefix: "same" owns
 * "same.periodic"); tests/tap.py checks it for every program.
 */
struct harness_case {
	char name[96];
	const void *data; /* the program's, e.g. its variant */
	bool reported;
};

/* A verdict: its name (the record's value) and how KTAP reports it. */
struct verdict_kind {
	const char *name;
	enum ktap_result ktap;
};

/* The verdicts most programs judge by. */
extern const struct verdict_kind verdict_pass, verdict_fail,
	verdict_not_provoked;

struct harness;

struct test_descriptor {
	const char *name;
	const struct harness_option *options; /* { } ends it */
	/* KVM capabilities the program needs: HARNESS_CAPS(). */
	const long *caps;
	int nr_caps;
	const char *cap_names; /* "KVM_CAP_A, KVM_CAP_B" */
	unsigned long timeout; /* default watchdog seconds */
	/*
	 * --placement same-node|cross-node (lib/placement.h): h->a and h->b
	 * are the two groups, "node_placement" a param of every record; a
	 * placement this machine cannot give SKIPs every case with the
	 * reason.  Without it h->a is every usable CPU and h->b the same.
	 */
	bool placement;
	/*
	 * After parsing: checks across options (harness_bad_input()) and the
	 * cases (harness_add_case()), all of them; --variant filters them.
	 */
	void (*plan)(struct harness *h);
	/* After the checks, before the plan line: e.g. "too few CPUs". */
	const char *(*unmet)(struct harness *h);
	/* What follows the host facts in the first comment. */
	void (*describe)(struct harness *h, char *buf, size_t size);
	/*
	 * run_case: each selected case in plan order.  run: the whole plan,
	 * for programs that run several cases in one VM (harness_wanted()).
	 */
	void (*run_case)(struct harness *h, const struct harness_case *c);
	void (*run)(struct harness *h);
	watchdog_dump_fn dump;
};

struct harness {
	const struct test_descriptor *d;
	struct ktap k;
	struct results res;
	const char *filter;
	unsigned long timeout;
	struct harness_case *cases;
	int nr_cases, size_cases;
	const char *placement; /* --placement */
	struct placement_group a, b;
	char unplaced[320]; /* why the placement cannot be had, or "" */
	char topology[256]; /* placement_describe() */
};

/* The program's main(): returns the kselftest exit status. */
int harness_main(const struct test_descriptor *d, int argc, char *argv[]);
/*
 * A program's descriptor and main() in one: HARNESS_MAIN(.name = "x",
 * .options = options, HARNESS_CAPS(...), .run_case = run_case, ...).
 */
#define HARNESS_MAIN(...)                                                   \
	static const struct test_descriptor harness_test = { __VA_ARGS__ }; \
	int main(int argc, char *argv[])                                    \
	{                                                                   \
		return harness_main(&harness_test, argc, argv);             \
	}

/* Bad input: "NAME: what" on stderr, exit 2.  @fmt is printf's. */
void __attribute__((noreturn, format(printf, 2, 3)))
harness_bad_input(const struct harness *h, const char *fmt, ...);
/* Adds a case to the plan if --variant selects it (else NULL). */
struct harness_case *harness_add_case(struct harness *h, const void *data,
				      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Is the case @name in the plan (selected by --variant)? */
bool harness_wanted(const struct harness *h, const char *name);

/*
 * Pins @thread to @cpu or fails the program (TEST_ASSERT, with the CPU and
 * the error): a record never names a placement its thread did not get.
 */
void harness_pin(pthread_t thread, int cpu);

/* @variant: the case's name, which is its record's variant. */
void report_verdict(struct harness *h, const char *variant,
		    const struct verdict_kind *v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void report_control(struct harness *h, const char *variant, bool pass,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* @metric: the record's metric ("verdict" for a case that could not run). */
void report_skip(struct harness *h, const char *variant, const char *metric,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * A measured case of one text record (metric @metric, value @value): the
 * record, its reason the formatted text, and "ok" with that text.
 */
void report_text(struct harness *h, const char *variant, const char *metric,
		 const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/*
 * A measured case of one estimate (results_estimate()'s record) and "ok"
 * with the formatted text.
 */
void report_estimate(struct harness *h, const char *variant, const char *metric,
		     const char *unit, double value, double ci_low,
		     double ci_high, double ci_level, const char *method,
		     const char *fmt, ...)
	__attribute__((format(printf, 10, 11)));
/*
 * An optional metric the platform cannot give while the scenario ran: the
 * skip record (value null, the reason) and "ok # SKIP" (KTAP_SKIP_METRIC,
 * which does not make the run a skip).
 */
void report_skip_metric(struct harness *h, const char *variant,
			const char *metric, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * A verdict after which the program cannot go on (a vCPU left asleep):
 * reported, records kept, "Bail out!", exit 1.
 */
void __attribute__((noreturn, format(printf, 4, 5)))
report_bail_out(struct harness *h, const char *variant,
		const struct verdict_kind *v, const char *fmt, ...);
/*
 * Every case not reported yet SKIPs with the reason (metric "control" for a
 * name with the token "control", else "verdict").
 */
void report_skip_rest(struct harness *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A KTAP result only: the program wrote the case's records. */
void report_case(struct harness *h, enum ktap_result r, const char *name,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif

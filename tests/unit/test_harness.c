// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/harness: the command line (one line and exit 2 on bad input), --list
 * and --variant, run in a forked child as a program runs.  The KTAP plan
 * and the failure of a case never reported come after the harness's
 * /dev/kvm check (open and KVM_GET_API_VERSION, no VM): without a usable
 * /dev/kvm those checks SKIP, after checking that the whole run does.
 *
 * Linked without the selftests lib (no KVM): this file stands in for the
 * few of its functions that lib/harness.c calls.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"
#include "tests/unit/unit.h"

/* ---- the selftests lib, as far as lib/harness.c uses it ---- */

void test_assert(bool exp, const char *exp_str, const char *file,
		 unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (exp)
		return;
	fprintf(stderr, "assertion failed: %s:%u: %s: ", file, line, exp_str);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(254);
}

unsigned int kvm_check_cap(long cap)
{
	(void)cap;
	return 1;
}

bool compat_used_memory_region_v1(void)
{
	return false;
}

bool compat_clamped_va_bits(void)
{
	return false;
}

/* ---- a program ---- */

static const char *const source_names[] = { "ipi", "irqfd", "msi", NULL };
static const char *const mode_names[] = { "split", "kernel", NULL };

static unsigned long count = 1;
static struct option_list sizes = { { 2 }, 1 };
static bool source[3] = { true, true, true };
static const char *mode = "split";
/* run_case leaves this case unreported. */
static const char *unreported = "";

static const struct harness_option options[] = {
	{ "count", OPT_UINT, &count, 1, 10, .help = "a number" },
	{ "sizes", OPT_LIST, &sizes, 2, 64, .word = "max", .help = "numbers" },
	{ "sources", OPT_NAMES, source, .choices = source_names,
	  .help = "names" },
	{ "mode", OPT_CHOICE, &mode, .choices = mode_names, .help = "a name" },
	{}
};

/* "control", then "a.SOURCE" for every source selected. */
static void plan(struct harness *h)
{
	int s;

	harness_add_case(h, NULL, "control");
	for (s = 0; source_names[s]; s++)
		if (source[s])
			harness_add_case(h, NULL, "a.%s", source_names[s]);
}

static void run_case(struct harness *h, const struct harness_case *c)
{
	if (strcmp(c->name, unreported))
		report_verdict(h, c->name, &verdict_pass, "ran");
}

static const struct test_descriptor unit_test = {
	.name = "unit_harness",
	.options = options,
	.timeout = 60,
	.plan = plan,
	.run_case = run_case,
};

/* ---- running it ---- */

struct run {
	int rc; /* exit status, or -1 if it did not exit */
	char out[4096], err[4096];
	int err_lines;
};

static void slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* harness_main(ARGS...) in a child; NULL ends ARGS. */
static struct run *run(const char *arg, ...)
{
	static struct run r;
	FILE *out = tmpfile(), *err = tmpfile();
	char *argv[16] = { "unit_harness" };
	int argc = 1, status;
	const char *p;
	va_list ap;
	pid_t pid;

	va_start(ap, arg);
	for (p = arg; p && argc < 15; p = va_arg(ap, const char *))
		argv[argc++] = (char *)p;
	va_end(ap);
	memset(&r, 0, sizeof(r));
	r.rc = -1;
	if (!out || !err)
		return &r;
	fflush(stdout);
	pid = fork();
	if (!pid) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		exit(harness_main(&unit_test, argc, argv));
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		r.rc = WEXITSTATUS(status);
	slurp(out, r.out, sizeof(r.out));
	slurp(err, r.err, sizeof(r.err));
	for (p = r.err; *p; p++)
		r.err_lines += *p == '\n';
	return &r;
}

/* Bad input: exit 2, one line on stderr naming the program, no KTAP. */
static void bad(const char *what, const char *needle, const char *opt,
		const char *val)
{
	struct run *r = run(opt, val, NULL);

	CHECK(r->rc == 2 && r->err_lines == 1 && !r->out[0] &&
		      !strncmp(r->err, "unit_harness: ", 14) &&
		      strstr(r->err, needle),
	      "%s %s %s: exit 2, one line (rc %d, %d lines: %.*s)", what, opt,
	      val ? val : "", r->rc, r->err_lines, (int)strcspn(r->err, "\n"),
	      r->err);
}

static void test_bad_input(void)
{
	char many[128] = "2";
	int i;

	bad("OPT_UINT below its range", "bad --count '0' (1..10)", "--count",
	    "0");
	bad("OPT_UINT above its range", "bad --count '11' (1..10)", "--count",
	    "11");
	bad("OPT_UINT not a number", "bad --count '3x'", "--count", "3x");
	bad("OPT_UINT negative", "bad --count '-1'", "--count", "-1");
	bad("OPT_LIST below its range",
	    "bad --sizes '2,1' (N,N,... each 2..64 or max)", "--sizes", "2,1");
	bad("OPT_LIST above its range", "bad --sizes '65'", "--sizes", "65");
	bad("OPT_LIST not a number", "bad --sizes '2,x'", "--sizes", "2,x");
	for (i = 0; i < HARNESS_MAX_LIST; i++)
		strcat(many, ",2");
	bad("OPT_LIST too long", "bad --sizes", "--sizes", many);
	bad("OPT_NAMES unknown name",
	    "bad --sources 'ipi,bogus' (comma-separated: ipi, irqfd, msi)",
	    "--sources", "ipi,bogus");
	bad("OPT_CHOICE unknown name", "bad --mode 'bogus' (split, kernel)",
	    "--mode", "bogus");
	bad("unknown option", "bad option '--bogus'", "--bogus", NULL);
	bad("--variant matching nothing", "no case matches 'nothing'",
	    "--variant", "nothing");
}

static void test_list(void)
{
	struct run *r = run("--list", NULL);

	CHECK(r->rc == 0 && !strcmp(r->out, "control\na.ipi\na.irqfd\na.msi\n"),
	      "--list prints the plan, in order (rc %d)", r->rc);
	r = run("--list", "--sources", "msi,ipi", NULL);
	CHECK(r->rc == 0 && !strcmp(r->out, "control\na.ipi\na.msi\n"),
	      "--list: the plan from the options (OPT_NAMES)");
	r = run("--list", "--variant", "irqfd", NULL);
	CHECK(r->rc == 0 && !strcmp(r->out, "a.irqfd\n"),
	      "--list --variant irqfd: that case alone");
	r = run("--variant", "control,msi", "--list", NULL);
	CHECK(r->rc == 0 && !strcmp(r->out, "control\na.msi\n"),
	      "--variant control,msi: either substring selects");
}

/* How many lines of @text start with @prefix. */
static int count_lines(const char *text, const char *prefix)
{
	const char *p;
	int n = 0;

	for (p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

static void skip(const char *what, const char *why)
{
	printf("ok %d %s # SKIP %s\n", ++unit_number, what, why);
}

static void test_runs(void)
{
	char dir[] = "/tmp/test_harness.XXXXXX", path[64];
	struct run *r;
	FILE *f;
	int records = 0, c;

	if (!mkdtemp(dir)) {
		CHECK(false, "a results folder");
		return;
	}
	setenv("IRQBENCH_RESULTS_DIR", dir, 1);
	r = run("--variant", "a.", NULL);
	if (strstr(r->out, "1..0 # SKIP")) {
		CHECK(r->rc == 4 && count_lines(r->out, "1..") == 1 &&
			      strstr(r->out, "/dev/kvm"),
		      "no usable /dev/kvm: the whole run SKIPs with the reason (exit 4)");
		skip("KTAP plan is the number of cases selected",
		     "no usable /dev/kvm");
		skip("a case never reported fails the run",
		     "no usable /dev/kvm");
		goto out;
	}
	CHECK(r->rc == 0 && count_lines(r->out, "1..3\n") == 1 &&
		      count_lines(r->out, "ok ") == 3 &&
		      strstr(r->out, "ok 1 a.ipi # pass: ran\n"),
	      "--variant a.: KTAP plan 1..3, three results, exit 0 (rc %d)",
	      r->rc);
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	f = fopen(path, "r");
	while (f && (c = fgetc(f)) != EOF)
		records += c == '\n';
	if (f)
		fclose(f);
	CHECK(records == 3, "one record per case reported (%d)", records);

	r = run("--sources", "irqfd", NULL);
	CHECK(r->rc == 0 && count_lines(r->out, "1..2\n") == 1 &&
		      count_lines(r->out, "ok ") == 2,
	      "--sources irqfd: KTAP plan 1..2 (control, a.irqfd)");

	unreported = "a.irqfd";
	r = run(NULL);
	unreported = "";
	CHECK(r->rc == 1 && count_lines(r->out, "1..4\n") == 1 &&
		      strstr(r->out,
			     "not ok 4 a.irqfd # not reported by the program\n") &&
		      count_lines(r->out, "ok ") == 3,
	      "a case never reported: not ok by name, the run fails (rc %d)",
	      r->rc);
out:
	unsetenv("IRQBENCH_RESULTS_DIR");
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_bad_input();
	test_list();
	test_runs();
	return unit_exit();
}

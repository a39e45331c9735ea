// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kvm_util.h"

#include "lib/harness.h"
#include "lib/kvm_compat.h"
#include "lib/options.h"

#define MAX_OPTIONS 24

/* Options every program has, after its own. */
enum { H_VARIANT = 1000, H_TIMEOUT, H_LIST, H_HELP, H_PLACEMENT };

static const struct harness_option placement_option = {
	"placement", OPT_CHOICE, NULL, .choices = placement_names,
	.help = "NUMA nodes of the two thread groups"
};

void harness_bad_input(const struct harness *h, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", h->d->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void print_choices(FILE *f, const char *const *choices, const char *sep)
{
	int i;

	for (i = 0; choices[i]; i++)
		fprintf(f, "%s%s", i ? sep : "", choices[i]);
}

/* "(1..100)", "(split, kernel or all)": what a value may be. */
static void option_range(const struct harness_option *o, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");

	if (!f) {
		snprintf(buf, size, "?");
		return;
	}
	switch (o->type) {
	case OPT_UINT:
		fprintf(f, "%lu..%lu", o->min, o->max);
		break;
	case OPT_LIST:
		fprintf(f, "N,N,... each %lu..%lu%s%s", o->min, o->max,
			o->word ? " or " : "", o->word ? o->word : "");
		break;
	case OPT_CHOICE:
		print_choices(f, o->choices, ", ");
		break;
	case OPT_NAMES:
		fputs("comma-separated: ", f);
		print_choices(f, o->choices, ", ");
		break;
	case OPT_STRING:
		fprintf(f, "up to %lu characters", o->max);
		break;
	}
	fclose(f);
}

static void __attribute__((noreturn))
bad_value(const struct harness *h, const struct harness_option *o,
	  const char *arg)
{
	char range[192];

	option_range(o, range, sizeof(range));
	harness_bad_input(h, "bad --%s '%s' (%s)", o->name, arg, range);
}

static bool parse_number(const char *s, unsigned long min, unsigned long max,
			 unsigned long *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 0);
	return !*end && !errno && *out >= min && *out <= max;
}

static void parse_list(const struct harness *h, const struct harness_option *o,
		       const char *arg)
{
	struct option_list *l = o->value;
	char copy[256], *tok, *save;

	if (strlen(arg) >= sizeof(copy))
		bad_value(h, o, arg);
	strcpy(copy, arg);
	l->n = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (l->n == HARNESS_MAX_LIST)
			bad_value(h, o, arg);
		if (o->word && !strcmp(tok, o->word))
			l->v[l->n++] = 0;
		else if (!parse_number(tok, o->min, o->max, &l->v[l->n++]))
			bad_value(h, o, arg);
	}
	if (!l->n)
		bad_value(h, o, arg);
}

static void parse_names(const struct harness *h, const struct harness_option *o,
			const char *arg)
{
	bool *on = o->value;
	char copy[256], *tok, *save;
	int i, nr;

	for (nr = 0; o->choices[nr]; nr++)
		;
	if (strlen(arg) >= sizeof(copy))
		bad_value(h, o, arg);
	strcpy(copy, arg);
	memset(on, 0, nr * sizeof(*on));
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < nr && strcmp(tok, o->choices[i]); i++)
			;
		if (i == nr)
			bad_value(h, o, arg);
		on[i] = true;
	}
	for (i = 0; i < nr && !on[i]; i++)
		;
	if (i == nr)
		bad_value(h, o, arg);
}

static void parse_value(const struct harness *h, const struct harness_option *o,
			const char *arg)
{
	int i;

	switch (o->type) {
	case OPT_UINT:
		if (!parse_number(arg, o->min, o->max, o->value))
			bad_value(h, o, arg);
		break;
	case OPT_CHOICE:
		for (i = 0; o->choices[i] && strcmp(arg, o->choices[i]); i++)
			;
		if (!o->choices[i])
			bad_value(h, o, arg);
		*(const char **)o->value = o->choices[i];
		break;
	case OPT_LIST:
		parse_list(h, o, arg);
		break;
	case OPT_NAMES:
		parse_names(h, o, arg);
		break;
	case OPT_STRING:
		if (!*arg || strlen(arg) > o->max)
			bad_value(h, o, arg);
		*(const char **)o->value = arg;
		break;
	}
}

static void usage(const struct harness *h)
{
	const struct harness_option *o;
	char range[192];

	printf("usage: %s [OPTION...]\n", h->d->name);
	for (o = h->d->options; o && o->name; o++) {
		char flag[64];

		option_range(o, range, sizeof(range));
		snprintf(flag, sizeof(flag), "%s %s", o->name,
			 o->type == OPT_UINT   ? "N" :
			 o->type == OPT_LIST   ? "LIST" :
			 o->type == OPT_STRING ? "TEXT" :
						 "NAME");
		printf("  --%-20s %s (%s)\n", flag, o->help, range);
	}
	if (h->d->placement) {
		option_range(&placement_option, range, sizeof(range));
		printf("  --%-20s %s (%s; default %s)\n", "placement NAME",
		       placement_option.help, range, placement_names[0]);
	}
	printf("  --%-20s %s\n", "variant SUBSTR,...",
	       "run only the cases whose name contains one of them");
	printf("  --%-20s %s (default %lu)\n", "timeout SECONDS",
	       "watchdog: fail after this long", h->d->timeout);
	printf("  --%-20s %s\n", "list", "print the cases and exit");
}

static void parse(struct harness *h, int argc, char *argv[], bool *list)
{
	const struct harness_option timeout = {
		"timeout", OPT_UINT, &h->timeout, 1, 86400, .help = "seconds"
	};
	struct harness_option placement = placement_option;
	struct option opts[MAX_OPTIONS + 6] = {};
	const struct harness_option *o = h->d->options;
	int n = 0, opt;

	for (; o && o->name; o++, n++) {
		TEST_ASSERT(n < MAX_OPTIONS, "too many options");
		opts[n] =
			(struct option){ o->name, required_argument, NULL, n };
	}
	opts[n++] = (struct option){ "variant", required_argument, NULL,
				     H_VARIANT };
	opts[n++] = (struct option){ "timeout", required_argument, NULL,
				     H_TIMEOUT };
	opts[n++] = (struct option){ "list", no_argument, NULL, H_LIST };
	opts[n++] = (struct option){ "help", no_argument, NULL, H_HELP };
	if (h->d->placement)
		opts[n++] = (struct option){ "placement", required_argument,
					     NULL, H_PLACEMENT };

	placement.value = &h->placement;
	opterr = 0; /* harness_bad_input() says it, in one line */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case H_VARIANT:
			h->filter = optarg;
			break;
		case H_TIMEOUT:
			parse_value(h, &timeout, optarg);
			break;
		case H_LIST:
			*list = true;
			break;
		case H_PLACEMENT:
			parse_value(h, &placement, optarg);
			break;
		case H_HELP:
			usage(h);
			exit(0);
		case '?':
		case ':':
			harness_bad_input(h, "bad option '%s' (see --help)",
					  argv[optind - 1]);
		default:
			parse_value(h, &h->d->options[opt], optarg);
		}
	}
	if (optind < argc)
		harness_bad_input(h, "unexpected argument '%s'", argv[optind]);
}

struct harness_case *harness_add_case(struct harness *h, const void *data,
				      const char *fmt, ...)
{
	struct harness_case *c;
	va_list ap;

	if (h->nr_cases == h->size_cases) {
		h->size_cases = h->size_cases ? 2 * h->size_cases : 32;
		h->cases = realloc(h->cases, h->size_cases * sizeof(*h->cases));
		TEST_ASSERT(h->cases, "out of memory");
	}
	c = &h->cases[h->nr_cases];
	memset(c, 0, sizeof(*c));
	c->data = data;
	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	if (!option_variant_selected(c->name, h->filter))
		return NULL;
	return &h->cases[h->nr_cases++];
}

static struct harness_case *find_case(const struct harness *h, const char *name)
{
	int i;

	for (i = 0; i < h->nr_cases; i++)
		if (!strcmp(h->cases[i].name, name))
			return &h->cases[i];
	return NULL;
}

bool harness_wanted(const struct harness *h, const char *name)
{
	return find_case(h, name) != NULL;
}

/* The whole program skips: "1..0 # SKIP reason", exit 4 (kselftest). */
static int __attribute__((format(printf, 2, 3)))
skip_all(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	printf("TAP version 13\n1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	(void)h;
	return 4;
}

/* NULL if /dev/kvm is a KVM device this process can use, else why not. */
static const char *kvm_unusable(char *why, size_t size)
{
	int fd = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC), version;

	if (fd < 0) {
		snprintf(why, size, "%s: %s", KVM_DEV_PATH, strerror(errno));
		return why;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (version != KVM_API_VERSION) {
		snprintf(
			why, size,
			"%s is not a usable KVM device (KVM_GET_API_VERSION: %s)",
			KVM_DEV_PATH,
			version < 0 ? strerror(errno) : "unexpected version");
		return why;
	}
	return NULL;
}

/* The topology, then the two groups of --placement, or why not. */
static void place(struct harness *h)
{
	static struct placement_topology topo;

	placement_topology(&topo);
	placement_describe(&topo, h->topology, sizeof(h->topology));
	if (!h->d->placement) {
		placement_all(&topo, &h->a);
		h->b = h->a;
		return;
	}
	placement_choose(&topo, h->placement, &h->a, &h->b, h->unplaced,
			 sizeof(h->unplaced));
}

static void host_line(struct harness *h)
{
	const struct host_facts *f = &h->res.host;
	char tail[320] = "";

	if (h->d->describe)
		h->d->describe(h, tail, sizeof(tail));
	ktap_comment(&h->k, "host kernel %s, %s%s, KVM module %s, APICv %s%s%s",
		     f->kernel, f->cpu, f->under_tcg ? " (QEMU TCG)" : "",
		     f->kvm_module, f->apicv ? "on" : "off",
		     tail[0] ? "; " : "", tail);
}

/* The @i-th name of "KVM_CAP_A, KVM_CAP_B" (HARNESS_CAPS()'s text). */
static const char *cap_name(const char *names, int i, char *buf, size_t size)
{
	size_t len;

	while (i-- && names)
		names = strchr(names, ',') ? strchr(names, ',') + 1 : NULL;
	if (!names)
		return "a capability";
	names += strspn(names, " \t\n");
	len = strcspn(names, ", \t\n");
	snprintf(buf, size, "%.*s", (int)len, names);
	return buf;
}

int harness_main(const struct test_descriptor *d, int argc, char *argv[])
{
	struct harness h = { .d = d,
			     .timeout = d->timeout,
			     .placement = placement_names[0] };
	const char *why;
	char buf[256];
	bool list = false;
	int i;

	parse(&h, argc, argv, &list);
	d->plan(&h);
	if (!h.nr_cases)
		harness_bad_input(&h, "no case matches '%s'",
				  h.filter ? h.filter : "");
	if (list) {
		for (i = 0; i < h.nr_cases; i++)
			printf("%s\n", h.cases[i].name);
		return 0;
	}

	why = kvm_unusable(buf, sizeof(buf));
	if (why)
		return skip_all(&h, "%s", why);
	for (i = 0; i < d->nr_caps; i++)
		if (!kvm_has_cap(d->caps[i]))
			return skip_all(&h, "this KVM lacks %s",
					cap_name(d->cap_names, i, buf,
						 sizeof(buf)));
	place(&h);
	why = d->unmet ? d->unmet(&h) : NULL;
	if (why)
		return skip_all(&h, "%s", why);

	watchdog_arm(h.timeout, d->dump);
	results_open(&h.res, d->name, NULL);
	ktap_init(&h.k, stdout, h.nr_cases);
	if (d->placement)
		results_base_params(&h.res, "node_placement=%s", h.placement);
	host_line(&h);
	if (d->placement && !h.unplaced[0])
		ktap_comment(&h.k,
			     "placement %s: A on node %d, B on node %d; %s",
			     h.placement, h.a.node, h.b.node, h.topology);
	if (h.unplaced[0])
		report_skip_rest(&h, "%s", h.unplaced);
	else if (d->run)
		d->run(&h);
	else
		for (i = 0; i < h.nr_cases; i++)
			d->run_case(&h, &h.cases[i]);
	/* The plan is the table: a case never reported fails, by name. */
	for (i = 0; i < h.nr_cases; i++)
		if (!h.cases[i].reported)
			report_case(&h, KTAP_FAIL, h.cases[i].name,
				    "not reported by the program");
	if (compat_used_memory_region_v1())
		ktap_comment(
			&h.k,
			"kernel lacks KVM_SET_USER_MEMORY_REGION2: used the pre-6.8 ioctl");
	if (compat_clamped_va_bits())
		ktap_comment(
			&h.k,
			"KVM advertises LA57 but refuses CR4.LA57: the guest got 48-bit addresses");
	results_close(&h.res);
	return ktap_exit_code(&h.k);
}

void harness_pin(pthread_t thread, int cpu)
{
	int r = placement_pin(thread, cpu);

	if (r)
		errno = -r; /* TEST_ASSERT prints errno */
	TEST_ASSERT(!r, "cannot pin a thread to CPU %d: %s", cpu, strerror(-r));
}

/* ---- reporting ---------------------------------------------------------------- */

const struct verdict_kind verdict_pass = { "pass", KTAP_PASS };
const struct verdict_kind verdict_fail = { "fail", KTAP_FAIL };
/* The precondition failed: nothing judged, never a pass. */
const struct verdict_kind verdict_not_provoked = { "not-provoked", KTAP_SKIP };

/* The case @name, which must be in the plan and not reported yet. */
static struct harness_case *claim(struct harness *h, const char *name)
{
	struct harness_case *c = find_case(h, name);

	TEST_ASSERT(c, "%s: result '%s' is not in the plan", h->d->name, name);
	TEST_ASSERT(!c->reported, "%s: '%s' reported twice", h->d->name, name);
	c->reported = true;
	return c;
}

#define FORMAT(buf, fmt)                              \
	do {                                          \
		va_list ap;                           \
		va_start(ap, fmt);                    \
		vsnprintf(buf, sizeof(buf), fmt, ap); \
		va_end(ap);                           \
	} while (0)

void report_verdict(struct harness *h, const char *variant,
		    const struct verdict_kind *v, const char *fmt, ...)
{
	char reason[400], text[480];

	struct harness_case *c = claim(h, variant);

	FORMAT(reason, fmt);
	results_text(&h->res, c->name, "verdict", v->name, reason);
	snprintf(text, sizeof(text), "%s: %s", v->name, reason);
	ktap_result(&h->k, v->ktap, c->name, "%s", text);
}

void report_control(struct harness *h, const char *variant, bool pass,
		    const char *fmt, ...)
{
	char reason[400], text[480];

	struct harness_case *c = claim(h, variant);

	FORMAT(reason, fmt);
	results_text(&h->res, c->name, "control", pass ? "pass" : "fail",
		     reason);
	snprintf(text, sizeof(text), "control %s: %s", pass ? "pass" : "fail",
		 reason);
	ktap_result(&h->k, pass ? KTAP_PASS : KTAP_FAIL, c->name, "%s", text);
}

void report_skip(struct harness *h, const char *variant, const char *metric,
		 const char *fmt, ...)
{
	struct harness_case *c = claim(h, variant);
	char reason[400];

	FORMAT(reason, fmt);
	results_skip(&h->res, c->name, metric, reason);
	ktap_result(&h->k, KTAP_SKIP, c->name, "%s", reason);
}

void report_text(struct harness *h, const char *variant, const char *metric,
		 const char *value, const char *fmt, ...)
{
	struct harness_case *c = claim(h, variant);
	char text[480];

	FORMAT(text, fmt);
	results_text(&h->res, c->name, metric, value, text);
	ktap_result(&h->k, KTAP_PASS, c->name, "%s", text);
}

void report_estimate(struct harness *h, const char *variant, const char *metric,
		     const char *unit, double value, double ci_low,
		     double ci_high, double ci_level, const char *method,
		     const char *fmt, ...)
{
	struct harness_case *c = claim(h, variant);
	char text[480];

	FORMAT(text, fmt);
	results_estimate(&h->res, c->name, metric, unit, value, ci_low, ci_high,
			 ci_level, method);
	ktap_result(&h->k, KTAP_PASS, c->name, "%s", text);
}

void report_skip_metric(struct harness *h, const char *variant,
			const char *metric, const char *fmt, ...)
{
	struct harness_case *c = claim(h, variant);
	char reason[400];

	FORMAT(reason, fmt);
	results_skip(&h->res, c->name, metric, reason);
	ktap_result(&h->k, KTAP_SKIP_METRIC, c->name, "%s", reason);
}

/* Has @name the token "control" ("control", "split.control.msi")? */
static bool is_control(const char *name)
{
	const char *at;

	for (at = strstr(name, "control"); at; at = strstr(at + 1, "control"))
		if ((at == name || at[-1] == '.') && (!at[7] || at[7] == '.'))
			return true;
	return false;
}

void report_skip_rest(struct harness *h, const char *fmt, ...)
{
	char reason[400];
	int i;

	FORMAT(reason, fmt);
	for (i = 0; i < h->nr_cases; i++) {
		const char *name = h->cases[i].name;

		if (h->cases[i].reported)
			continue;
		report_skip(h, name, is_control(name) ? "control" : "verdict",
			    "%s", reason);
	}
}

void report_bail_out(struct harness *h, const char *variant,
		     const struct verdict_kind *v, const char *fmt, ...)
{
	char reason[400];

	FORMAT(reason, fmt);
	report_verdict(h, variant, v, "%s", reason);
	results_close(&h->res);
	printf("Bail out! %s: %s\n", variant, v->name);
	fflush(stdout);
	_exit(1);
}

void report_case(struct harness *h, enum ktap_result r, const char *name,
		 const char *fmt, ...)
{
	struct harness_case *c = claim(h, name);
	char text[480];

	FORMAT(text, fmt);
	ktap_result(&h->k, r, c->name, "%s", text);
}

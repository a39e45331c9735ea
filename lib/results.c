// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/results.h"
#include "lib/stats.h"

void results_open(struct results *r, const char *test, const char *dir)
{
	const char *tc = getenv("IRQBENCH_TIMING_COMPARABLE");

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->test = test;
	r->timing_comparable = !(tc && !strcmp(tc, "0"));
	host_facts_read(&r->host);
	if (!dir)
		dir = getenv("IRQBENCH_RESULTS_DIR");
	if (!dir || !*dir)
		return;
	snprintf(r->path, sizeof(r->path), "%s/results.jsonl", dir);
	r->fd = open(r->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (r->fd < 0)
		results_lost(r, "cannot open", errno);
}

void results_lost(struct results *r, const char *what, int err)
{
	const char *full =
		err == ENOSPC || err == EDQUOT ? "results folder full: " : "";

	/* KTAP's word for an abort, then the one line the runner shows. */
	printf("Bail out! %s%s %s: %s\n", full, what, r->path, strerror(err));
	fflush(stdout);
	fprintf(stderr, "irqbench: %s%s %s: %s\n", full, what, r->path,
		strerror(err));
	exit(1);
}

void results_close(struct results *r)
{
	if (r->fd >= 0 && close(r->fd))
		results_lost(r, "closing", errno);
	r->fd = -1;
}

void results_params(struct results *r, const char *fmt, ...)
{
	va_list ap;

	r->params[0] = '\0';
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(r->params, sizeof(r->params), fmt, ap);
	va_end(ap);
}

void results_base_params(struct results *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->base_params, sizeof(r->base_params), fmt, ap);
	va_end(ap);
}

static void record_params(struct results *r, struct json *j)
{
	char copy[sizeof(r->base_params) + sizeof(r->params)];
	char *save, *kv, *val, *end;
	double num;

	snprintf(copy, sizeof(copy), "%s %s", r->base_params, r->params);
	json_begin(j, "params");
	for (kv = strtok_r(copy, " ", &save); kv;
	     kv = strtok_r(NULL, " ", &save)) {
		val = strchr(kv, '=');
		if (!val)
			continue;
		*val++ = '\0';
		num = strtod(val, &end);
		if (*val && !*end)
			json_num(j, kv, num);
		else
			json_str(j, kv, val);
	}
	json_end(j);
}

static void record_begin(struct results *r, struct json *j, const char *variant,
			 const char *metric, const char *unit)
{
	json_begin(j, NULL);
	json_str(j, "test", r->test);
	json_str(j, "variant", variant);
	json_str(j, "metric", metric);
	json_str(j, "unit", unit);
	json_int(j, "time", (long long)time(NULL));
	if (r->params[0] || r->base_params[0])
		record_params(r, j);
}

/* Host facts close every record: a record is read without meta.json. */
static void record_end(struct results *r, struct json *j)
{
	json_str(j, "kernel", r->host.kernel);
	json_begin(j, "host");
	json_str(j, "cpu", r->host.cpu);
	json_str(j, "kvm_module", r->host.kvm_module);
	json_bool(j, "apicv", r->host.apicv);
	json_bool(j, "timing_comparable", r->timing_comparable);
	json_end(j);
	json_end(j);
}

/*
 * One write() per line: O_APPEND keeps lines whole.  A record that cannot
 * be written whole loses the test's results, so the test fails at once
 * (results_lost()); a short write's partial line is cut off again first, so
 * that every line of results.jsonl stays a whole record.
 */
static void record_write(struct results *r, struct json *j, const char *metric)
{
	const char *text = json_text(j);
	size_t len, done = 0;
	struct stat st;
	char what[128];
	ssize_t n;
	int err = 0;

	if (!text) {
		snprintf(what, sizeof(what), "record for %s too large for",
			 metric);
		results_lost(r, what, EMSGSIZE);
	}
	if (r->fd < 0)
		return;
	len = strlen(text);
	j->buf[len] = '\n';
	if (fstat(r->fd, &st))
		st.st_size = -1;
	while (done < len + 1) {
		n = write(r->fd, text + done, len + 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A write that stores nothing and sets no errno. */
			err = n < 0 ? errno : ENOSPC;
			break;
		}
		done += n;
	}
	j->buf[len] = '\0';
	if (!err)
		return;
	if (done && st.st_size >= 0 && ftruncate(r->fd, st.st_size))
		fprintf(stderr,
			"irqbench: cannot cut the partial record off %s: %s\n",
			r->path, strerror(errno));
	snprintf(what, sizeof(what), "cannot write the %s record to", metric);
	results_lost(r, what, err);
}

/* A record without samples: begun in @rec, its fields next, then closed. */
struct small_record {
	struct json j;
	char buf[2048];
};

static struct json *small_begin(struct results *r, struct small_record *rec,
				const char *variant, const char *metric,
				const char *unit)
{
	json_init(&rec->j, rec->buf, sizeof(rec->buf) - 1);
	record_begin(r, &rec->j, variant, metric, unit);
	return &rec->j;
}

static void record_close(struct results *r, struct json *j, const char *metric)
{
	record_end(r, j);
	record_write(r, j, metric);
}

void results_count(struct results *r, const char *variant, const char *metric,
		   const char *unit, long long value)
{
	struct small_record rec;

	json_int(small_begin(r, &rec, variant, metric, unit), "value", value);
	record_close(r, &rec.j, metric);
}

void results_count_or_skip(struct results *r, const char *variant,
			   const char *metric, bool ok, long long value,
			   const char *why)
{
	if (ok)
		results_count(r, variant, metric, "count", value);
	else
		results_skip(r, variant, metric, why);
}

void results_samples(struct results *r, const char *variant, const char *metric,
		     const char *unit, double *samples, size_t n)
{
	/* Room for the summary and host, and each sample as %.9g plus a comma. */
	size_t size = 4096 + n * 20;
	struct summary s;
	struct json j;
	char *buf;
	size_t i;

	buf = malloc(size);
	if (!buf)
		results_lost(r, "no memory for a samples record for", ENOMEM);
	summarize(samples, n, &s);
	json_init(&j, buf, size - 1);
	record_begin(r, &j, variant, metric, unit);
	json_begin(&j, "summary");
	json_int(&j, "n", s.n);
	json_num(&j, "min", s.min);
	json_num(&j, "p50", s.p50);
	json_num(&j, "p90", s.p90);
	json_num(&j, "p99", s.p99);
	json_num(&j, "max", s.max);
	json_num(&j, "mean", s.mean);
	json_num(&j, "stddev", s.stddev);
	json_end(&j);
	json_begin_array(&j, "samples");
	for (i = 0; i < n; i++)
		json_num(&j, NULL, samples[i]);
	json_end_array(&j);
	record_close(r, &j, metric);
	free(buf);
}

/* A text value (NULL: null, a skip) and why, under @why_key. */
static void text_record(struct results *r, const char *variant,
			const char *metric, const char *value,
			const char *why_key, const char *why)
{
	struct small_record rec;
	struct json *j = small_begin(r, &rec, variant, metric, NULL);

	json_str(j, "value", value);
	json_str(j, why_key, why);
	record_close(r, j, metric);
}

void results_text(struct results *r, const char *variant, const char *metric,
		  const char *value, const char *reason)
{
	text_record(r, variant, metric, value, "reason", reason);
}

void results_skip(struct results *r, const char *variant, const char *metric,
		  const char *reason)
{
	text_record(r, variant, metric, NULL, "skipped", reason);
}

void results_estimate(struct results *r, const char *variant,
		      const char *metric, const char *unit, double value,
		      double ci_low, double ci_high, double ci_level,
		      const char *method)
{
	struct small_record rec;
	struct json *j = small_begin(r, &rec, variant, metric, unit);

	json_num(j, "value", value);
	json_num(j, "ci_low", ci_low);
	json_num(j, "ci_high", ci_high);
	json_num(j, "ci_level", ci_level);
	json_str(j, "method", method);
	record_close(r, j, metric);
}

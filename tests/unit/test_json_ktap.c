// SPDX-License-Identifier: GPL-2.0-only
/* The JSON record, results record and KTAP writers. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "lib/json.h"
#include "lib/ktap.h"
#include "lib/results.h"
#include "tests/unit/unit.h"

static void test_json(void)
{
	char buf[256];
	struct json j;

	json_init(&j, buf, sizeof(buf));
	json_begin(&j, NULL);
	json_str(&j, "s", "a\"b\\c\n\x01");
	json_int(&j, "i", -42);
	json_num(&j, "nan", 0.0 / 0.0);
	json_begin(&j, "o");
	json_bool(&j, "t", true);
	json_str(&j, "n", NULL); /* null */
	json_end(&j);
	json_begin_array(&j, "a");
	json_int(&j, NULL, 1);
	json_int(&j, NULL, 2);
	json_end_array(&j);
	json_end(&j);
	CHECK(json_text(&j) &&
		      !strcmp(json_text(&j),
			      "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"i\":-42,\"nan\":null,"
			      "\"o\":{\"t\":true,\"n\":null},\"a\":[1,2]}"),
	      "json: escaping, nesting, NaN as null (%s)", buf);

	json_init(&j, buf, 8);
	json_begin(&j, NULL);
	json_str(&j, "key", "a long value");
	json_end(&j);
	CHECK(json_text(&j) == NULL,
	      "json: overflow is reported, not truncated");
}

static char *ktap_run(unsigned int planned, const enum ktap_result *r, int n,
		      int *code)
{
	static char text[1024];
	FILE *f = fmemopen(text, sizeof(text), "w");
	struct ktap k;
	int i;

	ktap_init(&k, f, planned);
	for (i = 0; i < n; i++)
		ktap_result(&k, r[i], "t", r[i] == KTAP_PASS ? NULL : "why %d",
			    i);
	*code = ktap_exit_code(&k);
	fclose(f);
	return text;
}

static void test_ktap(void)
{
	const enum ktap_result all[] = { KTAP_PASS, KTAP_SKIP, KTAP_TODO,
					 KTAP_FAIL };
	const enum ktap_result pass_todo[] = { KTAP_PASS, KTAP_TODO };
	const enum ktap_result pass_skip[] = { KTAP_PASS, KTAP_SKIP };
	const enum ktap_result pass_metric[] = { KTAP_PASS, KTAP_SKIP_METRIC };
	char *text;
	int code;

	text = ktap_run(4, all, 4, &code);
	CHECK(!strcmp(text,
		      "TAP version 13\n1..4\nok 1 t\nok 2 t # SKIP why 1\n"
		      "not ok 3 t # TODO why 2\nnot ok 4 t # why 3\n"),
	      "ktap: the four results are distinct lines");
	CHECK(code == 1, "ktap: a failure fails the program (exit %d)", code);
	ktap_run(2, pass_todo, 2, &code);
	CHECK(code == 0, "ktap: TODO (known unfixed) does not fail (exit %d)",
	      code);
	ktap_run(2, pass_skip, 2, &code);
	CHECK(code == 4, "ktap: a skip is never a pass (exit %d)", code);
	text = ktap_run(2, pass_metric, 2, &code);
	CHECK(code == 0 && strstr(text, "ok 2 t # SKIP why 1\n"),
	      "ktap: an optional metric's SKIP is shown, the scenario passes (exit %d)",
	      code);
	ktap_run(3, pass_todo, 2, &code);
	CHECK(code == 1, "ktap: fewer results than planned fails (exit %d)",
	      code);
}

/* A sample record keeps its raw samples and the params set before it. */
static void test_results_record(void)
{
	char dir[] = "/tmp/irqbench-unit-XXXXXX", path[64], line[8192];
	double samples[] = { 3, 1, 2 };
	struct results r;
	FILE *f;
	bool got;

	if (!mkdtemp(dir)) {
		CHECK(false, "results: mkdtemp");
		return;
	}
	results_open(&r, "unit", dir);
	results_params(&r, "vcpus=%d source=%s", 64, "ipi");
	results_samples(&r, "v", "latency", "ns", samples, 3);
	results_params(&r, NULL);
	results_count(&r, "v", "count", "events", 7);
	results_close(&r);

	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	f = fopen(path, "r");
	got = f && fgets(line, sizeof(line), f);
	CHECK(got &&
		      strstr(line,
			     "\"params\":{\"vcpus\":64,\"source\":\"ipi\"}") &&
		      strstr(line, "\"samples\":[1,2,3]") &&
		      strstr(line, "\"p50\":2"),
	      "results: samples record has params, raw samples, summary");
	got = f && fgets(line, sizeof(line), f);
	CHECK(got && strstr(line, "\"value\":7") && !strstr(line, "params"),
	      "results: cleared params are not written");
	if (f)
		fclose(f);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_json();
	test_results_record();
	test_ktap();
	return unit_exit();
}

// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <string.h>

#include "lib/ktap.h"

void ktap_init(struct ktap *k, FILE *out, unsigned int planned)
{
	memset(k, 0, sizeof(*k));
	k->out = out;
	k->planned = planned;
	fprintf(out, "TAP version 13\n1..%u\n", planned);
	fflush(out);
}

void ktap_comment(struct ktap *k, const char *fmt, ...)
{
	va_list ap;

	fputs("# ", k->out);
	va_start(ap, fmt);
	vfprintf(k->out, fmt, ap);
	va_end(ap);
	fputc('\n', k->out);
	fflush(k->out);
}

void ktap_result(struct ktap *k, enum ktap_result r, const char *name,
		 const char *fmt, ...)
{
	static const char *const directive[] = { "", "", "SKIP ", "TODO ",
						 "SKIP " };
	char text[512] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
	}
	k->counts[r]++;

	fprintf(k->out, "%s %u %s",
		r == KTAP_FAIL || r == KTAP_TODO ? "not ok" : "ok", ++k->number,
		name);
	if (text[0] || directive[r][0])
		fprintf(k->out, " # %s%s", directive[r], text);
	fputc('\n', k->out);
	fflush(k->out);
}

int ktap_exit_code(const struct ktap *k)
{
	if (k->counts[KTAP_FAIL] || k->number != k->planned)
		return 1;
	if (k->counts[KTAP_SKIP])
		return 4;
	return 0;
}

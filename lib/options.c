// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/options.h"

void option_error(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

unsigned long option_number(const char *prog, const char *arg, const char *what,
			    unsigned long min, unsigned long max)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 0);

	if (*end || !*arg || *arg == '-' || n < min || n > max)
		option_error(prog, what, arg);
	return n;
}

bool option_variant_selected(const char *name, const char *filter)
{
	char copy[256], *save, *part;

	if (!filter)
		return true;
	snprintf(copy, sizeof(copy), "%s", filter);
	for (part = strtok_r(copy, ",", &save); part;
	     part = strtok_r(NULL, ",", &save))
		if (strstr(name, part))
			return true;
	return false;
}

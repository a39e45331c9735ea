// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>

#include "lib/options.h"

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

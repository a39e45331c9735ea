/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The --variant filter (lib/harness.c): which cases a run selects.  The
 * command line itself is the harness's (bad input: harness_bad_input()).
 */
#ifndef IRQBENCH_OPTIONS_H
#define IRQBENCH_OPTIONS_H

#include <stdbool.h>

/* Does variant @name match @filter (comma-separated substrings; NULL: all)? */
bool option_variant_selected(const char *name, const char *filter);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Command-line helpers every test program shares.  Bad input gets one line
 * on stderr ("PROG: what was wrong") and exit status 2, as run.sh and the
 * kernel runner expect.
 */
#ifndef IRQBENCH_OPTIONS_H
#define IRQBENCH_OPTIONS_H

#include <stdbool.h>

/* @fmt takes one %s, @arg (the offending value). */
void __attribute__((noreturn))
option_error(const char *prog, const char *fmt, const char *arg);
/* @arg as a whole number in [@min, @max], else option_error(@what, @arg). */
unsigned long option_number(const char *prog, const char *arg, const char *what,
			    unsigned long min, unsigned long max);
/* Does variant @name match @filter (comma-separated substrings; NULL: all)? */
bool option_variant_selected(const char *name, const char *filter);

#endif

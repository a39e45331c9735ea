/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xorshift64*: reproducible pseudo-random numbers for bootstraps and
 * shuffles, with the state in the caller's hands (no global state, not
 * libc's rand()).  @state must not be 0.
 */
#ifndef IRQBENCH_RANDOM_H
#define IRQBENCH_RANDOM_H

#include <stdint.h>

static inline uint64_t xorshift64star(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

#endif

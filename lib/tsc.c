// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>

#include "lib/tsc.h"

#ifdef __aarch64__
/* The architecture states the counter's frequency: no calibration. */
uint64_t tsc_hz(void)
{
	return tsc_counter_freq();
}
#else
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t tsc_hz(void)
{
	static uint64_t hz;
	uint64_t t0, c0, t1, c1;

	if (hz)
		return hz;
	t0 = mono_ns();
	c0 = tsc_now();
	do
		t1 = mono_ns();
	while (t1 - t0 < 50 * 1000 * 1000);
	c1 = tsc_now();
	hz = (c1 - c0) * 1000000000ull / (t1 - t0);
	return hz;
}
#endif

double tsc_to_ns(uint64_t ticks)
{
	return ticks * 1e9 / tsc_hz();
}

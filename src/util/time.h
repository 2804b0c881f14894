/*
 * The clocks: the monotonic one for deadlines, timeouts and measured
 * durations, which no clock step moves, and the wall clock for what people
 * and guests read. Header only, so that tests and tools use the same
 * helpers without linking the daemon's library.
 */
#pragma once

#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock. */
static inline int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The same with its fraction, for durations measured below a millisecond. */
static inline double monotonic_ms_exact(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Seconds since the epoch on the wall clock. */
static inline int64_t wall_seconds(void)
{
	return (int64_t)time(NULL);
}

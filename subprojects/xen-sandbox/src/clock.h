/*
 * The sandbox's clock: monotonic milliseconds for its deadlines, and short
 * sleeps. Its own, not its users', so that the sandbox stands alone.
 */
#pragma once

#include <time.h>

static inline long sandbox_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sandbox_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

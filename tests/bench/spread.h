/*
 * The spread of a sample of durations as the report gives it: how many,
 * the median, the 99th percentile and the worst.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct spread {
	size_t n;
	double p50_ms, p99_ms, max_ms;
};

/* A sample that grows; without memory it loses a value, never records a wrong one. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

void samples_add(struct samples *s, uint64_t ns);

/* From samples in nanoseconds, which it sorts in place; all zero when n is 0. */
void spread_of(uint64_t *samples, size_t n, struct spread *out);

/* Percentiles of the benchmark's samples (spread.h). */
#include <stdlib.h>

#include "spread.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
}

void spread_of(uint64_t *samples, size_t n, struct spread *out)
{
	*out = (struct spread){ .n = n };
	if (n == 0)
		return;
	qsort(samples, n, sizeof(*samples), cmp_u64);
	out->p50_ms = (double)samples[n / 2] / 1e6;
	out->p99_ms = (double)samples[n * 99 / 100] / 1e6;
	out->max_ms = (double)samples[n - 1] / 1e6;
}

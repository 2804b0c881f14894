/*
 * The string maps of struct guest_metrics: built by appending in path
 * order, then sorted once (the first pair of a key wins) so that lookups
 * are binary searches and two maps compare pair by pair.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/map.h"
#include "util/array.h"

void gm_map_free(struct gm_map *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->items[i].key);
	free(m->items);
	*m = (struct gm_map){ 0 };
}

int gm_map_add(struct gm_map *m, const char *key, size_t key_len,
	       const char *value, size_t value_len)
{
	char *b;

	if (ARRAY_RESERVE(m->items, m->cap, m->count + 1, 8, SIZE_MAX) < 0)
		return -ENOMEM;
	if (key_len > SIZE_MAX / 2 - value_len)
		return -ENOMEM;
	b = malloc(key_len + 1 + value_len + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, key, key_len);
	b[key_len] = '\0';
	if (value_len)
		memcpy(b + key_len + 1, value, value_len);
	b[key_len + 1 + value_len] = '\0';
	m->items[m->count] = (struct gm_pair){
		.key = b,
		.value = b + key_len + 1,
		.key_len = key_len,
		.value_len = value_len,
		.seq = m->count,
	};
	m->count++;
	return 0;
}

int gm_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_pair(const void *pa, const void *pb)
{
	const struct gm_pair *a = pa, *b = pb;
	int c = gm_bytes_cmp(a->key, a->key_len, b->key, b->key_len);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void gm_map_finish(struct gm_map *m)
{
	size_t out = 0;

	if (m->count > 1)
		qsort(m->items, m->count, sizeof(m->items[0]), cmp_pair);
	for (size_t i = 0; i < m->count; i++) {
		if (out && gm_bytes_cmp(m->items[out - 1].key, m->items[out - 1].key_len,
					m->items[i].key, m->items[i].key_len) == 0) {
			free(m->items[i].key);
			continue;
		}
		m->items[out++] = m->items[i];
	}
	m->count = out;
	for (size_t i = 0; i < m->count; i++)
		m->items[i].seq = i;
}

const struct gm_pair *gm_map_find(const struct gm_map *m, const char *key, size_t len)
{
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = gm_bytes_cmp(m->items[mid].key, m->items[mid].key_len, key, len);

		if (!c)
			return &m->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool gm_map_equal(const struct gm_map *a, const struct gm_map *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct gm_pair *x = &a->items[i], *y = &b->items[i];

		if (x->key_len != y->key_len || x->value_len != y->value_len ||
		    memcmp(x->key, y->key, x->key_len) ||
		    memcmp(x->value, y->value, x->value_len))
			return false;
	}
	return true;
}

int gm_map_add_key(struct gm_map *m, const struct keyset *ks, const char *path, const char *key)
{
	size_t len;
	const char *v = keyset_get(ks, path, &len);

	return v ? gm_map_add(m, key, strlen(key), v, len) : 0;
}

int gm_map_add_keys(struct gm_map *m, const struct keyset *ks,
		    const struct gm_key_map *t, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = gm_map_add_key(m, ks, t[i].path, t[i].key);
		if (r < 0)
			return r;
	}
	return 0;
}

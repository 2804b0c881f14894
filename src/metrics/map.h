/*
 * Building the string maps of struct guest_metrics (struct gm_map, in
 * metrics.h), for the extractors inside metrics/: pairs are added in path
 * order, then sorted once, the first pair of each key kept. The map owns
 * every pair it holds; gm_map_find() is the public way to read one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "metrics/keyset.h"
#include "metrics/metrics.h"

/* Frees every pair and leaves m empty. */
void gm_map_free(struct gm_map *m);

/* Adds a copy of key[0..key_len) = value[0..value_len). 0 or -ENOMEM. */
int gm_map_add(struct gm_map *m, const char *key, size_t key_len,
	       const char *value, size_t value_len);

/* Adds the value stored under path (when there is one) as key. 0 or -ENOMEM. */
int gm_map_add_key(struct gm_map *m, const struct keyset *ks, const char *path, const char *key);

/* A keyset path and the key it is published under. */
struct gm_key_map {
	const char *path, *key;
};

/* gm_map_add_key() for each of t[0..n), in order. 0 or -ENOMEM. */
int gm_map_add_keys(struct gm_map *m, const struct keyset *ks,
		    const struct gm_key_map *t, size_t n);

/* Sorts by key and keeps, for each key, the pair added first. */
void gm_map_finish(struct gm_map *m);

/* Same pairs, byte for byte. Both must be finished. */
bool gm_map_equal(const struct gm_map *a, const struct gm_map *b);

/* The maps' order on bytes: memcmp, and the shorter first on a common prefix. */
int gm_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen);

/*
 * The per-domain key store: a sorted array of entries with binary search.
 * For the 50-2000 keys a domain has, inserting by memmove costs less than a
 * tree or a hash plus a sort every time metrics iterate a prefix.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/defaults.h"
#include "metrics/keyset.h"
#include "util/array.h"

struct entry {
	char *path;		/* one block: path NUL value NUL */
	char *value;		/* points into the block */
	size_t path_len, len;
};

struct keyset {
	struct keyset_limits limits;
	struct entry *entries;
	size_t count, cap;
	size_t bytes;
	bool limit_reached;
	size_t refused_bytes;	/* the largest refused write since the flag was raised */
};

struct keyset *keyset_new(const struct keyset_limits *limits)
{
	struct keyset *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return NULL;
	if (limits) {
		ks->limits = *limits;
	} else {
		ks->limits.max_keys = XGM_DEFAULT_LIMITS_MAX_KEYS_PER_DOMAIN;
		ks->limits.max_bytes = XGM_DEFAULT_LIMITS_MAX_BYTES_PER_DOMAIN;
	}
	return ks;
}

void keyset_free(struct keyset *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->count; i++)
		free(ks->entries[i].path);
	free(ks->entries);
	free(ks);
}

/* First index whose path is >= key. */
static size_t lower_bound(const struct keyset *ks, const char *key)
{
	size_t lo = 0, hi = ks->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ks->entries[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* [*first, *end): the entries whose path starts with prefix[0..plen). */
static void prefix_range(const struct keyset *ks, const char *prefix, size_t plen,
			 size_t *first, size_t *end)
{
	size_t lo = 0, hi = ks->count;

	/* Both predicates are monotone over the sorted array. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(ks->entries[mid].path, prefix, plen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	hi = ks->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(ks->entries[mid].path, prefix, plen) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*end = lo;
}

static bool found(const struct keyset *ks, size_t i, const char *path)
{
	return i < ks->count && strcmp(ks->entries[i].path, path) == 0;
}

static char *make_block(const char *path, size_t path_len, const char *value, size_t len)
{
	char *b = malloc(path_len + 1 + len + 1);

	if (!b)
		return NULL;
	memcpy(b, path, path_len + 1);
	if (len)
		memcpy(b + path_len + 1, value, len);
	b[path_len + 1 + len] = '\0';
	return b;
}

static void remove_range(struct keyset *ks, size_t first, size_t end)
{
	/* An empty keyset has no array yet: &entries[first] would be NULL arithmetic. */
	if (first == end)
		return;
	for (size_t i = first; i < end; i++) {
		ks->bytes -= ks->entries[i].path_len + ks->entries[i].len;
		free(ks->entries[i].path);
	}
	memmove(&ks->entries[first], &ks->entries[end],
		(ks->count - end) * sizeof(ks->entries[0]));
	ks->count -= end - first;
}

static int refuse(struct keyset *ks, size_t need)
{
	ks->limit_reached = true;
	if (need > ks->refused_bytes)
		ks->refused_bytes = need;
	return -ENOSPC;
}

int keyset_set(struct keyset *ks, const char *path, const char *value, size_t len)
{
	size_t path_len = strlen(path), i;
	struct entry *e;
	char *block;

	if (!path_len)
		return -EINVAL;
	if (path_len > KEYSET_PATH_MAX)
		return -ENAMETOOLONG;
	if (len > KEYSET_VALUE_MAX)
		return -E2BIG;

	i = lower_bound(ks, path);
	if (found(ks, i, path)) {
		e = &ks->entries[i];
		if (e->len == len && memcmp(e->value, value, len) == 0)
			return KEYSET_SAME;
		if (ks->bytes - e->len + len > ks->limits.max_bytes) {
			remove_range(ks, i, i + 1);
			return refuse(ks, path_len + len);
		}
		block = make_block(path, path_len, value, len);
		if (!block)
			return -ENOMEM;
		ks->bytes = ks->bytes - e->len + len;
		free(e->path);
		e->path = block;
		e->value = block + path_len + 1;
		e->len = len;
		return KEYSET_CHANGED;
	}

	if (ks->count >= ks->limits.max_keys ||
	    path_len + len > ks->limits.max_bytes - ks->bytes)
		return refuse(ks, path_len + len);
	/* Never room for more than the limit: a guest's keys cannot make us over-allocate. */
	if (ARRAY_RESERVE(ks->entries, ks->cap, ks->count + 1, 16, ks->limits.max_keys) < 0)
		return -ENOMEM;
	block = make_block(path, path_len, value, len);
	if (!block)
		return -ENOMEM;
	memmove(&ks->entries[i + 1], &ks->entries[i], (ks->count - i) * sizeof(ks->entries[0]));
	ks->entries[i] = (struct entry){
		.path = block,
		.value = block + path_len + 1,
		.path_len = path_len,
		.len = len,
	};
	ks->count++;
	ks->bytes += path_len + len;
	return KEYSET_CHANGED;
}

int keyset_remove(struct keyset *ks, const char *path)
{
	size_t i = lower_bound(ks, path);

	if (!found(ks, i, path))
		return 0;
	remove_range(ks, i, i + 1);
	return 1;
}

int keyset_remove_subtree(struct keyset *ks, const char *path)
{
	char prefix[KEYSET_PATH_MAX + 2];
	size_t plen = strlen(path), first, end;
	int n = 0;

	while (plen && path[plen - 1] == '/')
		plen--;
	if (!plen) {
		n = (int)ks->count;
		remove_range(ks, 0, ks->count);
		return n;
	}
	/* Nothing that long can be stored, so nothing can be under it. */
	if (plen > KEYSET_PATH_MAX)
		return 0;
	memcpy(prefix, path, plen);
	prefix[plen] = '\0';
	n = keyset_remove(ks, prefix);
	prefix[plen++] = '/';
	prefix_range(ks, prefix, plen, &first, &end);
	remove_range(ks, first, end);
	return n + (int)(end - first);
}

const char *keyset_get(const struct keyset *ks, const char *path, size_t *len)
{
	size_t i = lower_bound(ks, path);

	if (!found(ks, i, path))
		return NULL;
	if (len)
		*len = ks->entries[i].len;
	return ks->entries[i].value;
}

size_t keyset_count(const struct keyset *ks)
{
	return ks->count;
}

size_t keyset_bytes(const struct keyset *ks)
{
	return ks->bytes;
}

const struct keyset_limits *keyset_limits(const struct keyset *ks)
{
	return &ks->limits;
}

void keyset_set_limits(struct keyset *ks, const struct keyset_limits *limits)
{
	ks->limits = *limits;
}

bool keyset_limit_reached(const struct keyset *ks)
{
	return ks->limit_reached;
}

bool keyset_clear_limit(struct keyset *ks)
{
	/* "Below the limits" alone would clear at once after a large refused value. */
	if (!ks->limit_reached || ks->count >= ks->limits.max_keys ||
	    ks->refused_bytes > ks->limits.max_bytes - ks->bytes)
		return false;
	ks->limit_reached = false;
	ks->refused_bytes = 0;
	return true;
}

void keyset_iter_init(struct keyset_iter *it, const struct keyset *ks, const char *prefix)
{
	it->ks = ks;
	prefix_range(ks, prefix, strlen(prefix), &it->pos, &it->end);
}

bool keyset_iter_next(struct keyset_iter *it, const char **path, const char **value, size_t *len)
{
	const struct entry *e;

	if (it->pos >= it->end)
		return false;
	e = &it->ks->entries[it->pos++];
	*path = e->path;
	*value = e->value;
	*len = e->len;
	return true;
}

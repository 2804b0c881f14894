/*
 * What the guest reports of its resources: memory (data/meminfo_total and
 * data/meminfo_free, in KiB) and disks (every key below data/volumes/<n>).
 */
#include <string.h>

#include "metrics/extract.h"
#include "metrics/map.h"
#include "util/decimal.h"

/* A size in KiB as the agent wrote it, or GM_ABSENT when it does not parse. */
static long long kib(const struct keyset *ks, const char *path)
{
	size_t len;
	const char *v = keyset_get(ks, path, &len);
	long long n;

	return v && decimal_parse_trimmed(v, len, &n) == 0 ? n : GM_ABSENT;
}

void metrics_set_memory(struct guest_metrics *m, const struct keyset *ks)
{
	m->memory.total_kib = kib(ks, "data/meminfo_total");
	m->memory.free_kib = kib(ks, "data/meminfo_free");
}

int metrics_add_disks(struct gm_map *m, const struct keyset *ks)
{
	struct keyset_iter it;
	const char *path, *value, *rest;
	size_t len;
	int r;

	keyset_iter_init(&it, ks, "data/volumes/");
	while (keyset_iter_next(&it, &path, &value, &len)) {
		rest = path + strlen("data/volumes/");
		/* Only keys below a volume; data/volumes/<n> itself carries nothing. */
		if (!strchr(rest, '/'))
			continue;
		r = gm_map_add(m, rest, strlen(rest), value, len);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The rest of the record from the guest's keys: other (control/<k>, and
 * data/ts and data/cant_suspend_reason, which replaces feature-suspend as
 * in xapi) and can_use_hotplug_vbd|vif (feature/hotplug/vbd|vif).
 */
#include <stdbool.h>
#include <string.h>

#include "metrics/extract.h"
#include "metrics/map.h"

int metrics_add_other(struct gm_map *m, const struct keyset *ks)
{
	struct keyset_iter it;
	const char *path, *value, *rest;
	size_t len;
	bool cant_suspend = keyset_get(ks, "data/cant_suspend_reason", NULL) != NULL;
	int r;

	keyset_iter_init(&it, ks, "control/");
	while (keyset_iter_next(&it, &path, &value, &len)) {
		rest = path + strlen("control/");
		if (!*rest || strchr(rest, '/'))
			continue;
		if (cant_suspend && strcmp(rest, "feature-suspend") == 0)
			continue;
		r = gm_map_add(m, rest, strlen(rest), value, len);
		if (r < 0)
			return r;
	}
	r = gm_map_add_key(m, ks, "data/ts", "data-ts");
	if (r < 0)
		return r;
	return gm_map_add_key(m, ks, "data/cant_suspend_reason", "data-cant-suspend-reason");
}

static enum gm_hotplug hotplug(const struct keyset *ks, const char *path)
{
	size_t len;
	const char *v = keyset_get(ks, path, &len);

	if (v && len == 1 && v[0] == '1')
		return GM_HOTPLUG_YES;
	if (v && len == 1 && v[0] == '0')
		return GM_HOTPLUG_NO;
	return GM_HOTPLUG_UNSPECIFIED;
}

void metrics_set_hotplug(struct guest_metrics *m, const struct keyset *ks)
{
	m->can_use_hotplug_vbd = hotplug(ks, "feature/hotplug/vbd");
	m->can_use_hotplug_vif = hotplug(ks, "feature/hotplug/vif");
}

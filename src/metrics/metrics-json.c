/*
 * Writes guest metrics as the JSON "data" object of an event. All strings go
 * through jsonw, the one place guest bytes are made valid UTF-8.
 */
#include <errno.h>

#include "json/jsonw.h"
#include "metrics/metrics-json.h"

static int write_map(yajl_gen g, const struct gm_map *map)
{
	int r = jsonw_map_open(g);

	for (size_t i = 0; r == 0 && i < map->count; i++) {
		const struct gm_pair *p = &map->items[i];

		r = jsonw_string(g, p->key, p->key_len);
		if (r == 0)
			r = jsonw_string(g, p->value, p->value_len);
	}
	return r ? r : jsonw_map_close(g);
}

static int write_memory(yajl_gen g, const struct guest_metrics *m)
{
	int r = jsonw_map_open(g);

	if (r == 0 && m->memory.total_kib != GM_ABSENT) {
		r = jsonw_cstr(g, "total_kib");
		if (r == 0)
			r = jsonw_int(g, m->memory.total_kib);
	}
	if (r == 0 && m->memory.free_kib != GM_ABSENT) {
		r = jsonw_cstr(g, "free_kib");
		if (r == 0)
			r = jsonw_int(g, m->memory.free_kib);
	}
	return r ? r : jsonw_map_close(g);
}

static int write_field(yajl_gen g, const struct guest_metrics *m, enum metrics_field f)
{
	switch (f) {
	case METRICS_OS_VERSION:
		return write_map(g, &m->os_version);
	case METRICS_PV_DRIVERS_VERSION:
		return write_map(g, &m->pv_drivers_version);
	case METRICS_PV_DRIVERS_DETECTED:
		return jsonw_bool(g, m->pv_drivers_detected);
	case METRICS_PV_DRIVERS_UP_TO_DATE:
		return jsonw_bool(g, m->pv_drivers_up_to_date);
	case METRICS_PV_DRIVERS_NOT_UPGRADABLE:
		return jsonw_bool(g, m->pv_drivers_not_upgradable);
	case METRICS_NETWORKS:
		return write_map(g, &m->networks);
	case METRICS_MEMORY:
		return write_memory(g, m);
	case METRICS_DISKS:
		return write_map(g, &m->disks);
	case METRICS_OTHER:
		return write_map(g, &m->other);
	case METRICS_CAN_USE_HOTPLUG_VBD:
		return jsonw_cstr(g, metrics_hotplug_name(m->can_use_hotplug_vbd));
	case METRICS_CAN_USE_HOTPLUG_VIF:
		return jsonw_cstr(g, metrics_hotplug_name(m->can_use_hotplug_vif));
	case METRICS_LIVE:
		return jsonw_bool(g, m->live);
	case METRICS_LAST_UPDATED:
		return m->last_updated == GM_ABSENT ? jsonw_null(g) : jsonw_int(g, m->last_updated);
	case METRICS_LIMIT_REACHED:
		return jsonw_bool(g, m->limit_reached);
	default:
		return -EINVAL;	/* a field added to the enum but not here */
	}
}

int metrics_json(yajl_gen g, const struct guest_metrics *m)
{
	int r = jsonw_map_open(g);

	for (int f = 0; r == 0 && f < METRICS_FIELD_COUNT; f++) {
		r = jsonw_cstr(g, metrics_field_name((enum metrics_field)f));
		if (r == 0)
			r = write_field(g, m, (enum metrics_field)f);
	}
	return r ? r : jsonw_map_close(g);
}

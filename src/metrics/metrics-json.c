/*
 * Writes guest metrics as the JSON "data" object of an event. All strings go
 * through jsonw, the one place guest bytes are made valid UTF-8.
 */
#include <errno.h>

#include "json/jsonw.h"
#include "metrics/metrics-json.h"

static void write_map(struct jsonw *w, const struct gm_map *map)
{
	jsonw_map_open(w);
	for (size_t i = 0; i < map->count; i++) {
		const struct gm_pair *p = &map->items[i];

		jsonw_string(w, p->key, p->key_len);
		jsonw_string(w, p->value, p->value_len);
	}
	jsonw_map_close(w);
}

static void write_memory(struct jsonw *w, const struct guest_metrics *m)
{
	jsonw_map_open(w);
	if (m->memory.total_kib != GM_ABSENT) {
		jsonw_cstr(w, "total_kib");
		jsonw_int(w, m->memory.total_kib);
	}
	if (m->memory.free_kib != GM_ABSENT) {
		jsonw_cstr(w, "free_kib");
		jsonw_int(w, m->memory.free_kib);
	}
	jsonw_map_close(w);
}

static void write_field(struct jsonw *w, const struct guest_metrics *m, enum metrics_field f)
{
	switch (f) {
	case METRICS_OS_VERSION:
		write_map(w, &m->os_version);
		break;
	case METRICS_PV_DRIVERS_VERSION:
		write_map(w, &m->pv_drivers_version);
		break;
	case METRICS_PV_DRIVERS_DETECTED:
		jsonw_bool(w, m->pv_drivers_detected);
		break;
	case METRICS_PV_DRIVERS_UP_TO_DATE:
		jsonw_bool(w, m->pv_drivers_up_to_date);
		break;
	case METRICS_PV_DRIVERS_NOT_UPGRADABLE:
		jsonw_bool(w, m->pv_drivers_not_upgradable);
		break;
	case METRICS_NETWORKS:
		write_map(w, &m->networks);
		break;
	case METRICS_MEMORY:
		write_memory(w, m);
		break;
	case METRICS_DISKS:
		write_map(w, &m->disks);
		break;
	case METRICS_OTHER:
		write_map(w, &m->other);
		break;
	case METRICS_CAN_USE_HOTPLUG_VBD:
		jsonw_cstr(w, metrics_hotplug_name(m->can_use_hotplug_vbd));
		break;
	case METRICS_CAN_USE_HOTPLUG_VIF:
		jsonw_cstr(w, metrics_hotplug_name(m->can_use_hotplug_vif));
		break;
	case METRICS_LIVE:
		jsonw_bool(w, m->live);
		break;
	case METRICS_LAST_UPDATED:
		if (m->last_updated == GM_ABSENT)
			jsonw_null(w);
		else
			jsonw_int(w, m->last_updated);
		break;
	case METRICS_LIMIT_REACHED:
		jsonw_bool(w, m->limit_reached);
		break;
	default:
		jsonw_fail(w, -EINVAL);	/* a field added to the enum but not here */
		break;
	}
}

void metrics_json(struct jsonw *w, const struct guest_metrics *m)
{
	jsonw_map_open(w);
	for (int f = 0; f < METRICS_FIELD_COUNT; f++) {
		jsonw_cstr(w, metrics_field_name((enum metrics_field)f));
		write_field(w, m, (enum metrics_field)f);
	}
	jsonw_map_close(w);
}

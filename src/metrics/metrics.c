/*
 * The guest metrics record: its field names, its life (init, compute, free)
 * and the comparison that says which fields an event changed.
 * metrics_compute() calls the extractors (extract.h), one file per group of
 * fields, which follow xapi's mapping where it is sound (metrics.h says
 * every decision). No I/O: the same keys, configuration and times always
 * give the same record.
 */
#include <stdbool.h>
#include <stddef.h>

#include "metrics/extract.h"
#include "metrics/map.h"
#include "metrics/metrics.h"

static const char *const field_names[METRICS_FIELD_COUNT] = {
	[METRICS_OS_VERSION] = "os_version",
	[METRICS_PV_DRIVERS_VERSION] = "pv_drivers_version",
	[METRICS_PV_DRIVERS_DETECTED] = "pv_drivers_detected",
	[METRICS_PV_DRIVERS_UP_TO_DATE] = "pv_drivers_up_to_date",
	[METRICS_PV_DRIVERS_NOT_UPGRADABLE] = "pv_drivers_not_upgradable",
	[METRICS_NETWORKS] = "networks",
	[METRICS_MEMORY] = "memory",
	[METRICS_DISKS] = "disks",
	[METRICS_OTHER] = "other",
	[METRICS_CAN_USE_HOTPLUG_VBD] = "can_use_hotplug_vbd",
	[METRICS_CAN_USE_HOTPLUG_VIF] = "can_use_hotplug_vif",
	[METRICS_LIVE] = "live",
	[METRICS_LAST_UPDATED] = "last_updated",
	[METRICS_LIMIT_REACHED] = "limit_reached",
};

const char *metrics_field_name(enum metrics_field f)
{
	return (unsigned)f < METRICS_FIELD_COUNT ? field_names[f] : NULL;
}

const char *metrics_hotplug_name(enum gm_hotplug h)
{
	switch (h) {
	case GM_HOTPLUG_YES:
		return "yes";
	case GM_HOTPLUG_NO:
		return "no";
	default:
		return "unspecified";
	}
}

void metrics_init(struct guest_metrics *m)
{
	*m = (struct guest_metrics){
		.memory = { .total_kib = GM_ABSENT, .free_kib = GM_ABSENT },
		.can_use_hotplug_vbd = GM_HOTPLUG_UNSPECIFIED,
		.can_use_hotplug_vif = GM_HOTPLUG_UNSPECIFIED,
		.last_updated = GM_ABSENT,
	};
}

void metrics_free(struct guest_metrics *m)
{
	if (!m)
		return;
	gm_map_free(&m->os_version);
	gm_map_free(&m->pv_drivers_version);
	gm_map_free(&m->networks);
	gm_map_free(&m->disks);
	gm_map_free(&m->other);
	metrics_init(m);
}

int metrics_compute(struct guest_metrics *out, const struct keyset *ks,
		    const struct metrics_config *cfg, const struct metrics_clock *clk)
{
	struct guest_metrics *m = out;
	int r;

	metrics_init(m);
	r = metrics_add_os_version(&m->os_version, ks);
	if (r < 0)
		goto fail;
	r = metrics_add_pv_drivers_version(&m->pv_drivers_version, ks);
	if (r < 0)
		goto fail;
	r = metrics_add_networks(&m->networks, ks);
	if (r < 0)
		goto fail;
	r = metrics_add_disks(&m->disks, ks);
	if (r < 0)
		goto fail;
	r = metrics_add_other(&m->other, ks);
	if (r < 0)
		goto fail;
	gm_map_finish(&m->os_version);
	gm_map_finish(&m->pv_drivers_version);
	gm_map_finish(&m->networks);
	gm_map_finish(&m->disks);
	gm_map_finish(&m->other);

	metrics_set_pv_flags(m, ks, cfg);
	metrics_set_memory(m, ks);
	metrics_set_hotplug(m, ks);
	if (clk && clk->last_write >= 0) {
		m->last_updated = clk->last_write;
		m->live = clk->now - clk->last_write <= clk->live_timeout;
	}
	m->limit_reached = keyset_limit_reached(ks);
	return 0;

fail:
	metrics_free(m);
	return r;
}

static bool field_equal(const struct guest_metrics *a, const struct guest_metrics *b,
			enum metrics_field f)
{
	switch (f) {
	case METRICS_OS_VERSION:
		return gm_map_equal(&a->os_version, &b->os_version);
	case METRICS_PV_DRIVERS_VERSION:
		return gm_map_equal(&a->pv_drivers_version, &b->pv_drivers_version);
	case METRICS_PV_DRIVERS_DETECTED:
		return a->pv_drivers_detected == b->pv_drivers_detected;
	case METRICS_PV_DRIVERS_UP_TO_DATE:
		return a->pv_drivers_up_to_date == b->pv_drivers_up_to_date;
	case METRICS_PV_DRIVERS_NOT_UPGRADABLE:
		return a->pv_drivers_not_upgradable == b->pv_drivers_not_upgradable;
	case METRICS_NETWORKS:
		return gm_map_equal(&a->networks, &b->networks);
	case METRICS_MEMORY:
		return a->memory.total_kib == b->memory.total_kib &&
		       a->memory.free_kib == b->memory.free_kib;
	case METRICS_DISKS:
		return gm_map_equal(&a->disks, &b->disks);
	case METRICS_OTHER:
		return gm_map_equal(&a->other, &b->other);
	case METRICS_CAN_USE_HOTPLUG_VBD:
		return a->can_use_hotplug_vbd == b->can_use_hotplug_vbd;
	case METRICS_CAN_USE_HOTPLUG_VIF:
		return a->can_use_hotplug_vif == b->can_use_hotplug_vif;
	case METRICS_LIVE:
		return a->live == b->live;
	case METRICS_LAST_UPDATED:
		return a->last_updated == b->last_updated;
	case METRICS_LIMIT_REACHED:
		return a->limit_reached == b->limit_reached;
	default:
		return true;
	}
}

size_t metrics_diff(const struct guest_metrics *old, const struct guest_metrics *new,
		    const char **names, size_t max)
{
	size_t n = 0;

	for (int f = 0; f < METRICS_FIELD_COUNT; f++) {
		if (old && field_equal(old, new, (enum metrics_field)f))
			continue;
		if (n < max)
			names[n] = field_names[f];
		n++;
	}
	return n;
}

/*
 * The extractors inside metrics/, one file per group of fields, that
 * metrics_compute() (metrics.c) calls: os-drivers.c (os_version and
 * pv_drivers_*), networks.c, memory-disks.c, other.c (other and
 * can_use_hotplug_*). metrics.h says which keys make which field.
 *
 * The add_ functions append pairs to a map that metrics_compute() then
 * finishes (gm_map_finish(): the first pair of a key wins, so the order they
 * append in decides clashes); each returns 0 or a negative errno, and after
 * an error the map is freed by the caller. The set_ functions fill fields of
 * the record and cannot fail.
 */
#pragma once

#include "metrics/keyset.h"
#include "metrics/metrics.h"

int metrics_add_os_version(struct gm_map *m, const struct keyset *ks);
int metrics_add_pv_drivers_version(struct gm_map *m, const struct keyset *ks);
/* pv_drivers_detected, _not_upgradable and _up_to_date; cfg may be NULL. */
void metrics_set_pv_flags(struct guest_metrics *m, const struct keyset *ks,
			  const struct metrics_config *cfg);

int metrics_add_networks(struct gm_map *m, const struct keyset *ks);

void metrics_set_memory(struct guest_metrics *m, const struct keyset *ks);
int metrics_add_disks(struct gm_map *m, const struct keyset *ks);

int metrics_add_other(struct gm_map *m, const struct keyset *ks);
void metrics_set_hotplug(struct guest_metrics *m, const struct keyset *ks);

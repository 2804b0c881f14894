/*
 * Guest metrics as JSON: the "data" object of a domain.metrics event.
 * Owns nothing; writes into the caller's generator.
 */
#pragma once

#include <yajl/yajl_gen.h>

#include "metrics/metrics.h"

/*
 * Writes m as one JSON map, fields in enum metrics_field order under their
 * metrics_field_name() names:
 *   maps (os_version, pv_drivers_version, networks, disks, other) as
 *     objects of strings; memory as {"total_kib": n, "free_kib": n}, each
 *     member present only when known; can_use_hotplug_* as "unspecified",
 *     "yes" or "no"; last_updated as an integer or null; the rest as booleans.
 * Every key and value goes through jsonw, so any guest bytes (NUL, invalid
 * UTF-8, 4 KiB values) give valid JSON. Returns 0 or a negative errno from
 * jsonw; after an error g holds a partial document and should be discarded.
 */
int metrics_json(yajl_gen g, const struct guest_metrics *m);

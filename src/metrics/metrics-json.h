/*
 * Guest metrics as JSON: the "data" object of a domain.metrics event.
 * Owns nothing; writes into the caller's writer.
 */
#pragma once

#include "json/jsonw.h"
#include "metrics/metrics.h"

/*
 * Writes m as one JSON map, fields in enum metrics_field order under their
 * metrics_field_name() names:
 *   maps (os_version, pv_drivers_version, networks, disks, other) as
 *     objects of strings; memory as {"total_kib": n, "free_kib": n}, each
 *     member present only when known; can_use_hotplug_* as "unspecified",
 *     "yes" or "no"; last_updated as an integer or null; the rest as booleans.
 * Every key and value goes through jsonw, so any guest bytes (NUL, invalid
 * UTF-8, 4 KiB values) give valid JSON. Errors are kept in w
 * (jsonw_error()); after one, w holds a partial document: discard it.
 */
void metrics_json(struct jsonw *w, const struct guest_metrics *m);

/*
 * Guest metrics (modelled on XenAPI's VM_guest_metrics) computed from a
 * domain's keyset: a pure function of the keys, the configuration and the
 * times passed in. Owns struct guest_metrics and every string inside it.
 *
 * Field -> key mapping (paths relative to /local/domain/<domid>):
 *   os_version          data/os_name -> name, data/os_uname -> uname,
 *                       data/os_distro -> distro, data/os_majorver -> major,
 *                       data/os_minorver -> minor, data/os_buildver -> build,
 *                       attr/os/spmajor -> spmajor, attr/os/spminor -> spminor;
 *                       values as written.
 *   pv_drivers_version  attr/PVAddons/{Major,Minor,Micro,Build}Version ->
 *                       major, minor, micro, build; attr/PVAddons/Application
 *                       -> application; values as written (no "-1" micro is
 *                       invented). Each drivers/<N> ("VENDOR PRODUCT VERSION
 *                       [ATTRS]", Windows PV drivers) -> lower-cased PRODUCT =
 *                       "VENDOR VERSION[ ATTRS]"; entries that do not split
 *                       that way, or whose PRODUCT is not [A-Za-z0-9_-], are
 *                       dropped; the lowest N wins a duplicate PRODUCT; the
 *                       PVAddons keys win over a driver named "major" & co.
 *   pv_drivers_detected       major and minor parse (decimal_parse_trimmed).
 *   pv_drivers_not_upgradable attr/PVAddons/NotUpgradable is exactly "1".
 *   pv_drivers_up_to_date     not_upgradable, or else detected and, with a
 *                       reference version configured, version >= reference
 *                       (an unparsable micro or build counts as missing, -1).
 *   networks            attr/vif/<id>/ipv4/<i> -> <id>/ipv4/<i>, .../ipv6/<i>
 *                       -> <id>/ipv6/<i>, and the lowest-index IPv4 also as
 *                       <id>/ip. Only when attr/vif has no child at all, the
 *                       legacy attr/<iface>/ip -> <N>/ip and <N>/ipv4/0,
 *                       attr/<iface>/ipv4/<i>/addr -> <N>/ipv4/<i> and
 *                       attr/<iface>/ipv6/<i>/addr -> <N>/ipv6/<i>, for iface
 *                       = eth|xenbr|eno|ens|emp|enx followed by N. Then
 *                       xenserver/attr/net-sriov-vf/<id>/... as for attr/vif
 *                       (a vif's address wins a clash). Indices must be
 *                       canonical decimal ("0", "12"; not "01", "a"): others
 *                       are ignored one by one, not the whole vif as xapi
 *                       does. IPv4 addresses as written; IPv6 ones in RFC
 *                       5952 form as inet_ntop() gives it (compressed, lower
 *                       case, "::ffff:192.0.2.1" for IPv4-mapped), since
 *                       Windows writes them expanded and Linux compressed;
 *                       an IPv6 value inet_pton() refuses (a "%zone", a
 *                       "/64" prefix, spaces, junk) stays as written.
 *                       A key produced twice keeps the first in path order.
 *   memory              data/meminfo_total -> total_kib,
 *                       data/meminfo_free -> free_kib (GM_ABSENT unless they
 *                       parse as decimal_parse_trimmed does).
 *   disks               every data/volumes/<n>/<rest> -> "<n>/<rest>" (e.g.
 *                       "0/size", "0/mount_points/0"); values as written.
 *   other               every control/<k> with no further "/" -> <k>;
 *                       data/ts -> data-ts; data/cant_suspend_reason ->
 *                       data-cant-suspend-reason, which then replaces
 *                       feature-suspend (as xapi does).
 *   can_use_hotplug_vbd|vif  feature/hotplug/vbd|vif: "1" yes, "0" no,
 *                       anything else or absent unspecified.
 *   live                an agent write happened at most live_timeout seconds
 *                       before now (a write "in the future" after the clock
 *                       stepped back counts as recent).
 *   last_updated        clk->last_write, or GM_ABSENT. A publisher that
 *                       follows xapi (the time of the last real change, so
 *                       that identical rewrites change nothing) overwrites
 *                       it after metrics_diff(), as the engine does.
 *   limit_reached       keyset_limit_reached().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "metrics/keyset.h"
#include "metrics/version.h"

#define GM_ABSENT (-1LL)

/*
 * One entry of a string map. key and value are guest bytes (they may hold
 * NUL and invalid UTF-8), each followed by a NUL that is not part of them.
 */
struct gm_pair {
	char *key;		/* owned block holding key NUL value NUL */
	char *value;		/* points into key's block: never free it */
	size_t key_len, value_len;
	size_t seq;		/* private: insertion order while building */
};

/* Sorted by key bytes (shorter first on a common prefix); keys are unique. */
struct gm_map {
	struct gm_pair *items;
	size_t count, cap;
};

/* xapi's tri-state for can_use_hotplug_*. */
enum gm_hotplug {
	GM_HOTPLUG_UNSPECIFIED,
	GM_HOTPLUG_YES,
	GM_HOTPLUG_NO,
};

struct guest_metrics {
	struct gm_map os_version;
	struct gm_map pv_drivers_version;
	bool pv_drivers_detected;
	bool pv_drivers_up_to_date;
	bool pv_drivers_not_upgradable;
	struct gm_map networks;
	struct {
		long long total_kib;	/* GM_ABSENT when missing or unparsable */
		long long free_kib;
	} memory;
	struct gm_map disks;
	struct gm_map other;
	enum gm_hotplug can_use_hotplug_vbd;
	enum gm_hotplug can_use_hotplug_vif;
	bool live;
	long long last_updated;		/* seconds since the epoch, or GM_ABSENT */
	bool limit_reached;
};

/* The top-level fields, in JSON order. The names are the published JSON names. */
enum metrics_field {
	METRICS_OS_VERSION,
	METRICS_PV_DRIVERS_VERSION,
	METRICS_PV_DRIVERS_DETECTED,
	METRICS_PV_DRIVERS_UP_TO_DATE,
	METRICS_PV_DRIVERS_NOT_UPGRADABLE,
	METRICS_NETWORKS,
	METRICS_MEMORY,
	METRICS_DISKS,
	METRICS_OTHER,
	METRICS_CAN_USE_HOTPLUG_VBD,
	METRICS_CAN_USE_HOTPLUG_VIF,
	METRICS_LIVE,
	METRICS_LAST_UPDATED,
	METRICS_LIMIT_REACHED,
	METRICS_FIELD_COUNT
};

struct metrics_config {
	bool has_reference;		/* compare against reference for up_to_date */
	struct pv_version reference;	/* from pv_version_parse() */
};

/* Times are passed in so that metrics_compute() stays pure. */
struct metrics_clock {
	long long now;			/* seconds since the epoch */
	long long last_write;		/* of the last agent write; GM_ABSENT if none */
	long long live_timeout;		/* seconds */
};

/* An empty record: empty maps, false, unspecified, GM_ABSENT. Allocates nothing. */
void metrics_init(struct guest_metrics *m);

/* Frees everything m holds and leaves it as metrics_init() does. NULL is fine. */
void metrics_free(struct guest_metrics *m);

/*
 * Computes *out from ks. *out is overwritten without being freed (free a
 * previous result first). Returns 0, or a negative errno (-ENOMEM) with
 * *out left empty.
 * The caller owns *out and releases it with metrics_free().
 */
int metrics_compute(struct guest_metrics *out, const struct keyset *ks,
		    const struct metrics_config *cfg, const struct metrics_clock *clk);

/*
 * Names of the top-level fields whose values differ between old and new, in
 * JSON order, for an event's "changed" array; old may be NULL (nothing
 * published yet: every field differs). Writes at most max names (static
 * strings) and returns how many differ. Note that last_updated and live
 * differ on their own as time passes and agents rewrite keys: a caller
 * deciding whether to publish may want to ignore them when they are alone.
 */
size_t metrics_diff(const struct guest_metrics *old, const struct guest_metrics *new,
		    const char **names, size_t max);

/* "os_version", ... ; NULL for an out-of-range value. */
const char *metrics_field_name(enum metrics_field f);

/* "unspecified", "yes", "no". */
const char *metrics_hotplug_name(enum gm_hotplug h);

/* The pair whose key is key[0..len), or NULL. O(log n). */
const struct gm_pair *gm_map_find(const struct gm_map *m, const char *key, size_t len);

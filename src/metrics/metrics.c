/*
 * Computes guest metrics from a domain's keyset, following xapi's mapping
 * where it is sound (see metrics.h for every decision). No I/O: the same
 * keys, configuration and times always give the same record.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/array.h"

/* Room for any stored path plus a short suffix such as "/ipv4/<20 digits>". */
#define KEYBUF (KEYSET_PATH_MAX + 64)

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

/* --- string maps --- */

static void map_free(struct gm_map *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->items[i].key);
	free(m->items);
	*m = (struct gm_map){ 0 };
}

static int map_add(struct gm_map *m, const char *key, size_t key_len,
		   const char *value, size_t value_len)
{
	char *b;

	if (ARRAY_RESERVE(m->items, m->cap, m->count + 1, 8, SIZE_MAX) < 0)
		return -ENOMEM;
	if (key_len > SIZE_MAX / 2 - value_len)
		return -ENOMEM;
	b = malloc(key_len + 1 + value_len + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, key, key_len);
	b[key_len] = '\0';
	if (value_len)
		memcpy(b + key_len + 1, value, value_len);
	b[key_len + 1 + value_len] = '\0';
	m->items[m->count] = (struct gm_pair){
		.key = b,
		.value = b + key_len + 1,
		.key_len = key_len,
		.value_len = value_len,
		.seq = m->count,
	};
	m->count++;
	return 0;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_pair(const void *pa, const void *pb)
{
	const struct gm_pair *a = pa, *b = pb;
	int c = cmp_bytes(a->key, a->key_len, b->key, b->key_len);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts by key and keeps, for each key, the pair added first. */
static void map_finish(struct gm_map *m)
{
	size_t out = 0;

	if (m->count > 1)
		qsort(m->items, m->count, sizeof(m->items[0]), cmp_pair);
	for (size_t i = 0; i < m->count; i++) {
		if (out && cmp_bytes(m->items[out - 1].key, m->items[out - 1].key_len,
				     m->items[i].key, m->items[i].key_len) == 0) {
			free(m->items[i].key);
			continue;
		}
		m->items[out++] = m->items[i];
	}
	m->count = out;
	for (size_t i = 0; i < m->count; i++)
		m->items[i].seq = i;
}

const struct gm_pair *gm_map_find(const struct gm_map *m, const char *key, size_t len)
{
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_bytes(m->items[mid].key, m->items[mid].key_len, key, len);

		if (!c)
			return &m->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool map_equal(const struct gm_map *a, const struct gm_map *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct gm_pair *x = &a->items[i], *y = &b->items[i];

		if (x->key_len != y->key_len || x->value_len != y->value_len ||
		    memcmp(x->key, y->key, x->key_len) ||
		    memcmp(x->value, y->value, x->value_len))
			return false;
	}
	return true;
}

/* --- helpers over paths --- */

/*
 * Splits s on '/' into at most max components. Returns their number, or -1
 * when there are more than max or one is empty (not a shape we read).
 */
static int split(const char *s, const char **comp, size_t *len, int max)
{
	int n = 0;

	for (;;) {
		const char *slash = strchr(s, '/');
		size_t l = slash ? (size_t)(slash - s) : strlen(s);

		if (!l || n == max)
			return -1;
		comp[n] = s;
		len[n++] = l;
		if (!slash)
			return n;
		s = slash + 1;
	}
}

static bool comp_is(const char *c, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(c, lit, len) == 0;
}

/* A canonical decimal index: "0", or digits without a leading zero. */
static bool parse_index(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!len || len > 19 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

static int add_value(struct gm_map *m, const struct keyset *ks, const char *path, const char *key)
{
	size_t len;
	const char *v = keyset_get(ks, path, &len);

	return v ? map_add(m, key, strlen(key), v, len) : 0;
}

struct key_map {
	const char *path, *key;
};

static int add_table(struct gm_map *m, const struct keyset *ks,
		     const struct key_map *t, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = add_value(m, ks, t[i].path, t[i].key);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --- os_version --- */

static const struct key_map os_keys[] = {
	{ "data/os_name", "name" },
	{ "data/os_uname", "uname" },
	{ "data/os_distro", "distro" },
	{ "data/os_majorver", "major" },
	{ "data/os_minorver", "minor" },
	{ "data/os_buildver", "build" },
	{ "attr/os/spmajor", "spmajor" },
	{ "attr/os/spminor", "spminor" },
};

/* --- pv_drivers_version and the flags derived from it --- */

static const struct key_map pv_keys[] = {
	{ "attr/PVAddons/MajorVersion", "major" },
	{ "attr/PVAddons/MinorVersion", "minor" },
	{ "attr/PVAddons/MicroVersion", "micro" },
	{ "attr/PVAddons/BuildVersion", "build" },
	{ "attr/PVAddons/Application", "application" },
};

struct driver {
	unsigned long long index;
	const char *value;
	size_t len;
};

static int cmp_driver(const void *pa, const void *pb)
{
	const struct driver *a = pa, *b = pb;

	return a->index < b->index ? -1 : a->index > b->index;
}

static bool product_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/*
 * "VENDOR PRODUCT VERSION [ATTRS]" -> lower(PRODUCT) = "VENDOR VERSION[ ATTRS]".
 * Release builds end the string with a space (empty ATTRS): trimmed, so the
 * published value does not carry it.
 */
static int add_driver(struct gm_map *m, const char *v, size_t len)
{
	const char *f[3], *end = v + len, *p = v, *attrs;
	size_t fl[3], al, vl;
	char key[64], val[KEYSET_VALUE_MAX + 1];

	for (int i = 0; i < 3; i++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));

		f[i] = p;
		fl[i] = (sp ? sp : end) - p;
		if (!fl[i])
			return 0;
		p = sp ? sp + 1 : end;
		if (!sp && i < 2)
			return 0;
	}
	attrs = p;
	al = (size_t)(end - p);
	while (al && attrs[al - 1] == ' ')
		al--;
	if (fl[1] >= sizeof(key))
		return 0;
	for (size_t i = 0; i < fl[1]; i++) {
		char c = f[1][i];

		if (!product_char(c))
			return 0;
		key[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	/* Built from parts of one stored value, minus PRODUCT: it fits. */
	memcpy(val, f[0], fl[0]);
	vl = fl[0];
	val[vl++] = ' ';
	memcpy(val + vl, f[2], fl[2]);
	vl += fl[2];
	if (al) {
		val[vl++] = ' ';
		memcpy(val + vl, attrs, al);
		vl += al;
	}
	return map_add(m, key, fl[1], val, vl);
}

static int add_drivers(struct gm_map *m, const struct keyset *ks)
{
	struct keyset_iter it;
	const char *path, *value, *rest;
	struct driver *d = NULL;
	size_t len, n = 0, cap = 0;
	unsigned long long index;
	int r = 0;

	keyset_iter_init(&it, ks, "drivers/");
	while (keyset_iter_next(&it, &path, &value, &len)) {
		rest = path + strlen("drivers/");
		if (!parse_index(rest, strlen(rest), &index))
			continue;
		r = ARRAY_RESERVE(d, cap, n + 1, 8, SIZE_MAX);
		if (r < 0)
			goto out;
		d[n++] = (struct driver){ .index = index, .value = value, .len = len };
	}
	/* Keyset order is textual ("10" < "2"); the lowest index wins a duplicate. */
	if (n > 1)
		qsort(d, n, sizeof(*d), cmp_driver);
	for (size_t i = 0; i < n; i++) {
		r = add_driver(m, d[i].value, d[i].len);
		if (r < 0)
			goto out;
	}
out:
	free(d);
	return r;
}

static void pv_flags(struct guest_metrics *m, const struct keyset *ks,
		     const struct metrics_config *cfg)
{
	static const char *const paths[PV_VERSION_PARTS] = {
		"attr/PVAddons/MajorVersion", "attr/PVAddons/MinorVersion",
		"attr/PVAddons/MicroVersion", "attr/PVAddons/BuildVersion",
	};
	const char *part[PV_VERSION_PARTS];
	size_t len[PV_VERSION_PARTS], flen;
	struct pv_version v;
	const char *flag;

	for (int i = 0; i < PV_VERSION_PARTS; i++)
		part[i] = keyset_get(ks, paths[i], &len[i]);
	m->pv_drivers_detected = pv_version_from_parts(&v, part, len);

	flag = keyset_get(ks, "attr/PVAddons/NotUpgradable", &flen);
	m->pv_drivers_not_upgradable = flag && flen == 1 && flag[0] == '1';

	if (m->pv_drivers_not_upgradable)
		m->pv_drivers_up_to_date = true;
	else if (cfg && cfg->has_reference)
		m->pv_drivers_up_to_date = m->pv_drivers_detected &&
			pv_version_compare(&v, &cfg->reference) >= 0;
	else
		m->pv_drivers_up_to_date = m->pv_drivers_detected;
}

/* --- networks --- */

struct addr {
	const char *id;
	size_t id_len;
	int family;			/* 4 or 6 */
	unsigned long long index;
	const char *value;
	size_t len;
	size_t seq;
};

struct addrs {
	struct addr *v;
	size_t n, cap;
};

static int addrs_push(struct addrs *a, const char *id, size_t id_len, int family,
		      unsigned long long index, const char *value, size_t len)
{
	int r = ARRAY_RESERVE(a->v, a->cap, a->n + 1, 16, SIZE_MAX);

	if (r < 0)
		return r;
	a->v[a->n] = (struct addr){
		.id = id, .id_len = id_len, .family = family, .index = index,
		.value = value, .len = len, .seq = a->n,
	};
	a->n++;
	return 0;
}

static int cmp_addr(const void *pa, const void *pb)
{
	const struct addr *a = pa, *b = pb;
	int c = cmp_bytes(a->id, a->id_len, b->id, b->id_len);

	if (c)
		return c;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * The RFC 5952 spelling of an IPv6 address (compressed, lower case) into
 * out, and its length; 0 when value is not one inet_pton() takes (a zone id,
 * a prefix length, spaces, junk), which the caller then keeps as written.
 * Windows' xenvif writes the same address fully expanded that Linux agents
 * write compressed, and a consumer must be able to compare them.
 */
static size_t ipv6_canonical(const char *value, size_t len, char out[INET6_ADDRSTRLEN])
{
	char in[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len >= sizeof(in) || memchr(value, '\0', len))
		return 0;
	memcpy(in, value, len);
	in[len] = '\0';
	if (inet_pton(AF_INET6, in, &a) != 1 || !inet_ntop(AF_INET6, &a, out, INET6_ADDRSTRLEN))
		return 0;
	return strlen(out);
}

/*
 * Emits the collected addresses of one source: sorted by vif, family and
 * index, so the first IPv4 of each vif is its lowest index and becomes <id>/ip.
 */
static int emit_addrs(struct gm_map *m, struct addrs *a)
{
	char key[KEYBUF], canon[INET6_ADDRSTRLEN];
	size_t canon_len;
	int r, n;

	if (a->n > 1)
		qsort(a->v, a->n, sizeof(a->v[0]), cmp_addr);
	for (size_t i = 0; i < a->n; i++) {
		const struct addr *x = &a->v[i];

		if (x->family == 4 && (i == 0 || cmp_bytes(x->id, x->id_len,
				a->v[i - 1].id, a->v[i - 1].id_len) != 0 ||
				a->v[i - 1].family != 4)) {
			n = snprintf(key, sizeof(key), "%.*s/ip", (int)x->id_len, x->id);
			if (n < 0 || (size_t)n >= sizeof(key))
				return -EOVERFLOW;
			r = map_add(m, key, (size_t)n, x->value, x->len);
			if (r < 0)
				return r;
		}
		n = snprintf(key, sizeof(key), "%.*s/ipv%d/%llu", (int)x->id_len, x->id,
			     x->family, x->index);
		if (n < 0 || (size_t)n >= sizeof(key))
			return -EOVERFLOW;
		if (x->family == 6 && (canon_len = ipv6_canonical(x->value, x->len, canon)) > 0)
			r = map_add(m, key, (size_t)n, canon, canon_len);
		else
			r = map_add(m, key, (size_t)n, x->value, x->len);
		if (r < 0)
			return r;
	}
	a->n = 0;
	return 0;
}

/* <prefix><id>/ipv4/<i> and <prefix><id>/ipv6/<i>. */
static int collect_vif_layout(struct addrs *a, const struct keyset *ks, const char *prefix)
{
	struct keyset_iter it;
	const char *path, *value, *c[3];
	size_t len, cl[3];
	unsigned long long index;
	int r, family;

	keyset_iter_init(&it, ks, prefix);
	while (keyset_iter_next(&it, &path, &value, &len)) {
		if (split(path + strlen(prefix), c, cl, 3) != 3)
			continue;
		if (comp_is(c[1], cl[1], "ipv4"))
			family = 4;
		else if (comp_is(c[1], cl[1], "ipv6"))
			family = 6;
		else
			continue;
		if (!parse_index(c[2], cl[2], &index))
			continue;
		r = addrs_push(a, c[0], cl[0], family, index, value, len);
		if (r < 0)
			return r;
	}
	return 0;
}

static const char *const legacy_ifaces[] = { "eth", "xenbr", "eno", "ens", "emp", "enx" };

/* The vif id of a legacy interface name (eth0 -> 0, ens3 -> 3), or NULL. */
static const char *legacy_id(const char *name, size_t len, size_t *id_len)
{
	for (size_t i = 0; i < sizeof(legacy_ifaces) / sizeof(legacy_ifaces[0]); i++) {
		size_t pl = strlen(legacy_ifaces[i]);

		if (len > pl && memcmp(name, legacy_ifaces[i], pl) == 0) {
			*id_len = len - pl;
			return name + pl;
		}
	}
	return NULL;
}

/* attr/<iface>/ip, attr/<iface>/ipv4/<i>/addr, attr/<iface>/ipv6/<i>/addr. */
static int collect_legacy_layout(struct addrs *a, const struct keyset *ks)
{
	struct keyset_iter it;
	const char *path, *value, *c[4], *id;
	size_t len, cl[4], id_len;
	unsigned long long index;
	int r, n, family;

	keyset_iter_init(&it, ks, "attr/");
	while (keyset_iter_next(&it, &path, &value, &len)) {
		n = split(path + strlen("attr/"), c, cl, 4);
		if (n < 2 || !(id = legacy_id(c[0], cl[0], &id_len)))
			continue;
		if (n == 2 && comp_is(c[1], cl[1], "ip")) {
			family = 4;
			index = 0;
		} else if (n == 4 && comp_is(c[3], cl[3], "addr") &&
			   parse_index(c[2], cl[2], &index)) {
			if (comp_is(c[1], cl[1], "ipv4"))
				family = 4;
			else if (comp_is(c[1], cl[1], "ipv6"))
				family = 6;
			else
				continue;
		} else {
			continue;
		}
		r = addrs_push(a, id, id_len, family, index, value, len);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_networks(struct gm_map *m, const struct keyset *ks)
{
	struct addrs a = { 0 };
	struct keyset_iter it;
	const char *path, *value;
	size_t len;
	int r;

	/* xapi's rule: any child of attr/vif means the legacy layout is stale. */
	keyset_iter_init(&it, ks, "attr/vif/");
	if (keyset_iter_next(&it, &path, &value, &len))
		r = collect_vif_layout(&a, ks, "attr/vif/");
	else
		r = collect_legacy_layout(&a, ks);
	if (r < 0)
		goto out;
	r = emit_addrs(m, &a);
	if (r < 0)
		goto out;
	/* Emitted after the vifs so that a vif's address wins a clash. */
	r = collect_vif_layout(&a, ks, "xenserver/attr/net-sriov-vf/");
	if (r < 0)
		goto out;
	r = emit_addrs(m, &a);
out:
	free(a.v);
	return r;
}

/* --- disks, other, memory, hotplug --- */

static int add_disks(struct gm_map *m, const struct keyset *ks)
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
		r = map_add(m, rest, strlen(rest), value, len);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_other(struct gm_map *m, const struct keyset *ks)
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
		r = map_add(m, rest, strlen(rest), value, len);
		if (r < 0)
			return r;
	}
	r = add_value(m, ks, "data/ts", "data-ts");
	if (r < 0)
		return r;
	return add_value(m, ks, "data/cant_suspend_reason", "data-cant-suspend-reason");
}

static long long kib(const struct keyset *ks, const char *path)
{
	size_t len;
	const char *v = keyset_get(ks, path, &len);
	long long n;

	return v && version_parse_number(v, len, &n) == 0 ? n : GM_ABSENT;
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

/* --- the record --- */

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
	map_free(&m->os_version);
	map_free(&m->pv_drivers_version);
	map_free(&m->networks);
	map_free(&m->disks);
	map_free(&m->other);
	metrics_init(m);
}

int metrics_compute(struct guest_metrics *out, const struct keyset *ks,
		    const struct metrics_config *cfg, const struct metrics_clock *clk)
{
	struct guest_metrics *m = out;
	int r;

	metrics_init(m);
	r = add_table(&m->os_version, ks, os_keys, sizeof(os_keys) / sizeof(os_keys[0]));
	if (r < 0)
		goto fail;
	r = add_table(&m->pv_drivers_version, ks, pv_keys, sizeof(pv_keys) / sizeof(pv_keys[0]));
	if (r < 0)
		goto fail;
	r = add_drivers(&m->pv_drivers_version, ks);
	if (r < 0)
		goto fail;
	r = add_networks(&m->networks, ks);
	if (r < 0)
		goto fail;
	r = add_disks(&m->disks, ks);
	if (r < 0)
		goto fail;
	r = add_other(&m->other, ks);
	if (r < 0)
		goto fail;
	map_finish(&m->os_version);
	map_finish(&m->pv_drivers_version);
	map_finish(&m->networks);
	map_finish(&m->disks);
	map_finish(&m->other);

	pv_flags(m, ks, cfg);
	m->memory.total_kib = kib(ks, "data/meminfo_total");
	m->memory.free_kib = kib(ks, "data/meminfo_free");
	m->can_use_hotplug_vbd = hotplug(ks, "feature/hotplug/vbd");
	m->can_use_hotplug_vif = hotplug(ks, "feature/hotplug/vif");
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
		return map_equal(&a->os_version, &b->os_version);
	case METRICS_PV_DRIVERS_VERSION:
		return map_equal(&a->pv_drivers_version, &b->pv_drivers_version);
	case METRICS_PV_DRIVERS_DETECTED:
		return a->pv_drivers_detected == b->pv_drivers_detected;
	case METRICS_PV_DRIVERS_UP_TO_DATE:
		return a->pv_drivers_up_to_date == b->pv_drivers_up_to_date;
	case METRICS_PV_DRIVERS_NOT_UPGRADABLE:
		return a->pv_drivers_not_upgradable == b->pv_drivers_not_upgradable;
	case METRICS_NETWORKS:
		return map_equal(&a->networks, &b->networks);
	case METRICS_MEMORY:
		return a->memory.total_kib == b->memory.total_kib &&
		       a->memory.free_kib == b->memory.free_kib;
	case METRICS_DISKS:
		return map_equal(&a->disks, &b->disks);
	case METRICS_OTHER:
		return map_equal(&a->other, &b->other);
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

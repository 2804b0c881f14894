/*
 * networks: each vif's addresses from attr/vif/<id>/ipv4|ipv6/<i>, or the
 * legacy attr/<iface>/... layout when there is no attr/vif, then the SR-IOV
 * VFs' under xenserver/attr/net-sriov-vf; IPv6 in its RFC 5952 spelling
 * (see metrics.h for every rule, and xapi's reading they follow).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/extract.h"
#include "metrics/map.h"
#include "metrics/path.h"
#include "util/array.h"

/* Room for any stored path plus a short suffix such as "/ipv4/<20 digits>". */
#define KEYBUF (KEYSET_PATH_MAX + 64)

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
	int c = gm_bytes_cmp(a->id, a->id_len, b->id, b->id_len);

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

		if (x->family == 4 && (i == 0 || gm_bytes_cmp(x->id, x->id_len,
				a->v[i - 1].id, a->v[i - 1].id_len) != 0 ||
				a->v[i - 1].family != 4)) {
			n = snprintf(key, sizeof(key), "%.*s/ip", (int)x->id_len, x->id);
			if (n < 0 || (size_t)n >= sizeof(key))
				return -EOVERFLOW;
			r = gm_map_add(m, key, (size_t)n, x->value, x->len);
			if (r < 0)
				return r;
		}
		n = snprintf(key, sizeof(key), "%.*s/ipv%d/%llu", (int)x->id_len, x->id,
			     x->family, x->index);
		if (n < 0 || (size_t)n >= sizeof(key))
			return -EOVERFLOW;
		if (x->family == 6 && (canon_len = ipv6_canonical(x->value, x->len, canon)) > 0)
			r = gm_map_add(m, key, (size_t)n, canon, canon_len);
		else
			r = gm_map_add(m, key, (size_t)n, x->value, x->len);
		if (r < 0)
			return r;
	}
	a->n = 0;
	return 0;
}

/* 4 for an "ipv4" component, 6 for "ipv6", 0 for any other. */
static int ip_family(const char *c, size_t len)
{
	if (path_comp_is(c, len, "ipv4"))
		return 4;
	if (path_comp_is(c, len, "ipv6"))
		return 6;
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
		if (path_split(path + strlen(prefix), c, cl, 3) != 3)
			continue;
		family = ip_family(c[1], cl[1]);
		if (!family || !path_parse_index(c[2], cl[2], &index))
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
		n = path_split(path + strlen("attr/"), c, cl, 4);
		if (n < 2 || !(id = legacy_id(c[0], cl[0], &id_len)))
			continue;
		if (n == 2 && path_comp_is(c[1], cl[1], "ip")) {
			family = 4;
			index = 0;
		} else if (n != 4 || !path_comp_is(c[3], cl[3], "addr") ||
			   !path_parse_index(c[2], cl[2], &index) ||
			   !(family = ip_family(c[1], cl[1]))) {
			continue;
		}
		r = addrs_push(a, id, id_len, family, index, value, len);
		if (r < 0)
			return r;
	}
	return 0;
}

int metrics_add_networks(struct gm_map *m, const struct keyset *ks)
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

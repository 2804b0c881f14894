/*
 * What the guest runs: os_version (the agent's data/os_... and attr/os/...
 * keys), pv_drivers_version (attr/PVAddons/... and the Windows drivers/<N>
 * lines) and the pv_drivers_* flags derived from them (see metrics.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/extract.h"
#include "metrics/map.h"
#include "metrics/path.h"
#include "metrics/version.h"
#include "util/array.h"

static const struct gm_key_map os_keys[] = {
	{ "data/os_name", "name" },
	{ "data/os_uname", "uname" },
	{ "data/os_distro", "distro" },
	{ "data/os_majorver", "major" },
	{ "data/os_minorver", "minor" },
	{ "data/os_buildver", "build" },
	{ "attr/os/spmajor", "spmajor" },
	{ "attr/os/spminor", "spminor" },
};

int metrics_add_os_version(struct gm_map *m, const struct keyset *ks)
{
	return gm_map_add_keys(m, ks, os_keys, sizeof(os_keys) / sizeof(os_keys[0]));
}

static const struct gm_key_map pv_keys[] = {
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
	return gm_map_add(m, key, fl[1], val, vl);
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
		if (!path_parse_index(rest, strlen(rest), &index))
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

/* The PVAddons keys first: they win over a driver named "major" & co. */
int metrics_add_pv_drivers_version(struct gm_map *m, const struct keyset *ks)
{
	int r = gm_map_add_keys(m, ks, pv_keys, sizeof(pv_keys) / sizeof(pv_keys[0]));

	return r < 0 ? r : add_drivers(m, ks);
}

void metrics_set_pv_flags(struct guest_metrics *m, const struct keyset *ks,
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

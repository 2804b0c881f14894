/*
 * PV tools version parsing and comparison. Guests write these strings with
 * every imaginable mistake: each component goes through util/decimal.
 */
#include <errno.h>
#include <string.h>

#include "metrics/version.h"
#include "util/decimal.h"

bool pv_version_from_parts(struct pv_version *out,
			   const char *const part[PV_VERSION_PARTS],
			   const size_t len[PV_VERSION_PARTS])
{
	bool ok[PV_VERSION_PARTS];

	for (int i = 0; i < PV_VERSION_PARTS; i++) {
		ok[i] = part[i] && decimal_parse_trimmed(part[i], len[i], &out->part[i]) == 0;
		if (!ok[i])
			out->part[i] = PV_VERSION_MISSING;
	}
	return ok[0] && ok[1];
}

int pv_version_parse(const char *s, struct pv_version *out)
{
	struct pv_version v;
	int n = 0, r;

	for (int i = 0; i < PV_VERSION_PARTS; i++)
		v.part[i] = PV_VERSION_MISSING;
	for (;;) {
		size_t len = strcspn(s, ".-");

		/* '-' only before the build, as in "9.4.0-123". */
		if (n == PV_VERSION_PARTS || (s[len] == '-' && n != 2))
			return -EINVAL;
		r = decimal_parse(s, len, &v.part[n++]);
		if (r < 0)
			return r;
		if (!s[len])
			break;
		s += len + 1;
	}
	*out = v;
	return 0;
}

int pv_version_compare(const struct pv_version *a, const struct pv_version *b)
{
	for (int i = 0; i < PV_VERSION_PARTS; i++) {
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	}
	return 0;
}

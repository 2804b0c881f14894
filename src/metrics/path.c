/*
 * The shape of a keyset path (see path.h): split on '/', compared
 * component by component, indices read strictly.
 */
#include <stdbool.h>
#include <string.h>

#include "metrics/path.h"

int path_split(const char *s, const char **comp, size_t *len, int max)
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

bool path_comp_is(const char *c, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(c, lit, len) == 0;
}

/* At most 19 digits: below 10^19, so v cannot overflow an unsigned long long. */
bool path_parse_index(const char *s, size_t len, unsigned long long *out)
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

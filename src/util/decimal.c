/*
 * Strict decimal parsing: digits and nothing else, every overflow caught.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "util/decimal.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int decimal_parse(const char *s, size_t len, long long *out)
{
	long long v = 0;

	if (!len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = s[i] - '0';
		if (v > (LLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int decimal_parse_trimmed(const char *s, size_t len, long long *out)
{
	while (len && is_blank(s[0])) {
		s++;
		len--;
	}
	while (len && is_blank(s[len - 1]))
		len--;
	return decimal_parse(s, len, out);
}

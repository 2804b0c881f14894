/*
 * UTF-8 validation and replacement of ill-formed bytes with U+FFFD
 * (one replacement per byte that does not start a well-formed sequence).
 */
#include <string.h>

#include "util/utf8.h"

size_t utf8_sequence_length(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;	/* bounds for the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* beyond U+10FFFF */
	} else
		return 0;
	if (len < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	while (len > 0) {
		size_t n = utf8_sequence_length(p, len);

		if (n == 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

size_t utf8_repair(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used = 0;

	while (len > 0) {
		size_t n = utf8_sequence_length(p, len);

		if (n == 0) {
			memcpy(out + used, UTF8_REPLACEMENT, 3);
			used += 3;
			n = 1;
		} else {
			memcpy(out + used, p, n);
			used += n;
		}
		p += n;
		len -= n;
	}
	return used;
}

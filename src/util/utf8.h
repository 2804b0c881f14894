/*
 * UTF-8 validation and repair for bytes that come from guests and clients:
 * whatever they send, what we emit is valid UTF-8.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define UTF8_REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/*
 * Length in bytes of the well-formed sequence at s[0..len), or 0 when it is
 * not one (the caller then replaces one byte with U+FFFD and moves on).
 */
size_t utf8_sequence_length(const unsigned char *s, size_t len);

/*
 * Copies s[0..len) to out, each ill-formed byte replaced with U+FFFD.
 * out must hold 3 * len bytes; returns the length written.
 */
size_t utf8_repair(const char *s, size_t len, char *out);

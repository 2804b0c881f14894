/*
 * Non-negative decimal integers, parsed strictly: guests write numbers
 * (versions, memory sizes) with every imaginable mistake, so nothing here
 * trusts libc's lenient strtol. Pure.
 */
#pragma once

#include <stddef.h>

/*
 * Parses s[0..len) as a non-negative decimal integer: ASCII digits only
 * (leading zeros allowed: "04" is 4), no sign, no "0x", no spaces, no NUL.
 * Returns 0, -EINVAL (empty or junk) or -ERANGE (above LLONG_MAX); *out is
 * written only on success.
 */
int decimal_parse(const char *s, size_t len, long long *out);

/*
 * The same, with leading and trailing spaces, tabs, CRs and LFs tolerated:
 * the form for numbers a guest writes, because hand-written tools scripts
 * and registry values carry them and they cannot change which number was
 * meant. Blank alone is -EINVAL.
 */
int decimal_parse_trimmed(const char *s, size_t len, long long *out);

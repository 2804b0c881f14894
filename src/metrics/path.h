/*
 * The shape of a keyset path, for the extractors inside metrics/: its
 * components, and the canonical indices guests number entries with
 * (attr/vif/<id>/ipv4/<i>, drivers/<N>). Pure, owns nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Splits s on '/' into at most max components (comp[i], len[i]). Returns
 * their number, or -1 when there are more than max or one is empty (not a
 * shape the metrics read).
 */
int path_split(const char *s, const char **comp, size_t *len, int max);

/* Whether the component c[0..len) is exactly lit. */
bool path_comp_is(const char *c, size_t len, const char *lit);

/*
 * A canonical decimal index: "0", or up to 19 digits without a leading
 * zero ("01" and "a" are not indices). True with *out set, or false.
 */
bool path_parse_index(const char *s, size_t len, unsigned long long *out);

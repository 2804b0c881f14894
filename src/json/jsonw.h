/*
 * JSON writing on top of yajl_gen: one compact object per line, and strings
 * that are always valid UTF-8 whatever bytes they came from.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>

/* A compact generator (no beautify, so a raw newline only ever ends a line). NULL on ENOMEM. */
yajl_gen jsonw_new(void);

/* Each returns 0 or -ENOMEM / -EINVAL (a yajl state error is a bug of ours). */
int jsonw_string(yajl_gen g, const char *s, size_t len);	/* bad UTF-8 -> U+FFFD */
int jsonw_cstr(yajl_gen g, const char *s);
int jsonw_int(yajl_gen g, long long v);
int jsonw_bool(yajl_gen g, bool v);
int jsonw_null(yajl_gen g);
/*
 * One value written as the given JSON text, unchecked: only for text that
 * was itself parsed as one JSON value of valid UTF-8 (a client's id, echoed
 * byte for byte).
 */
int jsonw_verbatim(yajl_gen g, const char *json, size_t len);
int jsonw_map_open(yajl_gen g);
int jsonw_map_close(yajl_gen g);
int jsonw_array_open(yajl_gen g);
int jsonw_array_close(yajl_gen g);

/* The text generated so far (owned by g, valid until the next call on g). */
void jsonw_text(yajl_gen g, const char **text, size_t *len);

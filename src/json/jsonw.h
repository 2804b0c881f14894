/*
 * JSON writing on top of yajl_gen: one compact object per line, strings
 * that are always valid UTF-8 whatever bytes they came from, and one way
 * of handling errors. The writer keeps the first error it meets and
 * ignores every call after it, so a caller writes a whole document and
 * checks jsonw_error() once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

struct jsonw {
	yajl_gen gen;	/* NULL when jsonw_init() ran out of memory */
	int err;	/* the first error, 0 for none: read it with jsonw_error() */
};

/*
 * A compact writer (no beautify, so a raw newline only ever ends a line).
 * Returns 0 or -ENOMEM; on -ENOMEM the writer still exists, holds that
 * error, and may be written to and released like any other.
 */
int jsonw_init(struct jsonw *w);
void jsonw_release(struct jsonw *w);

/* Empties w for the next document: no text, no error. */
void jsonw_reset(struct jsonw *w);

/*
 * The first error since jsonw_init() or jsonw_reset(), or 0: the writer's
 * own are -ENOMEM, -EINVAL (a string or number yajl refuses) and -EPROTO (a
 * key where a value belongs and the like: a bug of ours); others come from
 * jsonw_fail().
 */
int jsonw_error(const struct jsonw *w);

/*
 * Records an error met while writing (a value that cannot be had, an
 * unknown field): like a writer error, it is kept only if it is the first.
 */
void jsonw_fail(struct jsonw *w, int err);

/* Each writes one key or value; after an error, none does anything. */
void jsonw_string(struct jsonw *w, const char *s, size_t len);	/* bad UTF-8 -> U+FFFD */
void jsonw_cstr(struct jsonw *w, const char *s);
void jsonw_cstr_or_null(struct jsonw *w, const char *s);	/* NULL -> null */
void jsonw_int(struct jsonw *w, long long v);
/* Sequence numbers and counters: clamped at INT64_MAX (none gets there), never wrapped negative. */
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_key_uint(struct jsonw *w, const char *key, uint64_t v);	/* "key":v, a counter */
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/*
 * One value written as the given JSON text, unchecked: only for text that
 * was itself parsed as one JSON value of valid UTF-8 (a client's id, echoed
 * byte for byte).
 */
void jsonw_verbatim(struct jsonw *w, const char *json, size_t len);
void jsonw_map_open(struct jsonw *w);
void jsonw_map_close(struct jsonw *w);
void jsonw_array_open(struct jsonw *w);
void jsonw_array_close(struct jsonw *w);

/*
 * The text written since the last reset (owned by w, valid until the next
 * call on w). Whole only when jsonw_error() is 0.
 */
void jsonw_text(const struct jsonw *w, const char **text, size_t *len);

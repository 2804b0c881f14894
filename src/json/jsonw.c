/*
 * JSON writing on top of yajl_gen. Guest and client bytes are repaired to
 * valid UTF-8 here, once, so no caller can emit invalid JSON by mistake;
 * and the first error is kept here, once, so no caller chains results.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/jsonw.h"
#include "util/utf8.h"

int jsonw_init(struct jsonw *w)
{
	w->gen = yajl_gen_alloc(NULL);
	w->err = w->gen ? 0 : -ENOMEM;
	if (w->gen)
		yajl_gen_config(w->gen, yajl_gen_beautify, 0);
	return w->err;
}

void jsonw_release(struct jsonw *w)
{
	if (w->gen)
		yajl_gen_free(w->gen);
	w->gen = NULL;
}

void jsonw_reset(struct jsonw *w)
{
	if (!w->gen)
		return;		/* keeps its -ENOMEM */
	yajl_gen_clear(w->gen);
	yajl_gen_reset(w->gen, NULL);
	w->err = 0;
}

int jsonw_error(const struct jsonw *w)
{
	return w->err;
}

void jsonw_fail(struct jsonw *w, int err)
{
	if (w->err == 0 && err < 0)
		w->err = err;
}

/* Whether a write may go ahead: nothing failed before it. */
static bool ok(const struct jsonw *w)
{
	return w->err == 0;
}

static void check(struct jsonw *w, yajl_gen_status s)
{
	switch (s) {
	case yajl_gen_status_ok:
		break;
	case yajl_gen_invalid_string:
	case yajl_gen_invalid_number:
		jsonw_fail(w, -EINVAL);
		break;
	default:
		jsonw_fail(w, -EPROTO);	/* a key where a value belongs, and the like */
		break;
	}
}

void jsonw_string(struct jsonw *w, const char *s, size_t len)
{
	char stack[256], *fixed;
	size_t fixed_len;

	if (!ok(w))
		return;
	if (utf8_valid(s, len)) {
		check(w, yajl_gen_string(w->gen, (const unsigned char *)s, len));
		return;
	}
	if (len > SIZE_MAX / 3) {
		jsonw_fail(w, -ENOMEM);
		return;
	}
	fixed = 3 * len <= sizeof(stack) ? stack : malloc(3 * len);
	if (!fixed) {
		jsonw_fail(w, -ENOMEM);
		return;
	}
	fixed_len = utf8_repair(s, len, fixed);
	check(w, yajl_gen_string(w->gen, (const unsigned char *)fixed, fixed_len));
	if (fixed != stack)
		free(fixed);
}

void jsonw_cstr(struct jsonw *w, const char *s)
{
	jsonw_string(w, s, strlen(s));
}

void jsonw_cstr_or_null(struct jsonw *w, const char *s)
{
	if (s)
		jsonw_cstr(w, s);
	else
		jsonw_null(w);
}

void jsonw_int(struct jsonw *w, long long v)
{
	if (ok(w))
		check(w, yajl_gen_integer(w->gen, v));
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	jsonw_int(w, v > INT64_MAX ? INT64_MAX : (long long)v);
}

void jsonw_key_uint(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_cstr(w, key);
	jsonw_uint(w, v);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	if (ok(w))
		check(w, yajl_gen_bool(w->gen, v));
}

void jsonw_null(struct jsonw *w)
{
	if (ok(w))
		check(w, yajl_gen_null(w->gen));
}

/* yajl_gen_number prints its text as given, separators and state handled: any value fits. */
void jsonw_verbatim(struct jsonw *w, const char *json, size_t len)
{
	if (ok(w))
		check(w, yajl_gen_number(w->gen, json, len));
}

void jsonw_map_open(struct jsonw *w)
{
	if (ok(w))
		check(w, yajl_gen_map_open(w->gen));
}

void jsonw_map_close(struct jsonw *w)
{
	if (ok(w))
		check(w, yajl_gen_map_close(w->gen));
}

void jsonw_array_open(struct jsonw *w)
{
	if (ok(w))
		check(w, yajl_gen_array_open(w->gen));
}

void jsonw_array_close(struct jsonw *w)
{
	if (ok(w))
		check(w, yajl_gen_array_close(w->gen));
}

void jsonw_text(const struct jsonw *w, const char **text, size_t *len)
{
	const unsigned char *buf;

	if (!w->gen) {
		*text = "";
		*len = 0;
		return;
	}
	yajl_gen_get_buf(w->gen, &buf, len);
	*text = (const char *)buf;
}

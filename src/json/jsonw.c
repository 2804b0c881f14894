/*
 * JSON writing on top of yajl_gen. Guest and client bytes are repaired to
 * valid UTF-8 here, once, so no caller can emit invalid JSON by mistake.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/jsonw.h"
#include "util/utf8.h"

yajl_gen jsonw_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g)
		yajl_gen_config(g, yajl_gen_beautify, 0);
	return g;
}

static int status_to_errno(yajl_gen_status s)
{
	switch (s) {
	case yajl_gen_status_ok:
		return 0;
	case yajl_gen_invalid_string:
	case yajl_gen_invalid_number:
		return -EINVAL;
	default:
		return -EPROTO;	/* a key where a value belongs, and the like */
	}
}

int jsonw_string(yajl_gen g, const char *s, size_t len)
{
	char stack[256], *fixed;
	size_t fixed_len;
	int r;

	if (utf8_valid(s, len))
		return status_to_errno(yajl_gen_string(g, (const unsigned char *)s, len));
	if (len > SIZE_MAX / 3)
		return -ENOMEM;
	fixed = 3 * len <= sizeof(stack) ? stack : malloc(3 * len);
	if (!fixed)
		return -ENOMEM;
	fixed_len = utf8_repair(s, len, fixed);
	r = status_to_errno(yajl_gen_string(g, (const unsigned char *)fixed, fixed_len));
	if (fixed != stack)
		free(fixed);
	return r;
}

int jsonw_cstr(yajl_gen g, const char *s)
{
	return jsonw_string(g, s, strlen(s));
}

int jsonw_int(yajl_gen g, long long v)
{
	return status_to_errno(yajl_gen_integer(g, v));
}

int jsonw_bool(yajl_gen g, bool v)
{
	return status_to_errno(yajl_gen_bool(g, v));
}

int jsonw_null(yajl_gen g)
{
	return status_to_errno(yajl_gen_null(g));
}

/* yajl_gen_number prints its text as given, separators and state handled: any value fits. */
int jsonw_verbatim(yajl_gen g, const char *json, size_t len)
{
	return status_to_errno(yajl_gen_number(g, json, len));
}

int jsonw_map_open(yajl_gen g)
{
	return status_to_errno(yajl_gen_map_open(g));
}

int jsonw_map_close(yajl_gen g)
{
	return status_to_errno(yajl_gen_map_close(g));
}

int jsonw_array_open(yajl_gen g)
{
	return status_to_errno(yajl_gen_array_open(g));
}

int jsonw_array_close(yajl_gen g)
{
	return status_to_errno(yajl_gen_array_close(g));
}

void jsonw_text(yajl_gen g, const char **text, size_t *len)
{
	const unsigned char *buf;

	yajl_gen_get_buf(g, &buf, len);
	*text = (const char *)buf;
}

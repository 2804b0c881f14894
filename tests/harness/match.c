/*
 * Field conditions of expectations against events and replies: a dotted
 * path into the object, then the operator's comparison, so that a report
 * can say exactly which condition failed and what was there instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "match.h"

yajl_val scn_json_at(yajl_val root, const char *dotted)
{
	const char *seg = dotted;
	yajl_val v = root;

	while (v && *seg) {
		const char *dot = strchr(seg, '.');
		size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
		yajl_val next = NULL;

		if (!YAJL_IS_OBJECT(v))
			return NULL;
		for (size_t i = 0; i < v->u.object.len; i++) {
			if (strlen(v->u.object.keys[i]) == len && !memcmp(v->u.object.keys[i], seg, len)) {
				next = v->u.object.values[i];
				break;
			}
		}
		v = next;
		seg = dot ? dot + 1 : seg + len;
	}
	return v;
}

static void gen(yajl_gen g, yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			const char *k = v->u.object.keys[i];

			yajl_gen_string(g, (const unsigned char *)k, strlen(k));
			gen(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else {
		yajl_gen_null(g);
	}
}

char *scn_json_render(yajl_val v, char *buf, size_t size)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *out;
	size_t len;

	if (size == 0)
		return buf;
	if (!g) {
		snprintf(buf, size, "(out of memory)");
		return buf;
	}
	gen(g, v);
	yajl_gen_get_buf(g, &out, &len);
	if (len < size) {
		memcpy(buf, out, len);
		buf[len] = '\0';
	} else {
		memcpy(buf, out, size - 1);
		buf[size - 1] = '\0';
		if (size > 4)
			memcpy(buf + size - 4, "...", 3);
	}
	yajl_gen_free(g);
	return buf;
}

/* A scalar's text as a condition compares it: strings and numbers only, unless literal. */
static bool scalar_equals(const struct scn_cond *m, yajl_val v)
{
	if (m->literal)
		return (YAJL_IS_TRUE(v) && !strcmp(m->value, "true")) ||
		       (YAJL_IS_FALSE(v) && !strcmp(m->value, "false")) ||
		       (YAJL_IS_NULL(v) && !strcmp(m->value, "null"));
	if (YAJL_IS_STRING(v))
		return strlen(v->u.string) == m->value_len && !memcmp(v->u.string, m->value, m->value_len);
	if (YAJL_IS_NUMBER(v))
		return !strcmp(v->u.number.r, m->value);
	return false;
}

static bool equals(const struct scn_cond *m, yajl_val v)
{
	if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++)
			if (scalar_equals(m, v->u.array.values[i]))
				return true;
		return false;
	}
	return scalar_equals(m, v);
}

bool scn_match_eval(const struct scn_cond *m, yajl_val root, char *got, size_t size)
{
	yajl_val v = scn_json_at(root, m->field);
	double x;

	if (size)
		got[0] = '\0';
	if (!v) {
		snprintf(got, size, "(absent)");
		return m->op == SCN_OP_ABSENT;
	}
	scn_json_render(v, got, size);
	switch (m->op) {
	case SCN_OP_PRESENT:
		return true;
	case SCN_OP_ABSENT:
		return false;
	case SCN_OP_EQ:
		return equals(m, v);
	case SCN_OP_NE:
		return !equals(m, v);
	case SCN_OP_MATCH:
		if (YAJL_IS_STRING(v))
			return regexec(&m->re, v->u.string, 0, NULL, 0) == 0;
		if (YAJL_IS_NUMBER(v))
			return regexec(&m->re, v->u.number.r, 0, NULL, 0) == 0;
		return false;
	default:
		break;
	}
	if (!YAJL_IS_NUMBER(v))
		return false;
	x = strtod(v->u.number.r, NULL);
	switch (m->op) {
	case SCN_OP_GE: return x >= m->number;
	case SCN_OP_GT: return x > m->number;
	case SCN_OP_LE: return x <= m->number;
	case SCN_OP_LT: return x < m->number;
	default: return false;
	}
}

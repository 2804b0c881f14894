/*
 * Field conditions of expectations against events and replies: a dotted
 * path into the message's text, then the operator's comparison, so that a
 * report can say exactly which condition failed and what was there instead.
 */
#define _GNU_SOURCE
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "match.h"

/* Deeper than any message of xgmd's: a value below it is not found. */
#define WALK_DEPTH 32

enum kind { K_STRING, K_NUMBER, K_TRUE, K_FALSE, K_NULL, K_MAP, K_ARRAY };

/* A value as the text has it: a string's bytes (NULs included) or a number's digits. */
struct scalar {
	enum kind kind;
	char *bytes;		/* malloc'ed and NUL-terminated for strings and numbers, else NULL */
	size_t len;
};

/*
 * One pass of yajl's event parser over a message, for the value at a
 * dotted path: the value is copied into gen (for reports), and kept as a
 * scalar, with the scalars of its elements when it is an array (for
 * comparisons). The pass stops at the end of the value.
 */
struct walk {
	const char *seg[WALK_DEPTH];
	size_t seg_len[WALK_DEPTH], n_seg;
	size_t depth;				/* containers open */
	bool map[WALK_DEPTH + 1];		/* the container at each depth is an object */
	bool on_path[WALK_DEPTH + 1];		/* ... and lies on the path */
	bool key_ok[WALK_DEPTH + 1];		/* ... and its current key is the path's next segment */
	enum { BEFORE, INSIDE, DONE } state;
	size_t own_depth;			/* the depth of the value's contents, once INSIDE */
	yajl_gen gen;
	struct scalar value;
	struct scalar *elems;
	size_t n_elems, cap_elems;
	bool failed;				/* out of memory, or deeper than WALK_DEPTH */
};

static int scalar_set(struct scalar *s, enum kind kind, const char *bytes, size_t len)
{
	s->kind = kind;
	s->len = len;
	s->bytes = NULL;
	if (kind != K_STRING && kind != K_NUMBER)
		return 0;
	s->bytes = malloc(len + 1);
	if (!s->bytes)
		return -1;
	memcpy(s->bytes, bytes, len);
	s->bytes[len] = '\0';
	return 0;
}

static int keep_elem(struct walk *w, enum kind kind, const char *bytes, size_t len)
{
	if (w->n_elems == w->cap_elems) {
		size_t cap = w->cap_elems ? 2 * w->cap_elems : 8;
		struct scalar *grown = realloc(w->elems, cap * sizeof(*grown));

		if (!grown)
			return -1;
		w->elems = grown;
		w->cap_elems = cap;
	}
	if (scalar_set(&w->elems[w->n_elems], kind, bytes, len) < 0)
		return -1;
	w->n_elems++;
	return 0;
}

static yajl_gen_status gen_value(yajl_gen g, enum kind kind, const char *s, size_t len)
{
	switch (kind) {
	case K_STRING:
		return yajl_gen_string(g, (const unsigned char *)s, len);
	case K_NUMBER:
		return yajl_gen_number(g, s, len);
	case K_TRUE:
	case K_FALSE:
		return yajl_gen_bool(g, kind == K_TRUE);
	case K_NULL:
		return yajl_gen_null(g);
	case K_MAP:
		return yajl_gen_map_open(g);
	default:
		return yajl_gen_array_open(g);
	}
}

/* A value begins (a scalar, or a container opening); 0 stops the parser. */
static int on_value(struct walk *w, enum kind kind, const char *s, size_t len)
{
	size_t d = w->depth;

	if (w->state == BEFORE &&
	    (d == 0 ? w->n_seg == 0 : d == w->n_seg && w->on_path[d] && w->map[d] && w->key_ok[d])) {
		w->state = INSIDE;
		w->own_depth = d + 1;
	}
	if (w->state == INSIDE) {
		if (gen_value(w->gen, kind, s, len) != yajl_gen_status_ok)
			w->failed = true;
		else if (d + 1 == w->own_depth)
			w->failed = scalar_set(&w->value, kind, s, len) < 0;
		else if (d == w->own_depth && !w->map[d])
			w->failed = keep_elem(w, kind, s, len) < 0;
	}
	if (kind == K_MAP || kind == K_ARRAY) {
		if (d == WALK_DEPTH) {
			w->failed = true;
			return 0;
		}
		w->depth = d + 1;
		w->map[d + 1] = kind == K_MAP;
		w->on_path[d + 1] = d == 0 ||
				    (w->on_path[d] && w->map[d] && w->key_ok[d] && d < w->n_seg);
		w->key_ok[d + 1] = false;
	} else if (w->state == INSIDE && d + 1 == w->own_depth) {
		w->state = DONE;
	}
	return w->state != DONE && !w->failed;
}

static int on_end(struct walk *w)
{
	if (w->state == INSIDE &&
	    (w->map[w->depth] ? yajl_gen_map_close(w->gen) : yajl_gen_array_close(w->gen)) !=
	    yajl_gen_status_ok)
		w->failed = true;
	w->depth--;
	if (w->state == INSIDE && w->depth + 1 == w->own_depth)
		w->state = DONE;
	return w->state != DONE && !w->failed;
}

static int cb_null(void *ctx)
{
	return on_value(ctx, K_NULL, NULL, 0);
}

static int cb_bool(void *ctx, int b)
{
	return on_value(ctx, b ? K_TRUE : K_FALSE, NULL, 0);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	return on_value(ctx, K_NUMBER, s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	return on_value(ctx, K_STRING, (const char *)s, len);
}

static int cb_start_map(void *ctx)
{
	return on_value(ctx, K_MAP, NULL, 0);
}

static int cb_start_array(void *ctx)
{
	return on_value(ctx, K_ARRAY, NULL, 0);
}

static int cb_end(void *ctx)
{
	return on_end(ctx);
}

static int cb_key(void *ctx, const unsigned char *key, size_t len)
{
	struct walk *w = ctx;
	size_t d = w->depth;

	w->key_ok[d] = w->on_path[d] && d <= w->n_seg && len == w->seg_len[d - 1] &&
		       memcmp(key, w->seg[d - 1], len) == 0;
	if (w->state == INSIDE && yajl_gen_string(w->gen, key, len) != yajl_gen_status_ok)
		w->failed = true;
	return !w->failed;
}

static void walk_free(struct walk *w)
{
	free(w->value.bytes);
	for (size_t i = 0; i < w->n_elems; i++)
		free(w->elems[i].bytes);
	free(w->elems);
	if (w->gen)
		yajl_gen_free(w->gen);
	memset(w, 0, sizeof(*w));
}

/* Finds the value at dotted in text[0..len); false when it is absent or w->failed. */
static bool walk(struct walk *w, const char *text, size_t len, const char *dotted)
{
	static const yajl_callbacks callbacks = {
		.yajl_null = cb_null,
		.yajl_boolean = cb_bool,
		.yajl_number = cb_number,
		.yajl_string = cb_string,
		.yajl_start_map = cb_start_map,
		.yajl_map_key = cb_key,
		.yajl_end_map = cb_end,
		.yajl_start_array = cb_start_array,
		.yajl_end_array = cb_end,
	};
	yajl_handle h;

	memset(w, 0, sizeof(*w));
	for (const char *seg = *dotted ? dotted : NULL; seg;) {
		const char *dot = strchr(seg, '.');

		if (w->n_seg == WALK_DEPTH)
			return false;
		w->seg[w->n_seg] = seg;
		w->seg_len[w->n_seg++] = dot ? (size_t)(dot - seg) : strlen(seg);
		seg = dot ? dot + 1 : NULL;
	}
	w->gen = yajl_gen_alloc(NULL);
	h = w->gen ? yajl_alloc(&callbacks, NULL, w) : NULL;
	if (!h) {
		w->failed = true;
		return false;
	}
	if (yajl_parse(h, (const unsigned char *)text, len) == yajl_status_ok)
		yajl_complete_parse(h);
	yajl_free(h);
	return w->state == DONE && !w->failed;
}

/* The value's JSON into buf, cut to size with "...". */
static void render(const struct walk *w, char *buf, size_t size)
{
	const unsigned char *out;
	size_t len;

	yajl_gen_get_buf(w->gen, &out, &len);
	if (len < size) {
		memcpy(buf, out, len);
		buf[len] = '\0';
		return;
	}
	memcpy(buf, out, size - 1);
	buf[size - 1] = '\0';
	if (size > 4)
		memcpy(buf + size - 4, "...", 3);
}

char *scn_json_render_at(const char *text, size_t len, const char *dotted, char *buf, size_t size)
{
	struct walk w;

	if (size == 0)
		return buf;
	if (walk(&w, text, len, dotted))
		render(&w, buf, size);
	else
		snprintf(buf, size, w.failed ? "(unreadable)" : "(absent)");
	walk_free(&w);
	return buf;
}

/* A scalar as a condition compares it: strings and numbers only, unless literal. */
static bool scalar_equals(const struct scn_cond *m, const struct scalar *v)
{
	if (m->literal)
		return (v->kind == K_TRUE && !strcmp(m->value, "true")) ||
		       (v->kind == K_FALSE && !strcmp(m->value, "false")) ||
		       (v->kind == K_NULL && !strcmp(m->value, "null"));
	if (v->kind == K_STRING || v->kind == K_NUMBER)
		return v->len == m->value_len && !memcmp(v->bytes, m->value, v->len);
	return false;
}

/* Equal, or for an array: an element is. */
static bool equals(const struct scn_cond *m, const struct walk *w)
{
	if (w->value.kind != K_ARRAY)
		return scalar_equals(m, &w->value);
	for (size_t i = 0; i < w->n_elems; i++)
		if (scalar_equals(m, &w->elems[i]))
			return true;
	return false;
}

/* The regex over every byte, NULs included (glibc's REG_STARTEND). */
static bool regex_matches(const regex_t *re, const struct scalar *v)
{
	regmatch_t span = { .rm_so = 0, .rm_eo = (regoff_t)v->len };

	if (v->kind != K_STRING && v->kind != K_NUMBER)
		return false;
	return regexec(re, v->bytes, 1, &span, REG_STARTEND) == 0;
}

bool scn_match_eval(const struct scn_cond *m, const char *text, size_t len, char *got, size_t size)
{
	struct walk w;
	bool ok = false;
	double x;

	if (!walk(&w, text, len, m->field)) {
		snprintf(got, size, w.failed ? "(unreadable)" : "(absent)");
		ok = !w.failed && m->op == SCN_OP_ABSENT;
		goto out;
	}
	if (size)
		render(&w, got, size);
	switch (m->op) {
	case SCN_OP_PRESENT:
		ok = true;
		break;
	case SCN_OP_ABSENT:
		break;
	case SCN_OP_EQ:
		ok = equals(m, &w);
		break;
	case SCN_OP_NE:
		ok = !equals(m, &w);
		break;
	case SCN_OP_MATCH:
		ok = regex_matches(&m->re, &w.value);
		break;
	default:
		if (w.value.kind != K_NUMBER)
			break;
		x = strtod(w.value.bytes, NULL);
		ok = (m->op == SCN_OP_GE && x >= m->number) || (m->op == SCN_OP_GT && x > m->number) ||
		     (m->op == SCN_OP_LE && x <= m->number) || (m->op == SCN_OP_LT && x < m->number);
		break;
	}
out:
	walk_free(&w);
	return ok;
}

/*
 * xgmctl's renderers for people on any input: raw bytes through
 * fmt_text(), and, when the bytes parse as JSON, the get summary, the
 * monitor line and the list table. What a terminal would be sent must be
 * safe: no control character but newlines, escape sequences only our own
 * colours, valid UTF-8 (ASCII alone when the terminal is not UTF-8), and
 * table lines within the table's bound.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz.h"
#include "util/utf8.h"
#include "xgmctl/format.h"

/* Every cap and gap of the table (format.c): no line is wider, whatever the terminal. */
#define TABLE_MAX_COLS (5 + 32 + 36 + 16 + 8 + 20 + 4 + 15 + 12 + 8 * 2)
/* The table shrunk as far as it goes: on a terminal at least this wide, it fits. */
#define TABLE_MIN_COLS (5 + 8 + 8 + 7 + 8 + 20 + 4 + 15 + 12 + 8 * 2)

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		abort();
	setenv("TZ", "UTC", 1);
	return 0;
}

static void fail(const char *why, const char *text, size_t len)
{
	fprintf(stderr, "%s: %.*s\n", why, (int)len, text);
	abort();
}

/* Aborts unless text is safe for a terminal; returns the widest line's columns. */
static size_t check_terminal(const char *text, size_t len, const struct fmt_options *o)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t cols = 0, widest = 0;

	for (size_t i = 0; i < len;) {
		size_t n;
		uint32_t cp;
		int w;

		if (s[i] == '\033') {
			if (!o->color || i + 2 >= len || s[i + 1] != '[')
				fail("an escape that is not our colour", text, len);
			for (i += 2; i < len && s[i] >= '0' && s[i] <= '9'; i++)
				;
			if (i >= len || s[i] != 'm')
				fail("an escape that is not our colour", text, len);
			i++;
			continue;
		}
		if (s[i] == '\n') {
			widest = cols > widest ? cols : widest;
			cols = 0;
			i++;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f)
			fail("a control character", text, len);
		n = utf8_sequence_length(s + i, len - i);
		if (n == 0 || (n > 1 && !o->utf8))
			fail(o->utf8 ? "invalid UTF-8" : "non-ASCII on an ASCII terminal", text, len);
		cp = n == 1 ? s[i] : n == 2 ? s[i] & 0x1fu : n == 3 ? s[i] & 0x0fu : s[i] & 0x07u;
		for (size_t k = 1; k < n; k++)
			cp = cp << 6 | (s[i + k] & 0x3fu);
		w = wcwidth((wchar_t)cp);
		if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0x061c || w < 0)
			fail("a character that moves or reorders the line", text, len);
		cols += (size_t)w;
		i += n;
	}
	return cols > widest ? cols : widest;
}

struct render {
	FILE *f;
	char *text;
	size_t len;
};

static bool render_open(struct render *r)
{
	r->text = NULL;
	r->len = 0;
	r->f = open_memstream(&r->text, &r->len);
	return r->f != NULL;
}

/* Closes the buffer and checks it; the widest line's columns. */
static size_t render_check(struct render *r, int status, const struct fmt_options *o)
{
	size_t widest;

	if (fclose(r->f) != 0 || status != 0) {
		free(r->text);
		return 0;	/* out of memory: nothing to check */
	}
	widest = check_terminal(r->text, r->len, o);
	free(r->text);
	return widest;
}

static void render_json(yajl_val v, const char *raw, size_t raw_len, const struct fmt_options *o)
{
	struct fmt_row rows[2];
	struct render r;
	size_t n = 0, widest;

	if (render_open(&r))
		render_check(&r, fmt_get(r.f, v, o), o);
	if (render_open(&r)) {
		int status = fmt_message(r.f, v, o);
		const char *nl;

		/* One line, or nothing. */
		fflush(r.f);
		nl = r.len ? memchr(r.text, '\n', r.len) : NULL;
		if (r.len && (!nl || nl != r.text + r.len - 1))
			fail("a monitor line that is not one line", r.text, r.len);
		render_check(&r, status, o);
	}
	if (fmt_row_from_message(&rows[n], v) == 0)
		n++;
	/* Raw bytes where no JSON parser would let them through: fmt_row's strings are raw. */
	rows[n] = (struct fmt_row){ .domid = 1, .name = strndup(raw, raw_len), .uuid = strndup(raw, raw_len),
				    .tools = strndup(raw, raw_len), .ipv4 = strndup(raw, raw_len),
				    .detected = -1, .up_to_date = -1, .not_upgradable = -1, .live = -1,
				    .last_updated = -1 };
	n++;
	if (render_open(&r)) {
		widest = render_check(&r, fmt_table(r.f, rows, n, o), o);
		if (widest > TABLE_MAX_COLS || (o->width >= TABLE_MIN_COLS && widest > o->width))
			fail("a table line too wide", raw, raw_len);
	}
	for (size_t i = 0; i < n; i++)
		fmt_row_free(&rows[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmt_options o = { .now = 1767355200 };
	const char *s = (const char *)data + 1;
	unsigned int max;
	struct render r;
	char *copy, err[128];
	yajl_val v;

	if (size < 1)
		return 0;
	/* The first byte chooses the options. */
	o.color = data[0] & 1;
	o.utf8 = data[0] & 2;
	o.width = (data[0] & 4) ? 60u + (data[0] >> 3) * 8u : 0;
	max = data[0] >> 2;
	size--;

	if (render_open(&r)) {
		unsigned int cols = fmt_text(r.f, s, size, max, &o);

		if (cols > max || cols != fmt_text(NULL, s, size, max, &o) ||
		    render_check(&r, 0, &o) != cols)
			fail("fmt_text's columns are not what it wrote", s, size);
	}
	copy = strndup(s, size);
	if (!copy)
		return 0;
	v = yajl_tree_parse(copy, err, sizeof(err));
	if (v)
		render_json(v, s, size, &o);
	yajl_tree_free(v);
	free(copy);
	return 0;
}

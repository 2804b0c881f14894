/*
 * Renders xgmctl's output for people (see format.h): escaping and cutting
 * untrusted text to columns, the list table, the get summary and the
 * monitor's one-line events. Reads parsed JSON, writes to a FILE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "util/utf8.h"
#include "xgm/protocol.h"
#include "xgmctl/format.h"

/* ---- JSON lookups: a wrong type reads as absent ---- */

static yajl_val member(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

static const char *member_str(yajl_val obj, const char *key)
{
	return YAJL_GET_STRING(member(obj, key));
}

/* 1, 0, or -1 when absent or not a boolean. */
static int member_bool(yajl_val obj, const char *key)
{
	yajl_val v = member(obj, key);

	return YAJL_IS_TRUE(v) ? 1 : YAJL_IS_FALSE(v) ? 0 : -1;
}

static long long member_int(yajl_val obj, const char *key, long long absent)
{
	yajl_val v = member(obj, key);

	return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : absent;
}

static size_t object_len(yajl_val v)
{
	return YAJL_IS_OBJECT(v) ? v->u.object.len : 0;
}

static int status(FILE *out)
{
	return ferror(out) ? -EIO : 0;
}

/* ---- colours ---- */

enum colour { PLAIN, BOLD, DIM, RED, GREEN, YELLOW, CYAN };

static void colour_on(FILE *out, enum colour c, const struct fmt_options *o)
{
	static const char *const sgr[] = {
		[BOLD] = "\033[1m", [DIM] = "\033[2m", [RED] = "\033[31m",
		[GREEN] = "\033[32m", [YELLOW] = "\033[33m", [CYAN] = "\033[36m",
	};

	if (o->color && c != PLAIN)
		fputs(sgr[c], out);
}

static void colour_off(FILE *out, enum colour c, const struct fmt_options *o)
{
	if (o->color && c != PLAIN)
		fputs("\033[0m", out);
}

/* ---- untrusted text ---- */

/* One character as it is shown: its own bytes, or an escape. */
struct unit {
	const char *bytes;
	size_t len;
	unsigned int cols;
	char esc[12];
};

/* Code points that move the cursor, reorder the line or end it: never shown raw. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* An escape for a byte that is not UTF-8 (or a control character below 0x80), or a code point. */
static void escape(struct unit *u, uint32_t v, bool byte)
{
	int n;

	if (v == '\n' || v == '\t' || v == '\r')
		n = snprintf(u->esc, sizeof(u->esc), "\\%c", v == '\n' ? 'n' : v == '\t' ? 't' : 'r');
	else if (byte || v < 0x80)
		n = snprintf(u->esc, sizeof(u->esc), "\\x%02" PRIx32, v);
	else if (v <= 0xffff)
		n = snprintf(u->esc, sizeof(u->esc), "\\u%04" PRIx32, v);
	else
		n = snprintf(u->esc, sizeof(u->esc), "\\U%08" PRIx32, v);
	u->bytes = u->esc;
	u->len = (size_t)n;
	u->cols = (unsigned int)n;
}

/* The unit at s (len > 0); returns the bytes of s it stands for. */
static size_t next_unit(const unsigned char *s, size_t len, const struct fmt_options *o,
			struct unit *u)
{
	size_t n = utf8_sequence_length(s, len);
	uint32_t cp;
	int w;

	if (n == 0) {
		escape(u, s[0], true);
		return 1;
	}
	cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1fu : n == 3 ? s[0] & 0x0fu : s[0] & 0x07u;
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3fu);
	/* Printable ASCII is itself; beyond it wcwidth() says what the terminal can show. */
	w = is_control(cp) ? -1 : cp < 0x80 ? 1 : o->utf8 ? wcwidth((wchar_t)cp) : -1;
	if (w < 0) {
		escape(u, cp, false);
		return n;
	}
	u->bytes = (const char *)s;
	u->len = n;
	u->cols = (unsigned int)w;
	return n;
}

unsigned int fmt_text(FILE *out, const char *s, size_t len, unsigned int max_cols,
		      const struct fmt_options *o)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *ellipsis = o->utf8 ? "\u2026" : "...";
	unsigned int ellipsis_cols = o->utf8 ? 1 : 3, cols = 0, budget;
	/* Zero-width characters (combining marks) take bytes but no column: bound those too. */
	size_t max_bytes = 8 * (size_t)max_cols + 16, bytes = 0, i;
	struct unit u;

	for (i = 0; i < len;) {
		size_t n = next_unit(p + i, len - i, o, &u);

		if (cols + u.cols > max_cols || bytes + u.len > max_bytes)
			break;
		cols += u.cols;
		bytes += u.len;
		i += n;
	}
	budget = i == len || max_cols < ellipsis_cols ? max_cols : max_cols - ellipsis_cols;
	cols = 0;
	bytes = 0;
	for (i = 0; i < len;) {
		size_t n = next_unit(p + i, len - i, o, &u);

		if (cols + u.cols > budget || bytes + u.len > max_bytes)
			break;
		if (out)
			fwrite(u.bytes, 1, u.len, out);
		cols += u.cols;
		bytes += u.len;
		i += n;
	}
	if (i < len && max_cols >= ellipsis_cols) {
		if (out)
			fputs(ellipsis, out);
		cols += ellipsis_cols;
	}
	return cols;
}

static unsigned int text(FILE *out, const char *s, unsigned int max_cols, const struct fmt_options *o)
{
	return fmt_text(out, s, strlen(s), max_cols, o);
}

static void pad(FILE *out, unsigned int n)
{
	while (n--)
		fputc(' ', out);
}

/* ---- times ---- */

const char *fmt_ago(char *buf, size_t size, long long then, long long now)
{
	static const struct {
		long long seconds;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	long long d = now - then;
	size_t u = 0;

	if (then < 0)
		return snprintf(buf, size, "never"), buf;
	if (d == 0)
		return snprintf(buf, size, "now"), buf;
	while (llabs(d) < units[u].seconds)
		u++;
	if (d > 0)
		snprintf(buf, size, "%lld%c ago", d / units[u].seconds, units[u].unit);
	else
		snprintf(buf, size, "in %lld%c", -d / units[u].seconds, units[u].unit);
	return buf;
}

/* Local time of t, "12:00:00", or with the date first; "?" when t is out of range. */
static const char *local_time(char *buf, size_t size, long long t, bool date)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || (long long)tt != t || !localtime_r(&tt, &tm) ||
	    !strftime(buf, size, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm))
		snprintf(buf, size, t < 0 ? "--:--:--" : "?");
	return buf;
}

/* ---- rows ---- */

/* The present parts of pv_drivers_version joined by dots, or NULL. */
static int tools_version(yajl_val version, char **out)
{
	static const char *const parts[] = { "major", "minor", "micro", "build" };
	const char *s[4];
	size_t len = 0, n = 0;
	char *v;

	for (size_t i = 0; i < 4; i++) {
		s[i] = member_str(version, parts[i]);
		len += s[i] ? strlen(s[i]) + 1 : 0;
	}
	*out = NULL;
	if (!len)
		return 0;
	v = malloc(len);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < 4; i++) {
		if (!s[i])
			continue;
		if (n)
			v[n++] = '.';
		memcpy(v + n, s[i], strlen(s[i]));
		n += strlen(s[i]);
	}
	v[n] = '\0';
	*out = v;
	return 0;
}

/* The vif id of a "<id>/ip" key as a number, UINT64_MAX for another id; false for another key. */
static bool first_ip_rank(const char *key, uint64_t *rank)
{
	size_t len = strlen(key), id_len;

	if (len < 4 || strcmp(key + len - 3, "/ip") != 0)
		return false;
	id_len = len - 3;
	*rank = 0;
	for (size_t i = 0; i < id_len; i++) {
		if (key[i] < '0' || key[i] > '9' || id_len > 9 || (i == 0 && key[0] == '0' && id_len > 1)) {
			*rank = UINT64_MAX;
			return true;
		}
		*rank = *rank * 10 + (uint64_t)(key[i] - '0');
	}
	return true;
}

/* The "<id>/ip" of the lowest vif id (networks keys, metrics.h), or NULL. */
static const char *first_ipv4(yajl_val networks)
{
	const char *best = NULL;
	uint64_t best_rank = UINT64_MAX, rank;

	for (size_t i = 0; i < object_len(networks); i++) {
		const char *ip = YAJL_GET_STRING(networks->u.object.values[i]);

		if (ip && first_ip_rank(networks->u.object.keys[i], &rank) && (!best || rank < best_rank)) {
			best = ip;
			best_rank = rank;
		}
	}
	return best;
}

static int dup_or_null(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

void fmt_row_free(struct fmt_row *row)
{
	free(row->name);
	free(row->uuid);
	free(row->tools);
	free(row->ipv4);
	*row = (struct fmt_row){ 0 };
}

int fmt_row_from_message(struct fmt_row *row, yajl_val msg)
{
	yajl_val domain = member(msg, "domain"), data = member(msg, "data"), id = member(domain, "id");
	int r = 0;

	*row = (struct fmt_row){
		.domid = YAJL_IS_INTEGER(id) ? YAJL_GET_INTEGER(id) : -1,
		.detected = member_bool(data, "pv_drivers_detected"),
		.up_to_date = member_bool(data, "pv_drivers_up_to_date"),
		.not_upgradable = member_bool(data, "pv_drivers_not_upgradable"),
		.live = member_bool(data, "live"),
		.last_updated = member_int(data, "last_updated", -1),
	};
	if (!YAJL_IS_INTEGER(id))
		return -EINVAL;
	r = r ?: dup_or_null(member_str(domain, "name"), &row->name);
	r = r ?: dup_or_null(member_str(domain, "uuid"), &row->uuid);
	r = r ?: tools_version(member(data, "pv_drivers_version"), &row->tools);
	r = r ?: dup_or_null(first_ipv4(member(data, "networks")), &row->ipv4);
	if (r)
		fmt_row_free(row);
	return r;
}

static const char *yes_no(int v)
{
	return v == 1 ? "yes" : v == 0 ? "no" : "-";
}

/* The up-to-date cell: "not upgradable" is the reason when the guest says so. */
static const char *up_to_date_text(const struct fmt_row *r, enum colour *c)
{
	if (r->not_upgradable == 1) {
		*c = YELLOW;
		return "yes (not upgradable)";
	}
	*c = r->up_to_date == 1 ? GREEN : r->up_to_date == 0 ? RED : PLAIN;
	return yes_no(r->up_to_date);
}

static const char *live_text(const struct fmt_row *r, enum colour *c)
{
	*c = r->live == 1 ? GREEN : r->live == 0 ? RED : PLAIN;
	return yes_no(r->live);
}

/* ---- the table ---- */

enum column { COL_DOMID, COL_NAME, COL_UUID, COL_TOOLS, COL_DETECTED, COL_UP_TO_DATE, COL_LIVE,
	      COL_IPV4, COL_UPDATED, N_COLUMNS };

static const struct {
	const char *header;
	unsigned int max, min;	/* columns: the cap of a cell, and how far fitting may shrink it */
	bool right;
} columns[N_COLUMNS] = {
	[COL_DOMID] = { "DOMID", 5, 5, true },
	[COL_NAME] = { "NAME", 32, 8, false },
	[COL_UUID] = { "UUID", 36, 8, false },
	[COL_TOOLS] = { "TOOLS", 16, 7, false },
	[COL_DETECTED] = { "DETECTED", 8, 8, false },
	[COL_UP_TO_DATE] = { "UP TO DATE", 20, 20, false },
	[COL_LIVE] = { "LIVE", 4, 4, false },
	[COL_IPV4] = { "IPV4", 15, 15, false },
	[COL_UPDATED] = { "UPDATED", 12, 12, false },
};
/* The shrinkable columns, the first shrinking first: a uuid's start still tells domains apart. */
static const enum column shrink_order[] = { COL_UUID, COL_NAME, COL_TOOLS };
#define COLUMN_GAP 2


/* A cell's text (NULL row: the header) and its colour; buf holds the text when it is made. */
static const char *cell(const struct fmt_row *r, enum column col, const struct fmt_options *o,
			char *buf, size_t size, enum colour *c)
{
	*c = r ? PLAIN : BOLD;
	if (!r)
		return columns[col].header;
	switch (col) {
	case COL_DOMID:
		snprintf(buf, size, "%lld", r->domid);
		return buf;
	case COL_NAME:
		return r->name ? r->name : "-";
	case COL_UUID:
		return r->uuid ? r->uuid : "-";
	case COL_TOOLS:
		return r->tools ? r->tools : "-";
	case COL_DETECTED:
		*c = r->detected == 0 ? DIM : PLAIN;
		return yes_no(r->detected);
	case COL_UP_TO_DATE:
		return up_to_date_text(r, c);
	case COL_LIVE:
		return live_text(r, c);
	case COL_IPV4:
		return r->ipv4 ? r->ipv4 : "-";
	case COL_UPDATED:
		return fmt_ago(buf, size, r->last_updated, o->now);
	default:
		return "";
	}
}

static int compare_domid(const void *a, const void *b)
{
	const struct fmt_row *x = a, *y = b;

	return (x->domid > y->domid) - (x->domid < y->domid);
}

/* Widths that fit the cells (each within its cap), then shrunk toward their minimum to fit o->width. */
static void column_widths(const struct fmt_row *rows, size_t n, const struct fmt_options *o,
			  unsigned int *w)
{
	unsigned int total = 0;
	char buf[32];
	enum colour c;

	for (int col = 0; col < N_COLUMNS; col++) {
		w[col] = text(NULL, columns[col].header, columns[col].max, o);
		for (size_t i = 0; i < n; i++) {
			unsigned int cw = text(NULL, cell(&rows[i], (enum column)col, o, buf, sizeof(buf), &c),
					       columns[col].max, o);

			if (cw > w[col])
				w[col] = cw;
		}
		total += w[col] + (col ? COLUMN_GAP : 0);
	}
	for (size_t s = 0; s < sizeof(shrink_order) / sizeof(shrink_order[0]); s++) {
		enum column col = shrink_order[s];
		unsigned int give = w[col] > columns[col].min ? w[col] - columns[col].min : 0;

		if (!o->width || total <= o->width)
			break;
		if (give > total - o->width)
			give = total - o->width;
		w[col] -= give;
		total -= give;
	}
}

/* One line of the table: the header when r is NULL. */
static void table_line(FILE *out, const struct fmt_row *r, const unsigned int *w,
		       const struct fmt_options *o)
{
	char buf[32];
	enum colour c;

	for (int col = 0; col < N_COLUMNS; col++) {
		const char *s = cell(r, (enum column)col, o, buf, sizeof(buf), &c);
		unsigned int cw = text(NULL, s, w[col], o);

		if (col)
			pad(out, COLUMN_GAP);
		if (columns[col].right)
			pad(out, w[col] - cw);
		colour_on(out, c, o);
		text(out, s, w[col], o);
		colour_off(out, c, o);
		/* No trailing blanks after the last column. */
		if (!columns[col].right && col + 1 < N_COLUMNS)
			pad(out, w[col] - cw);
	}
	fputc('\n', out);
}

int fmt_table(FILE *out, struct fmt_row *rows, size_t n, const struct fmt_options *o)
{
	unsigned int w[N_COLUMNS];

	if (n)
		qsort(rows, n, sizeof(*rows), compare_domid);
	column_widths(rows, n, o, w);
	table_line(out, NULL, w, o);
	for (size_t i = 0; i < n; i++)
		table_line(out, &rows[i], w, o);
	return status(out);
}

/* ---- values, in the summary and in event lines ---- */

/* Booleans worth a colour, by key: the colour of true, and of false. */
static const struct {
	const char *key;
	enum colour yes, no;
} bool_colours[] = {
	{ "live", GREEN, RED },
	{ "pv_drivers_up_to_date", GREEN, RED },
	{ "pv_drivers_detected", PLAIN, DIM },
	{ "pv_drivers_not_upgradable", YELLOW, PLAIN },
	{ "limit_reached", RED, PLAIN },
	{ "rate_limited", YELLOW, PLAIN },
};

static enum colour bool_colour(const char *key, bool v)
{
	for (size_t i = 0; i < sizeof(bool_colours) / sizeof(bool_colours[0]); i++)
		if (strcmp(bool_colours[i].key, key) == 0)
			return v ? bool_colours[i].yes : bool_colours[i].no;
	return PLAIN;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* How many entries of an array or a map an event line shows. */
#define LINE_ENTRIES_MAX 8
#define LINE_VALUE_MAX 48
#define LINE_KEY_MAX 24

enum style { SUMMARY, LINE };

/*
 * A value that is not a map (a map inside an event line too): in the
 * summary a time is "5s ago (date)" and KiB get a readable size; in an
 * event line a time is the clock time.
 */
static void value(FILE *out, const char *key, yajl_val v, unsigned int max_cols, enum style style,
		  const struct fmt_options *o)
{
	char buf[64];

	if (!v) {
		fputs("-", out);	/* absent */
	} else if (YAJL_IS_STRING(v)) {
		text(out, YAJL_GET_STRING(v), max_cols, o);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		enum colour c = bool_colour(key, YAJL_IS_TRUE(v));

		colour_on(out, c, o);
		fputs(YAJL_IS_TRUE(v) ? "yes" : "no", out);
		colour_off(out, c, o);
	} else if (YAJL_IS_INTEGER(v) && strcmp(key, "last_updated") == 0) {
		long long t = YAJL_GET_INTEGER(v);

		if (style == LINE) {
			fputs(local_time(buf, sizeof(buf), t, false), out);
			return;
		}
		fputs(fmt_ago(buf, sizeof(buf), t, o->now), out);
		fprintf(out, " (%s)", local_time(buf, sizeof(buf), t, true));
	} else if (YAJL_IS_INTEGER(v)) {
		long long n = YAJL_GET_INTEGER(v);

		fprintf(out, "%lld", n);
		if (style == SUMMARY && ends_with(key, "_kib") && n >= 1024)
			fprintf(out, " (%.1f %s)", n >= 1048576 ? n / 1048576.0 : n / 1024.0,
				n >= 1048576 ? "GiB" : "MiB");
	} else if (YAJL_IS_DOUBLE(v)) {
		fprintf(out, "%g", YAJL_GET_DOUBLE(v));
	} else if (YAJL_IS_NULL(v)) {
		fputs(strcmp(key, "last_updated") == 0 ? "never" : "-", out);
	} else if (YAJL_IS_ARRAY(v)) {
		size_t n = v->u.array.len;

		for (size_t i = 0; i < n && i < LINE_ENTRIES_MAX; i++) {
			if (i)
				fputs(", ", out);
			if (YAJL_IS_OBJECT(v->u.array.values[i]) || YAJL_IS_ARRAY(v->u.array.values[i]))
				fputs(o->utf8 ? "{\u2026}" : "{...}", out);
			else
				value(out, key, v->u.array.values[i], LINE_VALUE_MAX, style, o);
		}
		if (n > LINE_ENTRIES_MAX)
			fprintf(out, ", +%zu more", n - LINE_ENTRIES_MAX);
		if (!n)
			fputs("-", out);
	} else {
		fputs(o->utf8 ? "{\u2026}" : "{...}", out);
	}
}

/* ---- the get summary ---- */

#define SUMMARY_LABEL_MAX 32
#define SUMMARY_VALUE_MAX 512
#define SUMMARY_DEPTH_MAX 8
#define SUMMARY_INDENT 2

/* Labelled values, aligned; a non-empty map is a heading with its members indented below. */
static void summary_members(FILE *out, const char **keys, yajl_val *vals, size_t n, unsigned int depth,
			    const struct fmt_options *o)
{
	unsigned int lw = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned int cols = text(NULL, keys[i], SUMMARY_LABEL_MAX, o);

		if (!object_len(vals[i]) && cols > lw)
			lw = cols;
	}
	for (size_t i = 0; i < n; i++) {
		yajl_val v = vals[i];

		pad(out, depth * SUMMARY_INDENT);
		if (object_len(v)) {
			colour_on(out, BOLD, o);
			text(out, keys[i], SUMMARY_LABEL_MAX, o);
			colour_off(out, BOLD, o);
			fputc('\n', out);
			if (depth + 1 < SUMMARY_DEPTH_MAX) {
				summary_members(out, v->u.object.keys, v->u.object.values, v->u.object.len,
						depth + 1, o);
			} else {
				pad(out, (depth + 1) * SUMMARY_INDENT);
				fputs(o->utf8 ? "\u2026\n" : "...\n", out);
			}
			continue;
		}
		pad(out, lw - text(out, keys[i], SUMMARY_LABEL_MAX, o) + 2);
		if (YAJL_IS_OBJECT(v))
			fputs("-", out);	/* an empty map */
		else
			value(out, keys[i], v, SUMMARY_VALUE_MAX, SUMMARY, o);
		fputc('\n', out);
	}
}

int fmt_get(FILE *out, yajl_val reply, const struct fmt_options *o)
{
	yajl_val domain = member(reply, "domain"), data = member(reply, "data");
	size_t cap = object_len(reply) + object_len(domain) + 2, n = 0;
	const char **keys = calloc(cap, sizeof(*keys));
	yajl_val *vals = calloc(cap, sizeof(*vals));
	int r = -ENOMEM;

	if (!keys || !vals)
		goto out;
	/* The domain first ("domain" is its id), then the reply's other keys, then data. */
	keys[n] = "domain";
	vals[n++] = member(domain, "id");
	for (size_t i = 0; i < object_len(domain); i++) {
		if (strcmp(domain->u.object.keys[i], "id") == 0)
			continue;
		keys[n] = domain->u.object.keys[i];
		vals[n++] = domain->u.object.values[i];
	}
	for (size_t i = 0; i < object_len(reply); i++) {
		static const char *const skipped[] = { "type", "id", "ok", "domain", "data" };
		bool skip = false;

		for (size_t s = 0; s < sizeof(skipped) / sizeof(skipped[0]); s++)
			skip = skip || strcmp(reply->u.object.keys[i], skipped[s]) == 0;
		if (skip)
			continue;
		keys[n] = reply->u.object.keys[i];
		vals[n++] = reply->u.object.values[i];
	}
	keys[n] = "data";
	vals[n++] = data;
	summary_members(out, keys, vals, n, 0, o);
	r = status(out);
out:
	free(keys);
	free(vals);
	return r;
}

/* ---- monitor --pretty ---- */

#define LINE_NAME_COLS 20
#define LINE_EVENT_COLS 15	/* "domain.snapshot" */
#define LINE_CHANGED_MAX 16

/* A map inside an event line: its first entries as key=value. */
static void line_map(FILE *out, yajl_val map, const struct fmt_options *o)
{
	size_t n = object_len(map);

	for (size_t i = 0; i < n && i < LINE_ENTRIES_MAX; i++) {
		if (i)
			fputc(' ', out);
		text(out, map->u.object.keys[i], LINE_KEY_MAX, o);
		fputc('=', out);
		value(out, map->u.object.keys[i], map->u.object.values[i], LINE_VALUE_MAX, LINE, o);
	}
	if (n > LINE_ENTRIES_MAX)
		fprintf(out, " +%zu more", n - LINE_ENTRIES_MAX);
	if (!n)
		fputs("none", out);
}

/* What changed, with the new values: "memory: total_kib=... free_kib=...; live: yes". */
static void line_changes(FILE *out, yajl_val changed, yajl_val data, const struct fmt_options *o)
{
	size_t n = changed->u.array.len;

	for (size_t i = 0; i < n && i < LINE_CHANGED_MAX; i++) {
		const char *key = YAJL_GET_STRING(changed->u.array.values[i]);
		yajl_val v;

		if (!key)
			continue;
		v = member(data, key);
		if (i)
			fputs("; ", out);
		colour_on(out, BOLD, o);
		text(out, key, LINE_KEY_MAX, o);
		colour_off(out, BOLD, o);
		fputs(": ", out);
		if (YAJL_IS_OBJECT(v))
			line_map(out, v, o);
		else
			value(out, key, v, LINE_VALUE_MAX, LINE, o);
	}
	if (n > LINE_CHANGED_MAX)
		fprintf(out, "; +%zu more", n - LINE_CHANGED_MAX);
}

/* A new or snapshot domain: the table's columns that say how its tools are. */
static int line_summary(FILE *out, yajl_val msg, const struct fmt_options *o)
{
	static const enum column shown[] = { COL_TOOLS, COL_UP_TO_DATE, COL_LIVE, COL_IPV4 };
	static const char *const labels[] = { "tools", "up to date", "live", "ipv4" };
	struct fmt_row row;
	char buf[32];
	enum colour c;
	int r = fmt_row_from_message(&row, msg);

	/* Without a domain id the row still holds the flags; the line says "-" for the rest. */
	if (r && r != -EINVAL)
		return r;
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		const char *s = cell(&row, shown[i], o, buf, sizeof(buf), &c);

		fprintf(out, "%s%s ", i ? ", " : "", labels[i]);
		colour_on(out, c, o);
		text(out, s, columns[shown[i]].max, o);
		colour_off(out, c, o);
	}
	fmt_row_free(&row);
	return 0;
}

static enum colour event_colour(unsigned int kind)
{
	return kind == XGM_EVENT_DOMAIN_NEW ? GREEN : kind == XGM_EVENT_DOMAIN_GONE ? RED :
	       kind == XGM_EVENT_DOMAIN_METRICS ? CYAN : DIM;
}

static int event_line(FILE *out, yajl_val msg, const struct fmt_options *o)
{
	yajl_val domain = member(msg, "domain"), changed = member(msg, "changed");
	const char *event = member_str(msg, "event"), *name = member_str(domain, "name");
	long long domid = member_int(domain, "id", -1);
	unsigned int cols, kind;
	char clock[16];
	enum colour c;
	int r = 0;

	if (!event)
		event = "?";
	kind = xgm_event_from_name(event, strlen(event));
	c = event_colour(kind);
	fputs(local_time(clock, sizeof(clock), member_int(member(msg, "timestamp"), "seconds", -1),
			 false), out);
	if (domid >= 0)
		fprintf(out, " %5lld ", domid);
	else
		fputs("     - ", out);
	cols = text(out, name ? name : "-", LINE_NAME_COLS, o);
	pad(out, LINE_NAME_COLS - cols + 1);
	colour_on(out, c, o);
	cols = text(out, event, LINE_EVENT_COLS, o);
	colour_off(out, c, o);
	if (YAJL_IS_ARRAY(changed)) {
		pad(out, LINE_EVENT_COLS - cols + 1);
		line_changes(out, changed, member(msg, "data"), o);
	} else if (kind == XGM_EVENT_DOMAIN_NEW || kind == XGM_EVENT_DOMAIN_SNAPSHOT) {
		pad(out, LINE_EVENT_COLS - cols + 1);
		r = line_summary(out, msg, o);
	}
	fputc('\n', out);
	return r;
}

int fmt_message(FILE *out, yajl_val msg, const struct fmt_options *o)
{
	const char *type = member_str(msg, "type");
	char clock[16];
	int r = 0;

	if (!type)
		return 0;
	local_time(clock, sizeof(clock), o->now, false);
	if (strcmp(type, XGM_TYPE_EVENT) == 0) {
		r = event_line(out, msg, o);
	} else if (strcmp(type, XGM_TYPE_SNAPSHOT_END) == 0) {
		colour_on(out, DIM, o);
		fprintf(out, "%s snapshot-end, seq %lld", clock, member_int(msg, "seq", -1));
		colour_off(out, DIM, o);
		fputc('\n', out);
	} else if (strcmp(type, XGM_TYPE_LOST) == 0) {
		colour_on(out, RED, o);
		fprintf(out, "%s lost %lld events (seq %lld to %lld); a fresh snapshot follows", clock,
			member_int(msg, "count", -1), member_int(msg, "first_seq", -1),
			member_int(msg, "last_seq", -1));
		colour_off(out, RED, o);
		fputc('\n', out);
	}
	return r ? r : status(out);
}

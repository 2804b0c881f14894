/*
 * xgmctl's output for people: the table of `list`, the summary of `get`
 * and the one-line events of `monitor --pretty`, rendered from the parsed
 * JSON the server sent. Pure: the inputs are the parsed messages and the
 * options below (the time now, the terminal's width, colour, UTF-8), the
 * output is text written to a FILE (an open_memstream() buffer in the
 * tests). main.c owns the socket and decides the options.
 *
 * Every string the server relays may hold a guest's bytes, so none is
 * written raw: fmt_text() replaces control characters (C0, DEL, C1, the
 * bidirectional overrides and the line and paragraph separators), code
 * points the terminal cannot print and invalid UTF-8 with visible escapes
 * ("\x1b", "\u202e"), and cuts what is longer than its column with an
 * ellipsis. Widths are terminal columns as wcwidth() counts them, which
 * needs a UTF-8 LC_CTYPE when utf8 is set; without utf8 every byte outside
 * printable ASCII is escaped. Absolute times are local (TZ).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

struct fmt_options {
	long long now;		/* seconds since the epoch, for "5s ago" */
	unsigned int width;	/* the terminal's columns; 0: unknown, tables are not fitted */
	bool color;		/* ANSI SGR colours */
	bool utf8;		/* the terminal shows UTF-8 (else non-ASCII is escaped) */
};

/* The cells of one domain in `list`: copies of what the server sent. */
struct fmt_row {
	long long domid;
	char *name, *uuid;	/* owned; NULL: unknown */
	char *tools;		/* the PV drivers' version, "9.3.1.123"; NULL: none */
	char *ipv4;		/* the first IPv4 address (lowest vif); NULL: none */
	int detected, up_to_date, not_upgradable, live;	/* 1, 0, or -1: absent */
	long long last_updated;	/* seconds since the epoch; -1: never */
};

/*
 * Fills *row from an object with "domain" and "data" (an event or a get
 * reply); missing or mistyped keys read as unknown. 0, or -ENOMEM, or
 * -EINVAL when msg has no domain id: then *row holds only the flags and
 * nothing to free.
 */
int fmt_row_from_message(struct fmt_row *row, yajl_val msg);
void fmt_row_free(struct fmt_row *row);

/*
 * The `list` table: a header line and one line per row, sorted by domid
 * (rows are sorted in place). Columns are bounded, and when o->width is
 * known the wide ones (name, uuid, tools) shrink to fit it. 0 or -errno.
 */
int fmt_table(FILE *out, struct fmt_row *rows, size_t n, const struct fmt_options *o);

/* The `get` summary of a reply: the domain, its state, and every key of data. 0 or -errno. */
int fmt_get(FILE *out, yajl_val reply, const struct fmt_options *o);

/*
 * One line for a message of `monitor --pretty`: an event (time, domain,
 * event, what changed and the new values, or a summary for a new domain
 * or a snapshot), snapshot-end or lost. A message of another type writes
 * nothing. Each value and each map is cut, so a line stays bounded.
 */
int fmt_message(FILE *out, yajl_val msg, const struct fmt_options *o);

/* "now", "5s ago", "3m ago", "2h ago", "4d ago", "in 5s" (a clock stepped back), "never" (then < 0). */
const char *fmt_ago(char *buf, size_t size, long long then, long long now);

/*
 * Writes s[0..len) escaped as described above, in at most max_cols
 * columns: when it does not fit, as much as fits before an ellipsis.
 * out may be NULL to measure only. Returns the columns it takes.
 */
unsigned int fmt_text(FILE *out, const char *s, size_t len, unsigned int max_cols,
		      const struct fmt_options *o);

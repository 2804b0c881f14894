/*
 * Tests of xgmctl's renderers (format.c) on parsed JSON in the shape the
 * server sends, hostile strings included: no socket, no terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include <cmocka.h>

#include "xgmctl/format.h"

/* 2026-01-02 12:00:00 UTC */
#define NOW 1767355200LL

static const struct fmt_options plain = { .now = NOW, .utf8 = true };

/* Output of one renderer call, NUL-terminated; the caller frees it. */
struct render {
	FILE *f;
	char *text;
	size_t len;
};

static FILE *render_open(struct render *r)
{
	r->text = NULL;
	r->len = 0;
	r->f = open_memstream(&r->text, &r->len);
	assert_non_null(r->f);
	return r->f;
}

static char *render_close(struct render *r)
{
	assert_int_equal(fclose(r->f), 0);
	return r->text;
}

static char *text_of(const char *s, size_t len, unsigned int max, const struct fmt_options *o,
		     unsigned int *cols)
{
	struct render r;

	*cols = fmt_text(render_open(&r), s, len, max, o);
	return render_close(&r);
}

static yajl_val parse(const char *json)
{
	char err[256];
	yajl_val v = yajl_tree_parse(json, err, sizeof(err));

	if (!v)
		fail_msg("bad test JSON: %s", err);
	return v;
}

/* Terminal columns of a line of UTF-8 (without SGR sequences), as wcswidth() counts them. */
static size_t line_cols(const char *s, size_t len)
{
	size_t cols = 0;
	mbstate_t st = { 0 };

	for (size_t i = 0; i < len;) {
		wchar_t wc;
		size_t n;

		if (s[i] == '\033') {	/* ours: ESC [ digits m */
			while (i < len && s[i] != 'm')
				i++;
			i++;
			continue;
		}
		n = mbrtowc(&wc, s + i, len - i, &st);
		assert_true(n > 0 && n <= 4);
		assert_true(wcwidth(wc) >= 0);
		cols += (size_t)wcwidth(wc);
		i += n;
	}
	return cols;
}

/* Only printable text, newlines and (when colour is on) our SGR sequences. */
static void assert_safe(const char *s, bool colour)
{
	static const char *const sgr[] = { "\033[0m", "\033[1m", "\033[2m", "\033[31m", "\033[32m",
					   "\033[33m", "\033[36m" };
	mbstate_t st = { 0 };

	for (size_t i = 0, len = strlen(s); i < len;) {
		wchar_t wc;
		size_t n;

		if (s[i] == '\033') {
			bool known = false;

			assert_true(colour);
			for (size_t k = 0; k < sizeof(sgr) / sizeof(sgr[0]); k++)
				if (strncmp(s + i, sgr[k], strlen(sgr[k])) == 0) {
					i += strlen(sgr[k]);
					known = true;
					break;
				}
			assert_true(known);
			continue;
		}
		n = mbrtowc(&wc, s + i, len - i, &st);
		assert_true(n > 0 && n <= 4);	/* valid UTF-8 */
		if (wc != '\n') {
			assert_true(wc >= 0x20 && wc != 0x7f && !(wc >= 0x80 && wc <= 0x9f));
			assert_false(wc == 0x202e || wc == 0x2028 || wc == 0x2066);
			assert_true(wcwidth(wc) >= 0);
		}
		i += n;
	}
}

/* Every line of s is at most max columns wide; returns how many lines there are. */
static size_t assert_lines_within(const char *s, size_t max)
{
	size_t lines = 0;

	for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1, lines++)
		if (line_cols(s, (size_t)(nl - s)) > max)
			fail_msg("line %zu is %zu columns wide, over %zu: %.*s", lines + 1,
				 line_cols(s, (size_t)(nl - s)), max, (int)(nl - s), s);
	assert_string_equal(s, "");	/* every line ends with a newline */
	return lines;
}

static void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("expected\n%s\nat the start of\n%s", prefix, s);
}

static void test_ago(void **state)
{
	char buf[32];

	assert_string_equal(fmt_ago(buf, sizeof(buf), -1, NOW), "never");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW, NOW), "now");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW - 5, NOW), "5s ago");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW - 59, NOW), "59s ago");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW - 60, NOW), "1m ago");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW - 3 * 60 - 59, NOW), "3m ago");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW - 2 * 3600, NOW), "2h ago");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW - 4 * 86400 - 7, NOW), "4d ago");
	assert_string_equal(fmt_ago(buf, sizeof(buf), 0, NOW), "20455d ago");
	/* The clock stepped back under the guest's last write. */
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW + 5, NOW), "in 5s");
	assert_string_equal(fmt_ago(buf, sizeof(buf), NOW + 7200, NOW), "in 2h");
}

static void check_text(const char *in, size_t len, unsigned int max, const struct fmt_options *o,
		       const char *want, unsigned int want_cols)
{
	unsigned int cols;
	char *out = text_of(in, len, max, o, &cols);

	assert_string_equal(out, want);
	assert_int_equal(cols, want_cols);
	/* Measuring alone agrees. */
	assert_int_equal(fmt_text(NULL, in, len, max, o), want_cols);
	free(out);
}

static void test_text(void **state)
{
	struct fmt_options ascii = plain;

	ascii.utf8 = false;
	check_text("web01", 5, 10, &plain, "web01", 5);
	check_text("web01", 5, 5, &plain, "web01", 5);
	check_text("web01", 5, 4, &plain, "web\u2026", 4);
	check_text("web01", 5, 4, &ascii, "w...", 4);
	check_text("web01", 5, 0, &plain, "", 0);
	check_text("web01", 5, 2, &ascii, "we", 2);	/* no room for "..." */
	/* Terminal escapes and control characters are shown, not obeyed. */
	check_text("\033[2J\033]0;owned\007x", 15, 40, &plain, "\\x1b[2J\\x1b]0;owned\\x07x", 24);
	check_text("a\nb\tc\rd\x7f", 8, 40, &plain, "a\\nb\\tc\\rd\\x7f", 14);
	check_text("a\0b", 3, 40, &plain, "a\\x00b", 6);
	/* Invalid UTF-8 byte by byte; C1 controls; bidi overrides; line separators. */
	check_text("\xff\xc3(", 3, 40, &plain, "\\xff\\xc3(", 9);
	check_text("\xc2\x9b" "31m", 5, 40, &plain, "\\u009b31m", 9);
	check_text("ab\u202ecd\u2066\u2028", 13, 40, &plain, "ab\\u202ecd\\u2066\\u2028", 22);
	/* An escape is cut whole, never in its middle. */
	check_text("ab\033", 3, 5, &plain, "ab\u2026", 3);
	/* Wide characters count two columns and are never split. */
	check_text("\u65e5\u672c\u8a9e", 9, 6, &plain, "\u65e5\u672c\u8a9e", 6);
	check_text("\u65e5\u672c\u8a9e", 9, 5, &plain, "\u65e5\u672c\u2026", 5);
	check_text("\u65e5\u672c\u8a9e", 9, 4, &plain, "\u65e5\u2026", 3);
	/* Combining marks take no column. */
	check_text("e\u0301te\u0301", 7, 3, &plain, "e\u0301te\u0301", 3);
	/* A terminal that does not take UTF-8 gets ASCII only. */
	check_text("caf\u00e9 \U0001f600", 10, 40, &ascii, "caf\\u00e9 \\U0001f600", 20);
	check_text("\u65e5", 3, 3, &ascii, "...", 3);
	check_text("\u65e5", 3, 2, &ascii, "", 0);
}

static void test_text_huge(void **state)
{
	size_t len = 2000;
	char *name = malloc(len), *marks = malloc(2 + 2 * len), *out;
	unsigned int cols;

	assert_non_null(name);
	assert_non_null(marks);
	memset(name, 'n', len);
	out = text_of(name, len, 32, &plain, &cols);
	assert_int_equal(cols, 32);
	assert_int_equal(strlen(out), 31 + 3);	/* 31 n and the ellipsis */
	free(out);
	/* 2000 combining marks on one letter: zero columns, but bounded bytes. */
	marks[0] = 'a';
	for (size_t i = 0; i < len; i++)
		memcpy(marks + 1 + 2 * i, "\xcc\x81", 2);
	out = text_of(marks, 1 + 2 * len, 32, &plain, &cols);
	assert_true(strlen(out) <= 8 * 32 + 16 + 3);
	assert_int_equal(cols, 2);	/* the letter and the ellipsis */
	assert_non_null(strstr(out, "\u2026"));
	free(out);
	free(name);
	free(marks);
}

/* A snapshot event as xgmd sends it. */
static const char web01[] =
	"{\"type\":\"event\",\"seq\":12,\"event\":\"domain.snapshot\","
	"\"timestamp\":{\"seconds\":1767355200,\"microseconds\":5},"
	"\"domain\":{\"id\":5,\"name\":\"web01\",\"uuid\":\"7d8f8a0e-6b2c-4b1e-9a55-1c3c0b7d1e11\"},"
	"\"data\":{\"os_version\":{\"distro\":\"debian\",\"name\":\"Debian GNU/Linux 12\"},"
	"\"pv_drivers_version\":{\"build\":\"123\",\"major\":\"9\",\"micro\":\"1\",\"minor\":\"3\"},"
	"\"pv_drivers_detected\":true,\"pv_drivers_up_to_date\":true,\"pv_drivers_not_upgradable\":false,"
	"\"networks\":{\"0/ip\":\"192.0.2.10\",\"0/ipv4/0\":\"192.0.2.10\",\"0/ipv6/0\":\"fe80::1\","
	"\"1/ip\":\"198.51.100.1\"},"
	"\"memory\":{\"total_kib\":4194304,\"free_kib\":1024},"
	"\"disks\":{\"0/name\":\"xvda\"},\"other\":{\"feature-suspend\":\"1\"},"
	"\"can_use_hotplug_vbd\":\"yes\",\"can_use_hotplug_vif\":\"unspecified\","
	"\"live\":true,\"last_updated\":1767355195,\"limit_reached\":false}}";

static void row_of(struct fmt_row *row, const char *json)
{
	yajl_val v = parse(json);

	assert_int_equal(fmt_row_from_message(row, v), 0);
	yajl_tree_free(v);
}

static void test_row(void **state)
{
	struct fmt_row row;
	yajl_val v;

	row_of(&row, web01);
	assert_int_equal(row.domid, 5);
	assert_string_equal(row.name, "web01");
	assert_string_equal(row.uuid, "7d8f8a0e-6b2c-4b1e-9a55-1c3c0b7d1e11");
	assert_string_equal(row.tools, "9.3.1.123");
	/* The lowest vif's address, not the first key. */
	assert_string_equal(row.ipv4, "192.0.2.10");
	assert_int_equal(row.detected, 1);
	assert_int_equal(row.up_to_date, 1);
	assert_int_equal(row.not_upgradable, 0);
	assert_int_equal(row.live, 1);
	assert_int_equal(row.last_updated, NOW - 5);
	fmt_row_free(&row);

	/* Vif ids compare as numbers: 2 before 10, whatever the key order. */
	row_of(&row, "{\"domain\":{\"id\":1},\"data\":{\"networks\":{\"10/ip\":\"b\",\"2/ip\":\"a\","
		     "\"x/ip\":\"c\",\"02/ip\":\"d\"},\"pv_drivers_version\":{\"major\":\"8\",\"minor\":\"4\"}}}");
	assert_string_equal(row.ipv4, "a");
	assert_string_equal(row.tools, "8.4");
	assert_null(row.name);
	assert_null(row.uuid);
	assert_int_equal(row.live, -1);
	assert_int_equal(row.last_updated, -1);
	fmt_row_free(&row);

	/* Wrong types read as unknown; no domain id is refused. */
	row_of(&row, "{\"domain\":{\"id\":2,\"name\":7},\"data\":{\"live\":\"yes\",\"networks\":[1],"
		     "\"last_updated\":\"soon\"}}");
	assert_null(row.name);
	assert_null(row.ipv4);
	assert_int_equal(row.live, -1);
	assert_int_equal(row.last_updated, -1);
	fmt_row_free(&row);
	v = parse("{\"domain\":{\"name\":\"x\"},\"data\":{}}");
	assert_int_equal(fmt_row_from_message(&row, v), -EINVAL);
	yajl_tree_free(v);
}

static char *table_of(struct fmt_row *rows, size_t n, const struct fmt_options *o)
{
	struct render r;

	assert_int_equal(fmt_table(render_open(&r), rows, n, o), 0);
	return render_close(&r);
}

static void test_table(void **state)
{
	struct fmt_row rows[4];
	struct fmt_options wide = plain;
	char *out, *line;

	row_of(&rows[0], web01);
	row_of(&rows[1], "{\"domain\":{\"id\":12,\"name\":\"appliance\",\"uuid\":null},\"data\":{"
			 "\"pv_drivers_version\":{\"major\":\"6\",\"minor\":\"2\"},\"pv_drivers_detected\":true,"
			 "\"pv_drivers_up_to_date\":true,\"pv_drivers_not_upgradable\":true,\"live\":false,"
			 "\"last_updated\":1767351600}}");
	row_of(&rows[2], "{\"domain\":{\"id\":7,\"name\":\"old-tools\"},\"data\":{"
			 "\"pv_drivers_version\":{\"major\":\"7\",\"minor\":\"0\"},\"pv_drivers_detected\":true,"
			 "\"pv_drivers_up_to_date\":false,\"pv_drivers_not_upgradable\":false,\"live\":true,"
			 "\"last_updated\":null}}");
	row_of(&rows[3], "{\"domain\":{\"id\":0,\"name\":\"Domain-0\",\"uuid\":null},\"data\":{}}");
	wide.width = 200;
	out = table_of(rows, 4, &wide);
	assert_int_equal(assert_lines_within(out, 200), 5);
	assert_safe(out, false);
	/* Sorted by domid, each row in the header's columns. */
	assert_prefix(out, "DOMID  NAME       UUID                                  TOOLS      "
				 "DETECTED  UP TO DATE            LIVE  IPV4        UPDATED\n");
	line = strchr(out, '\n') + 1;
	assert_prefix(line, "    0  Domain-0   -                                     -          "
				  "-         -                     -     -           never\n");
	line = strchr(line, '\n') + 1;
	assert_prefix(line, "    5  web01      7d8f8a0e-6b2c-4b1e-9a55-1c3c0b7d1e11  9.3.1.123  "
				  "yes       yes                   yes   192.0.2.10  5s ago\n");
	line = strchr(line, '\n') + 1;
	assert_prefix(line, "    7  old-tools  -                                     7.0        "
				  "yes       no                    yes   -           never\n");
	line = strchr(line, '\n') + 1;
	/* Not upgradable is the reason it counts as up to date. */
	assert_prefix(line, "   12  appliance  -                                     6.2        "
				  "yes       yes (not upgradable)  no    -           1h ago\n");
	free(out);

	/* No domain: the header alone. */
	out = table_of(NULL, 0, &plain);
	assert_string_equal(out, "DOMID  NAME  UUID  TOOLS  DETECTED  UP TO DATE  LIVE  IPV4  UPDATED\n");
	free(out);
	for (size_t i = 0; i < 4; i++)
		fmt_row_free(&rows[i]);
}

static void test_table_colour(void **state)
{
	struct fmt_row rows[2];
	struct fmt_options colour = plain;
	char *out;

	colour.color = true;
	row_of(&rows[0], web01);
	row_of(&rows[1], "{\"domain\":{\"id\":7,\"name\":\"old-tools\"},\"data\":{"
			 "\"pv_drivers_up_to_date\":false,\"live\":false}}");
	out = table_of(rows, 2, &colour);
	assert_safe(out, true);
	assert_non_null(strstr(out, "\033[1mDOMID\033[0m"));
	assert_non_null(strstr(out, "\033[32myes\033[0m"));	/* up to date, live */
	assert_non_null(strstr(out, "\033[31mno\033[0m"));	/* out of date, not live */
	/* Colour does not move the columns. */
	assert_int_equal(assert_lines_within(out, 120), 3);
	free(out);
	/* And without it there is no escape at all. */
	out = table_of(rows, 2, &plain);
	assert_null(strchr(out, '\033'));
	free(out);
	for (size_t i = 0; i < 2; i++)
		fmt_row_free(&rows[i]);
}

static void test_table_hostile(void **state)
{
	struct fmt_row rows[3] = { 0 };
	struct fmt_options narrow = plain;
	char *out, *long_name = malloc(2001);

	assert_non_null(long_name);
	memset(long_name, 'A', 2000);
	long_name[2000] = '\0';
	/* Bytes no JSON parser would pass: fmt_row's strings are raw. */
	rows[0] = (struct fmt_row){ .domid = 3, .name = strdup("\033[2J\033[31mevil\r\n\xff\xfe\x9b"),
				    .uuid = strdup("\u202eeulav"), .tools = strdup("1\0332"),
				    .ipv4 = strdup("10.0.0.1\n10.0.0.2"), .detected = 1,
				    .up_to_date = 0, .not_upgradable = 0, .live = 1, .last_updated = -1 };
	rows[1] = (struct fmt_row){ .domid = 4, .name = long_name, .uuid = strdup("\u65e5\u672c\u8a9e"),
				    .tools = strdup("9999999999999999999999999.1"), .detected = -1,
				    .up_to_date = -1, .not_upgradable = -1, .live = -1,
				    .last_updated = NOW - 10 };
	rows[2] = (struct fmt_row){ .domid = 32751, .name = strdup("x"), .detected = 0, .up_to_date = 0,
				    .not_upgradable = 0, .live = 0, .last_updated = NOW + 100 };
	for (size_t i = 0; i < 3; i++)
		assert_true(rows[i].name != NULL);
	/* Unknown width: each column within its cap. */
	out = table_of(rows, 3, &plain);
	assert_safe(out, false);
	assert_int_equal(assert_lines_within(out, 5 + 32 + 36 + 16 + 8 + 20 + 4 + 15 + 12 + 8 * 2), 4);
	assert_non_null(strstr(out, "\\x1b[2J\\x1b[31mevil\\r\\n\\xff\\xfe\u2026"));
	assert_non_null(strstr(out, "\\u202eeulav"));
	assert_non_null(strstr(out, "10.0.0.1\\n10.0\u2026"));
	assert_non_null(strstr(out, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u2026"));
	assert_non_null(strstr(out, "in 1m"));
	free(out);

	/* A 120-column terminal: name, uuid and tools shrink, the table fits. */
	narrow.width = 120;
	out = table_of(rows, 3, &narrow);
	assert_safe(out, false);
	assert_int_equal(assert_lines_within(out, 120), 4);
	free(out);
	/* Narrower than the columns can go: bounded by their minimums. */
	narrow.width = 40;
	out = table_of(rows, 3, &narrow);
	assert_int_equal(assert_lines_within(out, 5 + 8 + 8 + 7 + 8 + 20 + 4 + 15 + 12 + 8 * 2), 4);
	free(out);
	for (size_t i = 0; i < 3; i++)
		fmt_row_free(&rows[i]);
}

/* What fmt_get() or fmt_message() make of a JSON text. */
static char *render_json(int (*render)(FILE *, yajl_val, const struct fmt_options *), const char *json,
			 const struct fmt_options *o)
{
	struct render r;
	yajl_val v = parse(json);

	assert_int_equal(render(render_open(&r), v, o), 0);
	yajl_tree_free(v);
	return render_close(&r);
}

static char *get_of(const char *json, const struct fmt_options *o)
{
	return render_json(fmt_get, json, o);
}

static void test_get(void **state)
{
	/* A get reply has the event's domain and data, plus the domain's state. */
	char reply[sizeof(web01) + 128];
	char *out;

	snprintf(reply, sizeof(reply), "{\"type\":\"reply\",\"id\":1,\"ok\":true,\"state\":\"idle\","
		 "\"rate_limited\":false,\"batches_merged\":3,%s", strstr(web01, "\"domain\":"));
	out = get_of(reply, &plain);
	assert_safe(out, false);
	assert_lines_within(out, 80);
	/* Everything in data, in the server's order, each map a heading. */
	assert_string_equal(out, "domain          5\n"
				 "name            web01\n"
				 "uuid            7d8f8a0e-6b2c-4b1e-9a55-1c3c0b7d1e11\n"
				 "state           idle\n"
				 "rate_limited    no\n"
				 "batches_merged  3\n"
				 "data\n"
				 "  os_version\n"
				 "    distro  debian\n"
				 "    name    Debian GNU/Linux 12\n"
				 "  pv_drivers_version\n"
				 "    build  123\n"
				 "    major  9\n"
				 "    micro  1\n"
				 "    minor  3\n"
				 "  pv_drivers_detected        yes\n"
				 "  pv_drivers_up_to_date      yes\n"
				 "  pv_drivers_not_upgradable  no\n"
				 "  networks\n"
				 "    0/ip      192.0.2.10\n"
				 "    0/ipv4/0  192.0.2.10\n"
				 "    0/ipv6/0  fe80::1\n"
				 "    1/ip      198.51.100.1\n"
				 "  memory\n"
				 "    total_kib  4194304 (4.0 GiB)\n"
				 "    free_kib   1024 (1.0 MiB)\n"
				 "  disks\n"
				 "    0/name  xvda\n"
				 "  other\n"
				 "    feature-suspend  1\n"
				 "  can_use_hotplug_vbd        yes\n"
				 "  can_use_hotplug_vif        unspecified\n"
				 "  live                       yes\n"
				 "  last_updated               5s ago (2026-01-02 11:59:55)\n"
				 "  limit_reached              no\n");
	free(out);

	/* Empty maps, nulls, keys unknown to this xgmctl, hostile keys and values. */
	out = get_of("{\"type\":\"reply\",\"id\":1,\"ok\":true,\"domain\":{\"id\":9,\"name\":\"\\u001b[31mred\","
		     "\"uuid\":null},\"future\":[1,\"two\",{}],\"data\":{\"os_version\":{},"
		     "\"disks\":{\"0/\\u001b]0;t\\u0007\":\"a\\u2028b\"},\"last_updated\":null,"
		     "\"new_field\":2.5,\"deep\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":1}}}}}}}}}}",
		     &plain);
	assert_safe(out, false);
	assert_non_null(strstr(out, "name    \\x1b[31mred\n"));
	assert_non_null(strstr(out, "uuid    -\n"));
	assert_non_null(strstr(out, "future  1, two, {\u2026}\n"));
	assert_non_null(strstr(out, "  os_version    -\n"));
	assert_non_null(strstr(out, "    0/\\x1b]0;t\\x07  a\\u2028b\n"));
	assert_non_null(strstr(out, "  last_updated  never\n"));
	assert_non_null(strstr(out, "  new_field     2.5\n"));
	/* Nesting is cut at a bounded depth. */
	assert_non_null(strstr(out, "\u2026\n"));
	assert_null(strstr(out, "h  1"));
	free(out);

	/* A reply without a domain or data. */
	out = get_of("{\"type\":\"reply\",\"id\":1,\"ok\":true}", &plain);
	assert_string_equal(out, "domain  -\ndata    -\n");
	free(out);

	/* A 2000-byte value is cut, so a line stays bounded. */
	{
		char *big = malloc(2200);

		assert_non_null(big);
		strcpy(big, "{\"domain\":{\"id\":1,\"name\":\"");
		memset(big + strlen(big), 'n', 2000);
		strcpy(big + 26 + 2000, "\"},\"data\":{}}");
		out = get_of(big, &plain);
		assert_lines_within(out, 520);
		free(big);
		free(out);
	}
}

static char *line_of(const char *json, const struct fmt_options *o)
{
	return render_json(fmt_message, json, o);
}

static void test_message(void **state)
{
	struct fmt_options colour = plain;
	char *out;

	out = line_of("{\"type\":\"event\",\"seq\":13,\"event\":\"domain.metrics\","
		      "\"timestamp\":{\"seconds\":1767355201,\"microseconds\":0},"
		      "\"domain\":{\"id\":5,\"name\":\"web01\",\"uuid\":null},\"changed\":[\"memory\",\"live\","
		      "\"last_updated\",\"os_version\"],\"data\":{\"memory\":{\"total_kib\":4194304,\"free_kib\":1024},"
		      "\"live\":true,\"last_updated\":1767355201,\"os_version\":{}}}", &plain);
	assert_string_equal(out, "12:00:01     5 web01                domain.metrics  memory: total_kib=4194304 "
				 "free_kib=1024; live: yes; last_updated: 12:00:01; os_version: none\n");
	free(out);

	/* A snapshot or a new domain: how its tools are. */
	out = line_of(web01, &plain);
	assert_string_equal(out, "12:00:00     5 web01                domain.snapshot tools 9.3.1.123, "
				 "up to date yes, live yes, ipv4 192.0.2.10\n");
	free(out);
	out = line_of("{\"type\":\"event\",\"seq\":14,\"event\":\"domain.new\",\"timestamp\":{\"seconds\":1767355202},"
		      "\"domain\":{\"id\":12,\"name\":\"appliance\"},\"data\":{\"pv_drivers_not_upgradable\":true}}",
		      &plain);
	assert_string_equal(out, "12:00:02    12 appliance            domain.new      tools -, "
				 "up to date yes (not upgradable), live -, ipv4 -\n");
	free(out);
	out = line_of("{\"type\":\"event\",\"seq\":15,\"event\":\"domain.gone\",\"timestamp\":{\"seconds\":1767355203},"
		      "\"domain\":{\"id\":12,\"name\":\"appliance\"}}", &plain);
	assert_string_equal(out, "12:00:03    12 appliance            domain.gone\n");
	free(out);

	/* No domain, no time: dashes. */
	out = line_of("{\"type\":\"event\",\"event\":\"domain.new\",\"data\":{\"live\":true}}", &plain);
	assert_string_equal(out, "--:--:--     - -                    domain.new      tools -, up to date -, "
				 "live yes, ipv4 -\n");
	free(out);

	/* The stream's own messages; others are not for people. */
	out = line_of("{\"type\":\"snapshot-end\",\"seq\":12}", &plain);
	assert_string_equal(out, "12:00:00 snapshot-end, seq 12\n");
	free(out);
	out = line_of("{\"type\":\"lost\",\"count\":120,\"first_seq\":5000,\"last_seq\":5130}", &plain);
	assert_string_equal(out, "12:00:00 lost 120 events (seq 5000 to 5130); a fresh snapshot follows\n");
	free(out);
	out = line_of("{\"type\":\"notice-from-the-future\"}", &plain);
	assert_string_equal(out, "");
	free(out);

	/* Colour: the event's, and none on the newline. */
	colour.color = true;
	out = line_of("{\"type\":\"event\",\"event\":\"domain.gone\",\"domain\":{\"id\":1}}", &colour);
	assert_string_equal(out, "--:--:--     1 -                    \033[31mdomain.gone\033[0m\n");
	free(out);
	out = line_of("{\"type\":\"lost\",\"count\":1,\"first_seq\":2,\"last_seq\":2}", &colour);
	assert_string_equal(out, "\033[31m12:00:00 lost 1 events (seq 2 to 2); a fresh snapshot follows\033[0m\n");
	free(out);
}

static void test_message_hostile(void **state)
{
	char *json = malloc(200000), *out;
	size_t n = 0;

	assert_non_null(json);
	/* 1000 addresses, a 2000-byte name, escapes in keys and values. */
	n += (size_t)sprintf(json + n, "{\"type\":\"event\",\"event\":\"domain.metrics\",\"domain\":{\"id\":3,"
				       "\"name\":\"");
	memset(json + n, 'N', 2000);
	n += 2000;
	n += (size_t)sprintf(json + n, "\\u001b[2J\"},\"changed\":[\"networks\",\"other\"],\"data\":{\"networks\":{");
	for (int i = 0; i < 1000; i++)
		n += (size_t)sprintf(json + n, "%s\"%d/ip\":\"10.0.%d.%d\"", i ? "," : "", i, i / 256, i % 256);
	n += (size_t)sprintf(json + n, "},\"other\":{\"\\u001b[31m\":\"\\u202e\\u0007");
	memset(json + n, 'v', 3000);
	n += 3000;
	strcpy(json + n, "\"}}}");
	out = line_of(json, &plain);
	assert_safe(out, false);
	assert_int_equal(assert_lines_within(out, 800), 1);
	assert_non_null(strstr(out, "+992 more"));
	assert_non_null(strstr(out, "other: \\x1b[31m=\\u202e\\x07vvv"));
	assert_null(strstr(out, "\\x1b[2J"));	/* the name was cut before it */
	free(out);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ago),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_huge),
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_colour),
		cmocka_unit_test(test_table_hostile),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_message_hostile),
	};

	/* Widths are wcwidth()'s, which need a UTF-8 locale; times are local. */
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		fprintf(stderr, "no C.UTF-8 locale\n");
		return 1;
	}
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

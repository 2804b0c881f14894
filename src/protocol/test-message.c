/* Unit tests of the server's message encoders: exact text, and valid JSON when parsed back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "json/jsonw.h"
#include "protocol/message.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void assert_text(yajl_gen g, const char *expect)
{
	const char *text;
	size_t len;

	jsonw_text(g, &text, &len);
	if (len != strlen(expect) || memcmp(text, expect, len))
		fail_msg("got %.*s\nexpected %s", (int)len, text, expect);
}

/* The generated text, parsed back; the caller frees it. */
static yajl_val parse_back(yajl_gen g)
{
	char errbuf[128];
	const char *text;
	size_t len;
	char *copy;
	yajl_val v;

	jsonw_text(g, &text, &len);
	assert_null(memchr(text, '\n', len));
	copy = strndup(text, len);
	assert_non_null(copy);
	v = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
	free(copy);
	if (!v)
		fail_msg("%s", errbuf);
	return v;
}

static void test_hello(void **state)
{
	const char *version_path[] = { "server", "version", NULL };
	yajl_gen g = jsonw_new();
	yajl_val v;

	assert_int_equal(message_hello(g, "1.2.3", "abcd", 4711), 0);
	assert_text(g, "{\"type\":\"hello\",\"protocol\":1,\"server\":{\"name\":\"xgmd\",\"version\":\"1.2.3\"},"
		       "\"instance\":\"abcd\",\"seq\":4711}");
	v = parse_back(g);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(v, version_path, yajl_t_string)), "1.2.3");
	yajl_tree_free(v);
	yajl_gen_free(g);
}

static void test_reply(void **state)
{
	struct command_id id_int = { .type = COMMAND_ID_INT, .num = -7, .text = (char *)"-7", .len = 2 };
	struct command_id id_null = { .type = COMMAND_ID_NULL };
	char verbatim[] = "\"\\ud800 \\u00e9\"";
	struct command_id id_str = { .type = COMMAND_ID_STRING, .num = 0, .text = verbatim,
				     .len = sizeof(verbatim) - 1 };
	const char *id_path[] = { "id", NULL };
	yajl_gen g;
	yajl_val v;

	g = jsonw_new();
	assert_int_equal(message_reply(g, &id_int), 0);
	assert_text(g, "{\"type\":\"reply\",\"id\":-7,\"ok\":true}");
	yajl_gen_free(g);

	g = jsonw_new();
	assert_int_equal(message_reply(g, &id_null), 0);
	assert_text(g, "{\"type\":\"reply\",\"id\":null,\"ok\":true}");
	yajl_gen_free(g);

	g = jsonw_new();
	assert_int_equal(message_reply(g, NULL), 0);
	assert_text(g, "{\"type\":\"reply\",\"id\":null,\"ok\":true}");
	yajl_gen_free(g);

	/* An id comes back as the client wrote it, escapes untouched. */
	g = jsonw_new();
	assert_int_equal(message_reply(g, &id_str), 0);
	assert_text(g, "{\"type\":\"reply\",\"id\":\"\\ud800 \\u00e9\",\"ok\":true}");
	v = parse_back(g);
	assert_true(YAJL_IS_STRING(yajl_tree_get(v, id_path, yajl_t_string)));
	yajl_tree_free(v);
	yajl_gen_free(g);

	/* An open reply takes the command's results. */
	g = jsonw_new();
	assert_int_equal(message_reply_open(g, &id_int), 0);
	assert_int_equal(jsonw_cstr(g, "domains"), 0);
	assert_int_equal(jsonw_array_open(g), 0);
	assert_int_equal(jsonw_array_close(g), 0);
	assert_int_equal(jsonw_map_close(g), 0);
	assert_text(g, "{\"type\":\"reply\",\"id\":-7,\"ok\":true,\"domains\":[]}");
	yajl_gen_free(g);
}

static void test_error(void **state)
{
	struct command_id id = { .type = COMMAND_ID_INT, .num = 3, .text = (char *)"3", .len = 1 };
	const char *class_path[] = { "error", "class", NULL };
	yajl_gen g = jsonw_new();
	yajl_val v;

	assert_int_equal(message_error(g, &id, COMMAND_ERROR_NOT_FOUND, "no domain 5"), 0);
	assert_text(g, "{\"type\":\"error\",\"id\":3,\"error\":{\"class\":\"NotFound\",\"desc\":\"no domain 5\"}}");
	yajl_gen_free(g);

	/* A desc quoting client bytes (truncated mid-sequence) is still valid JSON. */
	g = jsonw_new();
	assert_int_equal(message_error(g, NULL, COMMAND_ERROR_UNKNOWN_COMMAND, "unknown \"\xe2\x82\"\t"), 0);
	v = parse_back(g);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(v, class_path, yajl_t_string)), "UnknownCommand");
	yajl_tree_free(v);
	yajl_gen_free(g);
}

static void test_others(void **state)
{
	yajl_gen g;

	g = jsonw_new();
	assert_int_equal(message_snapshot_end(g, 12), 0);
	assert_text(g, "{\"type\":\"snapshot-end\",\"seq\":12}");
	yajl_gen_free(g);

	g = jsonw_new();
	assert_int_equal(message_lost(g, 3, 10, 14), 0);
	assert_text(g, "{\"type\":\"lost\",\"count\":3,\"first_seq\":10,\"last_seq\":14}");
	yajl_gen_free(g);

	g = jsonw_new();
	assert_int_equal(message_bye(g, "shutdown"), 0);
	assert_text(g, "{\"type\":\"bye\",\"reason\":\"shutdown\"}");
	yajl_gen_free(g);

	/* Counters never wrap into negative numbers. */
	g = jsonw_new();
	assert_int_equal(message_snapshot_end(g, UINT64_MAX), 0);
	assert_text(g, "{\"type\":\"snapshot-end\",\"seq\":9223372036854775807}");
	yajl_gen_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* The writer saw no error and holds exactly expect. */
static void assert_text(const struct jsonw *w, const char *expect)
{
	const char *text;
	size_t len;

	assert_int_equal(jsonw_error(w), 0);
	jsonw_text(w, &text, &len);
	if (len != strlen(expect) || memcmp(text, expect, len))
		fail_msg("got %.*s\nexpected %s", (int)len, text, expect);
}

/* The generated text, parsed back; the caller frees it. */
static yajl_val parse_back(const struct jsonw *w)
{
	char errbuf[128];
	const char *text;
	size_t len;
	char *copy;
	yajl_val v;

	assert_int_equal(jsonw_error(w), 0);
	jsonw_text(w, &text, &len);
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
	struct jsonw w;
	yajl_val v;

	assert_int_equal(jsonw_init(&w), 0);
	message_hello(&w, "1.2.3", "abcd", 4711);
	assert_text(&w, "{\"type\":\"hello\",\"protocol\":1,\"server\":{\"name\":\"xgmd\",\"version\":\"1.2.3\"},"
		       "\"instance\":\"abcd\",\"seq\":4711}");
	v = parse_back(&w);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(v, version_path, yajl_t_string)), "1.2.3");
	yajl_tree_free(v);
	jsonw_release(&w);
}

static void test_reply(void **state)
{
	struct command_id id_int = { .type = COMMAND_ID_INT, .num = -7, .text = (char *)"-7", .len = 2 };
	struct command_id id_null = { .type = COMMAND_ID_NULL };
	char verbatim[] = "\"\\ud800 \\u00e9\"";
	struct command_id id_str = { .type = COMMAND_ID_STRING, .num = 0, .text = verbatim,
				     .len = sizeof(verbatim) - 1 };
	const char *id_path[] = { "id", NULL };
	struct jsonw w;
	yajl_val v;

	assert_int_equal(jsonw_init(&w), 0);
	message_reply(&w, &id_int);
	assert_text(&w, "{\"type\":\"reply\",\"id\":-7,\"ok\":true}");
	jsonw_release(&w);

	assert_int_equal(jsonw_init(&w), 0);
	message_reply(&w, &id_null);
	assert_text(&w, "{\"type\":\"reply\",\"id\":null,\"ok\":true}");
	jsonw_release(&w);

	assert_int_equal(jsonw_init(&w), 0);
	message_reply(&w, NULL);
	assert_text(&w, "{\"type\":\"reply\",\"id\":null,\"ok\":true}");
	jsonw_release(&w);

	/* An id comes back as the client wrote it, escapes untouched. */
	assert_int_equal(jsonw_init(&w), 0);
	message_reply(&w, &id_str);
	assert_text(&w, "{\"type\":\"reply\",\"id\":\"\\ud800 \\u00e9\",\"ok\":true}");
	v = parse_back(&w);
	assert_true(YAJL_IS_STRING(yajl_tree_get(v, id_path, yajl_t_string)));
	yajl_tree_free(v);
	jsonw_release(&w);

	/* An open reply takes the command's results. */
	assert_int_equal(jsonw_init(&w), 0);
	message_reply_open(&w, &id_int);
	jsonw_cstr(&w, "domains");
	jsonw_array_open(&w);
	jsonw_array_close(&w);
	jsonw_map_close(&w);
	assert_text(&w, "{\"type\":\"reply\",\"id\":-7,\"ok\":true,\"domains\":[]}");
	jsonw_release(&w);
}

static void test_error(void **state)
{
	struct command_id id = { .type = COMMAND_ID_INT, .num = 3, .text = (char *)"3", .len = 1 };
	const char *class_path[] = { "error", "class", NULL };
	struct jsonw w;
	yajl_val v;

	assert_int_equal(jsonw_init(&w), 0);
	message_error(&w, &id, COMMAND_ERROR_NOT_FOUND, "no domain 5");
	assert_text(&w, "{\"type\":\"error\",\"id\":3,\"error\":{\"class\":\"NotFound\",\"desc\":\"no domain 5\"}}");
	jsonw_release(&w);

	/* A desc quoting client bytes (truncated mid-sequence) is still valid JSON. */
	assert_int_equal(jsonw_init(&w), 0);
	message_error(&w, NULL, COMMAND_ERROR_UNKNOWN_COMMAND, "unknown \"\xe2\x82\"\t");
	v = parse_back(&w);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(v, class_path, yajl_t_string)), "UnknownCommand");
	yajl_tree_free(v);
	jsonw_release(&w);
}

static void test_others(void **state)
{
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	message_snapshot_end(&w, 12);
	assert_text(&w, "{\"type\":\"snapshot-end\",\"seq\":12}");
	jsonw_release(&w);

	assert_int_equal(jsonw_init(&w), 0);
	message_lost(&w, 3, 10, 14);
	assert_text(&w, "{\"type\":\"lost\",\"count\":3,\"first_seq\":10,\"last_seq\":14}");
	jsonw_release(&w);

	assert_int_equal(jsonw_init(&w), 0);
	message_bye(&w, "shutdown");
	assert_text(&w, "{\"type\":\"bye\",\"reason\":\"shutdown\"}");
	jsonw_release(&w);

	/* An event's opening, the rest left to the engine. */
	assert_int_equal(jsonw_init(&w), 0);
	message_event_open(&w, 5, XGM_EVENT_DOMAIN_GONE);
	jsonw_map_close(&w);
	assert_text(&w, "{\"type\":\"event\",\"seq\":5,\"event\":\"domain.gone\"}");
	jsonw_release(&w);

	/* Counters never wrap into negative numbers. */
	assert_int_equal(jsonw_init(&w), 0);
	message_snapshot_end(&w, UINT64_MAX);
	assert_text(&w, "{\"type\":\"snapshot-end\",\"seq\":9223372036854775807}");
	jsonw_release(&w);
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

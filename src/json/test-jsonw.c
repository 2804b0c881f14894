/* Unit tests of the JSON writer: compact, always valid UTF-8, and the first error kept. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "json/jsonw.h"

static void assert_text(const struct jsonw *w, const char *expect)
{
	const char *text;
	size_t len;

	jsonw_text(w, &text, &len);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(text, expect, len);
}

static void test_object(void **state)
{
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	jsonw_map_open(&w);
	jsonw_cstr(&w, "a");
	jsonw_int(&w, -5);
	jsonw_cstr(&w, "b");
	jsonw_array_open(&w);
	jsonw_bool(&w, true);
	jsonw_null(&w);
	jsonw_cstr_or_null(&w, NULL);
	jsonw_cstr_or_null(&w, "s");
	jsonw_array_close(&w);
	jsonw_key_uint(&w, "c", 7);
	jsonw_map_close(&w);
	assert_int_equal(jsonw_error(&w), 0);
	assert_text(&w, "{\"a\":-5,\"b\":[true,null,null,\"s\"],\"c\":7}");
	jsonw_release(&w);
}

/* Counters are unsigned; past INT64_MAX (never in practice) they stay at it, not negative. */
static void test_uint(void **state)
{
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	jsonw_array_open(&w);
	jsonw_uint(&w, 0);
	jsonw_uint(&w, INT64_MAX);
	jsonw_uint(&w, UINT64_MAX);
	jsonw_array_close(&w);
	assert_int_equal(jsonw_error(&w), 0);
	assert_text(&w, "[0,9223372036854775807,9223372036854775807]");
	jsonw_release(&w);
}

/* Verbatim text takes a value's place, separators and all. */
static void test_verbatim(void **state)
{
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	jsonw_map_open(&w);
	jsonw_cstr(&w, "a");
	jsonw_verbatim(&w, "\"\\ud800\"", 8);
	jsonw_cstr(&w, "b");
	jsonw_verbatim(&w, "-0", 2);
	jsonw_map_close(&w);
	assert_int_equal(jsonw_error(&w), 0);
	assert_text(&w, "{\"a\":\"\\ud800\",\"b\":-0}");
	jsonw_release(&w);
}

static void test_hostile_string(void **state)
{
	static const char value[] = "a\xff\nb\0c\"\\";
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	jsonw_string(&w, value, sizeof(value) - 1);
	assert_int_equal(jsonw_error(&w), 0);
	/* Newline and NUL escaped, bad byte replaced: still one line. */
	assert_text(&w, "\"a\xef\xbf\xbd\\nb\\u0000c\\\"\\\\\"");
	jsonw_release(&w);
}

static void test_long_invalid_string(void **state)
{
	char value[5000];
	const char *text;
	size_t len;
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	memset(value, 0xfe, sizeof(value));
	jsonw_string(&w, value, sizeof(value));
	assert_int_equal(jsonw_error(&w), 0);
	jsonw_text(&w, &text, &len);
	assert_int_equal(len, 2 + 3 * sizeof(value));
	jsonw_release(&w);
}

/* A state error is kept, and nothing written after it changes the text or the error. */
static void test_first_error_sticks(void **state)
{
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	jsonw_map_open(&w);
	jsonw_int(&w, 1);	/* a map key must be a string */
	assert_int_equal(jsonw_error(&w), -EPROTO);
	jsonw_fail(&w, -ENOMEM);
	jsonw_cstr(&w, "a");
	jsonw_map_close(&w);
	assert_int_equal(jsonw_error(&w), -EPROTO);
	assert_text(&w, "{");
	jsonw_release(&w);
}

/* An error recorded by the caller stops the writer like its own would. */
static void test_fail(void **state)
{
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	jsonw_fail(&w, 0);	/* not an error */
	jsonw_array_open(&w);
	jsonw_fail(&w, -ENOENT);
	jsonw_fail(&w, -EINVAL);
	jsonw_int(&w, 1);
	assert_int_equal(jsonw_error(&w), -ENOENT);
	assert_text(&w, "[");
	jsonw_release(&w);
}

/* A reset starts a new document: no text, no error, a fresh yajl state. */
static void test_reset(void **state)
{
	struct jsonw w;

	assert_int_equal(jsonw_init(&w), 0);
	jsonw_map_open(&w);
	jsonw_null(&w);
	assert_int_not_equal(jsonw_error(&w), 0);
	jsonw_reset(&w);
	assert_int_equal(jsonw_error(&w), 0);
	assert_text(&w, "");
	jsonw_array_open(&w);
	jsonw_array_close(&w);
	assert_int_equal(jsonw_error(&w), 0);
	assert_text(&w, "[]");
	jsonw_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_verbatim),
		cmocka_unit_test(test_hostile_string),
		cmocka_unit_test(test_long_invalid_string),
		cmocka_unit_test(test_first_error_sticks),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

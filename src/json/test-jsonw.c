/* Unit tests of the JSON writer: compact output, strings always valid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "json/jsonw.h"

static void assert_text(yajl_gen g, const char *expect)
{
	const char *text;
	size_t len;

	jsonw_text(g, &text, &len);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(text, expect, len);
}

static void test_object(void **state)
{
	yajl_gen g = jsonw_new();

	assert_non_null(g);
	assert_int_equal(jsonw_map_open(g), 0);
	assert_int_equal(jsonw_cstr(g, "a"), 0);
	assert_int_equal(jsonw_int(g, -5), 0);
	assert_int_equal(jsonw_cstr(g, "b"), 0);
	assert_int_equal(jsonw_array_open(g), 0);
	assert_int_equal(jsonw_bool(g, true), 0);
	assert_int_equal(jsonw_null(g), 0);
	assert_int_equal(jsonw_array_close(g), 0);
	assert_int_equal(jsonw_map_close(g), 0);
	assert_text(g, "{\"a\":-5,\"b\":[true,null]}");
	yajl_gen_free(g);
}

/* Verbatim text takes a value's place, separators and all. */
static void test_verbatim(void **state)
{
	yajl_gen g = jsonw_new();

	assert_int_equal(jsonw_map_open(g), 0);
	assert_int_equal(jsonw_cstr(g, "a"), 0);
	assert_int_equal(jsonw_verbatim(g, "\"\\ud800\"", 8), 0);
	assert_int_equal(jsonw_cstr(g, "b"), 0);
	assert_int_equal(jsonw_verbatim(g, "-0", 2), 0);
	assert_int_equal(jsonw_map_close(g), 0);
	assert_text(g, "{\"a\":\"\\ud800\",\"b\":-0}");
	yajl_gen_free(g);
}

static void test_hostile_string(void **state)
{
	static const char value[] = "a\xff\nb\0c\"\\";
	yajl_gen g = jsonw_new();

	assert_int_equal(jsonw_string(g, value, sizeof(value) - 1), 0);
	/* Newline and NUL escaped, bad byte replaced: still one line. */
	assert_text(g, "\"a\xef\xbf\xbd\\nb\\u0000c\\\"\\\\\"");
	yajl_gen_free(g);
}

static void test_long_invalid_string(void **state)
{
	char value[5000];
	const char *text;
	size_t len;
	yajl_gen g = jsonw_new();

	memset(value, 0xfe, sizeof(value));
	assert_int_equal(jsonw_string(g, value, sizeof(value)), 0);
	jsonw_text(g, &text, &len);
	assert_int_equal(len, 2 + 3 * sizeof(value));
	yajl_gen_free(g);
}

static void test_state_error(void **state)
{
	yajl_gen g = jsonw_new();

	assert_int_equal(jsonw_map_open(g), 0);
	/* A map key must be a string. */
	assert_true(jsonw_int(g, 1) < 0);
	yajl_gen_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_verbatim),
		cmocka_unit_test(test_hostile_string),
		cmocka_unit_test(test_long_invalid_string),
		cmocka_unit_test(test_state_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

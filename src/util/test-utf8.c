/* Unit tests of UTF-8 validation and repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/utf8.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_valid(void **state)
{
	assert_true(utf8_valid(S("")));
	assert_true(utf8_valid(S("plain ascii")));
	assert_true(utf8_valid(S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")));
	assert_true(utf8_valid(S("nul\0inside")));
	assert_true(utf8_valid(S("\xf4\x8f\xbf\xbf")));	/* U+10FFFF */
}

static void test_invalid(void **state)
{
	assert_false(utf8_valid(S("\xff")));
	assert_false(utf8_valid(S("\xc0\xaf")));		/* overlong '/' */
	assert_false(utf8_valid(S("\xe0\x80\xaf")));		/* overlong */
	assert_false(utf8_valid(S("\xed\xa0\x80")));		/* surrogate */
	assert_false(utf8_valid(S("\xf4\x90\x80\x80")));	/* > U+10FFFF */
	assert_false(utf8_valid(S("\xe2\x82")));		/* truncated */
	assert_false(utf8_valid(S("\x80")));			/* lone continuation */
}

static void check_repair(const char *in, size_t len, const char *expect, size_t expect_len)
{
	char out[64];
	size_t n = utf8_repair(in, len, out);

	assert_int_equal(n, expect_len);
	assert_memory_equal(out, expect, n);
	assert_true(utf8_valid(out, n));
}

static void test_repair(void **state)
{
	check_repair(S("ok"), S("ok"));
	check_repair(S("a\xff" "b"), S("a\xef\xbf\xbd" "b"));
	/* A truncated sequence: each byte that starts nothing is replaced. */
	check_repair(S("\xe2\x82"), S("\xef\xbf\xbd\xef\xbf\xbd"));
	check_repair(S("x\xe2\x82\xac"), S("x\xe2\x82\xac"));
	check_repair(S("\0"), S("\0"));
}

static void test_repair_all_bytes(void **state)
{
	unsigned char in[256];
	char out[3 * 256];

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	assert_true(utf8_valid(out, utf8_repair((const char *)in, sizeof(in), out)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_repair_all_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

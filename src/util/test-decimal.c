/* Unit tests of strict decimal parsing, bare and trimmed (the guest form). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/decimal.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static long long number(const char *s, size_t len)
{
	long long v = -42;

	assert_int_equal(decimal_parse_trimmed(s, len, &v), 0);
	return v;
}

static void test_trimmed_good(void **state)
{
	assert_int_equal(number(S("0")), 0);
	assert_int_equal(number(S("7")), 7);
	assert_int_equal(number(S("04")), 4);	/* lsb keeps leading zeros */
	assert_int_equal(number(S("1120")), 1120);
	assert_int_equal(number(S("9223372036854775807")), 9223372036854775807LL);
	/* Surrounding blanks are tolerated. */
	assert_int_equal(number(S(" 9")), 9);
	assert_int_equal(number(S("9\n")), 9);
	assert_int_equal(number(S("\t 10 \r\n")), 10);
}

static void test_trimmed_bad(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		int err;
	} bad[] = {
		{ S(""), -EINVAL },
		{ S("   "), -EINVAL },
		{ S("-1"), -EINVAL },
		{ S("+1"), -EINVAL },
		{ S("0x10"), -EINVAL },
		{ S("1 2"), -EINVAL },
		{ S("1beta"), -EINVAL },
		{ S("1.0"), -EINVAL },
		{ S("unknown"), -EINVAL },
		{ S("n/a"), -EINVAL },
		{ S("proto-0.4.0"), -EINVAL },
		{ S("@PRODUCT_MAJOR_VERSION@"), -EINVAL },
		{ S("1\0"), -EINVAL },
		{ S("\0" "1"), -EINVAL },
		{ S("\xd9\xa1"), -EINVAL },	/* ARABIC-INDIC DIGIT ONE */
		{ S("1\v"), -EINVAL },
		{ S("9223372036854775808"), -ERANGE },
		{ S("99999999999999999999999"), -ERANGE },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long long v = -42;

		assert_int_equal(decimal_parse_trimmed(bad[i].s, bad[i].len, &v), bad[i].err);
		assert_int_equal(v, -42);	/* untouched on failure */
	}
}

/* The bare form, for our own configuration: no blank at all. */
static void test_bare(void **state)
{
	long long v = -42;

	assert_int_equal(decimal_parse(S("0042"), &v), 0);
	assert_int_equal(v, 42);
	v = -42;
	assert_int_equal(decimal_parse(S(" 9"), &v), -EINVAL);
	assert_int_equal(decimal_parse(S("9\n"), &v), -EINVAL);
	assert_int_equal(decimal_parse(S(""), &v), -EINVAL);
	assert_int_equal(decimal_parse(S("9223372036854775808"), &v), -ERANGE);
	assert_int_equal(v, -42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trimmed_good),
		cmocka_unit_test(test_trimmed_bad),
		cmocka_unit_test(test_bare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of PV tools version parsing and comparison. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/version.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_reference_parse(void **state)
{
	struct pv_version v;

	assert_int_equal(pv_version_parse("9.3.1.100", &v), 0);
	assert_int_equal(v.part[0], 9);
	assert_int_equal(v.part[1], 3);
	assert_int_equal(v.part[2], 1);
	assert_int_equal(v.part[3], 100);

	assert_int_equal(pv_version_parse("7.0", &v), 0);
	assert_int_equal(v.part[0], 7);
	assert_int_equal(v.part[1], 0);
	assert_int_equal(v.part[2], PV_VERSION_MISSING);
	assert_int_equal(v.part[3], PV_VERSION_MISSING);

	assert_int_equal(pv_version_parse("8", &v), 0);
	assert_int_equal(v.part[0], 8);
	assert_int_equal(v.part[1], PV_VERSION_MISSING);

	/* The major.minor.micro-build spelling. */
	assert_int_equal(pv_version_parse("9.4.0-123", &v), 0);
	assert_int_equal(v.part[0], 9);
	assert_int_equal(v.part[1], 4);
	assert_int_equal(v.part[2], 0);
	assert_int_equal(v.part[3], 123);

	v.part[0] = 123;
	assert_int_equal(pv_version_parse("9.4-123", &v), -EINVAL);
	assert_int_equal(pv_version_parse("9-4.0.1", &v), -EINVAL);
	assert_int_equal(pv_version_parse("9.4.0-1.2", &v), -EINVAL);
	assert_int_equal(pv_version_parse("9.4.0-", &v), -EINVAL);
	assert_int_equal(pv_version_parse("", &v), -EINVAL);
	assert_int_equal(pv_version_parse("7.", &v), -EINVAL);
	assert_int_equal(pv_version_parse(".7", &v), -EINVAL);
	assert_int_equal(pv_version_parse("7..0", &v), -EINVAL);
	assert_int_equal(pv_version_parse("1.2.3.4.5", &v), -EINVAL);
	assert_int_equal(pv_version_parse("7.0-1", &v), -EINVAL);
	assert_int_equal(pv_version_parse(" 7.0", &v), -EINVAL);
	assert_int_equal(pv_version_parse("7.-1", &v), -EINVAL);
	assert_int_equal(pv_version_parse("1.99999999999999999999", &v), -ERANGE);
	assert_int_equal(v.part[0], 123);	/* untouched on failure */
}

static struct pv_version V(long long a, long long b, long long c, long long d)
{
	return (struct pv_version){ .part = { a, b, c, d } };
}

static void test_compare(void **state)
{
	struct pv_version a, b;

	a = V(9, 3, 1, 100); b = V(9, 3, 1, 100);
	assert_int_equal(pv_version_compare(&a, &b), 0);
	/* Order matters: major beats everything after it. */
	a = V(10, 0, 0, 0); b = V(9, 99, 99, 99);
	assert_true(pv_version_compare(&a, &b) > 0);
	assert_true(pv_version_compare(&b, &a) < 0);
	a = V(9, 4, 0, 0); b = V(9, 3, 99, 99);
	assert_true(pv_version_compare(&a, &b) > 0);
	a = V(9, 3, 2, 0); b = V(9, 3, 1, 99);
	assert_true(pv_version_compare(&a, &b) > 0);
	a = V(9, 3, 1, 101); b = V(9, 3, 1, 100);
	assert_true(pv_version_compare(&a, &b) > 0);
	/* Missing counts as -1: below 0, equal to another missing. */
	a = V(7, 0, -1, -1); b = V(7, 0, 0, -1);
	assert_true(pv_version_compare(&a, &b) < 0);
	a = V(7, 0, -1, -1); b = V(7, 0, -1, -1);
	assert_int_equal(pv_version_compare(&a, &b), 0);
	a = V(7, 0, 0, -1); b = V(7, 0, -1, 5);
	assert_true(pv_version_compare(&a, &b) > 0);
	/* Numbers, not strings: 10 > 9. */
	assert_int_equal(pv_version_parse("6.10", &a), 0);
	assert_int_equal(pv_version_parse("6.9", &b), 0);
	assert_true(pv_version_compare(&a, &b) > 0);
}

static void test_from_parts(void **state)
{
	struct pv_version v;
	const char *p[4] = { "9", "1", "100", "59" };
	size_t l[4] = { 1, 1, 3, 2 };

	assert_true(pv_version_from_parts(&v, p, l));
	assert_int_equal(v.part[0], 9);
	assert_int_equal(v.part[3], 59);

	/* xen-guest-agent: build is not a number, the rest is usable. */
	p[0] = "1"; p[1] = "0"; p[2] = "0"; p[3] = "proto-0.4.0";
	l[0] = l[1] = l[2] = 1; l[3] = strlen(p[3]);
	assert_true(pv_version_from_parts(&v, p, l));
	assert_int_equal(v.part[0], 1);
	assert_int_equal(v.part[2], 0);
	assert_int_equal(v.part[3], PV_VERSION_MISSING);

	/* Missing micro and build. */
	p[2] = p[3] = NULL;
	assert_true(pv_version_from_parts(&v, p, l));
	assert_int_equal(v.part[2], PV_VERSION_MISSING);
	assert_int_equal(v.part[3], PV_VERSION_MISSING);

	/* Unsubstituted placeholders and the Windows transient empty string. */
	p[0] = "@PRODUCT_MAJOR_VERSION@"; l[0] = strlen(p[0]);
	assert_false(pv_version_from_parts(&v, p, l));
	assert_int_equal(v.part[0], PV_VERSION_MISSING);
	p[0] = ""; l[0] = 0;
	assert_false(pv_version_from_parts(&v, p, l));
	/* Minor missing. */
	p[0] = "9"; l[0] = 1; p[1] = NULL;
	assert_false(pv_version_from_parts(&v, p, l));
	assert_int_equal(v.part[0], 9);
	assert_int_equal(v.part[1], PV_VERSION_MISSING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_parse),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_from_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

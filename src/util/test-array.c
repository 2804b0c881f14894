/*
 * Unit tests of util/array: doubling from the first capacity, the caller's
 * bound, overflow refused before any allocation, the array kept on failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "util/array.h"

struct pair {
	int key;
	long value;
};

static void test_doubles_from_first(void **state)
{
	struct pair *v = NULL, *before;
	size_t cap = 0;

	/* Nothing needed: nothing allocated. */
	assert_int_equal(ARRAY_RESERVE(v, cap, 0, 8, SIZE_MAX), 0);
	assert_null(v);
	assert_int_equal(cap, 0);

	assert_int_equal(ARRAY_RESERVE(v, cap, 1, 8, SIZE_MAX), 0);
	assert_non_null(v);
	assert_int_equal(cap, 8);
	for (int i = 0; i < 8; i++)
		v[i] = (struct pair){ i, -i };

	/* Room already: the array is left alone. */
	before = v;
	assert_int_equal(ARRAY_RESERVE(v, cap, 8, 8, SIZE_MAX), 0);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 8);

	/* One more doubles; far more doubles until it fits. */
	assert_int_equal(ARRAY_RESERVE(v, cap, 9, 8, SIZE_MAX), 0);
	assert_int_equal(cap, 16);
	assert_int_equal(ARRAY_RESERVE(v, cap, 100, 8, SIZE_MAX), 0);
	assert_int_equal(cap, 128);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(v[i].key, i);
		assert_int_equal(v[i].value, -i);
	}
	free(v);
}

static void test_first(void **state)
{
	char *buf = NULL;
	size_t cap = 0;
	int *v = NULL;
	size_t vcap = 0;

	/* A buffer starts at its first size even for one byte. */
	assert_int_equal(ARRAY_RESERVE(buf, cap, 1, 65536, SIZE_MAX), 0);
	assert_int_equal(cap, 65536);
	assert_int_equal(ARRAY_RESERVE(buf, cap, 65537, 65536, SIZE_MAX), 0);
	assert_int_equal(cap, 131072);
	free(buf);

	/* first 0 still makes room. */
	assert_int_equal(ARRAY_RESERVE(v, vcap, 1, 0, SIZE_MAX), 0);
	assert_int_equal(vcap, 1);
	assert_int_equal(ARRAY_RESERVE(v, vcap, 2, 0, SIZE_MAX), 0);
	assert_int_equal(vcap, 2);
	assert_int_equal(ARRAY_RESERVE(v, vcap, 3, 0, SIZE_MAX), 0);
	assert_int_equal(vcap, 4);
	free(v);
}

static void test_bound(void **state)
{
	/* From empty: reserve need0, then need1, with the same first and max. */
	static const struct {
		size_t first, max, need0, cap0, need1, cap1;
		int r1;
	} cases[] = {
		/* The doubling stops at the bound, and nothing past it is given. */
		{ 8, 10, 9, 10, 11, 10, -ENOMEM },
		/* A capacity above half the bound goes to the bound, not past it. */
		{ 60, 100, 60, 60, 61, 100, 0 },
		/* A first size above the bound is cut to it. */
		{ 16, 5, 1, 5, 5, 5, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int *v = NULL, *before;
		size_t cap = 0;

		assert_int_equal(ARRAY_RESERVE(v, cap, cases[i].need0, cases[i].first, cases[i].max), 0);
		assert_int_equal(cap, cases[i].cap0);
		before = v;
		assert_int_equal(ARRAY_RESERVE(v, cap, cases[i].need1, cases[i].first, cases[i].max),
				 cases[i].r1);
		assert_int_equal(cap, cases[i].cap1);
		/* A refusal leaves the array as it was. */
		if (cases[i].r1 < 0)
			assert_ptr_equal(v, before);
		free(v);
	}
}

static void test_overflow(void **state)
{
	void *v = NULL;
	size_t cap = 0;

	/* need * elem would not fit in a size_t: refused before any allocation. */
	assert_int_equal(array_reserve(&v, &cap, 3, SIZE_MAX / 2, 1, SIZE_MAX), -ENOMEM);
	assert_int_equal(array_reserve(&v, &cap, SIZE_MAX, 2, 1, SIZE_MAX), -ENOMEM);
	assert_int_equal(array_reserve(&v, &cap, SIZE_MAX / 4 + 1, 4, 1, SIZE_MAX), -ENOMEM);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_int_equal(array_reserve(&v, &cap, 1, 0, 1, SIZE_MAX), -EINVAL);
	assert_null(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_from_first),
		cmocka_unit_test(test_first),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

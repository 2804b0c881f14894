/*
 * Unit tests of util/log-limit: one line per interval, held-back lines counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/log-limit.h"

static void test_one_per_interval(void **state)
{
	struct log_limit rl = LOG_LIMIT_INIT(10000);
	uint64_t held = 99;
	unsigned int passed = 0;

	/* The first line goes out, whatever the clock says. */
	assert_true(log_limit_pass(&rl, -5, &held));
	assert_int_equal(held, 0);
	/* A million attempts in one interval: none goes out, all are counted. */
	for (int i = 0; i < 1000000; i++)
		passed += log_limit_pass(&rl, -5 + i / 100, &held);
	assert_int_equal(passed, 0);
	assert_true(log_limit_pass(&rl, 9995, &held));
	assert_int_equal(held, 1000000);
	/* The count restarts, and the next interval starts at that line. */
	assert_false(log_limit_pass(&rl, 19994, &held));
	assert_true(log_limit_pass(&rl, 19995, &held));
	assert_int_equal(held, 1);
	/* After a quiet spell, the next line goes out at once. */
	assert_true(log_limit_pass(&rl, 1000000, &held));
	assert_int_equal(held, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_per_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

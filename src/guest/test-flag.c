/* Unit tests of the guest tool's decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest/flag.h"

static void test_file_present(void **state)
{
	assert_int_equal(flag_decide(true, NULL, 0), FLAG_WRITE);
	assert_int_equal(flag_decide(true, "1", 1), FLAG_NOTHING);
	/* Not exactly "1": xgmd would not take it as set, so it is rewritten. */
	assert_int_equal(flag_decide(true, "0", 1), FLAG_WRITE);
	assert_int_equal(flag_decide(true, "1 ", 2), FLAG_WRITE);
	assert_int_equal(flag_decide(true, "", 0), FLAG_WRITE);
	assert_int_equal(flag_decide(true, "1\0", 2), FLAG_WRITE);
}

static void test_file_absent(void **state)
{
	assert_int_equal(flag_decide(false, NULL, 0), FLAG_NOTHING);
	assert_int_equal(flag_decide(false, "1", 1), FLAG_REMOVE);
	assert_int_equal(flag_decide(false, "", 0), FLAG_REMOVE);
	assert_int_equal(flag_decide(false, "yes", 3), FLAG_REMOVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_present),
		cmocka_unit_test(test_file_absent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

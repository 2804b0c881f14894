/* Unit tests of the sandbox's domain table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domtable.h"

static void test_parse_format_roundtrip(void **state)
{
	static const char expect[] = "0 running\n3 running\n5 shutdown\n7 dying\n";
	struct domtable *t = malloc(sizeof(*t));
	char buf[256];

	assert_int_equal(domtable_parse(t, "7 dying\n3 running\n\n5 shutdown\n"), 0);
	assert_int_equal(t->count, 4);	/* dom0 is implicit */
	assert_int_equal(domtable_format(t, buf, sizeof(buf)), strlen(expect));
	assert_string_equal(buf, expect);
	assert_int_equal(domtable_find(t, 5)->state, DOMSTATE_SHUTDOWN);
	assert_null(domtable_find(t, 4));
	free(t);
}

static void test_parse_rejects_junk(void **state)
{
	struct domtable *t = malloc(sizeof(*t));

	assert_int_equal(domtable_parse(t, "5 sleeping\n"), -EINVAL);
	assert_int_equal(domtable_parse(t, "x running\n"), -EINVAL);
	assert_int_equal(domtable_parse(t, "5 running extra\n"), -EINVAL);
	assert_int_equal(domtable_parse(t, "70000 running\n"), -EINVAL);
	free(t);
}

static void test_set_remove(void **state)
{
	struct domtable *t = malloc(sizeof(*t));

	domtable_parse(t, "");
	assert_int_equal(domtable_set(t, 9, DOMSTATE_RUNNING), 0);
	assert_int_equal(domtable_set(t, 2, DOMSTATE_RUNNING), 0);
	assert_int_equal(domtable_set(t, 9, DOMSTATE_CRASHED), 0);
	assert_int_equal(t->count, 3);
	assert_int_equal(t->entries[1].domid, 2);
	assert_int_equal(t->entries[2].state, DOMSTATE_CRASHED);
	assert_true(domtable_remove(t, 2));
	assert_false(domtable_remove(t, 2));
	assert_false(domtable_remove(t, 0));	/* dom0 always exists */
	assert_int_equal(t->count, 2);
	free(t);
}

static void test_full(void **state)
{
	struct domtable *t = malloc(sizeof(*t));

	domtable_parse(t, "");
	for (uint32_t d = 1; d < DOMTABLE_MAX; d++)
		assert_int_equal(domtable_set(t, d, DOMSTATE_RUNNING), 0);
	assert_int_equal(domtable_set(t, DOMTABLE_MAX, DOMSTATE_RUNNING), -ENOSPC);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_roundtrip),
		cmocka_unit_test(test_parse_rejects_junk),
		cmocka_unit_test(test_set_remove),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

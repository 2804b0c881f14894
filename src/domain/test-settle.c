/* Unit tests of the settling decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/settle.h"

static const struct settle_config cfg = { .quiet_ms = 250, .max_wait_ms = 2000 };
static const struct settle_config strict = { .quiet_ms = 250, .max_wait_ms = 2000, .strict = true };

static void test_idle(void **state)
{
	struct settle s = { 0 };

	assert_true(settle_deadline(&s, &cfg) == SETTLE_NEVER);
}

static void test_quiet_period(void **state)
{
	struct settle s = { 0 };

	settle_write(&s, 1000, false);
	assert_int_equal(settle_deadline(&s, &cfg), 1250);
	settle_write(&s, 1100, false);
	assert_int_equal(settle_deadline(&s, &cfg), 1350);
}

static void test_max_wait_caps_a_storm(void **state)
{
	struct settle s = { 0 };

	/* A write every 100 ms never leaves a quiet period... */
	for (uint64_t t = 1000; t <= 2900; t += 100)
		settle_write(&s, t, false);
	/* ... so the batch closes 2 s after its first write. */
	assert_int_equal(settle_deadline(&s, &cfg), 3000);
}

static void test_kick_closes_at_once(void **state)
{
	struct settle s = { 0 };

	settle_write(&s, 1000, false);
	settle_write(&s, 1040, true);
	assert_int_equal(settle_deadline(&s, &cfg), 1040);
	/* Writes after the kick, before the read, join the same batch. */
	settle_write(&s, 1041, false);
	assert_true(settle_deadline(&s, &cfg) <= 1041);
}

static void test_strict_waits_for_kick(void **state)
{
	struct settle s = { 0 };

	settle_write(&s, 1000, false);
	settle_write(&s, 9000, false);
	assert_true(settle_deadline(&s, &strict) == SETTLE_NEVER);
	settle_write(&s, 9001, true);
	assert_int_equal(settle_deadline(&s, &strict), 9001);
}

static void test_reset(void **state)
{
	struct settle s = { 0 };

	settle_write(&s, 1000, true);
	settle_reset(&s);
	assert_true(settle_deadline(&s, &cfg) == SETTLE_NEVER);
	settle_write(&s, 5000, false);
	assert_int_equal(settle_deadline(&s, &cfg), 5250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_quiet_period),
		cmocka_unit_test(test_max_wait_caps_a_storm),
		cmocka_unit_test(test_kick_closes_at_once),
		cmocka_unit_test(test_strict_waits_for_kick),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

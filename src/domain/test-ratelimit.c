/* Unit tests of the publication token bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/ratelimit.h"

static const struct ratelimit_config cfg = { .burst = 5, .per_s = 1 };

static void test_burst_then_held(void **state)
{
	struct ratelimit rl = { 0 };

	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_admit(&rl, &cfg, 1000));
	assert_false(ratelimit_held(&rl));
	assert_false(ratelimit_admit(&rl, &cfg, 1000));
	assert_true(ratelimit_held(&rl));
	assert_int_equal(rl.merged, 1);
	/* One token a second, and not a millisecond before. */
	assert_int_equal(ratelimit_next(&rl, &cfg, 1000), 2000);
	assert_false(ratelimit_admit(&rl, &cfg, 1999));
	assert_int_equal(ratelimit_next(&rl, &cfg, 1999), 2000);
	assert_true(ratelimit_admit(&rl, &cfg, 2000));
	assert_false(ratelimit_held(&rl));
	assert_int_equal(rl.merged, 2);
}

static void test_refill_stops_at_burst(void **state)
{
	struct ratelimit rl = { 0 };
	int admitted = 0;

	assert_true(ratelimit_admit(&rl, &cfg, 0));
	/* An hour of quiet buys a burst, not 3600 batches. */
	while (ratelimit_admit(&rl, &cfg, 3600000))
		admitted++;
	assert_int_equal(admitted, 5);
}

static void test_no_limit(void **state)
{
	static const struct ratelimit_config off = { .burst = 1, .per_s = 0 };
	struct ratelimit rl = { 0 };

	for (int i = 0; i < 10000; i++)
		assert_true(ratelimit_admit(&rl, &off, 5));
	assert_int_equal(ratelimit_next(&rl, &off, 5), 5);
	assert_int_equal(rl.merged, 0);
}

static void test_fast_rate_rounds_up(void **state)
{
	static const struct ratelimit_config fast = { .burst = 1, .per_s = 3 };
	struct ratelimit rl = { 0 };
	uint64_t next;

	assert_true(ratelimit_admit(&rl, &fast, 0));
	next = ratelimit_next(&rl, &fast, 0);
	assert_int_equal(next, 334);	/* 1000/3 ms, rounded up */
	assert_false(ratelimit_admit(&rl, &fast, next - 1));
	assert_true(ratelimit_admit(&rl, &fast, next));
}

/*
 * The storm: a batch closes every millisecond for a second. Few are
 * admitted, and once the guest is quiet the held batch is admitted within
 * one interval.
 */
static void test_storm(void **state)
{
	struct ratelimit rl = { 0 };
	uint64_t admitted = 0, last = 0, next;

	for (uint64_t t = 10000; t < 11000; t++)
		admitted += ratelimit_admit(&rl, &cfg, t);
	/* The burst; the next token comes 1 s after its last batch, at 11004. */
	assert_int_equal(admitted, 5);
	assert_int_equal(rl.merged, 1000 - admitted);
	assert_true(ratelimit_held(&rl));
	last = 10999;
	next = ratelimit_next(&rl, &cfg, last);
	assert_true(next > last && next <= last + 1000);
	assert_true(ratelimit_admit(&rl, &cfg, next));
	assert_false(ratelimit_held(&rl));
}

static void test_warning_once_a_minute(void **state)
{
	struct ratelimit rl = { 0 };

	/* Nothing held: nothing to warn about. */
	assert_false(ratelimit_warn_due(&rl, 0));
	for (int i = 0; i < 5; i++)
		ratelimit_admit(&rl, &cfg, 0);
	assert_false(ratelimit_admit(&rl, &cfg, 0));
	assert_true(ratelimit_warn_due(&rl, 0));
	assert_false(ratelimit_warn_due(&rl, 1));
	assert_false(ratelimit_admit(&rl, &cfg, 500));
	assert_false(ratelimit_warn_due(&rl, RATELIMIT_WARN_INTERVAL_MS - 1));
	assert_true(ratelimit_warn_due(&rl, RATELIMIT_WARN_INTERVAL_MS));
	assert_false(ratelimit_warn_due(&rl, RATELIMIT_WARN_INTERVAL_MS + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_held),
		cmocka_unit_test(test_refill_stops_at_burst),
		cmocka_unit_test(test_no_limit),
		cmocka_unit_test(test_fast_rate_rounds_up),
		cmocka_unit_test(test_storm),
		cmocka_unit_test(test_warning_once_a_minute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

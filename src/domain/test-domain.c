/* Unit tests of the per-domain state machine's inputs and decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domain/domain.h"

static const struct domain_config cfg = {
	.settle = { .quiet_ms = 250, .max_wait_ms = 2000 },
	.limits = { .max_keys = 64, .max_bytes = 4096 },
};

static struct domain *adopted(void)
{
	struct domain *d = domain_new(5, 1, &cfg);

	assert_non_null(d);
	assert_int_equal(d->state, DOMAIN_DISCOVERED);
	domain_batch_done(d);
	assert_int_equal(d->state, DOMAIN_IDLE);
	return d;
}

static void test_write_opens_batch(void **state)
{
	struct domain *d = adopted();
	size_t n;
	bool rescan;
	char **paths;

	assert_int_equal(domain_on_write(d, "data/meminfo_free", 1000, 1, &cfg.settle), 1250);
	assert_int_equal(d->state, DOMAIN_SETTLING);
	assert_int_equal(domain_on_write(d, "data/meminfo_free", 1100, 1, &cfg.settle), 1350);
	assert_int_equal(domain_on_write(d, "attr/vif/0/ipv4/0", 1200, 1, &cfg.settle), 1450);

	/* Each dirty path once, in arrival order. */
	paths = domain_take_dirty(d, &n, &rescan);
	assert_false(rescan);
	assert_int_equal(n, 2);
	assert_string_equal(paths[0], "data/meminfo_free");
	assert_string_equal(paths[1], "attr/vif/0/ipv4/0");
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	domain_batch_done(d);
	assert_int_equal(d->state, DOMAIN_IDLE);
	assert_true(domain_deadline(d, &cfg.settle) == SETTLE_NEVER);
	domain_free(d);
}

/* A write while a batch is read opens the next batch, which settles after it. */
static void test_write_during_read(void **state)
{
	struct domain *d = adopted();
	size_t n;
	bool rescan;
	char **paths;

	domain_on_write(d, "data/meminfo_free", 1000, 1, &cfg.settle);
	paths = domain_take_dirty(d, &n, &rescan);
	assert_int_equal(d->state, DOMAIN_READING);
	assert_true(domain_deadline(d, &cfg.settle) == SETTLE_NEVER);
	assert_true(domain_on_write(d, "data/meminfo_total", 1100, 1, &cfg.settle) == 1100 + 250);
	assert_int_equal(d->state, DOMAIN_READING);
	domain_batch_done(d);
	assert_int_equal(d->state, DOMAIN_SETTLING);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	paths = domain_take_dirty(d, &n, &rescan);
	assert_int_equal(n, 1);
	assert_string_equal(paths[0], "data/meminfo_total");
	free(paths[0]);
	free(paths);
	domain_batch_done(d);
	assert_int_equal(d->state, DOMAIN_IDLE);
	domain_free(d);
}

static void test_updated_kicks(void **state)
{
	struct domain *d = adopted();

	domain_on_write(d, "attr/PVAddons/MajorVersion", 1000, 1, &cfg.settle);
	assert_int_equal(domain_on_write(d, "data/updated", 1010, 1, &cfg.settle), 1010);
	domain_free(d);
}

static void test_initial_events_ignored(void **state)
{
	struct domain *d = adopted();

	d->initial_events = 2;
	assert_true(domain_on_write(d, "attr", 1000, 1, &cfg.settle) == SETTLE_NEVER);
	assert_true(domain_on_write(d, "data", 1000, 1, &cfg.settle) == SETTLE_NEVER);
	assert_int_equal(d->state, DOMAIN_IDLE);
	assert_int_equal(d->last_write_wall, 0);
	/* After them, a root event is a removal: re-read the subtrees. */
	assert_int_equal(domain_on_write(d, "attr", 2000, 7, &cfg.settle), 2250);
	assert_true(d->rescan);
	assert_int_equal(d->last_write_wall, 7);
	domain_free(d);
}

static void test_too_many_dirty_means_rescan(void **state)
{
	struct domain *d = adopted();
	char **paths;
	size_t n;
	bool rescan;

	for (int i = 0; i < DOMAIN_MAX_DIRTY + 5; i++) {
		char path[32];

		snprintf(path, sizeof(path), "data/k%d", i);
		domain_on_write(d, path, 1000 + (uint64_t)i, 1, &cfg.settle);
	}
	paths = domain_take_dirty(d, &n, &rescan);
	assert_true(rescan);
	assert_int_equal(n, 0);
	assert_null(paths);
	domain_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_opens_batch),
		cmocka_unit_test(test_updated_kicks),
		cmocka_unit_test(test_initial_events_ignored),
		cmocka_unit_test(test_write_during_read),
		cmocka_unit_test(test_too_many_dirty_means_rescan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

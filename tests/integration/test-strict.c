/*
 * The proposal's strict mode (keys are inspected only when data/updated is
 * written) side by side with the default settling, on the same guest.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest.h"
#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 5000

/* The default mode's xgmd is the fixture's; the strict one runs beside it. */
static struct fixture f;
static struct fixture_peer strict;

static void test_strict_and_default(void **state)
{
	static const char *const loose[] = { "settle.quiet_ms=100", NULL };
	static const char *const strict_sets[] = {
		"settle.quiet_ms=100", "settle.strict=true", NULL,
	};
	struct xgmd_mark m_loose, m_strict;
	yajl_val v;

	fixture_start(&f, loose, SUBSCRIBE_METRICS);
	fixture_start_peer(&f, &strict, "strict", strict_sets, SUBSCRIBE_METRICS);

	assert_true(fixture_new_domain(&f, 30, "appliance"));
	v = client_wait_event(&strict.sub, "domain.new", 30, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);

	/* The flag without a kick: the default mode settles on it... */
	client_mark(&strict.ctl, &m_strict);
	assert_int_equal(sandbox_test_guest(f.dir, 30, "attr/PVAddons/NotUpgradable", "1"), 0);
	v = client_wait_event(&f.sub, "domain.metrics", 30, TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_bool(v, "data", "pv_drivers_not_upgradable"), 1);
	yajl_tree_free(v);
	/* ... the strict mode took the write in and holds its batch open for a kick. */
	assert_true(client_wait_domain_state(&strict.ctl, 30, "settling", TIMEOUT_MS));
	assert_int_equal(client_stat(&strict.ctl, "engine", "batches"), m_strict.batches);
	assert_true(client_ping_quiet(&strict.sub, 30));

	/* data/updated: now the strict mode reads, and sees the flag. */
	client_mark(&f.ctl, &m_loose);
	assert_int_equal(sandbox_test_guest(f.dir, 30, "data/updated", "1"), 0);
	v = client_wait_event(&strict.sub, "domain.metrics", 30, TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_bool(v, "data", "pv_drivers_not_upgradable"), 1);
	assert_int_equal(json_bool(v, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(v);
	/* The default mode had it already; it reads the kick, and is silent. */
	assert_true(client_wait_read(&f.ctl, &m_loose, 1, 30, TIMEOUT_MS));
	assert_true(client_ping_quiet(&f.sub, 30));
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	int r = 0;

	r |= fixture_stop_peer(&strict);
	r |= fixture_stop(&f);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_strict_and_default, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

static char dir[PATH_MAX];
static struct xgmd d_loose, d_strict;
static struct client c_loose = { .fd = -1 }, c_strict = { .fd = -1 };

static void test_strict_and_default(void **state)
{
	static const char *const loose[] = { "settle.quiet_ms=100", NULL };
	static const char *const strict[] = { "settle.quiet_ms=100", "settle.strict=true", NULL };
	struct xs_handle *xs;
	yajl_val v;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	xgmd_start(&d_loose, dir, "loose", loose);
	xgmd_start(&d_strict, dir, "strict", strict);
	assert_true(client_subscribe(&c_loose, d_loose.socket, SUBSCRIBE_METRICS));
	assert_true(client_subscribe(&c_strict, d_strict.socket, SUBSCRIBE_METRICS));

	assert_int_equal(sandbox_domain_create(dir, xs, 30, "appliance", true), 0);
	v = client_wait_event(&c_loose, "domain.new", 30, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);
	v = client_wait_event(&c_strict, "domain.new", 30, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);

	/* The flag without a kick: the default mode settles on it... */
	assert_int_equal(sandbox_test_guest(dir, 30, "attr/PVAddons/NotUpgradable", "1"), 0);
	v = client_wait_event(&c_loose, "domain.metrics", 30, TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_bool(v, "data", "pv_drivers_not_upgradable"), 1);
	yajl_tree_free(v);
	/* ... the strict mode does not look yet. */
	assert_true(client_quiet(&c_strict, 30, 800));

	/* data/updated: now the strict mode reads, and sees the flag. */
	assert_int_equal(sandbox_test_guest(dir, 30, "data/updated", "1"), 0);
	v = client_wait_event(&c_strict, "domain.metrics", 30, TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_bool(v, "data", "pv_drivers_not_upgradable"), 1);
	assert_int_equal(json_bool(v, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(v);
	/* The default mode had it already; a kick with nothing new is silent. */
	assert_true(client_quiet(&c_loose, 30, 600));

	xs_close(xs);
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	int r = 0;

	client_close(&c_loose);
	client_close(&c_strict);
	r |= xgmd_stop(&d_loose);
	r |= xgmd_stop(&d_strict);
	sandbox_test_stop(dir);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_strict_and_default, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * What reading only the changed keys saves: xgmd by default and with
 * xenstore.reread_all (the toolstack's strategy) side by side on the same
 * guest; both publish the same change, at very different read costs.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 5000
#define KEYS 40

/* The changed-keys xgmd is the fixture's; the re-read-all one runs beside it. */
static struct fixture f;
static struct fixture_peer all;	/* not subscribed */

static void test_reread_cost(void **state)
{
	static const char *const changed_only[] = { "settle.quiet_ms=100", NULL };
	static const char *const reread_all[] = {
		"settle.quiet_ms=100", "xenstore.reread_all=true", NULL,
	};
	struct xgmd_mark m_changed, m_all;
	long long before_changed, before_all;
	yajl_val v;

	fixture_start(&f, changed_only, SUBSCRIBE_ALL);
	fixture_start_peer(&f, &all, "all", reread_all, NULL);

	assert_true(fixture_new_domain(&f, 50, "busy"));
	assert_true(client_wait_stat_at_least(&all.ctl, "engine", "domains_new", 2, TIMEOUT_MS));
	client_mark(&f.ctl, &m_changed);
	client_mark(&all.ctl, &m_all);
	for (int i = 0; i < KEYS; i++) {
		char path[32];

		snprintf(path, sizeof(path), "data/k%d", i);
		assert_int_equal(sandbox_test_guest(f.dir, 50, path, "v"), 0);
	}
	/* The writes may have settled as more than one batch: all of them read. */
	assert_true(client_wait_read(&f.ctl, &m_changed, KEYS, 50, TIMEOUT_MS));
	assert_true(client_wait_read(&all.ctl, &m_all, KEYS, 50, TIMEOUT_MS));
	before_changed = client_stat(&f.ctl, "engine", "keys_read");
	before_all = client_stat(&all.ctl, "engine", "keys_read");

	/* One key changes; both publish it. */
	client_mark(&all.ctl, &m_all);
	assert_int_equal(sandbox_test_guest(f.dir, 50, "data/meminfo_free", "1024"), 0);
	v = client_wait_change(&f.sub, 50, "memory", TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_int(json_get(v, "data", "memory"), "free_kib", NULL), 1024);
	yajl_tree_free(v);
	assert_true(client_wait_read(&all.ctl, &m_all, 1, 50, TIMEOUT_MS));
	v = client_call(&all.ctl, "{\"cmd\":\"get\",\"id\":1,\"domain\":50}");
	assert_int_equal(json_int(json_get(v, "data", "memory"), "free_kib", NULL), 1024);
	yajl_tree_free(v);

	/* One read against every key of the domain. */
	assert_int_equal(client_stat(&f.ctl, "engine", "keys_read") - before_changed, 1);
	assert_true(client_stat(&all.ctl, "engine", "keys_read") - before_all >= KEYS + 1);
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	int r = 0;

	r |= fixture_stop_peer(&all);
	r |= fixture_stop(&f);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reread_cost, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

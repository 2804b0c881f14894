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

static char dir[PATH_MAX];
static struct xgmd d_changed, d_all;
static struct client c_changed = { .fd = -1 }, c_all = { .fd = -1 };

static void drain(struct client *c)
{
	yajl_val v;

	while ((v = client_next(c, 500)))
		yajl_tree_free(v);
}

static long long keys_read(struct client *c)
{
	yajl_val v = client_call(c, "{\"cmd\":\"stats\",\"id\":2}");
	long long n = json_int(json_get(v, "engine", NULL), "keys_read", NULL);

	yajl_tree_free(v);
	return n;
}

static void test_reread_cost(void **state)
{
	static const char *const changed_only[] = { "settle.quiet_ms=100", NULL };
	static const char *const reread_all[] = {
		"settle.quiet_ms=100", "xenstore.reread_all=true", NULL,
	};
	struct xs_handle *xs;
	long long before_changed, before_all;
	yajl_val v;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	xgmd_start(&d_changed, dir, "changed", changed_only);
	xgmd_start(&d_all, dir, "all", reread_all);
	assert_true(client_subscribe(&c_changed, d_changed.socket, SUBSCRIBE_ALL));
	assert_true(client_subscribe(&c_all, d_all.socket, SUBSCRIBE_ALL));

	assert_int_equal(sandbox_domain_create(dir, xs, 50, "busy", true), 0);
	for (int i = 0; i < KEYS; i++) {
		char path[32];

		snprintf(path, sizeof(path), "data/k%d", i);
		assert_int_equal(sandbox_test_guest(dir, 50, path, "v"), 0);
	}
	v = client_wait_event(&c_changed, "domain.metrics", 50, TIMEOUT_MS);
	yajl_tree_free(v);
	v = client_wait_event(&c_all, "domain.metrics", 50, TIMEOUT_MS);
	yajl_tree_free(v);
	/* The writes may have settled as more than one batch: let them all land. */
	drain(&c_changed);
	drain(&c_all);
	before_changed = keys_read(&c_changed);
	before_all = keys_read(&c_all);

	/* One key changes. */
	assert_int_equal(sandbox_test_guest(dir, 50, "data/meminfo_free", "1024"), 0);
	v = client_wait_event(&c_changed, "domain.metrics", 50, TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_int(json_get(v, "data", "memory"), "free_kib", NULL), 1024);
	yajl_tree_free(v);
	v = client_wait_event(&c_all, "domain.metrics", 50, TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_int(json_get(v, "data", "memory"), "free_kib", NULL), 1024);
	yajl_tree_free(v);

	/* One read against every key of the domain. */
	assert_int_equal(keys_read(&c_changed) - before_changed, 1);
	assert_true(keys_read(&c_all) - before_all >= KEYS + 1);
	xs_close(xs);
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	int r = 0;

	client_close(&c_changed);
	client_close(&c_all);
	r |= xgmd_stop(&d_changed);
	r |= xgmd_stop(&d_all);
	sandbox_test_stop(dir);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reread_cost, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * A xenstored restart in the middle of a run: xgmd notices (libxenstore
 * does not tell it), keeps serving clients, reconnects, resynchronises, and
 * publishes only what really changed across the gap.
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

#define TIMEOUT_MS 8000

static struct fixture f;

/* What the toolstack and the agent of one guest write. */
static void make_guest(struct xs_handle *xs, unsigned int domid, const char *name)
{
	assert_int_equal(sandbox_domain_create(f.dir, xs, domid, name, true), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MajorVersion", "9"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MinorVersion", "3"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "data/meminfo_total", "4194304"), 0);
}

static void test_restart(void **state)
{
	static const char *const sets[] = {
		"settle.quiet_ms=50", "xenstore.liveness_ms=100",
		"xenstore.reconnect_min_ms=1500", "xenstore.reconnect_max_ms=3000", NULL,
	};
	struct sandbox_options opts;
	yajl_val v;

	fixture_start_sandbox(&f);
	sandbox_default_options(&opts);
	make_guest(f.xs, 21, "steady");
	make_guest(f.xs, 22, "doomed");
	fixture_start_xgmd(&f, sets, NULL);
	/* Both are adopted by the start-up pass, which the loop serves clients during. */
	assert_true(xgmd_wait_synchronised(&f.ctl));
	v = client_call(&f.sub, "{\"cmd\":\"subscribe\",\"id\":1}");
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);
	/* Two snapshots, then the end marker. */
	v = client_wait_event(&f.sub, "domain.snapshot", 22, TIMEOUT_MS);
	assert_non_null(v);
	assert_string_equal(json_str(v, "domain", "name"), "doomed");
	yajl_tree_free(v);

	/* xenstored restarts, losing everything it held. */
	xs_close(f.xs);
	f.xs = NULL;
	assert_int_equal(sandbox_stop(f.dir), 0);

	/* xgmd notices, still answers while xenstore is away, and says so. */
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "xenstore_connected", 0, TIMEOUT_MS));
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connects"), 1);

	/* Before xgmd reconnects, the toolstack rebuilds one guest exactly as it was. */
	assert_int_equal(sandbox_start(f.dir, &opts), 0);
	f.xs = sandbox_connect(f.dir);
	assert_non_null(f.xs);
	make_guest(f.xs, 21, "steady");

	/* The other guest did not come back: gone. */
	v = client_wait_event(&f.sub, "domain.gone", 22, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);
	/* The steady one, re-read by the same pass: nothing. */
	assert_true(client_wait_stat_at_least(&f.ctl, "engine", "xenstore_connects", 2,
					      TIMEOUT_MS));
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "resync_pending", 0, TIMEOUT_MS));
	assert_true(client_ping_quiet(&f.sub, 21));

	/* And xgmd follows the new xenstored. */
	assert_int_equal(sandbox_test_guest(f.dir, 21, "attr/PVAddons/MinorVersion", "4"), 0);
	v = client_wait_event(&f.sub, "domain.metrics", 21, TIMEOUT_MS);
	assert_non_null(v);
	assert_string_equal(json_str(json_get(v, "data", "pv_drivers_version"), "minor", NULL), "4");
	yajl_tree_free(v);
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connected"), 1);
	/* Two connections; the attempts count those and every retry that found no xenstored. */
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connects"), 2);
	assert_true(client_stat(&f.ctl, "engine", "xenstore_connect_attempts") >= 2);
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	return fixture_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_restart, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

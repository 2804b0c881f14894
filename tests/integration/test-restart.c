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
#include <unistd.h>
#include <cmocka.h>

#include "guest.h"
#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000

static char dir[PATH_MAX];
static struct xgmd daemon_;
static struct client sub = { .fd = -1 };

/* What the toolstack and the agent of one guest write. */
static void make_guest(struct xs_handle *xs, unsigned int domid, const char *name)
{
	assert_int_equal(sandbox_domain_create(dir, xs, domid, name, true), 0);
	assert_int_equal(sandbox_test_guest(dir, domid, "attr/PVAddons/MajorVersion", "9"), 0);
	assert_int_equal(sandbox_test_guest(dir, domid, "attr/PVAddons/MinorVersion", "3"), 0);
	assert_int_equal(sandbox_test_guest(dir, domid, "data/meminfo_total", "4194304"), 0);
}

static void test_restart(void **state)
{
	static const char *const sets[] = {
		"settle.quiet_ms=50", "xenstore.liveness_ms=100",
		"xenstore.reconnect_min_ms=1500", "xenstore.reconnect_max_ms=3000", NULL,
	};
	struct sandbox_options opts;
	struct xs_handle *xs;
	yajl_val v;

	sandbox_test_start(dir);
	sandbox_default_options(&opts);
	xs = sandbox_connect(dir);
	make_guest(xs, 21, "steady");
	make_guest(xs, 22, "doomed");
	xgmd_start(&daemon_, dir, "xgmd", sets);
	v = client_connect(&sub, daemon_.socket);
	assert_non_null(v);
	yajl_tree_free(v);
	v = client_call(&sub, "{\"cmd\":\"subscribe\",\"id\":1}");
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);
	/* Both were adopted at start: two snapshots, then the end marker. */
	v = client_wait_event(&sub, "domain.snapshot", 22, TIMEOUT_MS);
	assert_non_null(v);
	assert_string_equal(json_str(v, "domain", "name"), "doomed");
	yajl_tree_free(v);

	/* xenstored restarts, losing everything it held. */
	xs_close(xs);
	assert_int_equal(sandbox_stop(dir), 0);
	usleep(300 * 1000);

	/* xgmd still answers while xenstore is away, and says so. */
	v = client_call(&sub, "{\"cmd\":\"stats\",\"id\":2}");
	assert_non_null(v);
	assert_int_equal(json_bool(json_get(v, "engine", NULL), "xenstore_connected", NULL), 0);
	yajl_tree_free(v);

	/* Before xgmd reconnects, the toolstack rebuilds one guest exactly as it was. */
	assert_int_equal(sandbox_start(dir, &opts), 0);
	xs = sandbox_connect(dir);
	make_guest(xs, 21, "steady");

	/* The other guest did not come back: gone. The steady one: nothing. */
	v = client_wait_event(&sub, "domain.gone", 22, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);
	assert_true(client_quiet(&sub, 21, 1000));

	/* And xgmd follows the new xenstored. */
	assert_int_equal(sandbox_test_guest(dir, 21, "attr/PVAddons/MinorVersion", "4"), 0);
	v = client_wait_event(&sub, "domain.metrics", 21, TIMEOUT_MS);
	assert_non_null(v);
	assert_string_equal(json_str(json_get(v, "data", "pv_drivers_version"), "minor", NULL), "4");
	yajl_tree_free(v);
	v = client_call(&sub, "{\"cmd\":\"stats\",\"id\":3}");
	assert_int_equal(json_bool(json_get(v, "engine", NULL), "xenstore_connected", NULL), 1);
	/* Two connections; the attempts count those and every retry that found no xenstored. */
	assert_int_equal(json_int(json_get(v, "engine", NULL), "xenstore_connects", NULL), 2);
	assert_true(json_int(json_get(v, "engine", NULL), "xenstore_connect_attempts", NULL) >= 2);
	yajl_tree_free(v);

	xs_close(xs);
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	int r = 0;

	client_close(&sub);
	r |= xgmd_stop(&daemon_);
	sandbox_test_stop(dir);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_restart, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

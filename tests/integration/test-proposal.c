/*
 * The NotUpgradable proposal end to end: the real xenstored (sandbox), the
 * guest writing over its ring, xgmd over its socket, and the events each
 * step must, and must not, produce.
 */
#define _GNU_SOURCE
#include <errno.h>
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

static struct fixture f;

static int group_setup(void **state)
{
	static const char *const sets[] = {
		"settle.quiet_ms=100", "settle.max_wait_ms=1000",
		"metrics.reference_version=9.0", NULL,
	};

	fixture_start(&f, sets, SUBSCRIBE_ALL);
	return 0;
}

static int group_teardown(void **state)
{
	return fixture_stop(&f);
}

static void test_the_proposal(void **state)
{
	struct xgmd_mark mark;
	yajl_val ev;

	/* A domain introduced: domain.new with its identity. */
	assert_int_equal(sandbox_domain_create(f.dir, f.xs, 10, "appliance", true), 0);
	ev = client_wait_event(&f.sub, "domain.new", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_string_equal(json_str(ev, "domain", "name"), "appliance");
	assert_string_equal(json_str(ev, "domain", "uuid"), "00000000-0000-4000-8000-00000000000a");
	assert_int_equal(json_bool(ev, "data", "pv_drivers_detected"), 0);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	yajl_tree_free(ev);

	/* Old tools: detected, not up to date against the reference 9.0. */
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/MajorVersion", "6"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/MinorVersion", "2"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/MicroVersion", "0"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/BuildVersion", "76888"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "data/updated", "1"), 0);
	ev = client_wait_event(&f.sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_true(json_changed(ev, "pv_drivers_version"));
	assert_true(json_changed(ev, "pv_drivers_detected"));
	assert_false(json_changed(ev, "pv_drivers_up_to_date"));
	assert_int_equal(json_bool(ev, "data", "pv_drivers_detected"), 1);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	yajl_tree_free(ev);

	/* NotUpgradable=1: up to date, whatever the versions, which stay visible. */
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/NotUpgradable", "1"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "data/updated", "1"), 0);
	ev = client_wait_event(&f.sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_true(json_changed(ev, "pv_drivers_up_to_date"));
	assert_true(json_changed(ev, "pv_drivers_not_upgradable"));
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_not_upgradable"), 1);
	assert_string_equal(json_str(json_get(ev, "data", "pv_drivers_version"), "major", NULL), "6");
	assert_string_equal(json_str(json_get(ev, "data", "pv_drivers_version"), "build", NULL), "76888");
	yajl_tree_free(ev);

	/* Agents rewrite unchanged values all the time: read, and no event. */
	client_mark(&f.ctl, &mark);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/NotUpgradable", "1"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/MajorVersion", "6"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "data/updated", "1"), 0);
	assert_true(client_wait_read(&f.ctl, &mark, 3, 10, TIMEOUT_MS));
	assert_true(client_ping_quiet(&f.sub, 10));

	/* Any other value is not the flag. */
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/NotUpgradable", "true"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "data/updated", "1"), 0);
	ev = client_wait_event(&f.sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_not_upgradable"), 0);
	yajl_tree_free(ev);

	/* Set again, then cleared by removal. */
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/NotUpgradable", "1"), 0);
	ev = client_wait_event(&f.sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(ev);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/NotUpgradable", NULL), 0);
	ev = client_wait_event(&f.sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_not_upgradable"), 0);
	yajl_tree_free(ev);

	/* Newer tools: up to date on their own. */
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/MajorVersion", "9"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/MinorVersion", "1"), 0);
	ev = client_wait_event(&f.sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(ev);
}

static void test_get_and_list(void **state)
{
	struct client c;
	yajl_val v;

	/* What a client is greeted with. */
	v = client_connect(&c, f.xgmd.socket);
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "hello");
	assert_int_equal(json_int(v, "protocol", NULL), 1);
	yajl_tree_free(v);
	client_close(&c);

	v = client_call(&f.sub, "{\"cmd\":\"get\",\"id\":\"g\",\"domain\":10}");
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "reply");
	assert_string_equal(json_str(v, "id", NULL), "g");
	assert_int_equal(json_bool(v, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(v);

	v = client_call(&f.sub, "{\"cmd\":\"get\",\"id\":2,\"domain\":999}");
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "error");
	yajl_tree_free(v);

	v = client_call(&f.sub, "{\"cmd\":\"list\",\"id\":3}");
	assert_non_null(v);
	assert_true(YAJL_IS_ARRAY(json_get(v, "domains", NULL)));
	yajl_tree_free(v);
}

static void test_release(void **state)
{
	yajl_val ev;

	/* The hypervisor destroys it; xenstored notices and fires @releaseDomain. */
	assert_int_equal(sandbox_domain_set_state(f.dir, 10, DOMSTATE_DYING), 0);
	ev = client_wait_event(&f.sub, "domain.gone", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_null(json_get(ev, "data", NULL));
	yajl_tree_free(ev);
	assert_int_equal(sandbox_domain_destroy(f.dir, 10), 0);

	/* Its home lingers until the toolstack removes it: not a new domain. */
	assert_true(fixture_new_domain(&f, 14, "bystander"));
	/* Every domid the introduction listed has been asked. */
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "resync_pending", 0, TIMEOUT_MS));
	assert_true(client_ping_quiet(&f.sub, 10));

	/* The domid reused by a new domain is. */
	assert_int_equal(sandbox_domain_create(f.dir, f.xs, 10, "reborn", true), 0);
	ev = client_wait_event(&f.sub, "domain.new", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_string_equal(json_str(ev, "domain", "name"), "reborn");
	assert_int_equal(json_bool(ev, "data", "pv_drivers_detected"), 0);
	yajl_tree_free(ev);
}

static void test_other_ways_to_go(void **state)
{
	long long watch_events;
	yajl_val ev;

	/* The toolstack releases a domain: @releaseDomain, no longer introduced. */
	assert_true(fixture_new_domain(&f, 11, "released"));
	assert_int_equal(sandbox_domain_release(f.xs, 11), 0);
	ev = client_wait_event(&f.sub, "domain.gone", 11, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);

	/* A home removed outright, with no special event: gone too. */
	assert_true(fixture_new_domain(&f, 12, "removed"));
	assert_true(xs_rm(f.xs, XBT_NULL, "/local/domain/12"));
	ev = client_wait_event(&f.sub, "domain.gone", 12, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);

	/* A domain shut down but not yet dead is still there. */
	assert_true(fixture_new_domain(&f, 13, "sleepy"));
	watch_events = client_stat(&f.ctl, "engine", "xenstore_watch_events");
	assert_int_equal(sandbox_domain_set_state(f.dir, 13, DOMSTATE_SHUTDOWN), 0);
	/* xenstored fires @releaseDomain for a shutdown too: xgmd looked, and let it be. */
	assert_true(client_wait_stat_at_least(&f.ctl, "engine", "xenstore_watch_events",
					      watch_events + 1, TIMEOUT_MS));
	assert_true(client_ping_quiet(&f.sub, 13));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_proposal),
		cmocka_unit_test(test_get_and_list),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_other_ways_to_go),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

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
/* Longer than a settle period: what has not come by then is not coming. */
#define QUIET_MS 600

static char dir[PATH_MAX];
static struct xs_handle *xs;
static struct xgmd daemon_default;
static struct client sub;

static int group_setup(void **state)
{
	static const char *const sets[] = {
		"settle.quiet_ms=100", "settle.max_wait_ms=1000",
		"metrics.reference_version=9.0", NULL,
	};
	yajl_val hello, reply;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	xgmd_start(&daemon_default, dir, "xgmd", sets);
	hello = client_connect(&sub, daemon_default.socket);
	assert_non_null(hello);
	assert_string_equal(json_str(hello, "type", NULL), "hello");
	assert_int_equal(json_int(hello, "protocol", NULL), 1);
	yajl_tree_free(hello);
	reply = client_call(&sub, "{\"cmd\":\"subscribe\",\"id\":1,\"snapshot\":false}");
	assert_int_equal(json_bool(reply, "ok", NULL), 1);
	yajl_tree_free(reply);
	return 0;
}

static int group_teardown(void **state)
{
	int r = 0;

	client_close(&sub);
	r |= xgmd_stop(&daemon_default);
	if (xs)
		xs_close(xs);
	sandbox_test_stop(dir);
	return r;
}

static void test_the_proposal(void **state)
{
	yajl_val ev;

	/* A domain introduced: domain.new with its identity. */
	assert_int_equal(sandbox_domain_create(dir, xs, 10, "appliance", true), 0);
	ev = client_wait_event(&sub, "domain.new", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_string_equal(json_str(ev, "domain", "name"), "appliance");
	assert_string_equal(json_str(ev, "domain", "uuid"), "00000000-0000-4000-8000-00000000000a");
	assert_int_equal(json_bool(ev, "data", "pv_drivers_detected"), 0);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	yajl_tree_free(ev);

	/* Old tools: detected, not up to date against the reference 9.0. */
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/MajorVersion", "6"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/MinorVersion", "2"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/MicroVersion", "0"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/BuildVersion", "76888"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "data/updated", "1"), 0);
	ev = client_wait_event(&sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_true(json_changed(ev, "pv_drivers_version"));
	assert_true(json_changed(ev, "pv_drivers_detected"));
	assert_false(json_changed(ev, "pv_drivers_up_to_date"));
	assert_int_equal(json_bool(ev, "data", "pv_drivers_detected"), 1);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	yajl_tree_free(ev);

	/* NotUpgradable=1: up to date, whatever the versions, which stay visible. */
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/NotUpgradable", "1"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "data/updated", "1"), 0);
	ev = client_wait_event(&sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_true(json_changed(ev, "pv_drivers_up_to_date"));
	assert_true(json_changed(ev, "pv_drivers_not_upgradable"));
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_not_upgradable"), 1);
	assert_string_equal(json_str(json_get(ev, "data", "pv_drivers_version"), "major", NULL), "6");
	assert_string_equal(json_str(json_get(ev, "data", "pv_drivers_version"), "build", NULL), "76888");
	yajl_tree_free(ev);

	/* Agents rewrite unchanged values all the time: no event. */
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/NotUpgradable", "1"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/MajorVersion", "6"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "data/updated", "1"), 0);
	assert_true(client_quiet(&sub, 10, QUIET_MS));

	/* Any other value is not the flag. */
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/NotUpgradable", "true"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "data/updated", "1"), 0);
	ev = client_wait_event(&sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_not_upgradable"), 0);
	yajl_tree_free(ev);

	/* Set again, then cleared by removal. */
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/NotUpgradable", "1"), 0);
	ev = client_wait_event(&sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(ev);
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/NotUpgradable", NULL), 0);
	ev = client_wait_event(&sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_not_upgradable"), 0);
	yajl_tree_free(ev);

	/* Newer tools: up to date on their own. */
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/MajorVersion", "9"), 0);
	assert_int_equal(sandbox_test_guest(dir, 10, "attr/PVAddons/MinorVersion", "1"), 0);
	ev = client_wait_event(&sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(ev);
}

static void test_get_and_list(void **state)
{
	yajl_val v;

	v = client_call(&sub, "{\"cmd\":\"get\",\"id\":\"g\",\"domain\":10}");
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "reply");
	assert_string_equal(json_str(v, "id", NULL), "g");
	assert_int_equal(json_bool(v, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(v);

	v = client_call(&sub, "{\"cmd\":\"get\",\"id\":2,\"domain\":999}");
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "error");
	yajl_tree_free(v);

	v = client_call(&sub, "{\"cmd\":\"list\",\"id\":3}");
	assert_non_null(v);
	assert_true(YAJL_IS_ARRAY(json_get(v, "domains", NULL)));
	yajl_tree_free(v);
}

static void test_release(void **state)
{
	yajl_val ev;

	/* The hypervisor destroys it; xenstored notices and fires @releaseDomain. */
	assert_int_equal(sandbox_domain_set_state(dir, 10, DOMSTATE_DYING), 0);
	ev = client_wait_event(&sub, "domain.gone", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_null(json_get(ev, "data", NULL));
	yajl_tree_free(ev);
	assert_int_equal(sandbox_domain_destroy(dir, 10), 0);

	/* Its home lingers until the toolstack removes it: not a new domain. */
	assert_int_equal(sandbox_domain_create(dir, xs, 14, "bystander", true), 0);
	ev = client_wait_event(&sub, "domain.new", 14, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);
	assert_true(client_quiet(&sub, 10, QUIET_MS));

	/* The domid reused by a new domain is. */
	assert_int_equal(sandbox_domain_create(dir, xs, 10, "reborn", true), 0);
	ev = client_wait_event(&sub, "domain.new", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_string_equal(json_str(ev, "domain", "name"), "reborn");
	assert_int_equal(json_bool(ev, "data", "pv_drivers_detected"), 0);
	yajl_tree_free(ev);
}

static void test_other_ways_to_go(void **state)
{
	yajl_val ev;

	/* The toolstack releases a domain: @releaseDomain, no longer introduced. */
	assert_int_equal(sandbox_domain_create(dir, xs, 11, "released", true), 0);
	ev = client_wait_event(&sub, "domain.new", 11, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);
	assert_int_equal(sandbox_domain_release(xs, 11), 0);
	ev = client_wait_event(&sub, "domain.gone", 11, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);

	/* A home removed outright, with no special event: gone too. */
	assert_int_equal(sandbox_domain_create(dir, xs, 12, "removed", true), 0);
	ev = client_wait_event(&sub, "domain.new", 12, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);
	assert_true(xs_rm(xs, XBT_NULL, "/local/domain/12"));
	ev = client_wait_event(&sub, "domain.gone", 12, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);

	/* A domain shut down but not yet dead is still there. */
	assert_int_equal(sandbox_domain_create(dir, xs, 13, "sleepy", true), 0);
	ev = client_wait_event(&sub, "domain.new", 13, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);
	assert_int_equal(sandbox_domain_set_state(dir, 13, DOMSTATE_SHUTDOWN), 0);
	assert_true(client_quiet(&sub, 13, QUIET_MS));
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

/*
 * Homes that dead domains left behind (the toolstack released the domain
 * but failed to remove its home), against the real xenstored: at start-up
 * and later, such a home is no domain, while a home whose domain is
 * introduced late, or a domid reused over a leftover home, still is.
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000
#define FIRST_DEAD 11
#define DEAD 5
#define LIVE 16

static char dir[PATH_MAX];
static struct xs_handle *xs;
static struct xgmd daemon_;
static struct client sub;

/*
 * As a toolstack that fails to clean up: the domain dies (xenstored
 * releases it, firing @releaseDomain), and its home stays.
 */
static void kill_leaving_home(unsigned int domid)
{
	char path[32];
	unsigned int len;
	char *home;

	assert_int_equal(sandbox_domain_destroy(dir, domid), 0);
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "released"));
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	home = xs_read(xs, XBT_NULL, path, &len);
	/* oxenstored deletes a released domain's nodes: leave the home as a toolstack would. */
	if (!home)
		assert_true(xs_write(xs, XBT_NULL, path, "dead", 4));
	free(home);
}

static long long engine_stat(const char *name)
{
	yajl_val v = client_call(&sub, "{\"cmd\":\"stats\",\"id\":\"s\"}");
	long long n = json_int(json_get(v, "engine", NULL), name, NULL);

	yajl_tree_free(v);
	return n;
}

/* Whether `list` names domid. */
static bool listed(unsigned int domid)
{
	yajl_val v = client_call(&sub, "{\"cmd\":\"list\",\"id\":\"l\"}");
	yajl_val a = json_get(v, "domains", NULL);
	bool found = false;

	assert_true(YAJL_IS_ARRAY(a));
	for (size_t i = 0; i < a->u.array.len; i++)
		found |= json_int(a->u.array.values[i], "id", NULL) == (long long)domid;
	yajl_tree_free(v);
	return found;
}

static void wait_event(const char *event, unsigned int domid)
{
	yajl_val v = client_wait_event(&sub, event, domid, TIMEOUT_MS);

	assert_non_null(v);
	yajl_tree_free(v);
}

static int setup(void **state)
{
	time_t deadline;
	yajl_val v;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	assert_true(xs_watch(xs, "@releaseDomain", "released"));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "released"));
	for (unsigned int domid = FIRST_DEAD; domid < FIRST_DEAD + DEAD; domid++) {
		assert_int_equal(sandbox_domain_create(dir, xs, domid, "dead", true), 0);
		kill_leaving_home(domid);
	}
	assert_int_equal(sandbox_domain_create(dir, xs, LIVE, "live", true), 0);

	xgmd_start(&daemon_, dir, "xgmd", (const char *const[]){ "settle.quiet_ms=50", NULL });
	v = client_connect(&sub, daemon_.socket);
	assert_non_null(v);
	yajl_tree_free(v);
	/* The start-up pass has asked every listed domid. */
	deadline = time(NULL) + 10;
	while (engine_stat("resync_pending") != 0 || engine_stat("domains") < 2) {
		assert_true(time(NULL) < deadline);
		usleep(5000);
	}
	v = client_call(&sub, "{\"cmd\":\"subscribe\",\"id\":1,\"snapshot\":false}");
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);
	return 0;
}

static int teardown(void **state)
{
	int r = 0;

	client_close(&sub);
	r |= xgmd_stop(&daemon_);
	xs_close(xs);
	sandbox_test_stop(dir);
	return r;
}

static void test_leftover_homes_at_start(void **state)
{
	/* dom0 and the live domain, not the five dead ones whose homes linger. */
	assert_int_equal(engine_stat("domains"), 2);
	assert_true(listed(0));
	assert_true(listed(LIVE));
	for (unsigned int domid = FIRST_DEAD; domid < FIRST_DEAD + DEAD; domid++)
		assert_false(listed(domid));
	assert_int_equal(engine_stat("domains_new"), 2);
}

static void test_leftover_homes_later(void **state)
{
	/* A domain that dies while xgmd watches, its home left: gone, unlisted. */
	assert_int_equal(sandbox_domain_create(dir, xs, 20, "dies", true), 0);
	wait_event("domain.new", 20);
	kill_leaving_home(20);
	wait_event("domain.gone", 20);
	assert_false(listed(20));

	/* A home that appears with no domain introduced is no domain ... */
	assert_int_equal(sandbox_domain_create(dir, xs, 21, "late", false), 0);
	/* ... even when another domain's introduction lists it. */
	assert_int_equal(sandbox_domain_create(dir, xs, 22, "neighbour", true), 0);
	wait_event("domain.new", 22);
	assert_false(listed(21));

	/* Introduced after its home was listed: the introduction finds it. */
	assert_int_equal(sandbox_domain_introduce(dir, xs, 21), 0);
	wait_event("domain.new", 21);
	assert_true(listed(21));

	/* A domid reused over a leftover home is a new domain. */
	assert_int_equal(sandbox_domain_create(dir, xs, FIRST_DEAD, "reborn", true), 0);
	wait_event("domain.new", FIRST_DEAD);
	assert_true(listed(FIRST_DEAD));
	for (unsigned int domid = FIRST_DEAD + 1; domid < FIRST_DEAD + DEAD; domid++)
		assert_false(listed(domid));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leftover_homes_at_start),
		cmocka_unit_test(test_leftover_homes_later),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

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
#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000
#define FIRST_DEAD 11
#define DEAD 5
#define LIVE 16

static struct fixture f;

/*
 * As a toolstack that fails to clean up: the domain dies (xenstored
 * releases it, firing @releaseDomain), and its home stays.
 */
static void kill_leaving_home(unsigned int domid)
{
	char path[32];
	unsigned int len;
	char *home;

	assert_int_equal(sandbox_domain_destroy(f.dir, domid), 0);
	assert_true(sandbox_test_wait_event(f.xs, TIMEOUT_MS, "@releaseDomain", "released"));
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	home = xs_read(f.xs, XBT_NULL, path, &len);
	/* oxenstored deletes a released domain's nodes: leave the home as a toolstack would. */
	if (!home)
		assert_true(xs_write(f.xs, XBT_NULL, path, "dead", 4));
	free(home);
}

static void wait_event(const char *event, unsigned int domid)
{
	yajl_val v = client_wait_event(&f.sub, event, domid, TIMEOUT_MS);

	assert_non_null(v);
	yajl_tree_free(v);
}

static int setup(void **state)
{
	yajl_val v;

	fixture_start_sandbox(&f);
	assert_true(xs_watch(f.xs, "@releaseDomain", "released"));
	assert_true(sandbox_test_wait_event(f.xs, TIMEOUT_MS, "@releaseDomain", "released"));
	for (unsigned int domid = FIRST_DEAD; domid < FIRST_DEAD + DEAD; domid++) {
		assert_int_equal(sandbox_domain_create(f.dir, f.xs, domid, "dead", true), 0);
		kill_leaving_home(domid);
	}
	assert_int_equal(sandbox_domain_create(f.dir, f.xs, LIVE, "live", true), 0);

	fixture_start_xgmd(&f, (const char *const[]){ "settle.quiet_ms=50", NULL }, NULL);
	/* The start-up pass has asked every listed domid. */
	assert_true(xgmd_wait_synchronised(&f.ctl));
	v = client_call(&f.sub, SUBSCRIBE_ALL);
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);
	return 0;
}

static int teardown(void **state)
{
	return fixture_stop(&f);
}

static void test_leftover_homes_at_start(void **state)
{
	/* dom0 and the live domain, not the five dead ones whose homes linger. */
	assert_int_equal(client_stat(&f.ctl, "engine", "domains"), 2);
	assert_true(client_lists(&f.ctl, 0));
	assert_true(client_lists(&f.ctl, LIVE));
	for (unsigned int domid = FIRST_DEAD; domid < FIRST_DEAD + DEAD; domid++)
		assert_false(client_lists(&f.ctl, domid));
	assert_int_equal(client_stat(&f.ctl, "engine", "domains_new"), 2);
}

static void test_leftover_homes_later(void **state)
{
	/* A domain that dies while xgmd watches, its home left: gone, unlisted. */
	assert_true(fixture_new_domain(&f, 20, "dies"));
	kill_leaving_home(20);
	wait_event("domain.gone", 20);
	assert_false(client_lists(&f.ctl, 20));

	/* A home that appears with no domain introduced is no domain ... */
	assert_int_equal(sandbox_domain_create(f.dir, f.xs, 21, "late", false), 0);
	/* ... even when another domain's introduction lists it. */
	assert_true(fixture_new_domain(&f, 22, "neighbour"));
	assert_false(client_lists(&f.ctl, 21));

	/* Introduced after its home was listed: the introduction finds it. */
	assert_int_equal(sandbox_domain_introduce(f.dir, f.xs, 21), 0);
	wait_event("domain.new", 21);
	assert_true(client_lists(&f.ctl, 21));

	/* A domid reused over a leftover home is a new domain. */
	assert_true(fixture_new_domain(&f, FIRST_DEAD, "reborn"));
	assert_true(client_lists(&f.ctl, FIRST_DEAD));
	for (unsigned int domid = FIRST_DEAD + 1; domid < FIRST_DEAD + DEAD; domid++)
		assert_false(client_lists(&f.ctl, domid));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leftover_homes_at_start),
		cmocka_unit_test(test_leftover_homes_later),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

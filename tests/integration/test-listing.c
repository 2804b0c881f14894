/*
 * A /local/domain whose listing is larger than one xenstore message, as on
 * a host with some 800 domains of 4-digit ids: xgmd still adopts the
 * domains there at start, finds a new one, and sees one go. The C
 * xenstored serves such a listing in parts; oxenstored sends it in one
 * oversize packet that breaks a libxenstore handle, and xgmd reads it
 * again off the wire (src/xs/xs-wire.c). Fillers with names that are not
 * domids make the listing big without a thousand domains.
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
/* 50 names of 100 bytes: ~5 KiB of listing, over the 4096-byte message. */
#define FILLERS 50

static struct fixture f;

static int setup(void **state)
{
	char name[128], path[256];

	fixture_start_sandbox(&f);
	memset(name, 'x', sizeof(name));
	for (int i = 0; i < FILLERS; i++) {
		snprintf(path, sizeof(path), "/local/domain/%.96s%04d", name, i);
		assert_true(xs_write(f.xs, XBT_NULL, path, "", 0));
	}
	/* A domain already there when xgmd starts. */
	assert_int_equal(sandbox_domain_create(f.dir, f.xs, 5, "before", true), 0);
	fixture_start_xgmd(&f, NULL, SUBSCRIBE_ALL);
	return 0;
}

static int teardown(void **state)
{
	return fixture_stop(&f);
}

static void test_adopted_at_start(void **state)
{
	/* Once the start-up pass is over, it has adopted the domain, or never will. */
	assert_true(client_wait_stat_at_least(&f.ctl, "engine", "xenstore_connects", 1,
					      TIMEOUT_MS));
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "resync_pending", 0, TIMEOUT_MS));
	assert_true(client_lists(&f.ctl, 5));
}

static void test_new_and_gone(void **state)
{
	long long resets;
	yajl_val v;

	assert_true(fixture_new_domain(&f, 6, "after"));
	assert_int_equal(sandbox_domain_destroy(f.dir, 6), 0);
	assert_true(xs_rm(f.xs, XBT_NULL, "/local/domain/6"));
	v = client_wait_event(&f.sub, "domain.gone", 6, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);
	assert_true(client_lists(&f.ctl, 5));
	/* Only oxenstored's oversize answer breaks a handle; xgmd kept its connection. */
	resets = client_stat(&f.ctl, "engine", "xenstore_request_resets");
	if (sandbox_test_flavour() == SANDBOX_OCAML)
		assert_true(resets >= 1);
	else
		assert_int_equal(resets, 0);
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connects"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopted_at_start),
		cmocka_unit_test(test_new_and_gone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * A domain over its key limit and back under it, against the real
 * xenstored: once the guest removes enough keys the limit clears, and the
 * keys refused meanwhile must be read again, or xgmd would publish fewer
 * disks than xenstore holds and say the limit is no longer reached.
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

#include "guest.h"
#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000
#define DOMID 30
#define MAX_KEYS 20
#define WRITTEN 25
#define REMOVED 10

static struct fixture f;

static int setup(void **state)
{
	static const char *const sets[] = {
		"settle.quiet_ms=50", "limits.max_keys_per_domain=20", NULL,
	};

	fixture_start(&f, sets, SUBSCRIBE_ALL);
	return 0;
}

static int teardown(void **state)
{
	return fixture_stop(&f);
}

static size_t disks(yajl_val v)
{
	yajl_val d = json_get(v, "data", "disks");

	return YAJL_IS_OBJECT(d) ? d->u.object.len : 0;
}

/* Waits for the domain's published state to hold n disks with limit_reached as given. */
static void wait_state(size_t n, int limit_reached)
{
	yajl_val v;

	for (;;) {
		v = client_wait_event(&f.sub, "domain.metrics", DOMID, TIMEOUT_MS);
		assert_non_null(v);
		if (disks(v) == n && json_bool(v, "data", "limit_reached") == limit_reached)
			break;
		yajl_tree_free(v);
	}
	yajl_tree_free(v);
	/* get agrees with the event. */
	v = client_call(&f.ctl, "{\"cmd\":\"get\",\"id\":2,\"domain\":30}");
	assert_int_equal(disks(v), n);
	assert_int_equal(json_bool(v, "data", "limit_reached"), limit_reached);
	yajl_tree_free(v);
}

static void test_limit_clears_and_rereads(void **state)
{
	struct guest *g;
	yajl_val v;
	size_t others;

	assert_true(fixture_new_domain(&f, DOMID, "many-disks"));
	g = guest_open(f.dir, DOMID);
	assert_non_null(g);
	for (int i = 0; i < WRITTEN; i++) {
		char path[64], name[16];

		snprintf(path, sizeof(path), "data/volumes/%d/name", i);
		snprintf(name, sizeof(name), "disk%d", i);
		assert_int_equal(guest_write(g, 0, path, name, strlen(name)), 0);
	}
	/* Over the limit: only some disks are kept, and it says so. */
	for (;;) {
		v = client_wait_event(&f.sub, "domain.metrics", DOMID, TIMEOUT_MS);
		assert_non_null(v);
		if (json_bool(v, "data", "limit_reached") == 1)
			break;
		yajl_tree_free(v);
	}
	assert_true(disks(v) < WRITTEN);
	/* The other keys: the empty subtree roots the toolstack made (5, and data while empty). */
	others = MAX_KEYS - disks(v);
	yajl_tree_free(v);
	printf("over the limit: %zu disks of %d kept, %zu other keys\n",
	       MAX_KEYS - others, WRITTEN, others);

	/* Back under it: all 15 disks that xenstore holds, and no limit. */
	for (int i = 0; i < REMOVED; i++) {
		char path[64];

		snprintf(path, sizeof(path), "data/volumes/%d", i);
		assert_int_equal(guest_rm(g, 0, path), 0);
	}
	wait_state(WRITTEN - REMOVED, 0);
	guest_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_clears_and_rereads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

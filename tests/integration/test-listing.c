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
#include "util/time.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000
/* 50 names of 100 bytes: ~5 KiB of listing, over the 4096-byte message. */
#define FILLERS 50

static char dir[PATH_MAX];
static struct xs_handle *xs;
static struct xgmd daemon_;
static struct client sub;

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

static int setup(void **state)
{
	char name[128], path[256];

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	assert_non_null(xs);
	memset(name, 'x', sizeof(name));
	for (int i = 0; i < FILLERS; i++) {
		snprintf(path, sizeof(path), "/local/domain/%.96s%04d", name, i);
		assert_true(xs_write(xs, XBT_NULL, path, "", 0));
	}
	/* A domain already there when xgmd starts. */
	assert_int_equal(sandbox_domain_create(dir, xs, 5, "before", true), 0);
	xgmd_start(&daemon_, dir, "xgmd", NULL);
	assert_true(client_subscribe(&sub, daemon_.socket, SUBSCRIBE_ALL));
	return 0;
}

static int teardown(void **state)
{
	int r;

	client_close(&sub);
	r = xgmd_stop(&daemon_);
	xs_close(xs);
	sandbox_test_stop(dir);
	return r;
}

static void test_adopted_at_start(void **state)
{
	int64_t deadline = monotonic_ms() + TIMEOUT_MS;

	/* Polling a fact: the start-up pass adopts it, or never does. */
	while (!listed(5))
		assert_true(monotonic_ms() < deadline);
}

static void test_new_and_gone(void **state)
{
	long long resets;
	yajl_val v;

	assert_int_equal(sandbox_domain_create(dir, xs, 6, "after", true), 0);
	v = client_wait_event(&sub, "domain.new", 6, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);
	assert_int_equal(sandbox_domain_destroy(dir, 6), 0);
	assert_true(xs_rm(xs, XBT_NULL, "/local/domain/6"));
	v = client_wait_event(&sub, "domain.gone", 6, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);
	assert_true(listed(5));
	/* Only oxenstored's oversize answer breaks a handle; xgmd kept its connection. */
	resets = engine_stat("xenstore_request_resets");
	if (sandbox_test_flavour() == SANDBOX_OCAML)
		assert_true(resets >= 1);
	else
		assert_int_equal(resets, 0);
	assert_int_equal(engine_stat("xenstore_connects"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopted_at_start),
		cmocka_unit_test(test_new_and_gone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

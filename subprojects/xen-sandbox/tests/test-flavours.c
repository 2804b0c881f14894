/*
 * What differs between Debian's two xenstoreds, the C daemon and
 * oxenstored, as a xenstore client sees it: each test asserts the
 * behaviour of the daemon it runs on ($XEN_SANDBOX_FLAVOUR), so a change
 * in either shows up here. docs/sandbox.md tabulates them.
 *
 * "No event came" is never a quiet window: each count ends at a barrier,
 * an event of our own caused after the step under test, which xenstored
 * sends in order.
 */
#define _GNU_SOURCE
#include <errno.h>
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

static char dir[PATH_MAX];
static struct xs_handle *xs;
static enum sandbox_flavour flavour;
#define TIMEOUT_MS 5000
#define BARRIER "/barrier"

static int group_setup(void **state)
{
	flavour = sandbox_test_flavour();
	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	if (!xs || !xs_watch(xs, BARRIER, "barrier"))
		return -1;
	return sandbox_test_wait_event(xs, TIMEOUT_MS, BARRIER, "barrier") ? 0 : -1;
}

static int group_teardown(void **state)
{
	if (xs)
		xs_close(xs);
	sandbox_test_stop(dir);
	return 0;
}

/*
 * Fires the barrier and counts the events for token (any path) that come
 * before it; every event already queued comes first, so they are counted.
 */
static int count_until_barrier(const char *token, const char *path_prefix)
{
	char p[1024], t[1024];
	int n = 0;

	assert_true(xs_write(xs, XBT_NULL, BARRIER, "", 0));
	for (;;) {
		assert_true(sandbox_test_next_event(xs, TIMEOUT_MS, p, t, sizeof(p)));
		if (strcmp(t, "barrier") == 0)
			return n;
		if (strcmp(t, token) == 0 && strncmp(p, path_prefix, strlen(path_prefix)) == 0)
			n++;
	}
}

/* Drops every event queued before the barrier. */
static void drain(void)
{
	count_until_barrier("barrier", BARRIER);
}

static bool is_ocaml(void)
{
	return flavour == SANDBOX_OCAML;
}

/* The largest value: a guest's, and dom0's at a path of 28 bytes. */
static void test_largest_value(void **state)
{
	static char big[4096];
	const char *path = "/local/domain/20/data/big28";	/* 27 bytes and its NUL */
	struct guest *g;

	memset(big, 'x', sizeof(big));
	assert_int_equal(sandbox_domain_create(dir, xs, 20, "vm20", true), 0);
	g = guest_open(dir, 20);
	assert_non_null(g);
	if (is_ocaml()) {
		/* quota-maxsize = 2048 of value alone, for every connection. */
		assert_int_equal(guest_write(g, 0, "data/big", big, 2048), 0);
		assert_int_equal(guest_write(g, 0, "data/big", big, 2049), -E2BIG);
		assert_true(xs_write(xs, XBT_NULL, path, big, 2048));
		assert_false(xs_write(xs, XBT_NULL, path, big, 2049));
		assert_int_equal(errno, E2BIG);
	} else {
		/* The 2048-byte entry quota counts the node's header and permissions too. */
		assert_int_equal(guest_write(g, 0, "data/big", big, 2015), 0);
		assert_int_equal(guest_write(g, 0, "data/big", big, 2016), -ENOSPC);
		/* dom0 has no quota: one message carries the path, its NUL and the value. */
		assert_true(xs_write(xs, XBT_NULL, path, big, 4096 - 28));
		assert_false(xs_write(xs, XBT_NULL, path, big, 4096 - 27));
	}
	guest_close(g);
	assert_int_equal(sandbox_domain_destroy(dir, 20), 0);
}

/*
 * How many entries a guest may create in one directory: the C daemon counts
 * the children's names against the directory's own 2048-byte entry; oxenstored
 * has no such limit, only 1000 nodes per domain, refused with EQUOTA, a name
 * libxenstore does not know and reports as EINVAL.
 */
static void test_entry_quota(void **state)
{
	struct guest *g;
	int i, r = 0;

	assert_int_equal(sandbox_domain_create(dir, xs, 21, "vm21", true), 0);
	g = guest_open(dir, 21);
	assert_non_null(g);
	for (i = 0; i < 1100 && r == 0; i++) {
		char path[32];

		snprintf(path, sizeof(path), "data/k%d", i);
		r = guest_write(g, 0, path, "1", 1);
	}
	if (is_ocaml()) {
		assert_int_equal(r, -EINVAL);
		/* The home's nodes count too: about 20 of them. */
		assert_in_range(i, 950, 1000);
	} else {
		assert_int_equal(r, -ENOSPC);
		assert_in_range(i, 300, 600);
	}
	guest_close(g);
	assert_int_equal(sandbox_domain_destroy(dir, 21), 0);
}

/*
 * A dead domain's nodes: both daemons delete what the domain owned, the
 * C daemon with an rm event per subtree before @releaseDomain, oxenstored
 * without a single event; oxenstored also drops the dead domain from the
 * permissions of the nodes it does not own.
 */
static void test_dead_domain_nodes(void **state)
{
	struct xs_permissions *perms;
	char p[1024], t[1024];
	int rm_events = 0;
	unsigned int n;
	char *v;

	assert_int_equal(sandbox_domain_create(dir, xs, 22, "vm22", true), 0);
	assert_int_equal(sandbox_test_guest(dir, 22, "data/x", "1"), 0);
	assert_true(xs_watch(xs, "/local/domain/22/data", "d22"));
	assert_true(xs_watch(xs, "@releaseDomain", "release"));
	assert_int_equal(count_until_barrier("d22", "/local/domain/22/data"), 1);	/* initial */

	assert_int_equal(sandbox_domain_destroy(dir, 22), 0);
	for (;;) {
		assert_true(sandbox_test_next_event(xs, TIMEOUT_MS, p, t, sizeof(p)));
		if (strcmp(t, "release") == 0 && strcmp(p, "@releaseDomain") == 0 &&
		    !xs_is_domain_introduced(xs, 22))
			break;
		if (strcmp(t, "d22") == 0)
			rm_events++;
	}
	v = xs_read(xs, XBT_NULL, "/local/domain/22/data/x", &n);
	perms = xs_get_permissions(xs, XBT_NULL, "/local/domain/22/name", &n);
	assert_non_null(perms);
	assert_null(v);
	if (is_ocaml()) {
		assert_int_equal(rm_events, 0);
		assert_int_equal(n, 1);		/* "n0 r22" became "n0" */
	} else {
		assert_int_equal(rm_events, 1);
		assert_int_equal(n, 2);
	}
	/* And nothing after it either. */
	assert_int_equal(count_until_barrier("d22", "/local/domain/22/data"), 0);
	free(v);
	free(perms);
	assert_true(xs_unwatch(xs, "/local/domain/22/data", "d22"));
	assert_true(xs_unwatch(xs, "@releaseDomain", "release"));
	drain();
	assert_true(xs_rm(xs, XBT_NULL, "/local/domain/22"));
}

/*
 * A domain that stays shut down: the C daemon fires @releaseDomain once,
 * oxenstored again on every VIRQ_DOM_EXC while it is shut down.
 */
static void test_shutdown_release_repeats(void **state)
{
	assert_int_equal(sandbox_domain_create(dir, xs, 24, "vm24", true), 0);
	assert_int_equal(sandbox_domain_create(dir, xs, 25, "vm25", true), 0);
	assert_true(xs_watch(xs, "@releaseDomain", "r24"));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "r24"));

	assert_int_equal(sandbox_domain_set_state(dir, 24, DOMSTATE_SHUTDOWN), 0);
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "r24"));
	/* A second VIRQ that changes nothing for domain 24... */
	assert_int_equal(sandbox_domain_set_state(dir, 24, DOMSTATE_SHUTDOWN), 0);
	/* ...and a third that kills domain 25, which both daemons announce. */
	assert_int_equal(sandbox_domain_set_state(dir, 25, DOMSTATE_DYING), 0);
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "r24"));
	/* Counted up to the barrier: what the second VIRQ fired, if anything. */
	assert_int_equal(count_until_barrier("r24", "@releaseDomain"), is_ocaml() ? 1 : 0);
	assert_true(xs_unwatch(xs, "@releaseDomain", "r24"));
	assert_int_equal(sandbox_domain_destroy(dir, 24), 0);
	assert_int_equal(sandbox_domain_destroy(dir, 25), 0);
	drain();
}

/*
 * A transaction that writes a node and sets its permissions, as the
 * toolstack builds a domain's home: the C daemon fires once per node at
 * commit, oxenstored once per operation.
 */
static void test_transaction_events(void **state)
{
	struct xs_permissions perms[1] = { { .id = 0, .perms = XS_PERM_READ } };
	xs_transaction_t t;

	assert_true(xs_watch(xs, "/tx", "tx"));
	assert_int_equal(count_until_barrier("tx", "/tx"), 1);	/* initial */
	t = xs_transaction_start(xs);
	assert_true(t != XBT_NULL);
	assert_true(xs_write(xs, t, "/tx/node", "", 0));
	assert_true(xs_set_permissions(xs, t, "/tx/node", perms, 1));
	assert_true(xs_transaction_end(xs, t, false));
	assert_int_equal(count_until_barrier("tx", "/tx/node"), is_ocaml() ? 2 : 1);
	assert_true(xs_unwatch(xs, "/tx", "tx"));
}

/* Releasing a domid xenstored does not know. */
static void test_release_unknown(void **state)
{
	assert_false(xs_release_domain(xs, 4321));
	assert_int_equal(errno, is_ocaml() ? EINVAL : ENOENT);
}

/* oxenstored lists its special watch paths as nodes of the root. */
static void test_root_listing(void **state)
{
	bool intro = false, tool = false;
	unsigned int n;
	char **names = xs_directory(xs, XBT_NULL, "/", &n);

	assert_non_null(names);
	for (unsigned int i = 0; i < n; i++) {
		intro |= strcmp(names[i], "@introduceDomain") == 0;
		tool |= strcmp(names[i], "tool") == 0;
	}
	free(names);
	assert_true(tool);
	assert_int_equal(intro, is_ocaml());
}

/*
 * A directory whose listing is larger than one message (4096 bytes): the
 * C daemon serves it in parts (XS_DIRECTORY_PART, libxenstore's fallback);
 * oxenstored has no XS_DIRECTORY_PART and sends the listing oversize,
 * which libxenstore takes for a broken connection: that handle is lost.
 */
static void test_oversize_directory(void **state)
{
	struct xs_handle *other;
	char name[128];
	unsigned int n;
	char **names, *v;
	int i;

	memset(name, 'n', sizeof(name));
	for (i = 0; i < 60; i++) {
		char path[256];

		/* 60 names of 100 bytes: about 6 KiB of listing. */
		snprintf(path, sizeof(path), "/big/%.96s%04d", name, i);
		assert_true(xs_write(xs, XBT_NULL, path, "1", 1));
	}
	other = sandbox_connect(dir);
	assert_non_null(other);
	names = xs_directory(other, XBT_NULL, "/big", &n);
	if (is_ocaml()) {
		assert_null(names);
		/* The handle is gone for good: even a small read fails now. */
		v = xs_read(other, XBT_NULL, "/local/domain/0/name", &n);
		assert_null(v);
	} else {
		assert_non_null(names);
		assert_int_equal(n, 60);
		free(names);
		v = xs_read(other, XBT_NULL, "/local/domain/0/name", &n);
		assert_non_null(v);
		free(v);
	}
	xs_close(other);
	/* Our own handle never asked: it is unharmed on both. */
	assert_true(xs_rm(xs, XBT_NULL, "/big"));
}

/* What both share, which clients rely on: the initial watch event, and XS_IS_DOMAIN_INTRODUCED. */
static void test_same_on_both(void **state)
{
	assert_true(xs_watch(xs, "/nowhere/at/all", "init"));
	assert_int_equal(count_until_barrier("init", "/nowhere/at/all"), 1);
	assert_true(xs_unwatch(xs, "/nowhere/at/all", "init"));
	assert_int_equal(sandbox_domain_create(dir, xs, 26, "vm26", true), 0);
	assert_true(xs_is_domain_introduced(xs, 26));
	assert_int_equal(sandbox_domain_release(xs, 26), 0);
	assert_false(xs_is_domain_introduced(xs, 26));
	assert_int_equal(sandbox_domain_destroy(dir, 26), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_largest_value),
		cmocka_unit_test(test_entry_quota),
		cmocka_unit_test(test_dead_domain_nodes),
		cmocka_unit_test(test_shutdown_release_repeats),
		cmocka_unit_test(test_transaction_events),
		cmocka_unit_test(test_release_unknown),
		cmocka_unit_test(test_root_listing),
		cmocka_unit_test(test_oversize_directory),
		cmocka_unit_test(test_same_on_both),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * The sandbox against the real xenstored, through the real libxenstore and
 * the guest's own ring: what every later test relies on.
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

static char dir[PATH_MAX];
static struct xs_handle *xs;
#define TIMEOUT_MS 5000

static int group_setup(void **state)
{
	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	return xs ? 0 : -1;
}

static int group_teardown(void **state)
{
	if (xs)
		xs_close(xs);
	sandbox_test_stop(dir);
	return 0;
}

static char *read_str(const char *path)
{
	unsigned int len;

	return xs_read(xs, XBT_NULL, path, &len);
}

static void test_read_write_directory_rm(void **state)
{
	unsigned int n;
	char **names, *v;

	assert_true(xs_write(xs, XBT_NULL, "/test/a", "one", 3));
	assert_true(xs_write(xs, XBT_NULL, "/test/b", "", 0));
	v = read_str("/test/a");
	assert_string_equal(v, "one");
	free(v);

	names = xs_directory(xs, XBT_NULL, "/test", &n);
	assert_non_null(names);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "a");	/* creation order */
	assert_string_equal(names[1], "b");
	free(names);

	assert_true(xs_rm(xs, XBT_NULL, "/test"));
	assert_null(read_str("/test/a"));
	assert_int_equal(errno, ENOENT);
	/* dom0's home, as xen-init-dom0 writes it. */
	v = read_str("/local/domain/0/name");
	assert_string_equal(v, "Domain-0");
	free(v);
}

static void test_watch_initial_write_rm(void **state)
{
	assert_true(xs_watch(xs, "/w", "tok"));
	/* The initial event fires even though /w does not exist. */
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "/w", "tok"));
	assert_true(xs_write(xs, XBT_NULL, "/w/x/y", "1", 1));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "/w/x/y", "tok"));
	/* An identical rewrite still fires. */
	assert_true(xs_write(xs, XBT_NULL, "/w/x/y", "1", 1));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "/w/x/y", "tok"));
	assert_true(xs_rm(xs, XBT_NULL, "/w/x"));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "/w/x", "tok"));
	assert_true(xs_unwatch(xs, "/w", "tok"));
	sandbox_test_drain(xs);
}

static void test_introduce_and_release(void **state)
{
	char *v;

	assert_true(xs_watch(xs, "@introduceDomain", "intro"));
	assert_true(xs_watch(xs, "@releaseDomain", "release"));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@introduceDomain", "intro"));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "release"));

	assert_int_equal(sandbox_domain_create(dir, xs, 3, "vm3", true), 0);
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@introduceDomain", "intro"));
	/* As with libxl, the home is complete when the introduction fires. */
	v = read_str("/local/domain/3/name");
	assert_string_equal(v, "vm3");
	free(v);
	assert_true(xs_is_domain_introduced(xs, 3));

	assert_int_equal(sandbox_domain_release(xs, 3), 0);
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "release"));
	assert_false(xs_is_domain_introduced(xs, 3));
	assert_int_equal(sandbox_domain_destroy(dir, 3), 0);
	assert_true(xs_unwatch(xs, "@introduceDomain", "intro"));
	assert_true(xs_unwatch(xs, "@releaseDomain", "release"));
	sandbox_test_drain(xs);
}

static void test_shutdown_and_death_detected(void **state)
{
	assert_int_equal(sandbox_domain_create(dir, xs, 4, "vm4", true), 0);
	assert_true(xs_watch(xs, "@releaseDomain", "release"));
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "release"));

	/* xenstored finds the shutdown itself on VIRQ_DOM_EXC. */
	assert_int_equal(sandbox_domain_set_state(dir, 4, DOMSTATE_SHUTDOWN), 0);
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "release"));
	assert_true(xs_is_domain_introduced(xs, 4));

	assert_int_equal(sandbox_domain_set_state(dir, 4, DOMSTATE_DYING), 0);
	assert_true(sandbox_test_wait_event(xs, TIMEOUT_MS, "@releaseDomain", "release"));
	assert_false(xs_is_domain_introduced(xs, 4));
	assert_int_equal(sandbox_domain_destroy(dir, 4), 0);
	assert_true(xs_unwatch(xs, "@releaseDomain", "release"));
	sandbox_test_drain(xs);
}

static void test_guest_permissions(void **state)
{
	struct guest *g;
	char *v = NULL, big[2100];
	size_t len;
	uint32_t tx;

	assert_int_equal(sandbox_domain_create(dir, xs, 5, "vm5", true), 0);
	g = guest_open(dir, 5);
	assert_non_null(g);

	/* Its own writable subtree, by relative path, seen by dom0. */
	assert_int_equal(guest_write(g, 0, "data/updated", "1", 1), 0);
	v = read_str("/local/domain/5/data/updated");
	assert_string_equal(v, "1");
	free(v);

	/* The toolstack's keys and other domains are out of reach. */
	assert_int_equal(guest_write(g, 0, "name", "evil", 4), -EACCES);
	assert_int_equal(guest_read(g, 0, "/local/domain/0/name", &v, &len), -EACCES);
	assert_int_equal(guest_write(g, 0, "/local/domain/0/x", "1", 1), -EACCES);
	assert_int_equal(guest_read(g, 0, "name", &v, &len), 0);
	assert_string_equal(v, "vm5");
	free(v);

	/* The real per-domain quota (its two spellings: test-flavours.c). */
	memset(big, 'x', sizeof(big));
	assert_int_equal(guest_write(g, 0, "data/big", big, 2015), 0);
	assert_int_equal(guest_write(g, 0, "data/big", big, 2049),
			 sandbox_test_flavour() == SANDBOX_OCAML ? -E2BIG : -ENOSPC);

	/* A guest transaction. */
	assert_int_equal(guest_transaction_start(g, &tx), 0);
	assert_int_equal(guest_write(g, tx, "attr/a", "1", 1), 0);
	assert_int_equal(guest_write(g, tx, "attr/b", "2", 1), 0);
	assert_int_equal(guest_transaction_end(g, tx, 1), 0);
	v = read_str("/local/domain/5/attr/b");
	assert_string_equal(v, "2");
	free(v);

	guest_close(g);
	assert_int_equal(sandbox_domain_destroy(dir, 5), 0);
}

/* An unmodified libxenstore client as a guest, through the guest socket. */
static void test_guest_socket(void **state)
{
	struct xs_handle *g;
	char big[2100], *v;
	unsigned int len;

	assert_int_equal(sandbox_domain_create(dir, xs, 8, "vm8", true), 0);
	g = sandbox_test_guest_connect(dir, 8);
	assert_non_null(g);

	/* A relative path lands in the guest's home. */
	assert_true(xs_write(g, XBT_NULL, "attr/x", "1", 1));
	v = read_str("/local/domain/8/attr/x");
	assert_string_equal(v, "1");
	free(v);
	v = xs_read(g, XBT_NULL, "name", &len);
	assert_string_equal(v, "vm8");
	free(v);

	/* Refused what the guest may not do. */
	assert_false(xs_write(g, XBT_NULL, "name", "evil", 4));
	assert_int_equal(errno, EACCES);
	assert_null(xs_read(g, XBT_NULL, "/local/domain/0/name", &len));
	assert_int_equal(errno, EACCES);

	/* The real quota. */
	memset(big, 'x', sizeof(big));
	assert_false(xs_write(g, XBT_NULL, "data/big", big, 2049));
	assert_int_equal(errno, sandbox_test_flavour() == SANDBOX_OCAML ? E2BIG : ENOSPC);

	/* Watches: the initial event, then dom0's write, with relative paths. */
	assert_true(xs_watch(g, "control", "ctl"));
	assert_true(sandbox_test_wait_event(g, TIMEOUT_MS, "control", "ctl"));
	assert_true(xs_write(xs, XBT_NULL, "/local/domain/8/control/shutdown", "poweroff", 8));
	assert_true(sandbox_test_wait_event(g, TIMEOUT_MS, "control/shutdown", "ctl"));
	xs_close(g);

	/*
	 * The next client starts clean: the first one's watch is gone, so of
	 * the two writes only the second reaches it (events come in order).
	 */
	g = sandbox_test_guest_connect(dir, 8);
	assert_non_null(g);
	assert_true(xs_watch(g, "data", "data"));
	assert_true(xs_write(xs, XBT_NULL, "/local/domain/8/control/shutdown", "reboot", 6));
	assert_true(xs_write(xs, XBT_NULL, "/local/domain/8/data/y", "1", 1));
	for (;;) {
		assert_true(sandbox_test_next_event(g, TIMEOUT_MS, big, big + 1024, 1024));
		assert_string_not_equal(big + 1024, "ctl");
		if (strcmp(big, "data/y") == 0)
			break;
	}
	xs_close(g);
	assert_int_equal(sandbox_domain_destroy(dir, 8), 0);
}

static void test_domid_reuse(void **state)
{
	struct guest *g;
	char *v;

	assert_int_equal(sandbox_domain_create(dir, xs, 7, "old", true), 0);
	assert_int_equal(sandbox_domain_create(dir, xs, 7, "dup", true), -EEXIST);
	assert_int_equal(sandbox_domain_destroy(dir, 7), 0);
	assert_true(xs_rm(xs, XBT_NULL, "/local/domain/7"));
	assert_int_equal(sandbox_domain_create(dir, xs, 7, "new", true), 0);
	g = guest_open(dir, 7);
	assert_non_null(g);
	assert_int_equal(guest_write(g, 0, "data/y", "2", 1), 0);
	guest_close(g);
	v = read_str("/local/domain/7/name");
	assert_string_equal(v, "new");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write_directory_rm),
		cmocka_unit_test(test_watch_initial_write_rm),
		cmocka_unit_test(test_introduce_and_release),
		cmocka_unit_test(test_shutdown_and_death_detected),
		cmocka_unit_test(test_guest_permissions),
		cmocka_unit_test(test_guest_socket),
		cmocka_unit_test(test_domid_reuse),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * Untrusted input over the real paths: a guest writing bytes that are not
 * text, values at the size limits and a key flood, next to a well-behaved
 * neighbour; and a client sending lines that are not commands.
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
#include "xgm/protocol.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000

static struct fixture f;

static int setup(void **state)
{
	static const char *const sets[] = {
		"settle.quiet_ms=50", "limits.max_keys_per_domain=300", NULL,
	};

	fixture_start(&f, sets, SUBSCRIBE_ALL);
	return 0;
}

static int teardown(void **state)
{
	return fixture_stop(&f);
}

static void test_hostile_guest_and_neighbour(void **state)
{
	static const char bad[] = "Deb\xff\xfe" "an\0with NUL\xc0\xaf";
	char big[2015];
	struct xgmd_mark m;
	unsigned int writes = 0;
	struct guest *g;
	yajl_val v;
	const char *name;

	assert_true(fixture_new_domain(&f, 40, "hostile"));
	assert_true(fixture_new_domain(&f, 41, "neighbour"));

	client_mark(&f.ctl, &m);
	g = guest_open(f.dir, 40);
	assert_non_null(g);
	assert_int_equal(guest_write(g, 0, "data/os_name", bad, sizeof(bad) - 1), 0);
	memset(big, 0xff, sizeof(big));
	assert_int_equal(guest_write(g, 0, "data/os_uname", big, sizeof(big)), 0);
	writes += 2;
	/* A flood of keys, beyond xgmd's limit of 300 for this domain. */
	for (int i = 0; i < 400; i++, writes++) {
		char path[64];

		snprintf(path, sizeof(path), "data/flood/k%d", i);
		if (guest_write(g, 0, path, "x", 1) < 0)
			break;	/* xenstored's own quota may stop it first */
	}
	assert_int_equal(guest_write(g, 0, "attr/PVAddons/MajorVersion", "\xff", 1), 0);
	writes++;
	guest_close(g);

	/* The neighbour's agent is not held up. */
	g = guest_open(f.dir, 41);
	assert_non_null(g);
	assert_int_equal(guest_write(g, 0, "attr/PVAddons/MajorVersion", "9", 1), 0);
	assert_int_equal(guest_write(g, 0, "attr/PVAddons/MinorVersion", "3", 1), 0);
	guest_close(g);
	v = client_wait_change(&f.sub, 41, "pv_drivers_detected", TIMEOUT_MS);
	assert_non_null(v);
	assert_int_equal(json_bool(v, "data", "pv_drivers_detected"), 1);
	yajl_tree_free(v);

	/* The hostile guest's writes, all of them read (the neighbour's two on top). */
	assert_true(client_wait_read(&f.ctl, &m, writes + 2, 40, TIMEOUT_MS));

	/* Every line from xgmd parsed as JSON (client_next would have failed otherwise). */
	v = client_call(&f.ctl, "{\"cmd\":\"get\",\"id\":5,\"domain\":40}");
	assert_non_null(v);
	assert_int_equal(json_bool(v, "data", "limit_reached"), 1);
	assert_int_equal(json_bool(v, "data", "pv_drivers_detected"), 0);
	name = json_str(json_get(v, "data", "os_version"), "name", NULL);
	assert_non_null(name);
	/* Bad bytes became U+FFFD, the NUL survived as a character. */
	assert_non_null(strstr(name, "Deb\xef\xbf\xbd"));
	assert_int_equal(strlen(name), strlen("Deb\xef\xbf\xbd\xef\xbf\xbd" "an"));
	yajl_tree_free(v);
}

/*
 * A directory in a guest's home whose listing is larger than one xenstore
 * message. The C daemon serves it in parts; oxenstored sends it oversize,
 * which breaks the libxenstore handle that asked. Either way xgmd keeps
 * its connection and its watches: the neighbour's next change is
 * published, and the guest's other keys are.
 */
static void test_oversize_directory(void **state)
{
	char name[128], path[256];
	long long connects, resets;
	yajl_val v;

	assert_true(fixture_new_domain(&f, 42, "big"));
	connects = client_stat(&f.ctl, "engine", "xenstore_connects");
	assert_true(connects >= 1);

	/* 60 names of 100 bytes: about 6 KiB. dom0 writes them: on the C daemon
	 * a guest could not, its directory's entry quota stops it first. */
	memset(name, 'n', sizeof(name));
	for (int i = 0; i < 60; i++) {
		snprintf(path, sizeof(path), "/local/domain/42/data/big/%.96s%04d", name, i);
		assert_true(xs_write(f.xs, XBT_NULL, path, "1", 1));
	}
	/* An empty write to the directory itself: xgmd must list it. */
	assert_true(xs_write(f.xs, XBT_NULL, "/local/domain/42/data/big", "", 0));
	assert_int_equal(sandbox_test_guest(f.dir, 42, "data/os_distro", "appliance"), 0);
	/* The big directory and the distro may settle as two batches. */
	v = client_wait_change(&f.sub, 42, "os_version", TIMEOUT_MS);
	assert_non_null(v);
	assert_string_equal(json_str(json_get(v, "data", "os_version"), "distro", NULL), "appliance");
	yajl_tree_free(v);

	assert_int_equal(sandbox_test_guest(f.dir, 41, "data/os_distro", "neighbourly"), 0);
	v = client_wait_change(&f.sub, 41, "os_version", TIMEOUT_MS);
	assert_non_null(v);
	assert_string_equal(json_str(json_get(v, "data", "os_version"), "distro", NULL), "neighbourly");
	yajl_tree_free(v);

	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connects"), connects);
	resets = client_stat(&f.ctl, "engine", "xenstore_request_resets");
	/* Only oxenstored breaks the handle; xgmd replaced it and went on. */
	if (sandbox_test_flavour() == SANDBOX_OCAML)
		assert_true(resets >= 1);
	else
		assert_int_equal(resets, 0);
}

static void test_hostile_client_lines(void **state)
{
	bool refused = false;
	char *long_line;
	yajl_val v;

	v = client_call(&f.sub, "{\"cmd\":");
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "error");
	yajl_tree_free(v);
	v = client_call(&f.sub, "{\"cmd\":\"launch-missiles\",\"id\":7}");
	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "error");
	assert_int_equal(json_int(v, "id", NULL), 7);
	yajl_tree_free(v);
	/* Still alive. */
	v = client_call(&f.sub, "{\"cmd\":\"ping\",\"id\":8}");
	assert_non_null(v);
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);

	/* A line over the limit: an error, then the connection is closed. */
	long_line = malloc(XGM_MAX_CLIENT_LINE + 2);
	assert_non_null(long_line);
	memset(long_line, 'a', XGM_MAX_CLIENT_LINE + 1);
	long_line[XGM_MAX_CLIENT_LINE + 1] = '\0';
	client_send(&f.sub, long_line);
	free(long_line);
	/*
	 * Until xgmd closes: the error, and perhaps an event of the first test's
	 * guests that their publication limit held back, but no reply to the ping.
	 */
	client_send(&f.sub, "{\"cmd\":\"ping\",\"id\":9}");
	while ((v = client_next(&f.sub, TIMEOUT_MS))) {
		const char *type = json_str(v, "type", NULL);

		assert_non_null(type);
		if (strcmp(type, "error") == 0) {
			assert_false(refused);
			assert_string_equal(json_str(json_get(v, "error", NULL), "class", NULL),
					    "LineTooLong");
			refused = true;
		} else {
			assert_string_equal(type, "event");
		}
		yajl_tree_free(v);
	}
	assert_true(refused);
	assert_true(f.sub.eof);

	/* And the daemon lives on for everyone else. */
	client_close(&f.sub);
	assert_true(client_open(&f.sub, f.xgmd.socket));
	v = client_call(&f.ctl, "{\"cmd\":\"ping\",\"id\":10}");
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_guest_and_neighbour),
		cmocka_unit_test(test_oversize_directory),
		cmocka_unit_test(test_hostile_client_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

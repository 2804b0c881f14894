/*
 * Both halves of the NotUpgradable proposal end to end: the guest tool,
 * xgm-not-upgradable, run unmodified as the guest through its guest
 * socket, and two xgmds subscribed, one settling as by default and one in
 * the proposal's strict mode (keys inspected only on data/updated).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000
#define APPLIANCE 50
#define NEIGHBOUR 51

/* The default mode's xgmd is the fixture's; the strict one runs beside it. */
static struct fixture f;
static struct fixture_peer strict;
static struct client *const subscribers[] = { &f.sub, &strict.sub };
static struct client *const controls[] = { &f.ctl, &strict.ctl };
static char flag_file[PATH_MAX + 32], guest_socket[PATH_MAX];

/* Runs the tool as the appliance with XENSTORED_PATH=socket; its exit status. */
static int run_tool(const char *socket)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		setenv("XENSTORED_PATH", socket, 1);
		execl(XGM_NOT_UPGRADABLE_PATH, "xgm-not-upgradable", "--file", flag_file,
		      (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * Both xgmds publish a metrics event for the appliance with these flags
 * (earlier ones, of a batch that settled before the guest's last write,
 * are skipped), and the versions, which stay visible whatever the flag says.
 */
static void expect_both(int up_to_date, int not_upgradable)
{
	for (size_t i = 0; i < 2; i++) {
		yajl_val v;

		for (;;) {
			v = client_wait_event(subscribers[i], "domain.metrics", APPLIANCE, TIMEOUT_MS);
			assert_non_null(v);
			if (json_bool(v, "data", "pv_drivers_up_to_date") == up_to_date &&
			    json_bool(v, "data", "pv_drivers_not_upgradable") == not_upgradable &&
			    json_str(json_get(v, "data", "pv_drivers_version"), "minor", NULL))
				break;
			yajl_tree_free(v);
		}
		assert_string_equal(json_str(json_get(v, "data", "pv_drivers_version"), "major", NULL), "6");
		assert_string_equal(json_str(json_get(v, "data", "pv_drivers_version"), "minor", NULL), "2");
		yajl_tree_free(v);
	}
}

static int setup(void **state)
{
	static const char *const loose[] = {
		"settle.quiet_ms=50", "metrics.reference_version=9.0", NULL,
	};
	static const char *const strict_sets[] = {
		"settle.quiet_ms=50", "metrics.reference_version=9.0", "settle.strict=true", NULL,
	};
	static const char *const tools[][2] = {
		{ "attr/PVAddons/MajorVersion", "6" }, { "attr/PVAddons/MinorVersion", "2" },
		{ "attr/PVAddons/MicroVersion", "0" }, { "attr/PVAddons/BuildVersion", "76888" },
		{ "data/updated", "1" },
	};

	fixture_start(&f, loose, SUBSCRIBE_METRICS);
	snprintf(flag_file, sizeof(flag_file), "%s/pv-drivers-not-upgradable", f.dir);
	fixture_start_peer(&f, &strict, "strict", strict_sets, SUBSCRIBE_METRICS);
	assert_int_equal(sandbox_domain_create(f.dir, f.xs, APPLIANCE, "appliance", true), 0);
	assert_int_equal(sandbox_domain_create(f.dir, f.xs, NEIGHBOUR, "neighbour", true), 0);
	/* Both adopted by both xgmds before the agents write: their writes are metrics events. */
	for (unsigned int i = 0; i < 2; i++) {
		unsigned int domid = i == 0 ? APPLIANCE : NEIGHBOUR;

		assert_true(client_wait_domain_state(&f.ctl, domid, "idle", TIMEOUT_MS));
		assert_true(client_wait_domain_state(&strict.ctl, domid, "idle", TIMEOUT_MS));
	}
	assert_int_equal(sandbox_guest_socket_start(f.dir, APPLIANCE, guest_socket), 0);

	/* 1. Its vendor's agent writes tools 6.2, below the reference 9.0. */
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		assert_int_equal(sandbox_test_guest(f.dir, APPLIANCE, tools[i][0], tools[i][1]), 0);
	expect_both(0, 0);
	return 0;
}

static int teardown(void **state)
{
	int r = 0;

	r |= fixture_stop_peer(&strict);
	r |= fixture_stop(&f);
	return r;
}

static void test_file_drives_the_flag(void **state)
{
	unsigned int len;
	char *v;
	int fd;

	/* 2. The appliance builder's file: up to date, not upgradable, 6.2 still shown. */
	fd = open(flag_file, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run_tool(guest_socket), 0);
	v = xs_read(f.xs, XBT_NULL, "/local/domain/50/attr/PVAddons/NotUpgradable", &len);
	assert_non_null(v);
	assert_string_equal(v, "1");
	free(v);
	expect_both(1, 1);

	/* 3. The file goes: so do the key and the verdict. */
	assert_int_equal(unlink(flag_file), 0);
	assert_int_equal(run_tool(guest_socket), 0);
	assert_null(xs_read(f.xs, XBT_NULL, "/local/domain/50/attr/PVAddons/NotUpgradable", &len));
	assert_int_equal(errno, ENOENT);
	expect_both(0, 0);
}

/*
 * 4. Run again with nothing changed: nothing written, so no watch fires.
 * Checked, not waited for: the neighbour's kick afterwards is then the only
 * watch event either xgmd has seen, and its event the next one.
 */
static void test_second_run_changes_nothing(void **state)
{
	long long before[2];
	yajl_val v;

	for (size_t i = 0; i < 2; i++)
		before[i] = client_stat(controls[i], "engine", "xenstore_watch_events");
	assert_int_equal(run_tool(guest_socket), 0);
	assert_int_equal(run_tool(guest_socket), 0);
	assert_int_equal(sandbox_test_guest(f.dir, NEIGHBOUR, "data/updated", "1"), 0);
	for (size_t i = 0; i < 2; i++) {
		/* The neighbour's first kick is a real change to it (live): an event. */
		v = client_wait_event(subscribers[i], "domain.metrics", NEIGHBOUR, TIMEOUT_MS);
		assert_non_null(v);
		yajl_tree_free(v);
		assert_int_equal(client_stat(controls[i], "engine", "xenstore_watch_events"),
				 before[i] + 1);
	}
}

/* The tool's errors, each with its own exit status. */
static void test_errors(void **state)
{
	struct xs_permissions ro[2] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = APPLIANCE, .perms = XS_PERM_READ },
	};
	struct xs_permissions rw[1] = { { .id = APPLIANCE, .perms = XS_PERM_NONE } };
	char missing[PATH_MAX + 32];
	int fd;

	/* No xenstore: not a Xen guest. */
	snprintf(missing, sizeof(missing), "%s/no-such-socket", f.dir);
	assert_int_equal(run_tool(missing), 3);

	/* xenstore refuses: the toolstack made attr/PVAddons read-only to the guest. */
	assert_true(xs_set_permissions(f.xs, XBT_NULL, "/local/domain/50/attr/PVAddons", ro, 2));
	fd = open(flag_file, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run_tool(guest_socket), 4);
	assert_true(xs_set_permissions(f.xs, XBT_NULL, "/local/domain/50/attr/PVAddons", rw, 1));
	assert_int_equal(run_tool(guest_socket), 0);
	expect_both(1, 1);
	assert_int_equal(unlink(flag_file), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_drives_the_flag),
		cmocka_unit_test(test_second_run_changes_nothing),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * SIGHUP against the sandbox: a good reload applies a new reference version
 * at once and flips pv_drivers_up_to_date for exactly the guests it should;
 * a bad file is rejected in one line and the running configuration kept.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
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

#define TIMEOUT_MS 5000

static struct fixture f;
static char conf[PATH_MAX + 16], log_path[PATH_MAX + 16];

static void write_config(const char *text)
{
	char tmp[sizeof(conf) + 4];
	FILE *file;

	/* Renamed into place, as an editor or a package does: never half a file. */
	snprintf(tmp, sizeof(tmp), "%s.new", conf);
	file = fopen(tmp, "w");
	assert_non_null(file);
	assert_true(fputs(text, file) >= 0);
	assert_int_equal(fclose(file), 0);
	assert_int_equal(rename(tmp, conf), 0);
}

/* Waits for the n-th reload to have been applied: what it changed is published by then. */
static void wait_reloads(long long n)
{
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "reloads", n, TIMEOUT_MS));
}

/* Whether the log has a line holding text (xgmd writes each line whole). */
static bool log_has(const char *text)
{
	char line[1024];
	bool found = false;
	FILE *file = fopen(log_path, "r");

	if (!file)
		return false;
	while (!found && fgets(line, sizeof(line), file))
		found = strstr(line, text) != NULL;
	fclose(file);
	return found;
}

/* Waits for xgmd to log text: it handled the SIGHUP, whose outcome that line is. */
static void wait_log(const char *text)
{
	for (int i = 0; i < TIMEOUT_MS / 10 && !log_has(text); i++)
		usleep(10000);
	assert_true(log_has(text));
}

/* The guest's tools version; returns once xgmd has read and published all of it. */
static void guest_tools(unsigned int domid, const char *major, const char *minor)
{
	struct xgmd_mark m;

	client_mark(&f.ctl, &m);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MajorVersion", major), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MinorVersion", minor), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MicroVersion", "0"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/BuildVersion", "1"), 0);
	assert_true(client_wait_read(&f.ctl, &m, 4, domid, TIMEOUT_MS));
}

/* After a reload: the very next event is domid's, and flips pv_drivers_up_to_date. */
static void expect_up_to_date(unsigned int domid, int up_to_date)
{
	yajl_val ev = client_next(&f.sub, TIMEOUT_MS);

	assert_non_null(ev);
	assert_string_equal(json_str(ev, "event", NULL), "domain.metrics");
	assert_int_equal(json_int(ev, "domain", "id"), domid);
	assert_true(json_changed(ev, "pv_drivers_up_to_date"));
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), up_to_date);
	yajl_tree_free(ev);
}

static void test_reload(void **state)
{
	struct xgmd_mark m;
	yajl_val ev;

	fixture_start_sandbox(&f);
	snprintf(conf, sizeof(conf), "%s/reload.conf", f.dir);
	snprintf(log_path, sizeof(log_path), "%s/xgmd.log", f.dir);
	write_config("[settle]\nquiet_ms = 100\n[metrics]\nreference_version = 9.0\n");
	f.xgmd.config = conf;
	fixture_start_xgmd(&f, NULL, SUBSCRIBE_METRICS);

	/* 10: tools 8.2; 11: 9.1; 12: 6.2 but not upgradable; 13: no tools. */
	assert_true(fixture_new_domain(&f, 10, "old"));
	assert_true(fixture_new_domain(&f, 11, "new"));
	assert_true(fixture_new_domain(&f, 12, "appliance"));
	assert_true(fixture_new_domain(&f, 13, "bare"));
	guest_tools(10, "8", "2");
	ev = client_wait_change(&f.sub, 10, "pv_drivers_version", TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	yajl_tree_free(ev);
	guest_tools(11, "9", "1");
	ev = client_wait_change(&f.sub, 11, "pv_drivers_up_to_date", TIMEOUT_MS);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(ev);
	guest_tools(12, "6", "2");
	client_mark(&f.ctl, &m);
	assert_int_equal(sandbox_test_guest(f.dir, 12, "attr/PVAddons/NotUpgradable", "1"), 0);
	assert_true(client_wait_read(&f.ctl, &m, 1, 12, TIMEOUT_MS));
	ev = client_wait_change(&f.sub, 12, "pv_drivers_up_to_date", TIMEOUT_MS);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 1);
	yajl_tree_free(ev);
	/* Whatever else those writes published is behind us. */
	yajl_tree_free(client_call(&f.sub, "{\"cmd\":\"ping\",\"id\":\"drain\"}"));

	/* A good reload: against 8.0 only domain 10 changes, and says so once. */
	write_config("[settle]\nquiet_ms = 100\n[metrics]\nreference_version = 8.0\n");
	assert_int_equal(kill(f.xgmd.pid, SIGHUP), 0);
	wait_reloads(1);
	expect_up_to_date(10, 1);
	assert_true(client_ping_quiet(&f.sub, ANY_DOMAIN));

	/* A bad file: one line saying why, and 8.0 still rules. */
	write_config("[metrics]\nreference_version = 10.0\nthis is not a line\n");
	assert_int_equal(kill(f.xgmd.pid, SIGHUP), 0);
	wait_log("reload rejected, keeping the running configuration: ");
	assert_true(log_has("reload.conf:3:"));
	assert_int_equal(client_stat(&f.ctl, "engine", "reloads"), 1);
	assert_true(client_ping_quiet(&f.sub, ANY_DOMAIN));
	/* A value only the engine can check is rejected the same way. */
	write_config("[metrics]\nreference_version = not.a.version\n");
	assert_int_equal(kill(f.xgmd.pid, SIGHUP), 0);
	wait_log("'not.a.version' is not a version");
	assert_int_equal(client_stat(&f.ctl, "engine", "reloads"), 1);

	/* Back to 9.0: domain 10 flips back, nobody else moves. */
	write_config("[settle]\nquiet_ms = 100\n[metrics]\nreference_version = 9.0\n");
	assert_int_equal(kill(f.xgmd.pid, SIGHUP), 0);
	wait_reloads(2);
	expect_up_to_date(10, 0);
	assert_true(client_ping_quiet(&f.sub, ANY_DOMAIN));

	/* The socket cannot change while running: logged, and kept. */
	write_config("[daemon]\nsocket_mode = 0600\n[settle]\nquiet_ms = 100\n"
		     "[metrics]\nreference_version = 9.0\n");
	assert_int_equal(kill(f.xgmd.pid, SIGHUP), 0);
	wait_reloads(3);
	assert_true(log_has("changes only at restart; keeping"));
	client_close(&f.ctl);
	assert_true(client_open(&f.ctl, f.xgmd.socket));
	assert_int_equal(client_stat(&f.ctl, "engine", "reloads"), 3);
	assert_true(client_ping_quiet(&f.sub, ANY_DOMAIN));
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	return fixture_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reload, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

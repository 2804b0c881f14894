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
/* Longer than a settle period: what has not come by then is not coming. */
#define QUIET_MS 600

static char dir[PATH_MAX], conf[PATH_MAX + 16], log_path[PATH_MAX + 16];
static struct xs_handle *xs;
static struct xgmd daemon_;
static struct client sub, ctl;

static void write_config(const char *text)
{
	char tmp[sizeof(conf) + 4];
	FILE *f;

	/* Renamed into place, as an editor or a package does: never half a file. */
	snprintf(tmp, sizeof(tmp), "%s.new", conf);
	f = fopen(tmp, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, conf), 0);
}

static long long reloads(void)
{
	yajl_val v = client_call(&ctl, "{\"cmd\":\"stats\",\"id\":2}");
	long long n = json_int(json_get(v, "engine", NULL), "reloads", NULL);

	yajl_tree_free(v);
	return n;
}

static void wait_reloads(long long n)
{
	for (int i = 0; i < TIMEOUT_MS / 10 && reloads() < n; i++)
		usleep(10000);
	assert_int_equal(reloads(), n);
}

/* Whether the log has a line holding text (xgmd writes each line whole). */
static bool log_has(const char *text)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(log_path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* True when no event about any domain arrives within ms. */
static bool all_quiet(int ms)
{
	yajl_val v = client_next(&sub, ms);

	if (v) {
		fprintf(stderr, "unexpected event for domain %lld\n", json_int(v, "domain", "id"));
		yajl_tree_free(v);
	}
	return v == NULL;
}

static void ctl_connect(void)
{
	yajl_val hello = client_connect(&ctl, daemon_.socket);

	assert_non_null(hello);
	yajl_tree_free(hello);
}

static void guest_tools(unsigned int domid, const char *major, const char *minor)
{
	assert_int_equal(sandbox_test_guest(dir, domid, "attr/PVAddons/MajorVersion", major), 0);
	assert_int_equal(sandbox_test_guest(dir, domid, "attr/PVAddons/MinorVersion", minor), 0);
	assert_int_equal(sandbox_test_guest(dir, domid, "attr/PVAddons/MicroVersion", "0"), 0);
	assert_int_equal(sandbox_test_guest(dir, domid, "attr/PVAddons/BuildVersion", "1"), 0);
}

static void expect_up_to_date(unsigned int domid, int up_to_date)
{
	yajl_val ev = client_wait_event(&sub, "domain.metrics", domid, TIMEOUT_MS);

	assert_non_null(ev);
	assert_true(json_changed(ev, "pv_drivers_up_to_date"));
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), up_to_date);
	yajl_tree_free(ev);
}

static void adopt(unsigned int domid, const char *name)
{
	yajl_val ev;

	assert_int_equal(sandbox_domain_create(dir, xs, domid, name, true), 0);
	ev = client_wait_event(&sub, "domain.new", domid, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);
}

static void test_reload(void **state)
{
	yajl_val ev;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	snprintf(conf, sizeof(conf), "%s/reload.conf", dir);
	snprintf(log_path, sizeof(log_path), "%s/xgmd.log", dir);
	write_config("[settle]\nquiet_ms = 100\n[metrics]\nreference_version = 9.0\n");
	daemon_.config = conf;
	xgmd_start(&daemon_, dir, "xgmd", NULL);
	assert_true(client_subscribe(&sub, daemon_.socket, SUBSCRIBE_METRICS));
	ctl_connect();

	/* 10: tools 8.2; 11: 9.1; 12: 6.2 but not upgradable; 13: no tools. */
	adopt(10, "old");
	adopt(11, "new");
	adopt(12, "appliance");
	adopt(13, "bare");
	guest_tools(10, "8", "2");
	ev = client_wait_event(&sub, "domain.metrics", 10, TIMEOUT_MS);
	assert_non_null(ev);
	assert_int_equal(json_bool(ev, "data", "pv_drivers_up_to_date"), 0);
	yajl_tree_free(ev);
	guest_tools(11, "9", "1");
	expect_up_to_date(11, 1);
	guest_tools(12, "6", "2");
	assert_int_equal(sandbox_test_guest(dir, 12, "attr/PVAddons/NotUpgradable", "1"), 0);
	expect_up_to_date(12, 1);

	/* A good reload: against 8.0 only domain 10 changes, and says so once. */
	write_config("[settle]\nquiet_ms = 100\n[metrics]\nreference_version = 8.0\n");
	assert_int_equal(kill(daemon_.pid, SIGHUP), 0);
	wait_reloads(1);
	expect_up_to_date(10, 1);
	assert_true(all_quiet(QUIET_MS));

	/* A bad file: one line saying why, and 8.0 still rules. */
	write_config("[metrics]\nreference_version = 10.0\nthis is not a line\n");
	assert_int_equal(kill(daemon_.pid, SIGHUP), 0);
	for (int i = 0; i < TIMEOUT_MS / 10 && !log_has("reload rejected"); i++)
		usleep(10000);
	assert_true(log_has("reload rejected, keeping the running configuration: "));
	assert_true(log_has("reload.conf:3:"));
	assert_int_equal(reloads(), 1);
	assert_true(all_quiet(QUIET_MS));
	/* A value only the engine can check is rejected the same way. */
	write_config("[metrics]\nreference_version = not.a.version\n");
	assert_int_equal(kill(daemon_.pid, SIGHUP), 0);
	for (int i = 0; i < TIMEOUT_MS / 10 && !log_has("'not.a.version' is not a version"); i++)
		usleep(10000);
	assert_true(log_has("'not.a.version' is not a version"));
	assert_int_equal(reloads(), 1);

	/* Back to 9.0: domain 10 flips back, nobody else moves. */
	write_config("[settle]\nquiet_ms = 100\n[metrics]\nreference_version = 9.0\n");
	assert_int_equal(kill(daemon_.pid, SIGHUP), 0);
	wait_reloads(2);
	expect_up_to_date(10, 0);
	assert_true(all_quiet(QUIET_MS));

	/* The socket cannot change while running: logged, and kept. */
	write_config("[daemon]\nsocket_mode = 0600\n[settle]\nquiet_ms = 100\n"
		     "[metrics]\nreference_version = 9.0\n");
	assert_int_equal(kill(daemon_.pid, SIGHUP), 0);
	wait_reloads(3);
	assert_true(log_has("changes only at restart; keeping"));
	client_close(&ctl);
	ctl_connect();
	assert_int_equal(reloads(), 3);
	assert_true(all_quiet(QUIET_MS));

	client_close(&ctl);
	client_close(&sub);
	assert_int_equal(xgmd_stop(&daemon_), 0);
	xs_close(xs);
	sandbox_test_stop(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * A wedged xenstored (SIGSTOP) with a guest's writes pending: xgmd's loop
 * never waits for it. Every ping is answered, stats say "stalled", and
 * after SIGCONT every change written before the stop is published, and
 * nothing twice.
 * SIGTERM is honoured while xenstored is stopped.
 *
 * XGM_WEDGED_HOLD_MS (default 1000) is how long xenstored stays stopped
 * while pings go on; docs/robustness.md reports a run with 20000.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox.h"
#include "util/time.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000
#define DOMID 40
#define PINGS 50


static struct fixture f;
static int xenstored_pid;

static int setup(void **state)
{
	/* Writes settle for long enough to be pending when xenstored stops. */
	static const char *const sets[] = {
		"settle.quiet_ms=300", "settle.max_wait_ms=1000",
		"xenstore.request_timeout_ms=200", "xenstore.liveness_ms=100", NULL,
	};

	fixture_start(&f, sets, SUBSCRIBE_ALL);
	assert_true(fixture_new_domain(&f, DOMID, "patient"));
	xenstored_pid = sandbox_pid(f.dir);
	assert_true(xenstored_pid > 0);
	return 0;
}

static int teardown(void **state)
{
	/* Whatever failed, xenstored must run again for the clean-up. */
	if (xenstored_pid > 0)
		kill(xenstored_pid, SIGCONT);
	return fixture_stop(&f);
}

static void stop_xenstored_with_writes_pending(const char *free_kib)
{
	assert_int_equal(sandbox_test_guest(f.dir, DOMID, "data/meminfo_total", "4194304"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, DOMID, "data/meminfo_free", free_kib), 0);
	assert_int_equal(kill(xenstored_pid, SIGSTOP), 0);
	/* The batch's read, or the liveness probe, waits past the request timeout. */
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "xenstore_stalled", 1, TIMEOUT_MS));
}

static void test_wedged_then_resumed(void **state)
{
	const char *hold_env = getenv("XGM_WEDGED_HOLD_MS");
	long long hold = hold_env ? atoll(hold_env) : 1000, until, slowest = 0;
	char line[64];
	yajl_val v;
	int sent = 0, answered = 0;

	stop_xenstored_with_writes_pending("1048576");
	/* Served all along, with the last known state. */
	until = monotonic_ms() + hold;
	while (sent < PINGS || monotonic_ms() < until) {
		long long start = monotonic_ms();

		snprintf(line, sizeof(line), "{\"cmd\":\"ping\",\"id\":%d}", sent++);
		v = client_call(&f.ctl, line);
		answered += v && json_bool(v, "ok", NULL) == 1;
		yajl_tree_free(v);
		if (monotonic_ms() - start > slowest)
			slowest = monotonic_ms() - start;
	}
	printf("xenstored stopped %lld ms: %d of %d pings answered, the slowest in %lld ms\n",
	       hold, answered, sent, slowest);
	assert_int_equal(answered, sent);
	v = client_call(&f.ctl, "{\"cmd\":\"get\",\"id\":1,\"domain\":40}");
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	assert_string_equal(json_str(v, "domain", "name"), "patient");
	yajl_tree_free(v);
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_stalled"), 1);
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connected"), 1);

	/*
	 * It resumes: the pending writes are read and published. One event
	 * when xgmd had both writes' watch events before the stop, two when
	 * xenstored was stopped before it sent the second: never more.
	 */
	assert_int_equal(kill(xenstored_pid, SIGCONT), 0);
	for (int events = 0;; events++) {
		long long total, free_kib;

		assert_true(events < 2);
		v = client_wait_change(&f.sub, DOMID, "memory", TIMEOUT_MS);
		assert_non_null(v);
		total = json_int(json_get(v, "data", "memory"), "total_kib", NULL);
		free_kib = json_int(json_get(v, "data", "memory"), "free_kib", NULL);
		yajl_tree_free(v);
		assert_int_equal(total, 4194304);
		if (free_kib == 1048576)
			break;
	}
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "xenstore_stalled", 0, TIMEOUT_MS));
	assert_true(client_wait_domain_state(&f.ctl, DOMID, "idle", TIMEOUT_MS));
	assert_true(client_ping_quiet(&f.sub, DOMID));
	assert_true(client_stat(&f.ctl, "engine", "xenstore_stalls") >= 1);
	/* Never taken for a lost connection. */
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connects"), 1);
}

static void test_sigterm_while_wedged(void **state)
{
	long long start;

	stop_xenstored_with_writes_pending("2048");
	start = monotonic_ms();
	/* SIGTERM, and a clean exit (xgmd_stop waits 5 s at most). */
	assert_int_equal(xgmd_stop(&f.xgmd), 0);
	/* A figure, not a pass mark: the issue asks for under a second. */
	printf("xgmd exited %lld ms after SIGTERM, xenstored stopped\n", monotonic_ms() - start);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wedged_then_resumed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_while_wedged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

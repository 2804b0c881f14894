/*
 * Adopting and re-reading every domain takes xgmd ~70 requests per domain:
 * seconds on a busy host. It does that in slices from its loop, so clients
 * are served and signals handled meanwhile, and a connection lost in the
 * middle of a pass ends it: the next connection's pass starts over and
 * misses nothing.
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
#include <sys/socket.h>
#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

/* Enough domains and keys that a pass spans many turns of xgmd's loop. */
#define DOMAINS 150
#define KEYS 30
#define FIRST_DOMID 1
/* Hang-stoppers only: nothing here is timed. */
#define TIMEOUT_MS 8000
#define PASS_TIMEOUT_S 120

/* f.sub is subscribed by each test itself, when it needs to be. */
static struct fixture f;

/* A domain's memory, so that its keys can be told from another's. */
static unsigned int memory_of(unsigned int domid, unsigned int generation)
{
	return domid * 1024 + generation;
}

/* The toolstack creates the domain, and KEYS keys appear as an agent would write them. */
static void make_domain(struct xs_handle *xs, unsigned int domid, unsigned int generation)
{
	char name[32], path[64], value[32];
	xs_transaction_t t;

	snprintf(name, sizeof(name), "guest%u", domid);
	assert_int_equal(sandbox_domain_create(f.dir, xs, domid, name, true), 0);
	/* Written as dom0 in one transaction: a quick set-up. */
	t = xs_transaction_start(xs);
	assert_true(t != XBT_NULL);
	for (unsigned int k = 0; k < KEYS - 1; k++) {
		snprintf(path, sizeof(path), "/local/domain/%u/data/k%u", domid, k);
		assert_true(xs_write(xs, t, path, "v", 1));
	}
	snprintf(path, sizeof(path), "/local/domain/%u/data/meminfo_total", domid);
	snprintf(value, sizeof(value), "%u", memory_of(domid, generation));
	assert_true(xs_write(xs, t, path, value, strlen(value)));
	assert_true(xs_transaction_end(xs, t, false));
}

static void make_domains(struct xs_handle *xs, unsigned int skip, unsigned int bumped)
{
	for (unsigned int domid = FIRST_DOMID; domid < FIRST_DOMID + DOMAINS; domid++)
		if (domid != skip)
			make_domain(xs, domid, domid == bumped);
}

/* Waits for the connects-th connection's pass to have read every domain. */
static void wait_pass_done(long long connects, long long domains)
{
	int timeout_ms = PASS_TIMEOUT_S * 1000;

	/* Once connects moved, its pass is queued: no domain pending is then a fact. */
	assert_true(client_wait_stat_at_least(&f.ctl, "engine", "xenstore_connects", connects,
					      timeout_ms));
	assert_true(client_wait_stat_equal(&f.ctl, "engine", "resync_pending", 0, timeout_ms));
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connects"), connects);
	assert_int_equal(client_stat(&f.ctl, "engine", "xenstore_connected"), 1);
	assert_int_equal(client_stat(&f.ctl, "engine", "domains"), domains);
}

/*
 * Waits for the connects-th connection and checks that its pass is still
 * under way: a pass over DOMAINS * KEYS keys lasts far longer than the
 * round trips that see it start. Had it ended first, the test could not do
 * what it is for, and says so at once rather than wait for its deadline.
 */
static void wait_pass_running(long long connects)
{
	yajl_val v;

	assert_true(client_wait_stat_at_least(&f.ctl, "engine", "xenstore_connects", connects,
					      PASS_TIMEOUT_S * 1000));
	v = client_call(&f.ctl, "{\"cmd\":\"stats\",\"id\":\"running\"}");
	assert_int_equal(json_int(json_get(v, "engine", NULL), "xenstore_connects", NULL), connects);
	if (json_int(json_get(v, "engine", NULL), "resync_pending", NULL) <= 0)
		fail_msg("connection %lld's pass ended before the test saw it under way", connects);
	yajl_tree_free(v);
}

/*
 * The next line; a domain event in it is recorded in seen (indexed by
 * domid), where n_seen counts them. Snapshot and domain.new events
 * together name each domain exactly once.
 */
static yajl_val next_line(struct client *c, bool *seen, long long *n_seen)
{
	yajl_val v = client_next(c, TIMEOUT_MS);
	const char *type = json_str(v, "type", NULL);
	long long domid;

	assert_non_null(v);
	if (!type || strcmp(type, "event") != 0)
		return v;
	domid = json_int(v, "domain", "id");
	assert_true(domid >= 0 && domid < FIRST_DOMID + DOMAINS);
	assert_false(seen[domid]);
	seen[domid] = true;
	(*n_seen)++;
	return v;
}

/* The next line that is not an event: a reply, or snapshot-end. */
static yajl_val next_message(struct client *c, bool *seen, long long *n_seen)
{
	for (;;) {
		yajl_val v = next_line(c, seen, n_seen);

		if (strcmp(json_str(v, "type", NULL), "event") != 0)
			return v;
		yajl_tree_free(v);
	}
}

static void test_loop_serves_clients_during_pass(void **state)
{
	/* Sent at once so that xgmd answers them in one turn, between two slices. */
	static const char lines[] =
		"{\"cmd\":\"ping\",\"id\":1}\n"
		"{\"cmd\":\"subscribe\",\"id\":2,\"filter\":{\"events\":[\"domain.new\"]}}\n"
		"{\"cmd\":\"stats\",\"id\":3}\n";
	bool seen[FIRST_DOMID + DOMAINS] = { false };
	long long pending, known, n_seen = 0;
	yajl_val v;

	fixture_start_sandbox(&f);
	make_domains(f.xs, 0, 0);
	fixture_start_xgmd(&f, NULL, NULL);

	/* A ping reply and a snapshot while the first pass is still going. */
	assert_int_equal(send(f.sub.fd, lines, sizeof(lines) - 1, MSG_NOSIGNAL),
			 (ssize_t)(sizeof(lines) - 1));
	v = next_message(&f.sub, seen, &n_seen);
	assert_int_equal(json_int(v, "id", NULL), 1);
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);
	v = next_message(&f.sub, seen, &n_seen);
	assert_int_equal(json_int(v, "id", NULL), 2);
	yajl_tree_free(v);
	v = next_message(&f.sub, seen, &n_seen);
	assert_string_equal(json_str(v, "type", NULL), "snapshot-end");
	yajl_tree_free(v);
	v = next_message(&f.sub, seen, &n_seen);
	assert_int_equal(json_int(v, "id", NULL), 3);
	pending = json_int(json_get(v, "engine", NULL), "resync_pending", NULL);
	known = json_int(json_get(v, "engine", NULL), "domains", NULL);
	yajl_tree_free(v);
	assert_true(pending > 0);
	/*
	 * The snapshot held what was known; the rest (dom0 included) is
	 * pending, or, before the connection's listing is answered, the
	 * listing itself counts as one.
	 */
	assert_int_equal(n_seen, known);
	if (known + pending != DOMAINS + 1)
		assert_true(known == 0 && pending == 1);

	/* The others come as domain.new, each once, until every domain is known. */
	while (n_seen < DOMAINS + 1)
		yajl_tree_free(next_line(&f.sub, seen, &n_seen));

	/* And each was read whole: its own memory, and every key. */
	wait_pass_done(1, DOMAINS + 1);
	for (unsigned int domid = FIRST_DOMID; domid < FIRST_DOMID + DOMAINS; domid++) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "{\"cmd\":\"get\",\"id\":4,\"domain\":%u}", domid);
		v = client_call(&f.ctl, cmd);
		assert_int_equal(json_int(json_get(v, "data", "memory"), "total_kib", NULL),
				 memory_of(domid, 0));
		yajl_tree_free(v);
	}
	assert_true(client_stat(&f.ctl, "engine", "keys_read") >= DOMAINS * KEYS);
	assert_int_equal(client_stat(&f.ctl, "engine", "domains_new"), DOMAINS + 1);
}

/* SIGTERM in the middle of a pass: a clean exit, without waiting for the pass. */
static void test_stop_during_pass(void **state)
{
	fixture_start_sandbox(&f);
	make_domains(f.xs, 0, 0);
	fixture_start_xgmd(&f, NULL, NULL);
	wait_pass_running(1);
	assert_int_equal(xgmd_stop(&f.xgmd), 0);
}

/*
 * xenstored restarts while xgmd is paused, and the toolstack rebuilds every
 * domain as it was; xgmd notices when it continues, and reconnects.
 */
static void restart_xenstored(unsigned int skip, unsigned int bumped)
{
	struct sandbox_options opts;

	sandbox_default_options(&opts);
	assert_int_equal(kill(f.xgmd.pid, SIGSTOP), 0);
	xs_close(f.xs);
	f.xs = NULL;
	assert_int_equal(sandbox_stop(f.dir), 0);
	assert_int_equal(sandbox_start(f.dir, &opts), 0);
	f.xs = sandbox_connect(f.dir);
	assert_non_null(f.xs);
	make_domains(f.xs, skip, bumped);
	assert_int_equal(kill(f.xgmd.pid, SIGCONT), 0);
}

static void test_restart_during_pass(void **state)
{
	static const char *const sets[] = {
		"xenstore.liveness_ms=50", "xenstore.reconnect_min_ms=50",
		"xenstore.reconnect_max_ms=200", NULL,
	};
	const unsigned int dropped = FIRST_DOMID + DOMAINS - 1, bumped = FIRST_DOMID;
	bool gone = false, changed = false;
	yajl_val v;

	fixture_start_sandbox(&f);
	make_domains(f.xs, 0, 0);
	fixture_start_xgmd(&f, sets, NULL);
	wait_pass_done(1, DOMAINS + 1);
	v = client_call(&f.sub, SUBSCRIBE_ALL);
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);

	/* Every domain comes back as it was; xenstored goes again in the middle of the pass. */
	restart_xenstored(0, 0);
	wait_pass_running(2);
	/* This time one domain does not come back and another one changed. */
	restart_xenstored(dropped, bumped);

	/* The third connection's pass reads all, what the second never reached too. */
	wait_pass_done(3, DOMAINS);
	/* Two events in all: no domain was announced twice, lost or re-read wrongly. */
	while (!gone || !changed) {
		v = client_next(&f.sub, TIMEOUT_MS);
		assert_non_null(v);
		if (json_int(v, "domain", "id") == dropped) {
			assert_string_equal(json_str(v, "event", NULL), "domain.gone");
			assert_false(gone);
			gone = true;
		} else {
			assert_int_equal(json_int(v, "domain", "id"), bumped);
			assert_string_equal(json_str(v, "event", NULL), "domain.metrics");
			assert_int_equal(json_int(json_get(v, "data", "memory"), "total_kib", NULL),
					 memory_of(bumped, 1));
			assert_false(changed);
			changed = true;
		}
		yajl_tree_free(v);
	}
	/* The pass was over before the events were read: nothing else can be on its way. */
	assert_true(client_ping_quiet(&f.sub, ANY_DOMAIN));
	assert_int_equal(client_stat(&f.ctl, "engine", "domains_new"), DOMAINS + 1);
	assert_int_equal(client_stat(&f.ctl, "engine", "domains_gone"), 1);
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	if (f.xgmd.pid > 0)
		kill(f.xgmd.pid, SIGCONT);	/* a stopped xgmd would not see SIGTERM */
	return fixture_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_loop_serves_clients_during_pass, teardown),
		cmocka_unit_test_teardown(test_stop_during_pass, teardown),
		cmocka_unit_test_teardown(test_restart_during_pass, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

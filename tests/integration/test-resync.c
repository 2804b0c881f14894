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
#include <time.h>
#include <unistd.h>
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

static char dir[PATH_MAX];
static struct xgmd daemon_;
static struct client ctl = { .fd = -1 }, sub = { .fd = -1 };

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
	assert_int_equal(sandbox_domain_create(dir, xs, domid, name, true), 0);
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

static yajl_val stats(void)
{
	yajl_val v = client_call(&ctl, "{\"cmd\":\"stats\",\"id\":\"stats\"}");

	assert_non_null(v);
	return v;
}

static long long engine_stat(yajl_val stats_reply, const char *name)
{
	return json_int(json_get(stats_reply, "engine", NULL), name, NULL);
}

/* Waits for xgmd to be connected (for the connects-th time) with no domain left to read. */
static void wait_pass_done(long long connects, long long domains)
{
	time_t deadline = time(NULL) + PASS_TIMEOUT_S;

	for (;;) {
		yajl_val v = stats();
		int connected = json_bool(json_get(v, "engine", NULL), "xenstore_connected", NULL);
		bool done = connected == 1 && engine_stat(v, "xenstore_connects") == connects &&
			engine_stat(v, "resync_pending") == 0;
		long long n = engine_stat(v, "domains");

		yajl_tree_free(v);
		if (done) {
			assert_int_equal(n, domains);
			return;
		}
		assert_true(time(NULL) < deadline);
		usleep(5000);
	}
}

/* Polls until the connects-th connection's pass is under way. */
static void wait_pass_running(long long connects)
{
	time_t deadline = time(NULL) + PASS_TIMEOUT_S;

	for (;;) {
		yajl_val v = stats();
		bool running = engine_stat(v, "xenstore_connects") == connects &&
			engine_stat(v, "resync_pending") > 0;

		yajl_tree_free(v);
		if (running)
			return;
		assert_true(time(NULL) < deadline);
	}
}

static void connect_client(struct client *c)
{
	yajl_val v = client_connect(c, daemon_.socket);

	assert_non_null(v);
	assert_string_equal(json_str(v, "type", NULL), "hello");
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
	struct xs_handle *xs;
	yajl_val v;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	assert_non_null(xs);
	make_domains(xs, 0, 0);
	xgmd_start(&daemon_, dir, "xgmd", NULL);

	/* Hello, a ping reply and a snapshot while the first pass is still going. */
	connect_client(&sub);
	assert_int_equal(send(sub.fd, lines, sizeof(lines) - 1, MSG_NOSIGNAL),
			 (ssize_t)(sizeof(lines) - 1));
	v = next_message(&sub, seen, &n_seen);
	assert_int_equal(json_int(v, "id", NULL), 1);
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);
	v = next_message(&sub, seen, &n_seen);
	assert_int_equal(json_int(v, "id", NULL), 2);
	yajl_tree_free(v);
	v = next_message(&sub, seen, &n_seen);
	assert_string_equal(json_str(v, "type", NULL), "snapshot-end");
	yajl_tree_free(v);
	v = next_message(&sub, seen, &n_seen);
	assert_int_equal(json_int(v, "id", NULL), 3);
	pending = engine_stat(v, "resync_pending");
	known = engine_stat(v, "domains");
	yajl_tree_free(v);
	assert_true(pending > 0);
	/* The snapshot held what was known; the rest (dom0 included) is pending. */
	assert_int_equal(n_seen, known);
	assert_int_equal(known + pending, DOMAINS + 1);

	/* The others come as domain.new, each once, until every domain is known. */
	while (n_seen < DOMAINS + 1)
		yajl_tree_free(next_line(&sub, seen, &n_seen));

	/* And each was read whole: its own memory, and every key. */
	connect_client(&ctl);
	wait_pass_done(1, DOMAINS + 1);
	for (unsigned int domid = FIRST_DOMID; domid < FIRST_DOMID + DOMAINS; domid++) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "{\"cmd\":\"get\",\"id\":4,\"domain\":%u}", domid);
		v = client_call(&ctl, cmd);
		assert_int_equal(json_int(json_get(v, "data", "memory"), "total_kib", NULL),
				 memory_of(domid, 0));
		yajl_tree_free(v);
	}
	v = stats();
	assert_true(engine_stat(v, "keys_read") >= DOMAINS * KEYS);
	assert_int_equal(engine_stat(v, "domains_new"), DOMAINS + 1);
	yajl_tree_free(v);
	xs_close(xs);
}

/* SIGTERM in the middle of a pass: a clean exit, without waiting for the pass. */
static void test_stop_during_pass(void **state)
{
	struct xs_handle *xs;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	assert_non_null(xs);
	make_domains(xs, 0, 0);
	xgmd_start(&daemon_, dir, "xgmd", NULL);
	connect_client(&ctl);
	wait_pass_running(1);
	client_close(&ctl);
	assert_int_equal(xgmd_stop(&daemon_), 0);
	xs_close(xs);
}

/*
 * xenstored restarts while xgmd is paused, and the toolstack rebuilds every
 * domain as it was; xgmd notices when it continues, and reconnects.
 */
static struct xs_handle *restart_xenstored(struct xs_handle *xs, unsigned int skip,
					   unsigned int bumped)
{
	struct sandbox_options opts;

	sandbox_default_options(&opts);
	assert_int_equal(kill(daemon_.pid, SIGSTOP), 0);
	xs_close(xs);
	assert_int_equal(sandbox_stop(dir), 0);
	assert_int_equal(sandbox_start(dir, &opts), 0);
	xs = sandbox_connect(dir);
	assert_non_null(xs);
	make_domains(xs, skip, bumped);
	assert_int_equal(kill(daemon_.pid, SIGCONT), 0);
	return xs;
}

static void test_restart_during_pass(void **state)
{
	static const char *const sets[] = {
		"xenstore.liveness_ms=50", "xenstore.reconnect_min_ms=50",
		"xenstore.reconnect_max_ms=200", NULL,
	};
	const unsigned int dropped = FIRST_DOMID + DOMAINS - 1, bumped = FIRST_DOMID;
	bool gone = false, changed = false;
	struct xs_handle *xs;
	yajl_val v;

	sandbox_test_start(dir);
	xs = sandbox_connect(dir);
	assert_non_null(xs);
	make_domains(xs, 0, 0);
	xgmd_start(&daemon_, dir, "xgmd", sets);
	connect_client(&ctl);
	wait_pass_done(1, DOMAINS + 1);
	connect_client(&sub);
	v = client_call(&sub, "{\"cmd\":\"subscribe\",\"id\":1,\"snapshot\":false}");
	assert_int_equal(json_bool(v, "ok", NULL), 1);
	yajl_tree_free(v);

	/* Every domain comes back as it was; xenstored goes again in the middle of the pass. */
	xs = restart_xenstored(xs, 0, 0);
	wait_pass_running(2);
	/* This time one domain does not come back and another one changed. */
	xs = restart_xenstored(xs, dropped, bumped);

	/* The third connection's pass reads all, what the second never reached too. */
	wait_pass_done(3, DOMAINS);
	/* Two events in all: no domain was announced twice, lost or re-read wrongly. */
	while (!gone || !changed) {
		v = client_next(&sub, TIMEOUT_MS);
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
	v = client_next(&sub, 1000);
	if (v)
		fprintf(stderr, "unexpected: %s %s about domain %lld\n", json_str(v, "type", NULL),
			json_str(v, "event", NULL), json_int(v, "domain", "id"));
	assert_null(v);
	v = stats();
	assert_int_equal(engine_stat(v, "domains_new"), DOMAINS + 1);
	assert_int_equal(engine_stat(v, "domains_gone"), 1);
	yajl_tree_free(v);
	xs_close(xs);
}

/* Also after a failed assertion: nothing may outlive the test. */
static int teardown(void **state)
{
	int r = 0;

	client_close(&ctl);
	client_close(&sub);
	if (daemon_.pid > 0)
		kill(daemon_.pid, SIGCONT);	/* a stopped xgmd would not see SIGTERM */
	r |= xgmd_stop(&daemon_);
	sandbox_test_stop(dir);
	return r;
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

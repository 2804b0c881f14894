/*
 * A connect/close flood from one client against the real xgmd: 50
 * legitimate clients still get in, a subscriber still gets a guest's
 * events, and the log grows by a few lines, not by one per refusal.
 * Prints the figures of docs/robustness.md ("Client floods"); asserts
 * counts only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "guest.h"
#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"
#include "util/time.h"

#define TIMEOUT_MS 10000
#define MAX_CLIENTS 64
#define LEGIT_CLIENTS 50
#define KICKS 4
/* How long the flood lasts at least; the legitimate clients come during it. */
#define FLOOD_MS 3000
/* The server's REFUSAL_LOG_INTERVAL_MS. */
#define REFUSAL_LOG_INTERVAL_MS 10000

/* At info, as in production: debug would log every connection. */
static struct fixture f = { .log_level = "info" };

static int setup(void **state)
{
	static const char *const sets[] = { "limits.max_clients=64", NULL };

	fixture_start(&f, sets, SUBSCRIBE_ALL);
	return 0;
}

static int teardown(void **state)
{
	return fixture_stop(&f);
}

/* Every connection xgmd took from its backlog: admitted, refused, or found closed already. */
static long long connections_seen(void)
{
	return client_stat(&f.ctl, "server", "clients_accepted") + client_stat(&f.ctl, "server", "clients_rejected") +
	       client_stat(&f.ctl, "server", "clients_hung_up");
}

/* The log's lines: all of them, and those saying a client was refused. */
static void count_log(size_t *lines, size_t *refusals)
{
	char path[PATH_MAX + 16], buf[4096];
	FILE *file;

	snprintf(path, sizeof(path), "%s/xgmd.log", f.dir);
	file = fopen(path, "r");
	assert_non_null(file);
	*lines = *refusals = 0;
	while (fgets(buf, sizeof(buf), file)) {
		if (strchr(buf, '\n'))
			(*lines)++;
		if (strstr(buf, "refusing a client"))
			(*refusals)++;
	}
	fclose(file);
}

/* Says which client failed and how, with the end of xgmd's log, before the assertion stops the test. */
static void print_failure(const char *fmt, ...)
{
	char path[PATH_MAX + 16], cmd[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s)\n", strerror(errno));
	snprintf(path, sizeof(path), "%s/xgmd.log", f.dir);
	snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' >&2", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot show %s\n", path);
}

/* Connects and closes as fast as it can until killed; exits with nothing to say. */
static pid_t start_flooder(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t pid;

	strcpy(sa.sun_path, f.xgmd.socket);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	/* Never outlive the test, whatever assertion ends it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0) {
			connect(fd, (struct sockaddr *)&sa, sizeof(sa));
			close(fd);
		}
	}
}

/* A guest kick (a value, then data/updated) and the time until its event. */
static double kick_delay(struct guest *g, unsigned int domid, int n)
{
	char value[32];
	double t0;
	yajl_val v;

	snprintf(value, sizeof(value), "%d", 1000 + n);
	t0 = monotonic_ms_exact();
	assert_int_equal(guest_write(g, 0, "data/meminfo_free", value, strlen(value)), 0);
	assert_int_equal(guest_write(g, 0, "data/updated", value, strlen(value)), 0);
	v = client_wait_event(&f.sub, "domain.metrics", domid, TIMEOUT_MS);
	assert_non_null(v);
	yajl_tree_free(v);
	return monotonic_ms_exact() - t0;
}

static void test_connect_close_flood(void **state)
{
	struct client *legit = calloc(LEGIT_CLIENTS, sizeof(*legit));
	double rest_max = 0, flood_max = 0, connect_max = 0, t_start, t_end;
	size_t lines0, refusals0, lines1, refusals1;
	long long seen0, seen1, accepted0, accepted1, rejected, hung_up;
	int hellos = 0, refused = 0, kicks = 0, pings = 0, status;
	double ping_max = 0;
	struct guest *quiet, *busy;
	pid_t flooder;
	yajl_val v;

	assert_non_null(legit);
	/* Two domains, so that each stays within any per-domain publication limit. */
	assert_true(fixture_new_domain(&f, 40, "at-rest"));
	assert_true(fixture_new_domain(&f, 41, "under-flood"));
	quiet = guest_open(f.dir, 40);
	busy = guest_open(f.dir, 41);
	assert_non_null(quiet);
	assert_non_null(busy);
	for (int i = 0; i < KICKS; i++) {
		double d = kick_delay(quiet, 40, i);

		rest_max = d > rest_max ? d : rest_max;
	}

	count_log(&lines0, &refusals0);
	accepted0 = client_stat(&f.ctl, "server", "clients_accepted");
	seen0 = connections_seen();
	t_start = monotonic_ms_exact();
	flooder = start_flooder();
	/* The flood is under way once xgmd has seen a thousand of its connections. */
	while (connections_seen() < seen0 + 1000)
		assert_true(monotonic_ms_exact() - t_start < TIMEOUT_MS);

	/* Newcomers one by one, the subscriber's round trips between them, for FLOOD_MS. */
	for (int i = 0; i < LEGIT_CLIENTS || monotonic_ms_exact() - t_start < FLOOD_MS; i++) {
		double t0 = monotonic_ms_exact();

		if (i < LEGIT_CLIENTS) {
			const char *type;

			v = client_connect(&legit[i], f.xgmd.socket);
			connect_max = monotonic_ms_exact() - t0 > connect_max ? monotonic_ms_exact() - t0 : connect_max;
			type = v ? json_str(v, "type", NULL) : NULL;
			if (type && strcmp(type, "hello") == 0)
				hellos++;
			else
				refused++;
			yajl_tree_free(v);
		}
		if (i % (LEGIT_CLIENTS / KICKS + 1) == 0 && kicks < KICKS) {
			double d = kick_delay(busy, 41, kicks++);

			flood_max = d > flood_max ? d : flood_max;
		}
		t0 = monotonic_ms_exact();
		v = client_call(&f.sub, "{\"cmd\":\"ping\",\"id\":4}");
		assert_non_null(v);
		yajl_tree_free(v);
		ping_max = monotonic_ms_exact() - t0 > ping_max ? monotonic_ms_exact() - t0 : ping_max;
		pings++;
		/* Pace the round trips, so that the flood, not this test, is what xgmd serves. */
		poll(NULL, 0, 10);
	}
	/* The legitimate clients are served, not just admitted. */
	for (int i = 0; i < LEGIT_CLIENTS; i++) {
		v = client_call(&legit[i], "{\"cmd\":\"ping\",\"id\":3}");
		if (!v)
			print_failure("legitimate client %d (of %d) got no reply to ping", i, LEGIT_CLIENTS);
		assert_non_null(v);
		assert_int_equal(json_bool(v, "ok", NULL), 1);
		yajl_tree_free(v);
	}

	kill(flooder, SIGKILL);
	assert_int_equal(waitpid(flooder, &status, 0), flooder);
	t_end = monotonic_ms_exact();
	accepted1 = client_stat(&f.ctl, "server", "clients_accepted");
	rejected = client_stat(&f.ctl, "server", "clients_rejected");
	hung_up = client_stat(&f.ctl, "server", "clients_hung_up");
	seen1 = connections_seen();
	count_log(&lines1, &refusals1);

	printf("flood: %.0f ms, %lld connections taken (%.0f/s): %lld admitted, %lld found closed, "
	       "%lld refused\n",
	       t_end - t_start, seen1 - seen0, (seen1 - seen0) / ((t_end - t_start) / 1e3),
	       accepted1 - accepted0, hung_up, rejected);
	printf("legitimate clients: %d/%d got hello, %d refused; slowest connect %.1f ms\n", hellos,
	       LEGIT_CLIENTS, refused, connect_max);
	printf("guest kick to event: max %.1f ms at rest, max %.1f ms under the flood (%d kicks each)\n",
	       rest_max, flood_max, KICKS);
	printf("subscriber ping round trip under the flood: max %.1f ms over %d pings\n", ping_max, pings);
	printf("log: %zu lines in %.1f s (%.2f lines/s), %zu of them refusals\n", lines1 - lines0,
	       (t_end - t_start) / 1e3, (lines1 - lines0) / ((t_end - t_start) / 1e3),
	       refusals1 - refusals0);

	assert_int_equal(hellos, LEGIT_CLIENTS);
	assert_int_equal(kicks, KICKS);
	/* One refusal line per interval at most, the first one at once. */
	assert_true(refusals1 - refusals0 <= 1 + (size_t)((t_end - t_start) / REFUSAL_LOG_INTERVAL_MS));
	for (int i = 0; i < LEGIT_CLIENTS; i++)
		client_close(&legit[i]);
	free(legit);
	guest_close(quiet);
	guest_close(busy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_close_flood),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Tests of the xgmctl binary (its path is argv[1]) against the real socket
 * server and the fake engine, run in this process (testing/server-fixture.h):
 * output and exit codes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "server/server.h"
#include "testing/server-fixture.h"
#include "util/log.h"
#include "util/time.h"

#define TIMEOUT_MS 10000

static const char *xgmctl;

/* One xgmctl run: its pid, and what it wrote so far. */
struct run {
	pid_t pid;
	int out_fd, err_fd;
	char out[65536], err[4096];
	size_t out_len, err_len;
	int status;		/* exit code once done, -1 before */
};

static int setup_with(void **state, uint32_t max_clients)
{
	struct server_config cfg = { .max_clients = max_clients, .client_output_cap = 1 << 20 };

	*state = server_fixture_new(&cfg, 0600);
	assert_non_null(*state);
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 8);
}

static int setup_one_client(void **state)
{
	return setup_with(state, 1);
}

static int teardown(void **state)
{
	server_fixture_free(*state);
	return 0;
}

/* Starts xgmctl with the arguments after socket (NULL-terminated); XGM_SOCKET names ours. */
static void run_start(struct server_fixture *f, struct run *r, ...)
{
	char *argv[16] = { (char *)xgmctl };
	int out[2], err[2], argc = 1;
	va_list ap;

	va_start(ap, r);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	memset(r, 0, sizeof(*r));
	r->status = -1;
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		setenv("XGM_SOCKET", f->path, 1);
		execv(xgmctl, argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	r->out_fd = out[0];
	r->err_fd = err[0];
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(r->err_fd, F_SETFL, O_NONBLOCK);
}

static void drain(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t n;

	while ((n = read(fd, buf + *len, size - 1 - *len)) > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
}

/* Runs the loop and collects output for a while; true once xgmctl has exited. */
static bool run_step(struct server_fixture *f, struct run *r)
{
	int status;

	server_fixture_pump(f);
	drain(r->out_fd, r->out, sizeof(r->out), &r->out_len);
	drain(r->err_fd, r->err, sizeof(r->err), &r->err_len);
	if (r->status < 0 && waitpid(r->pid, &status, WNOHANG) == r->pid) {
		/* Killed by a signal reads as 128 + signal, as in a shell. */
		r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		drain(r->out_fd, r->out, sizeof(r->out), &r->out_len);
		drain(r->err_fd, r->err, sizeof(r->err), &r->err_len);
		close(r->out_fd);
		close(r->err_fd);
	}
	if (r->status < 0)
		poll(NULL, 0, 2);
	return r->status >= 0;
}

static int run_wait(struct server_fixture *f, struct run *r)
{
	int64_t deadline = monotonic_ms() + TIMEOUT_MS;

	while (!run_step(f, r))
		if (monotonic_ms() > deadline)
			fail_msg("xgmctl did not exit within %d ms", TIMEOUT_MS);
	return r->status;
}

/* Waits until the server has n subscribers (xgmctl monitor got going). */
/* Until the server counts n subscribers; r, if not NULL, must not exit meanwhile. */
static void wait_subscribers(struct server_fixture *f, struct run *r, uint64_t n)
{
	int64_t deadline = monotonic_ms() + TIMEOUT_MS;
	struct server_stats st;

	for (;;) {
		server_get_stats(f->server, &st);
		if (st.subscribers == n)
			return;
		if (!r) {
			server_fixture_pump(f);
			poll(NULL, 0, 2);
		} else if (run_step(f, r))
			fail_msg("xgmctl exited (%d): %s", r->status, r->err);
		assert_true(monotonic_ms() < deadline);
	}
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_ping(void **state)
{
	struct server_fixture *f = *state;
	struct run r;

	run_start(f, &r, "ping", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_string_equal(r.out, "{\"type\":\"reply\",\"id\":1,\"ok\":true}\n");
	assert_string_equal(r.err, "");

	/* --socket wins over $XGM_SOCKET. */
	run_start(f, &r, "--socket", f->path, "--timeout", "5", "ping", NULL);
	assert_int_equal(run_wait(f, &r), 0);
}

static void test_queries(void **state)
{
	struct server_fixture *f = *state;
	struct run r;

	run_start(f, &r, "get", "5", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "\"domain\":{\"id\":5,\"name\":\"web01\"}"));
	assert_int_equal(count_lines(r.out), 1);

	run_start(f, &r, "get", "6", NULL);
	assert_int_equal(run_wait(f, &r), 3);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "xgmctl: NotFound: no domain 6\n");

	run_start(f, &r, "list", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "\"domains\":[{\"id\":0,"));

	/* Not a terminal: JSON with or without --json, whatever --color says. */
	run_start(f, &r, "--color=always", "list", "--json", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "\"domains\":[{\"id\":0,"));
	assert_int_equal(count_lines(r.out), 1);
	run_start(f, &r, "get", "--json", "5", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "\"domain\":{\"id\":5,\"name\":\"web01\"}"));
	run_start(f, &r, "get", "7", "--json", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "\"domain\":{\"id\":7,\"name\":\"db01\"}"));

	run_start(f, &r, "stats", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "\"server\":{\"clients\":1,"));
	assert_non_null(strstr(r.out, "\"engine\":{"));
}

static void test_monitor(void **state)
{
	struct server_fixture *f = *state;
	struct run r;

	/* Three snapshot events and one live event make four. */
	run_start(f, &r, "monitor", "--count", "4", NULL);
	wait_subscribers(f, &r, 1);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_GONE, 0);
	assert_int_equal(run_wait(f, &r), 0);
	assert_int_equal(count_lines(r.out), 5);
	assert_non_null(strstr(r.out, "{\"type\":\"snapshot-end\",\"seq\":0}\n"));
	assert_non_null(strstr(r.out, "\"event\":\"domain.gone\""));
	assert_string_equal(r.err, "");

	/* The filter is the server's: only the matching event is printed. */
	run_start(f, &r, "monitor", "--domain", "7", "--domain", "0", "--event", "domain.metrics",
		  "--no-snapshot", "--count", "1", NULL);
	wait_subscribers(f, &r, 1);
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_GONE, 0);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_METRICS, 0);
	assert_int_equal(run_wait(f, &r), 0);
	assert_int_equal(count_lines(r.out), 1);
	assert_non_null(strstr(r.out, "\"seq\":4,\"event\":\"domain.metrics\""));
}

static void test_monitor_pretty(void **state)
{
	struct server_fixture *f = *state;
	struct run r;

	/* --pretty through a pipe: readable lines, no colour (auto), and --count as before. */
	run_start(f, &r, "monitor", "--pretty", "--count", "4", NULL);
	wait_subscribers(f, &r, 1);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_GONE, 0);
	assert_int_equal(run_wait(f, &r), 0);
	assert_string_equal(r.err, "");
	assert_int_equal(count_lines(r.out), 5);
	assert_non_null(strstr(r.out, "    5 web01                domain.snapshot tools -, up to date -, "
				      "live -, ipv4 -\n"));
	assert_non_null(strstr(r.out, " snapshot-end, seq 0\n"));
	assert_non_null(strstr(r.out, "    7 db01                 domain.gone\n"));
	assert_null(strchr(r.out, '\033'));
	assert_null(strchr(r.out, '{'));

	/* --color=always is obeyed even on a pipe. */
	run_start(f, &r, "--color=always", "monitor", "--pretty", "--count", "1", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "\033[2mdomain.snapshot\033[0m"));
}

static void test_monitor_end(void **state)
{
	struct server_fixture *f = *state;
	struct run r;

	/* No event within the timeout. */
	run_start(f, &r, "--timeout", "1", "monitor", "--no-snapshot", "--count", "1", NULL);
	assert_int_equal(run_wait(f, &r), 4);
	assert_non_null(strstr(r.err, "no answer"));
	/* Its connection gone, so that the next count is the next monitor's. */
	wait_subscribers(f, NULL, 0);

	/* The server shuts down under a monitor. */
	run_start(f, &r, "monitor", NULL);
	wait_subscribers(f, &r, 1);
	server_shutdown(f->server);
	assert_int_equal(run_wait(f, &r), 4);
	assert_string_equal(r.err, "xgmctl: the server is shutting down\n");
}

static void test_usage(void **state)
{
	struct server_fixture *f = *state;
	struct run r;

	run_start(f, &r, NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "reboot", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "get", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "get", "x5", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "get", "40000", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "ping", "extra", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "monitor", "--event", "domain.nope", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	assert_string_equal(r.err, "xgmctl: unknown event 'domain.nope' (see xgmctl --help)\n");
	run_start(f, &r, "monitor", "--count", "0", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "--frobnicate", "ping", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "--color=sometimes", "list", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	assert_string_equal(r.err, "xgmctl: --color must be auto, always or never, not 'sometimes' "
				   "(see xgmctl --help)\n");
	run_start(f, &r, "list", "--table", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "list", "extra", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "get", "--json", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "ping", "--json", NULL);
	assert_int_equal(run_wait(f, &r), 1);
	run_start(f, &r, "--help", NULL);
	assert_int_equal(run_wait(f, &r), 0);
	assert_non_null(strstr(r.out, "Exit status:"));
	/* Nothing reached the server. */
	{
		struct server_stats st;

		server_get_stats(f->server, &st);
		assert_int_equal(st.clients_accepted, 0);
	}
}

static void test_cannot_connect(void **state)
{
	struct server_fixture *f = *state;
	char path[200];
	struct run r;

	snprintf(path, sizeof(path), "%s/none.sock", f->dir);
	run_start(f, &r, "--socket", path, "ping", NULL);
	assert_int_equal(run_wait(f, &r), 2);
	assert_non_null(strstr(r.err, "cannot connect"));
}

static void test_too_many_clients(void **state)
{
	struct server_fixture *f = *state;
	struct run a, b;

	run_start(f, &a, "monitor", NULL);
	wait_subscribers(f, &a, 1);
	run_start(f, &b, "ping", NULL);
	assert_int_equal(run_wait(f, &b), 2);
	assert_non_null(strstr(b.err, "TooManyClients"));
	kill(a.pid, SIGTERM);
	assert_int_equal(run_wait(f, &a), 128 + SIGTERM);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_pretty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cannot_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup_one_client, teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-XGMCTL\n", argv[0]);
		return 2;
	}
	xgmctl = argv[1];
	signal(SIGPIPE, SIG_IGN);
	log_set_level((enum log_level)0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

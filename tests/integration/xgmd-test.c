/*
 * Helpers for xgmd integration tests: the daemon as a child process on a
 * private socket, waits for facts in xgmd's replies over the tests' line
 * client (testing/client.h), and the sandbox-plus-xgmd fixture most tests
 * use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"
#include "util/time.h"

/* Between two round trips of a wait: xgmd's loop is not to be flooded with stats. */
#define POLL_INTERVAL_US 2000

void xgmd_start(struct xgmd *x, const char *sandbox_dir, const char *name,
		const char *const *sets)
{
	xgmd_start_logging(x, sandbox_dir, name, sets, "debug");
}

void xgmd_start_logging(struct xgmd *x, const char *sandbox_dir, const char *name,
			const char *const *sets, const char *log_level)
{
	char xs_path[PATH_MAX], log[PATH_MAX], vg_log[PATH_MAX + 32];
	const char *argv[80], *valgrind = getenv("XGM_XGMD_VALGRIND");
	int argc = 0;

	snprintf(x->socket, sizeof(x->socket), "%s/%s.sock", sandbox_dir, name);
	snprintf(xs_path, sizeof(xs_path), "%s/socket", sandbox_dir);
	snprintf(log, sizeof(log), "%s/%s.log", sandbox_dir, name);
	x->valgrind_log[0] = '\0';
	if (valgrind && *valgrind) {
		/* meson test --setup=valgrind: xgmd itself, its errors failing the test. */
		snprintf(x->valgrind_log, sizeof(x->valgrind_log), "%s/%s.valgrind", sandbox_dir, name);
		snprintf(vg_log, sizeof(vg_log), "--log-file=%s", x->valgrind_log);
		argv[argc++] = valgrind;
		argv[argc++] = "--quiet";
		argv[argc++] = "--error-exitcode=99";
		argv[argc++] = "--leak-check=full";
		argv[argc++] = "--show-leak-kinds=definite";
		argv[argc++] = "--errors-for-leak-kinds=definite";
		argv[argc++] = vg_log;
	}
	argv[argc++] = XGMD_PATH;
	argv[argc++] = "--foreground";
	argv[argc++] = "--socket";
	argv[argc++] = x->socket;
	argv[argc++] = "--log-level";
	argv[argc++] = log_level;
	if (x->config) {
		argv[argc++] = "--config";
		argv[argc++] = x->config;
	}
	for (; sets && *sets && argc < 76; sets++) {
		argv[argc++] = "--set";
		argv[argc++] = *sets;
	}
	argv[argc] = NULL;

	x->pid = fork();
	if (x->pid < 0) {
		perror("fork");
		exit(1);
	}
	if (x->pid == 0) {
		FILE *f = freopen(log, "a", stderr);

		/* A test that fails or crashes must not leave its daemon behind. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		/*
		 * A terminal's Ctrl-C is for the test or the demo, which stop
		 * xgmd themselves: in a process group of its own, xgmd does not
		 * take it for a shutdown and say "bye" first.
		 */
		setpgid(0, 0);
		(void)f;
		setenv("XENSTORED_PATH", xs_path, 1);
		execv(argv[0], (char **)argv);
		perror("exec xgmd");
		_exit(127);
	}
	for (long deadline = monotonic_ms() + (x->valgrind_log[0] ? 60000 : 10000);
	     monotonic_ms() < deadline;) {
		struct client probe;

		if (client_dial(&probe, x->socket) == 0) {
			client_close(&probe);
			return;
		}
		if (waitpid(x->pid, NULL, WNOHANG) == x->pid) {
			fprintf(stderr, "xgmd exited during start-up (see %s)\n", log);
			exit(1);
		}
		usleep(10000);
	}
	fprintf(stderr, "xgmd did not listen within 10 s\n");
	exit(1);
}

static void print_file(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	fprintf(stderr, "--- %s ---\n", path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

static void print_log(const struct xgmd *x)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%.*s.log", (int)(strlen(x->socket) - strlen(".sock")),
		 x->socket);
	print_file(path);
}

int xgmd_stop(struct xgmd *x)
{
	int status = 0;
	bool exited = false;

	if (x->pid <= 0)
		return 0;
	kill(x->pid, SIGTERM);
	/* Under valgrind the shutdown and the leak check take a while. */
	for (int i = 0; i < (x->valgrind_log[0] ? 6000 : 500) && !exited; i++) {
		exited = waitpid(x->pid, &status, WNOHANG) == x->pid;
		if (!exited)
			usleep(10000);
	}
	if (!exited) {
		fprintf(stderr, "xgmd did not stop in time after SIGTERM\n");
		kill(x->pid, SIGKILL);
		waitpid(x->pid, &status, 0);
	}
	x->pid = 0;
	/* A clean shutdown exits 0; sanitizers and crashes do not. */
	if (!exited || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "xgmd ended badly (status 0x%x)\n", status);
		print_log(x);
		if (x->valgrind_log[0])
			print_file(x->valgrind_log);
		return -1;
	}
	return 0;
}

long xgmd_rss_kib(const struct xgmd *x)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)x->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

yajl_val client_wait_event(struct client *c, const char *event, unsigned int domid,
			   int timeout_ms)
{
	long deadline = monotonic_ms() + timeout_ms;

	while (monotonic_ms() < deadline) {
		yajl_val v = client_next(c, (int)(deadline - monotonic_ms()));
		const char *type = json_str(v, "type", NULL), *name = json_str(v, "event", NULL);

		if (!v)
			return NULL;
		if (type && strcmp(type, "event") == 0 && name && strcmp(name, event) == 0 &&
		    json_int(v, "domain", "id") == (long long)domid)
			return v;
		yajl_tree_free(v);
	}
	return NULL;
}

yajl_val client_wait_change(struct client *c, unsigned int domid, const char *field,
			    int timeout_ms)
{
	long deadline = monotonic_ms() + timeout_ms;

	while (monotonic_ms() < deadline) {
		yajl_val v = client_wait_event(c, "domain.metrics", domid,
					       (int)(deadline - monotonic_ms()));

		if (!v || json_changed(v, field))
			return v;
		yajl_tree_free(v);
	}
	return NULL;
}

long client_list_domids(struct client *c, unsigned int *domids, size_t max)
{
	yajl_val v = client_call(c, "{\"cmd\":\"list\",\"id\":\"list\"}");
	yajl_val a = json_get(v, "domains", NULL);
	long n = -1;

	if (YAJL_IS_ARRAY(a)) {
		n = (long)a->u.array.len;
		for (size_t i = 0; i < a->u.array.len && i < max; i++)
			domids[i] = (unsigned int)json_int(a->u.array.values[i], "id", NULL);
	}
	yajl_tree_free(v);
	return n;
}

bool client_lists(struct client *c, unsigned int domid)
{
	unsigned int domids[4096];
	long n = client_list_domids(c, domids, sizeof(domids) / sizeof(domids[0]));

	for (long i = 0; i < n && i < (long)(sizeof(domids) / sizeof(domids[0])); i++)
		if (domids[i] == domid)
			return true;
	return false;
}

bool client_wait_domain_state(struct client *c, unsigned int domid, const char *state,
			      int timeout_ms)
{
	long deadline = monotonic_ms() + timeout_ms;
	char cmd[64], now[32];

	snprintf(cmd, sizeof(cmd), "{\"cmd\":\"get\",\"id\":\"state\",\"domain\":%u}", domid);
	for (;;) {
		yajl_val v = client_call(c, cmd);
		const char *s = json_str(v, "state", NULL);

		snprintf(now, sizeof(now), "%s", s ? s : "unknown");
		yajl_tree_free(v);
		if (strcmp(now, state) == 0)
			return true;
		if (monotonic_ms() >= deadline)
			break;
		usleep(POLL_INTERVAL_US);
	}
	fprintf(stderr, "domain %u is %s after %d ms, not %s\n", domid, now, timeout_ms, state);
	return false;
}

void client_mark(struct client *c, struct xgmd_mark *m)
{
	m->watch_events = client_stat(c, "engine", "xenstore_watch_events");
	m->batches = client_stat(c, "engine", "batches");
}

bool client_wait_read(struct client *c, const struct xgmd_mark *m, unsigned int events,
		      unsigned int domid, int timeout_ms)
{
	/* In this order: once the events are in, idle means their batches were read. */
	return m->watch_events >= 0 && m->batches >= 0 &&
	       client_wait_stat_at_least(c, "engine", "xenstore_watch_events",
					 m->watch_events + events, timeout_ms) &&
	       client_wait_stat_at_least(c, "engine", "batches", m->batches + 1, timeout_ms) &&
	       client_wait_domain_state(c, domid, "idle", timeout_ms);
}

void fixture_start_sandbox(struct fixture *f)
{
	f->sub.fd = f->ctl.fd = -1;
	sandbox_test_start(f->dir);
	f->xs = sandbox_connect(f->dir);
	if (!f->xs) {
		fprintf(stderr, "cannot connect to the sandbox in %s\n", f->dir);
		exit(1);
	}
}

/* xgmd named name on dir, ctl connected, sub connected and subscribed (unless subscribe is NULL). */
static void start_with_clients(const char *dir, const char *name, const char *log_level,
			       const char *const *sets, const char *subscribe, struct xgmd *x,
			       struct client *ctl, struct client *sub)
{
	bool ok;

	ctl->fd = sub->fd = -1;
	xgmd_start_logging(x, dir, name, sets, log_level ? log_level : "debug");
	ok = client_open(ctl, x->socket) &&
	     (subscribe ? client_subscribe(sub, x->socket, subscribe) : client_open(sub, x->socket));
	if (!ok) {
		fprintf(stderr, "cannot connect to xgmd on %s\n", x->socket);
		exit(1);
	}
}

static int stop_with_clients(struct xgmd *x, struct client *ctl, struct client *sub)
{
	client_close(sub);
	client_close(ctl);
	return xgmd_stop(x);
}

void fixture_start_xgmd(struct fixture *f, const char *const *sets, const char *subscribe)
{
	start_with_clients(f->dir, "xgmd", f->log_level, sets, subscribe, &f->xgmd, &f->ctl, &f->sub);
}

bool xgmd_wait_synchronised(struct client *ctl)
{
	return client_wait_stat_at_least(ctl, "engine", "xenstore_connects", 1, CLIENT_WAIT_MS) &&
	       client_wait_stat_equal(ctl, "engine", "resync_pending", 0, CLIENT_WAIT_MS);
}

/* dom0's adoption is a job like any other: a test's counters start after it. */
static void start_synchronised(const char *dir, const char *name, const char *log_level,
			       const char *const *sets, const char *subscribe, struct xgmd *x,
			       struct client *ctl, struct client *sub)
{
	start_with_clients(dir, name, log_level, sets, subscribe, x, ctl, sub);
	if (!xgmd_wait_synchronised(ctl)) {
		fprintf(stderr, "%s: its start-up pass did not end\n", name);
		exit(1);
	}
}

void fixture_start(struct fixture *f, const char *const *sets, const char *subscribe)
{
	fixture_start_sandbox(f);
	start_synchronised(f->dir, "xgmd", f->log_level, sets, subscribe, &f->xgmd, &f->ctl,
			   &f->sub);
}

int fixture_stop(struct fixture *f)
{
	int r;

	if (!f->dir[0])
		return 0;
	r = stop_with_clients(&f->xgmd, &f->ctl, &f->sub);
	if (f->xs)
		xs_close(f->xs);
	f->xs = NULL;
	sandbox_test_stop(f->dir);
	f->dir[0] = '\0';
	return r;
}

void fixture_start_peer(struct fixture *f, struct fixture_peer *p, const char *name,
			const char *const *sets, const char *subscribe)
{
	start_synchronised(f->dir, name, f->log_level, sets, subscribe, &p->xgmd, &p->ctl, &p->sub);
}

int fixture_stop_peer(struct fixture_peer *p)
{
	if (!p->xgmd.socket[0])		/* never started */
		return 0;
	return stop_with_clients(&p->xgmd, &p->ctl, &p->sub);
}

bool fixture_new_domain(struct fixture *f, unsigned int domid, const char *name)
{
	yajl_val ev;

	if (sandbox_domain_create(f->dir, f->xs, domid, name, true) < 0)
		return false;
	ev = client_wait_event(&f->sub, "domain.new", domid, CLIENT_WAIT_MS);
	if (!ev)
		fprintf(stderr, "no domain.new for domain %u\n", domid);
	yajl_tree_free(ev);
	return ev != NULL;
}

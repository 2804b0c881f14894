/*
 * Helpers for tests against a sandbox: start one in a private directory,
 * and read watch events with a time bound so no test can hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "guest.h"
#include "sandbox.h"
#include "sandbox-test.h"

enum sandbox_flavour sandbox_test_flavour(void)
{
	struct sandbox_options opts;

	sandbox_default_options(&opts);
	return opts.flavour;
}

void sandbox_test_start(char *dir)
{
	struct sandbox_options opts;

	sandbox_default_options(&opts);
	opts.die_with_parent = true;
	if (access(opts.xenstored, X_OK) < 0) {
		fprintf(stderr, "skip: %s is not installed\n", opts.xenstored);
		exit(77);
	}
	strcpy(dir, "/tmp/xen-sandbox-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	if (sandbox_start(dir, &opts) < 0)
		exit(1);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void sandbox_test_stop(const char *dir)
{
	sandbox_stop(dir);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool sandbox_test_next_event(struct xs_handle *xs, int timeout_ms,
			     char *path, char *token, size_t size)
{
	long deadline = sandbox_now_ms() + timeout_ms;

	for (;;) {
		char **ev = xs_check_watch(xs);
		struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
		long left;

		if (ev) {
			snprintf(path, size, "%s", ev[XS_WATCH_PATH]);
			snprintf(token, size, "%s", ev[XS_WATCH_TOKEN]);
			free(ev);
			return true;
		}
		left = deadline - sandbox_now_ms();
		if (left <= 0)
			return false;
		poll(&pfd, 1, (int)left);
	}
}

bool sandbox_test_wait_event(struct xs_handle *xs, int timeout_ms,
			     const char *path, const char *token)
{
	long deadline = sandbox_now_ms() + timeout_ms;
	char p[1024], t[1024];

	while (sandbox_now_ms() < deadline) {
		if (!sandbox_test_next_event(xs, (int)(deadline - sandbox_now_ms()), p, t, sizeof(p)))
			return false;
		if (strcmp(p, path) == 0 && strcmp(t, token) == 0)
			return true;
	}
	return false;
}

struct xs_handle *sandbox_test_guest_connect(const char *dir, unsigned int domid)
{
	char path[PATH_MAX], *saved = getenv("XENSTORED_PATH");
	struct xs_handle *xs;

	saved = saved ? strdup(saved) : NULL;
	if (sandbox_guest_socket_start(dir, domid, path) < 0) {
		free(saved);
		return NULL;
	}
	setenv("XENSTORED_PATH", path, 1);
	xs = xs_open(0);
	if (!xs)
		fprintf(stderr, "cannot connect to %s: %s\n", path, strerror(errno));
	if (saved)
		setenv("XENSTORED_PATH", saved, 1);
	else
		unsetenv("XENSTORED_PATH");
	free(saved);
	return xs;
}

void sandbox_test_drain(struct xs_handle *xs)
{
	char **ev;

	/*
	 * No waiting for a quiet while: xenstored answers a connection in
	 * order, and libxenstore queues each event as it reads it, so once a
	 * request has its reply, every event sent before it is queued here.
	 */
	while ((ev = xs_check_watch(xs)))
		free(ev);
}

int sandbox_test_guest(const char *dir, unsigned int domid, const char *path,
		       const char *value)
{
	struct guest *g = guest_open(dir, domid);
	int r;

	if (!g)
		return -errno;
	r = value ? guest_write(g, 0, path, value, strlen(value)) : guest_rm(g, 0, path);
	guest_close(g);
	return r;
}

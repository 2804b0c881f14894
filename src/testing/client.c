/*
 * The tests' line client (client.h): a growing buffer of what came, taken a
 * line at a time, and waits bounded by a deadline on the monotonic clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "testing/client.h"
#include "util/time.h"

/* Between two round trips of a wait: the server's loop is not to be flooded with stats. */
#define POLL_INTERVAL_MS 2
/* In pump mode, how long one wait for the socket lasts before the loop runs again. */
#define PUMP_SLICE_MS 1
/* Free room a read asks for; the buffer grows to keep it. */
#define READ_ROOM 65536

int client_dial(struct client *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	*c = (struct client){ .fd = -1 };
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;

		close(c->fd);
		c->fd = -1;
		return r;
	}
	return 0;
}

yajl_val client_connect(struct client *c, const char *path)
{
	if (client_dial(c, path) < 0)
		return NULL;
	return client_next(c, CLIENT_WAIT_MS);
}

bool client_open(struct client *c, const char *path)
{
	yajl_val hello = client_connect(c, path);
	const char *type = json_str(hello, "type", NULL);
	bool ok = type && strcmp(type, "hello") == 0;

	yajl_tree_free(hello);
	return ok;
}

bool client_subscribe(struct client *c, const char *path, const char *line)
{
	yajl_val v;
	bool ok;

	if (!client_open(c, path))
		return false;
	v = client_call(c, line);
	ok = v && json_bool(v, "ok", NULL) == 1;
	yajl_tree_free(v);
	return ok;
}

void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->off = c->len = c->size = 0;
}

int client_release_fd(struct client *c)
{
	int fd = c->fd;

	c->fd = -1;
	client_close(c);
	return fd;
}

/*
 * Waits until c's socket is ready for events, the deadline, or (pump mode)
 * one slice after the server's loop ran: >0 ready, 0 not yet, <0 errno.
 */
static int wait_ready(struct client *c, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int64_t left = deadline - monotonic_ms();
	int n;

	if (left < 0)
		left = 0;
	if (c->pump) {
		c->pump(c->pump_arg);
		if (left > PUMP_SLICE_MS)
			left = PUMP_SLICE_MS;
	}
	n = poll(&pfd, 1, (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n;
}

int client_send_bytes(struct client *c, const void *bytes, size_t len)
{
	int64_t deadline = monotonic_ms() + CLIENT_WAIT_MS;
	const char *p = bytes;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (monotonic_ms() >= deadline)
			return -ETIMEDOUT;
		r = wait_ready(c, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	if (c->pump)
		c->pump(c->pump_arg);
	return 0;
}

int client_send(struct client *c, const char *line)
{
	int r = client_send_bytes(c, line, strlen(line));

	return r < 0 ? r : client_send_bytes(c, "\n", 1);
}

size_t client_pending(const struct client *c)
{
	return c->len - c->off;
}

/* Makes room for a read: drops what was taken, grows to READ_ROOM free; false at the cap. */
static bool make_room(struct client *c)
{
	char *grown;
	size_t size;

	if (c->off) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->size - c->len >= READ_ROOM)
		return true;
	if (c->len >= CLIENT_MAX_LINE)
		return false;
	size = c->size ? c->size * 2 : 2 * READ_ROOM;
	grown = realloc(c->buf, size);
	if (!grown)
		return false;
	c->buf = grown;
	c->size = size;
	return true;
}

char *client_line(struct client *c, int timeout_ms, size_t *len)
{
	int64_t deadline = monotonic_ms() + timeout_ms;

	for (;;) {
		char *start = c->buf + c->off;
		char *nl = c->len > c->off ? memchr(start, '\n', c->len - c->off) : NULL;
		ssize_t n;
		int r;

		if (nl) {
			*nl = '\0';
			c->last_len = (size_t)(nl + 1 - start);
			c->off += c->last_len;
			if (len)
				*len = c->last_len - 1;
			return start;
		}
		if (c->eof || c->fd < 0)
			return NULL;
		if (!make_room(c)) {
			/* No line can be taken from here on: the connection is done with. */
			fprintf(stderr, "a line longer than %zu bytes came, or no memory for it\n",
				c->len);
			c->eof = true;
			return NULL;
		}
		n = recv(c->fd, c->buf + c->len, c->size - c->len, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		/* Closed with our bytes unread, a UNIX socket reports a reset. */
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			continue;
		}
		r = wait_ready(c, POLLIN, deadline);
		if (r < 0) {
			c->eof = true;
			continue;
		}
		if (r == 0 && monotonic_ms() >= deadline)
			return NULL;
	}
}

yajl_val client_next(struct client *c, int timeout_ms)
{
	char err[256];
	char *line = client_line(c, timeout_ms, NULL);
	yajl_val v;

	if (!line)
		return NULL;
	v = yajl_tree_parse(line, err, sizeof(err));
	if (!v)
		fprintf(stderr, "invalid JSON from the server: %s: %.300s\n", err, line);
	return v;
}

yajl_val client_call(struct client *c, const char *line)
{
	int64_t deadline = monotonic_ms() + CLIENT_WAIT_MS;

	if (client_send(c, line) < 0)
		return NULL;
	while (monotonic_ms() < deadline) {
		yajl_val v = client_next(c, (int)(deadline - monotonic_ms()));
		const char *type = json_str(v, "type", NULL);

		if (!v)
			return NULL;
		if (type && (strcmp(type, "reply") == 0 || strcmp(type, "error") == 0))
			return v;
		yajl_tree_free(v);
	}
	return NULL;
}

bool client_ping_quiet(struct client *c, long long domid)
{
	static const char ping[] = "{\"cmd\":\"ping\",\"id\":\"barrier\"}";
	int64_t deadline = monotonic_ms() + CLIENT_WAIT_MS;
	bool quiet = true;
	int r = client_send(c, ping);

	if (r < 0) {
		fprintf(stderr, "cannot send the barrier ping: %s\n", strerror(-r));
		return false;
	}
	while (monotonic_ms() < deadline) {
		yajl_val v = client_next(c, (int)(deadline - monotonic_ms()));
		const char *type = json_str(v, "type", NULL), *id = json_str(v, "id", NULL);
		bool event = type && strcmp(type, "event") == 0;
		bool lost = type && strcmp(type, "lost") == 0;

		if (!v)
			break;
		if (type && strcmp(type, "reply") == 0 && id && strcmp(id, "barrier") == 0) {
			yajl_tree_free(v);
			return quiet;
		}
		if ((event && (domid == ANY_DOMAIN || json_int(v, "domain", "id") == domid)) ||
		    (lost && domid == ANY_DOMAIN)) {
			fprintf(stderr, "unexpected before the barrier: %s %s about domain %lld\n",
				type, event ? json_str(v, "event", NULL) : "",
				json_int(v, "domain", "id"));
			quiet = false;
		}
		yajl_tree_free(v);
	}
	fprintf(stderr, "no reply to the barrier ping\n");
	return false;
}

long long client_stat(struct client *c, const char *section, const char *key)
{
	yajl_val v = client_call(c, "{\"cmd\":\"stats\",\"id\":\"stat\"}");
	yajl_val x = json_get(json_get(v, section, NULL), key, NULL);
	long long n = YAJL_IS_INTEGER(x) ? YAJL_GET_INTEGER(x) : YAJL_IS_TRUE(x) ? 1 :
		YAJL_IS_FALSE(x) ? 0 : -1;

	yajl_tree_free(v);
	return n;
}

/* Asks stats until section.key holds against want: at least it, or equal to it. */
static bool wait_stat(struct client *c, const char *section, const char *key, long long want,
		      bool at_least, int timeout_ms)
{
	int64_t deadline = monotonic_ms() + timeout_ms;
	long long n;

	for (;;) {
		n = client_stat(c, section, key);
		if (at_least ? n >= want : n == want)
			return true;
		if (monotonic_ms() >= deadline)
			break;
		if (c->pump)
			c->pump(c->pump_arg);
		poll(NULL, 0, POLL_INTERVAL_MS);
	}
	fprintf(stderr, "%s.%s is %lld after %d ms, not %s%lld\n", section, key, n, timeout_ms,
		at_least ? "at least " : "", want);
	return false;
}

bool client_wait_stat_at_least(struct client *c, const char *section, const char *key,
			       long long at_least, int timeout_ms)
{
	return wait_stat(c, section, key, at_least, true, timeout_ms);
}

bool client_wait_stat_equal(struct client *c, const char *section, const char *key,
			    long long want, int timeout_ms)
{
	return wait_stat(c, section, key, want, false, timeout_ms);
}

yajl_val json_get(yajl_val v, const char *a, const char *b)
{
	const char *path[3] = { a, b, NULL };

	if (!v)
		return NULL;
	return yajl_tree_get(v, path, yajl_t_any);
}

const char *json_str(yajl_val v, const char *a, const char *b)
{
	yajl_val s = json_get(v, a, b);

	return YAJL_IS_STRING(s) ? YAJL_GET_STRING(s) : NULL;
}

long long json_int(yajl_val v, const char *a, const char *b)
{
	yajl_val n = json_get(v, a, b);

	return YAJL_IS_INTEGER(n) ? YAJL_GET_INTEGER(n) : -1;
}

int json_bool(yajl_val v, const char *a, const char *b)
{
	yajl_val x = json_get(v, a, b);

	if (YAJL_IS_TRUE(x))
		return 1;
	if (YAJL_IS_FALSE(x))
		return 0;
	return -1;
}

bool json_changed(yajl_val ev, const char *field)
{
	yajl_val arr = json_get(ev, "changed", NULL);

	if (!YAJL_IS_ARRAY(arr))
		return false;
	for (size_t i = 0; i < arr->u.array.len; i++) {
		yajl_val s = arr->u.array.values[i];
		const char *name = YAJL_IS_STRING(s) ? YAJL_GET_STRING(s) : NULL;

		if (name && strcmp(name, field) == 0)
			return true;
	}
	return false;
}

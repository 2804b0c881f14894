/*
 * The xenstore connection on libevent. libxenstore's watch pipe stays
 * silent when xenstored dies, so a timer polls xs_check_watch(), and any
 * request failing with a transport error counts as a loss too.
 *
 * Requests go on a handle of their own, and the watches on others. Once a
 * handle has a watch, libxenstore's reader thread owns its socket and every
 * request is handed to it and back through a condition variable, two more
 * context switches per read; a handle without watches reads its replies
 * itself (docs/benchmarks.md measures the difference).
 *
 * The watches are spread over several handles, by token: oxenstored writes
 * one packet per connection per pass of its loop, so one connection caps
 * the events it can deliver to us, and past about a thousand queued events
 * it holds back every guest that writes (docs/sandbox.md). A token's
 * watches always share a handle, so a domain's events keep their order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "xs/xs-conn.h"
#include "xs/xs-wire.h"

/* How long reading an oversize listing off the wire may hold the loop. */
#define WIRE_TIMEOUT_MS 2000

struct watch_handle {
	struct xs_conn *conn;
	struct xs_handle *xs;
	struct event *ev;		/* readable while its events are queued */
};

struct xs_conn {
	struct event_base *base;
	struct xs_conn_config cfg;
	const struct xs_conn_ops *ops;
	void *ctx;

	bool up;
	struct watch_handle watch[XS_CONN_WATCH_HANDLES_MAX];
	struct xs_handle *req;		/* reads, listings and other requests */
	struct event *timer_ev;		/* liveness check, or reconnect backoff */
	struct event *lost_ev;		/* reports a loss from the loop, not from inside a request */
	uint32_t backoff_ms;
	struct xs_conn_stats stats;
};

static void arm_timer(struct xs_conn *conn, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(conn->timer_ev, &tv);
}

static void disconnect(struct xs_conn *conn)
{
	for (unsigned int i = 0; i < conn->cfg.watch_handles; i++) {
		struct watch_handle *w = &conn->watch[i];

		/* Deleted, not freed: this may run inside its own callback. */
		if (w->ev)
			event_del(w->ev);
		if (w->xs)
			xs_close(w->xs);
		w->xs = NULL;
	}
	if (conn->req)
		xs_close(conn->req);
	conn->req = NULL;
	conn->up = false;
}

/* Drops the handles now; tells the owner from the loop; retries later. */
static void mark_lost(struct xs_conn *conn)
{
	if (!conn->up)
		return;
	log_warning("xenstore connection lost; reconnecting");
	disconnect(conn);
	event_active(conn->lost_ev, 0, 0);
	conn->backoff_ms = conn->cfg.reconnect_min_ms;
	arm_timer(conn, conn->backoff_ms);
}

/* Transport errors, as opposed to answers from xenstored. */
static bool is_transport_error(int err)
{
	return err == EBADF || err == EPIPE || err == ECONNRESET || err == EINVAL ||
	       err == EIO || err == ENOTCONN;
}

/* One cheap round trip: does this handle still get answers? */
static bool handle_answers(struct xs_conn *conn, struct xs_handle *h)
{
	char *path = xs_get_domain_path(h, 0);

	conn->stats.other_requests++;
	free(path);
	return path != NULL;
}

/*
 * Opens a new request handle. True when it gets answers: xenstored is
 * alive and broke only the old one, in answer to its request: oxenstored
 * sends a listing larger than one message, which libxenstore cannot read
 * (a guest can make one in its own home). The watches are on the other
 * handle and lose nothing.
 */
static bool reset_request_handle(struct xs_conn *conn)
{
	xs_close(conn->req);
	conn->req = xs_open(0);
	if (!conn->req || !handle_answers(conn, conn->req))
		return false;
	/* A guest can cause this at will: log the 1st, 2nd, 4th, 8th... */
	conn->stats.request_handle_resets++;
	if ((conn->stats.request_handle_resets & (conn->stats.request_handle_resets - 1)) == 0)
		log_warning("xenstore: an answer could not be read (a listing larger than a "
			    "message?); request connection reopened (%" PRIu64 " times so far)",
			    conn->stats.request_handle_resets);
	return true;
}

/* A request on h failed with err: an answer, or what became of the connection. */
static int request_failed(struct xs_conn *conn, struct xs_handle *h, int err)
{
	/*
	 * libxenstore fails the request in flight with EINVAL when the socket
	 * closes, and xenstored answers EINVAL to a bad path (which we do not
	 * send: every path we use came from xenstored). A round trip on the
	 * same handle tells the two apart.
	 */
	if (!is_transport_error(err) && err != E2BIG)
		return -err;
	if (err == EINVAL && handle_answers(conn, h))
		return -EINVAL;
	if (h == conn->req && reset_request_handle(conn))
		return -EMSGSIZE;
	mark_lost(conn);
	return -ENOTCONN;
}

/* The handle that holds token's watches: FNV-1a of the token. */
static struct watch_handle *watch_for(struct xs_conn *conn, const char *token)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)token; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &conn->watch[h % conn->cfg.watch_handles];
}

static void dispatch_events(struct watch_handle *w)
{
	struct xs_conn *conn = w->conn;
	char **ev;

	/* A callback may lose the connection, which closes w->xs. */
	while (conn->up && (ev = xs_check_watch(w->xs))) {
		conn->stats.events++;
		conn->ops->watch_event(conn->ctx, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
		free(ev);
	}
	if (conn->up && errno != EAGAIN)
		mark_lost(conn);
}

static void on_watch_fd(evutil_socket_t fd, short what, void *arg)
{
	dispatch_events(arg);
}

static void on_lost(evutil_socket_t fd, short what, void *arg)
{
	struct xs_conn *conn = arg;

	conn->ops->lost(conn->ctx);
}

static void try_connect(struct xs_conn *conn)
{
	conn->stats.connect_attempts++;
	conn->req = xs_open(0);
	if (!conn->req) {
		log_debug("xenstore: connect failed: %s", strerror(errno));
		goto retry;
	}
	for (unsigned int i = 0; i < conn->cfg.watch_handles; i++) {
		struct watch_handle *w = &conn->watch[i];

		w->conn = conn;
		/*
		 * No XS_UNWATCH_FILTER: libxenstore 4.17's filter frees the queued
		 * events of an unwatched token but not their bodies, a leak of about
		 * six blocks per departed domain. The engine ignores a stale event by
		 * its token's incarnation anyway.
		 */
		w->xs = xs_open(0);
		if (!w->xs) {
			log_debug("xenstore: connect failed: %s", strerror(errno));
			disconnect(conn);
			goto retry;
		}
		if (w->ev)
			event_free(w->ev);
		w->ev = event_new(conn->base, xs_fileno(w->xs), EV_READ | EV_PERSIST,
				  on_watch_fd, w);
		if (!w->ev || event_add(w->ev, NULL) < 0) {
			log_err("xenstore: cannot watch the event fd");
			disconnect(conn);
			goto retry;
		}
	}
	conn->up = true;
	if (conn->ops->connected(conn->ctx, conn) < 0) {
		disconnect(conn);
		goto retry;
	}
	if (!conn->up)	/* lost during the resync */
		return;
	conn->backoff_ms = conn->cfg.reconnect_min_ms;
	arm_timer(conn, conn->cfg.liveness_ms);
	return;
retry:
	arm_timer(conn, conn->backoff_ms);
	conn->backoff_ms = conn->backoff_ms * 2 > conn->cfg.reconnect_max_ms ?
		conn->cfg.reconnect_max_ms : conn->backoff_ms * 2;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct xs_conn *conn = arg;

	if (!conn->up) {
		try_connect(conn);
		return;
	}
	/* No round trip: a dead handle answers EINVAL instead of EAGAIN. */
	for (unsigned int i = 0; i < conn->cfg.watch_handles && conn->up; i++)
		dispatch_events(&conn->watch[i]);
	if (conn->up)
		arm_timer(conn, conn->cfg.liveness_ms);
}

struct xs_conn *xs_conn_new(struct event_base *base, const struct xs_conn_config *cfg,
			    const struct xs_conn_ops *ops, void *ctx)
{
	struct xs_conn *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return NULL;
	conn->base = base;
	conn->cfg = *cfg;
	conn->ops = ops;
	conn->ctx = ctx;
	if (conn->cfg.watch_handles == 0)
		conn->cfg.watch_handles = 1;
	if (conn->cfg.watch_handles > XS_CONN_WATCH_HANDLES_MAX)
		conn->cfg.watch_handles = XS_CONN_WATCH_HANDLES_MAX;
	conn->backoff_ms = cfg->reconnect_min_ms;
	conn->timer_ev = evtimer_new(base, on_timer, conn);
	conn->lost_ev = event_new(base, -1, 0, on_lost, conn);
	if (!conn->timer_ev || !conn->lost_ev) {
		xs_conn_free(conn);
		return NULL;
	}
	try_connect(conn);
	return conn;
}

void xs_conn_free(struct xs_conn *conn)
{
	if (!conn)
		return;
	disconnect(conn);
	for (unsigned int i = 0; i < conn->cfg.watch_handles; i++)
		if (conn->watch[i].ev)
			event_free(conn->watch[i].ev);
	if (conn->timer_ev)
		event_free(conn->timer_ev);
	if (conn->lost_ev)
		event_free(conn->lost_ev);
	free(conn);
}

bool xs_conn_is_up(const struct xs_conn *conn)
{
	return conn->up;
}

const struct xs_conn_stats *xs_conn_stats(const struct xs_conn *conn)
{
	return &conn->stats;
}

char *xs_conn_read(struct xs_conn *conn, const char *path, unsigned int *len, int *err)
{
	char *value;

	if (!conn->up) {
		*err = -ENOTCONN;
		return NULL;
	}
	conn->stats.reads++;
	value = xs_read(conn->req, XBT_NULL, path, len);
	if (!value)
		*err = request_failed(conn, conn->req, errno);
	return value;
}

/*
 * The listing of path broke the request handle: oxenstored sent it in one
 * oversize packet. Ask again on a private socket connection and read it
 * whole. Through /dev/xen/xenbus (no socket), or when that fails too, the
 * answer stays -EMSGSIZE: never an error the caller could take for an
 * answer about path.
 */
static char **read_oversize(struct xs_conn *conn, const char *path, unsigned int *num, int *err)
{
	char **names = xs_wire_directory(xs_daemon_socket(), path, WIRE_TIMEOUT_MS, num, err);

	if (names) {
		conn->stats.oversize_listings++;
		return names;
	}
	log_debug("xenstore: cannot read the oversize listing of %s off the wire: %s", path,
		  strerror(-*err));
	*err = -EMSGSIZE;
	return NULL;
}

char **xs_conn_directory(struct xs_conn *conn, const char *path, unsigned int *num, int *err)
{
	char **names;

	if (!conn->up) {
		*err = -ENOTCONN;
		return NULL;
	}
	conn->stats.directories++;
	names = xs_directory(conn->req, XBT_NULL, path, num);
	if (!names)
		*err = request_failed(conn, conn->req, errno);
	if (!names && *err == -EMSGSIZE)
		names = read_oversize(conn, path, num, err);
	return names;
}

int xs_conn_watch(struct xs_conn *conn, const char *path, const char *token)
{
	struct xs_handle *h;

	if (!conn->up)
		return -ENOTCONN;
	conn->stats.watches++;
	h = watch_for(conn, token)->xs;
	if (!xs_watch(h, path, token))
		return errno == EEXIST ? 0 : request_failed(conn, h, errno);
	return 0;
}

int xs_conn_unwatch(struct xs_conn *conn, const char *path, const char *token)
{
	struct xs_handle *h;

	if (!conn->up)
		return -ENOTCONN;
	conn->stats.other_requests++;
	h = watch_for(conn, token)->xs;
	if (!xs_unwatch(h, path, token))
		return errno == ENOENT ? 0 : request_failed(conn, h, errno);
	return 0;
}

int xs_conn_is_introduced(struct xs_conn *conn, unsigned int domid)
{
	bool introduced;

	if (!conn->up)
		return -ENOTCONN;
	conn->stats.other_requests++;
	errno = 0;
	introduced = xs_is_domain_introduced(conn->req, domid);
	if (!introduced && errno)
		return request_failed(conn, conn->req, errno);
	return introduced;
}

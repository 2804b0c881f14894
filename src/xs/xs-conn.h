/*
 * The daemon's xenstore connection: libxenstore handles driven from the
 * libevent loop, one for requests and a few for the watches. It owns the
 * handles, their watch fds' events, the liveness timer that notices a dead
 * xenstored (libxenstore never signals one) and reconnection with
 * backoff; it counts every request it makes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <xenstore.h>

struct xs_conn;

#define XS_CONN_WATCH_HANDLES_MAX 16

struct xs_conn_config {
	uint32_t watch_handles;		/* connections the watches are spread over (1..16) */
	uint32_t liveness_ms;		/* how often to check a quiet connection */
	uint32_t reconnect_min_ms;	/* first retry after a loss */
	uint32_t reconnect_max_ms;	/* backoff doubles up to this */
};

struct xs_conn_ops {
	/* (Re)connected: register watches and resynchronise. A negative return drops the connection. */
	int (*connected)(void *ctx, struct xs_conn *conn);
	/* One watch event; path and token are valid during the call only. */
	void (*watch_event)(void *ctx, const char *path, const char *token);
	/* The connection died; watches are gone until the next connected(). */
	void (*lost)(void *ctx);
};

struct xs_conn_stats {
	uint64_t reads;
	uint64_t directories;
	uint64_t watches;
	uint64_t other_requests;
	uint64_t events;
	uint64_t connect_attempts;	/* the first included, failed or not */
	uint64_t request_handle_resets;	/* a request broke its handle (-EMSGSIZE) */
	uint64_t oversize_listings;	/* of those, listings then read off the wire (xs-wire.h) */
};

/* Connects at once and retries with backoff on failure. NULL on ENOMEM. */
struct xs_conn *xs_conn_new(struct event_base *base, const struct xs_conn_config *cfg,
			    const struct xs_conn_ops *ops, void *ctx);
void xs_conn_free(struct xs_conn *conn);

bool xs_conn_is_up(const struct xs_conn *conn);
const struct xs_conn_stats *xs_conn_stats(const struct xs_conn *conn);

/*
 * Synchronous requests on the live handle. On failure they return NULL or
 * a negative errno: -ENOENT and -EACCES are answers; -EMSGSIZE means that
 * xenstored's answer could not be read and the request handle was replaced,
 * the connection still up (an oversize listing from oxenstored is read
 * again off the wire first, see xs-wire.h); -ENOTCONN
 * means the connection is (now) down and lost() has been scheduled.
 */
/* The value, NUL-terminated, malloc'ed (the caller frees); *len excludes the NUL. */
char *xs_conn_read(struct xs_conn *conn, const char *path, unsigned int *len, int *err);
/* An array of names in one allocation (the caller frees the array only). */
char **xs_conn_directory(struct xs_conn *conn, const char *path, unsigned int *num, int *err);
int xs_conn_watch(struct xs_conn *conn, const char *path, const char *token);
int xs_conn_unwatch(struct xs_conn *conn, const char *path, const char *token);
/* 1 introduced, 0 not, or a negative errno. */
int xs_conn_is_introduced(struct xs_conn *conn, unsigned int domid);

/*
 * The daemon's xenstore connection. The loop never waits for xenstored:
 * every request runs on a worker thread that owns a libxenstore handle of
 * its own (xs-req.h), as part of a job, and the job's completion comes back
 * to the loop through an eventfd. The loop itself only reads the watch
 * handles' events, which libxenstore's reader threads have already taken
 * off the sockets.
 *
 * It owns the handles, the workers, the job queues, the request timeout
 * that marks xenstore stalled, the liveness probe that notices a dead or
 * wedged xenstored (libxenstore never signals one), and reconnection with
 * backoff; it counts every request.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <xenstore.h>

#include "xs/xs-req.h"

struct xs_conn;

#define XS_CONN_WATCH_HANDLES_MAX 16
#define XS_CONN_WORKERS_MAX 64

struct xs_conn_config {
	uint32_t watch_handles;		/* connections the watches are spread over (1..16) */
	uint32_t request_handles;	/* workers, each with its own connection (1..64) */
	uint32_t request_timeout_ms;	/* a request older than this: xenstore is stalled */
	uint32_t liveness_ms;		/* how often to check a quiet connection */
	uint32_t reconnect_min_ms;	/* first retry after a loss */
	uint32_t reconnect_max_ms;	/* backoff doubles up to this */
};

struct xs_conn_ops {
	/* (Re)connected: the owner submits its first jobs (watches, a listing). */
	void (*connected)(void *ctx, struct xs_conn *conn);
	/* One watch event; path and token are valid during the call only. */
	void (*watch_event)(void *ctx, const char *path, const char *token);
	/* The connection died; watches are gone until the next connected(). */
	void (*lost)(void *ctx);
};

struct xs_conn_stats {
	struct xs_req_counts req;
	uint64_t events;
	uint64_t connect_attempts;	/* the first included, failed or not */
	uint64_t jobs;			/* completed, whatever their result */
	uint64_t jobs_queued;		/* now: waiting for a worker */
	uint64_t jobs_running;		/* now: on a worker */
	uint64_t stalls;		/* times xenstore was marked stalled */
	bool stalled;			/* now: a request is older than request_timeout_ms */
};

/*
 * A unit of work for a worker. The owner embeds it in its own struct,
 * sets run and done, and submits it; the connection owns it until done()
 * is called, once, in the loop.
 */
struct xs_job {
	/* On a worker thread: the requests, on req, and nothing the loop touches. */
	void (*run)(struct xs_job *job, struct xs_conn *conn, struct xs_req *req);
	/*
	 * In the loop, with err as run() left it: 0, an error of the job's own,
	 * or -ENOTCONN (the connection was or is now lost; the job may not have
	 * run) or -ECANCELED (the connection is being freed; release only).
	 */
	void (*done)(struct xs_job *job);
	int err;
	bool urgent;			/* ahead of every non-urgent job */

	/* The connection's. */
	struct xs_job *next;
	struct xs_req_counts counts;
	uint64_t generation;
	uint64_t started_ms;
};

/* Connects at once and retries with backoff on failure. NULL on ENOMEM or no threads. */
struct xs_conn *xs_conn_new(struct event_base *base, const struct xs_conn_config *cfg,
			    const struct xs_conn_ops *ops, void *ctx);
/*
 * Cancels what is queued (done() with -ECANCELED) and waits briefly for
 * the workers. A worker still inside a request to a wedged xenstored is
 * left behind with its job: the process is about to exit.
 */
void xs_conn_free(struct xs_conn *conn);

bool xs_conn_is_up(const struct xs_conn *conn);
/* A copy of the counters, the queues' lengths taken now (under the workers' lock). */
struct xs_conn_stats xs_conn_stats(struct xs_conn *conn);

/* Queues job; while the connection is down, it completes with -ENOTCONN. */
void xs_conn_submit(struct xs_conn *conn, struct xs_job *job);
/* Non-urgent jobs queued or running: owners keep their bulk work to about one per worker. */
size_t xs_conn_bulk_backlog(const struct xs_conn *conn);
size_t xs_conn_workers(const struct xs_conn *conn);

/* Drops the connection and reconnects later, as a loss does. */
void xs_conn_drop(struct xs_conn *conn);

/*
 * From a job's run(): a watch on the watch handle that serves token (a
 * token's watches share one, so a domain's events keep their order).
 */
int xs_conn_watch(struct xs_conn *conn, struct xs_req *req, const char *path, const char *token);
int xs_conn_unwatch(struct xs_conn *conn, struct xs_req *req, const char *path, const char *token);

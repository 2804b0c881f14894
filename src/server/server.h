/*
 * The event socket server: listens on a UNIX socket, greets and serves
 * clients (commands, subscriptions) and fans each published event out to
 * the subscribers whose filter matches. It owns the listener and every
 * client connection; it reaches the engine only through server_engine_ops.
 *
 * Callers must ignore SIGPIPE: libevent writes to sockets with writev().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include "config/config.h"
#include "json/jsonw.h"
#include "protocol/command.h"

/*
 * What the server asks of the engine. Each is called from the event loop,
 * never re-entered, and may not call back into the server. Errors are
 * negative errno (the writers' are kept in w: jsonw_fail()); the client
 * then gets an InternalError (NotFound for get's -ENOENT) and stays
 * connected.
 */
struct server_engine_ops {
	/*
	 * Appends to out one complete "domain.snapshot" event line (with its
	 * newline) per known domain that command_filter_match_domain()
	 * accepts; f->events does not apply to snapshots. Each line's "seq"
	 * should be last_seq(). On error, out is discarded.
	 */
	int (*snapshot)(void *engine, const struct command_filter *f, struct evbuffer *out);
	/*
	 * Writes the results of get as key/value pairs into the open reply
	 * map (e.g. "domain":{...},"data":{...}); records -ENOENT in w when
	 * domid is not known (whatever was written is discarded).
	 */
	void (*get)(void *engine, unsigned int domid, struct jsonw *w);
	/* Writes "domains":[...] into the open reply map. */
	void (*list)(void *engine, struct jsonw *w);
	/* Writes the engine's counters as key/value pairs into an open map. */
	void (*stats)(void *engine, struct jsonw *w);
	/* The seq of the last event published (0: none yet). */
	uint64_t (*last_seq)(void *engine);
};

/* Connections accepted per loop turn at most; the rest wait in the backlog. */
#define SERVER_ACCEPT_BATCH 16

/* A zero max_clients, client_output_cap or shutdown_flush_ms means its default (config/defaults.h). */
struct server_config {
	uint32_t max_clients;		/* connections at once; more get TooManyClients */
	uint32_t client_output_cap;	/* bytes queued per client before events drop */
	uint32_t stall_timeout_ms;	/* no write progress this long: disconnect; 0 never */
	uint32_t shutdown_flush_ms;	/* how long server_shutdown() may flush */
};

/* Maps [limits] onto a server_config. */
void server_config_from(struct server_config *scfg, const struct xgm_config *cfg);

/* Counters; "now" values are current, the others count since server_new(). */
struct server_stats {
	uint64_t clients;		/* now */
	uint64_t subscribers;		/* now */
	uint64_t output_queued;		/* now: bytes queued to all clients */
	uint64_t clients_accepted;
	uint64_t clients_rejected;	/* over max_clients */
	uint64_t clients_hung_up;	/* closed by their peer before they were admitted */
	uint64_t clients_stalled;	/* disconnected for making no progress */
	uint64_t commands;		/* lines parsed as commands, good or bad */
	uint64_t errors;		/* error messages sent */
	uint64_t events_sent;		/* per subscriber: one event to two subscribers counts 2 */
	uint64_t events_dropped;	/* per subscriber, past client_output_cap */
	uint64_t lost_notices;		/* "lost" messages sent */
	uint64_t snapshots;		/* snapshots sent, on subscribe or after a loss */
	uint64_t snapshots_encoded;	/* snapshots made: one of every domain serves all who need it at its seq */
};

struct server;

/*
 * A server with no listener yet. ops and engine are borrowed and must
 * outlive it. NULL on ENOMEM. A random instance id is chosen here: it
 * tells clients that seq numbers restarted.
 */
struct server *server_new(struct event_base *base, const struct server_config *cfg,
			  const struct server_engine_ops *ops, void *engine);

/*
 * Binds path as a SOCK_STREAM UNIX socket with permission bits mode, and
 * listens. A socket file left by a dead server is replaced; a live server
 * there, or a file that is not a socket, is an error (-EADDRINUSE,
 * -EEXIST). Logs one line saying why on every failure. The file is removed
 * again by server_shutdown() or server_free() if it is still ours.
 */
int server_listen(struct server *s, const char *path, mode_t mode);

/* Serves an already listening socket (systemd's LISTEN_FDS); takes ownership of fd. */
int server_listen_fd(struct server *s, int fd);

/*
 * Sends one event to every subscriber whose filter matches (domid, kind).
 * line is the encoded event, with or without its final newline (the
 * server sends exactly one); it is copied once, and every subscriber's
 * buffer holds a reference to that copy when it is long, or its own copy
 * when it is short (what a queued line costs never much exceeds its
 * length, so client_output_cap bounds a stalled client's heap).
 * Subscribers over their output cap have it counted as lost instead, and
 * so does every subscriber when line is NULL (the event could not be
 * encoded).
 */
void server_publish(struct server *s, unsigned int domid, enum xgm_event kind, uint64_t seq,
		    const char *line, size_t len);

/*
 * Stops listening, sends every client {"type":"bye","reason":"shutdown"},
 * and flushes for at most shutdown_flush_ms before closing them all. It
 * does not need the loop to run again: it is safe to exit the loop right
 * after. Publishing afterwards does nothing.
 */
void server_shutdown(struct server *s);

/* Applies new limits; existing clients get the new cap at once. */
void server_reconfigure(struct server *s, const struct server_config *cfg);

void server_get_stats(const struct server *s, struct server_stats *ret);

/* This run's instance id (32 hex digits), as sent in hello. */
const char *server_instance(const struct server *s);

/* Closes every connection without a word, and the listener. NULL is fine. */
void server_free(struct server *s);

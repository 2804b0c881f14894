/*
 * One client connection of the event socket: line framing with a cap,
 * command dispatch, the subscription filter, and the output cap with its
 * lost/resnapshot recovery. Internal to the server module: the server owns
 * every client and frees it only after the client's callbacks returned.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "json/jsonw.h"
#include "protocol/command.h"
#include "server/outblock.h"
#include "server/server.h"

struct server_client;

/* What a client needs from its server; owned by the server, outlives its clients. */
struct client_host {
	struct event_base *base;
	const struct server_engine_ops *ops;
	void *engine;
	const struct server_config *cfg;	/* read at each use: a reload applies at once */
	const char *instance;
	struct server_stats *stats;
	/*
	 * A reference to a snapshot for filter f at the engine's current seq:
	 * the one other clients use when there is one. NULL with *err set.
	 */
	struct snapshot *(*snapshot_for)(void *arg, const struct command_filter *f, int *err);
	/* Writes the server's own counters into an open map (the stats reply). */
	void (*write_stats)(void *arg, struct jsonw *w);
	/*
	 * The client is finished: no callback of it runs again. The server
	 * unlinks it and calls server_client_free() later, from the loop, never
	 * from inside this call.
	 */
	void (*closed)(void *arg, struct server_client *c);
	void *arg;
};

enum client_state {
	CLIENT_OPEN,
	CLIENT_CLOSING,		/* flushing a last message (error, bye), then closed */
	CLIENT_CLOSED,		/* waiting for server_client_free() */
};

struct server_client {
	TAILQ_ENTRY(server_client) link;	/* in the server's live or dead list */
	const struct client_host *host;
	struct bufferevent *bev;
	unsigned long serial;		/* for log lines */
	int peer_pid;			/* from SO_PEERCRED, for log lines; 0 unknown */
	unsigned int peer_uid;
	enum client_state state;
	bool reading_paused;		/* output over the cap: commands wait */
	bool read_eof;			/* the client sent all it will send */
	bool subscribed;
	struct command_filter filter;
	struct {
		uint64_t count, first_seq, last_seq;	/* count 0: nothing lost */
	} lost;
	/*
	 * A snapshot being copied into the output as it drains. Commands wait
	 * until its end; events published meanwhile wait in held (within half
	 * the cap, else they are lost), to follow its snapshot-end.
	 */
	/*
	 * Published lines not queued yet: a stretch of the server's current
	 * block (no reference of its own: the server flushes every run before
	 * it lets go of a block).
	 */
	struct {
		struct out_block *block;	/* NULL: none */
		size_t start, end;
	} run;
	struct {
		struct snapshot *snap;		/* NULL: no snapshot under way */
		size_t offset;			/* of what is not copied yet */
		struct evbuffer *held;
	} stream;
};

/*
 * Serves fd (a connected, non-blocking socket; owned from now on, even on
 * failure) and sends hello. NULL on ENOMEM.
 */
struct server_client *server_client_new(const struct client_host *host, evutil_socket_t fd,
					unsigned long serial);

/*
 * Queues one published event if it matches, or counts it as lost past the
 * cap or when block is NULL (its line could not be made: out of memory).
 * The line is bytes [offset, offset + len) of block: it extends the
 * client's run when it follows the run's end, else the run is queued and
 * a new one starts. The run is queued before anything else is written to
 * the client, and by server_client_flush_run() before its block changes.
 */
void server_client_publish(struct server_client *c, unsigned int domid, enum xgm_event kind,
			   uint64_t seq, struct out_block *block, size_t offset, size_t len);

/* Queues the client's run of published lines, if any (see server_client_publish()). */
void server_client_flush_run(struct server_client *c);

/* Queues {"type":"bye","reason":reason} and stops reading and sending events. */
void server_client_bye(struct server_client *c, const char *reason);

/* Closes the connection now; the host's closed() is called. */
void server_client_close(struct server_client *c, const char *why);

/* Applies the host's current cfg (cap, stall timeout) to this connection. */
void server_client_reconfigure(struct server_client *c);

/* Bytes queued to the client: its output, and events held behind a snapshot. */
size_t server_client_output_length(const struct server_client *c);

/* Frees a closed client (or any client, when the whole server goes away). NULL is fine. */
void server_client_free(struct server_client *c);

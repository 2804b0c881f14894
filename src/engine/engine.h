/*
 * The engine: every domain's state machine, driven by the xenstore
 * connection and by timers in one libevent loop. It discovers and forgets
 * domains, reads what changed when a batch settles, computes metrics and
 * hands each event, encoded once, to a publisher. It answers the socket
 * server's queries (snapshot, get, list, stats).
 */
#pragma once

#include <stdint.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "domain/domain.h"
#include "metrics/metrics.h"
#include "protocol/command.h"
#include "xs/xs-conn.h"

struct engine;

struct engine_config {
	struct domain_config domain;
	struct xs_conn_config xs;
	struct metrics_config metrics;
	uint32_t live_timeout_s;	/* "live": an agent wrote within this */
	bool reread_all;		/* benchmark baseline: re-read every subtree on any event */
};

/*
 * Receives each event line (without its newline), encoded once for every
 * subscriber; line is NULL for an event that could not be encoded, which
 * every subscriber it matches must count as lost.
 */
typedef void engine_publish_fn(void *ctx, unsigned int domid, enum xgm_event kind,
			       uint64_t seq, const char *line, size_t len);

struct engine *engine_new(struct event_base *base, const struct engine_config *cfg,
			  engine_publish_fn *publish, void *publish_ctx);
void engine_free(struct engine *e);

/*
 * Connects to xenstore (retrying in the background) and lists the domains;
 * the loop then adopts them a slice per turn (stats: resync_pending).
 */
int engine_start(struct engine *e);

/* Queries for the socket server (see server.h). */
int engine_snapshot(void *engine, const struct command_filter *f, struct evbuffer *out);
int engine_get(void *engine, unsigned int domid, yajl_gen g);
int engine_list(void *engine, yajl_gen g);
int engine_stats(void *engine, yajl_gen g);
uint64_t engine_last_seq(void *engine);

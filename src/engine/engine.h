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
#include "domain/domain.h"
#include "json/jsonw.h"
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

/*
 * A reload: applies cfg's settling, limits, reference version and live
 * timeout at once, re-evaluates every domain under them and publishes
 * domain.metrics only where a value really changed. The xenstore settings
 * and reread_all are kept (the caller says so). A batch already open keeps
 * the deadline it has.
 */
void engine_reconfigure(struct engine *e, const struct engine_config *cfg);

/* Queries for the socket server (see server.h). */
int engine_snapshot(void *engine, const struct command_filter *f, struct evbuffer *out);
void engine_get(void *engine, unsigned int domid, struct jsonw *w);
void engine_list(void *engine, struct jsonw *w);
void engine_stats(void *engine, struct jsonw *w);
uint64_t engine_last_seq(void *engine);

/*
 * Read-only views for exporters (src/prometheus/): no xenstore request,
 * nothing changes. engine_foreach_domain() calls fn, in domid order, for at
 * most max of the domains from domid first on whose metrics have been read
 * at least once; name and uuid may be NULL. Everything passed is borrowed
 * for the duration of the call. It returns the domid to continue from:
 * ENGINE_DOMID_END when no domain is left, so that an exporter can visit
 * thousands of domains over several loop turns.
 */
#define ENGINE_DOMID_END 0x7ff0U	/* DOMID_FIRST_RESERVED: no guest has it */
typedef void engine_domain_fn(void *ctx, unsigned int domid, const char *name,
			      const char *uuid, const struct guest_metrics *m, bool rate_limited);
unsigned int engine_foreach_domain(const struct engine *e, unsigned int first, size_t max,
				   engine_domain_fn *fn, void *ctx);

/* The engine's counters, as engine_stats() reports them. */
struct engine_counters {
	uint64_t domains;		/* now */
	uint64_t resync_pending;	/* now */
	uint64_t batches;
	uint64_t identical_batches;
	uint64_t events_published;
	uint64_t xenstore_connects;	/* the first connection included */
	bool xenstore_connected;	/* now */
	struct xs_conn_stats xs;
};
void engine_get_counters(const struct engine *e, struct engine_counters *out);

/*
 * The engine's state, shared by its glue (engine.c) and its queries
 * (query.c). Nothing outside src/engine/ includes this.
 */
#pragma once

#include "domain/lifecycle.h"
#include "engine/engine.h"

#define DOMID_LIMIT ENGINE_DOMID_END
_Static_assert(DOMID_LIMIT == LC_DOMID_LIMIT, "one domid bound");

struct engine_job;

struct tracked {
	struct engine *engine;
	struct domain *d;
	struct event *settle_ev;	/* the batch's deadline */
	struct event *live_ev;		/* when "live" turns false */
	struct guest_metrics metrics;	/* as last published */
	bool announced;			/* domain.new published: clients may see it */
	bool watched;			/* its watches are (being) set on the current connection */
	struct engine_job *job;		/* the sync or batch of it in flight; it holds d->keys for a batch */
	bool batch_wanted;		/* a batch settled while the job ran */
};

struct engine_stats {
	uint64_t batches;
	uint64_t keys_read;
	uint64_t events_published;
	uint64_t events_unencoded;	/* published as lost: encoding failed */
	uint64_t identical_batches;	/* batches that changed nothing */
	uint64_t batches_merged;	/* held by the publication limit, merged into a later one */
	uint64_t domains_new;
	uint64_t domains_gone;
	uint64_t connects;		/* connections made, each followed by a pass */
	uint64_t reloads;		/* engine_reconfigure() calls */
};

struct engine {
	struct event_base *base;
	struct engine_config cfg;
	engine_publish_fn *publish;
	void *publish_ctx;

	struct xs_conn *xs;
	struct lifecycle lc;
	bool hello_pending;		/* connected; its own watches not set yet */
	struct tracked *domains[DOMID_LIMIT];	/* adopted, or being adopted (not announced) */
	size_t n_domains;			/* announced */
	uint32_t next_incarnation;
	uint64_t seq;
	struct jsonw events;	/* every event is encoded here, one after another */
	struct engine_stats stats;
};

/* The pass's length, as stats say: the connection's own watches count too. */
static inline size_t engine_pending(const struct engine *e)
{
	return lc_pending(&e->lc) + e->hello_pending;
}

/* The domain clients may see: announced, not one being adopted. */
static inline struct tracked *engine_visible(const struct engine *e, unsigned int domid)
{
	struct tracked *t = domid < DOMID_LIMIT ? e->domains[domid] : NULL;

	return t && t->announced ? t : NULL;
}

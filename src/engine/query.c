/*
 * The engine's answers to the socket server and the exporters: read-only
 * views of the domains clients may see (engine.h). No xenstore request.
 */
#include <errno.h>
#include <event2/buffer.h>

#include "engine/engine-internal.h"
#include "engine/event.h"
#include "metrics/metrics-json.h"


int engine_snapshot(void *engine, const struct command_filter *f, struct evbuffer *out)
{
	struct engine *e = engine;
	int r = 0;

	for (unsigned int domid = 0; domid < DOMID_LIMIT && r == 0; domid++) {
		struct tracked *t = engine_visible(e, domid);
		const char *text;
		size_t len;

		if (!t || !command_filter_match_domain(f, domid))
			continue;
		r = event_encode(&e->events, t->d, &t->metrics, XGM_EVENT_DOMAIN_SNAPSHOT, e->seq,
				 NULL, 0);
		if (r < 0)
			break;
		jsonw_text(&e->events, &text, &len);
		if (evbuffer_add(out, text, len) < 0 || evbuffer_add(out, "\n", 1) < 0)
			r = -ENOMEM;
	}
	return r;
}

void engine_get(void *engine, unsigned int domid, struct jsonw *w)
{
	struct engine *e = engine;
	struct tracked *t = engine_visible(e, domid);

	if (!t) {
		jsonw_fail(w, -ENOENT);
		return;
	}
	event_write_domain_ref(w, t->d);
	jsonw_cstr(w, "state");
	jsonw_cstr(w, domain_state_name(t->d->state));
	jsonw_cstr(w, "rate_limited");
	jsonw_bool(w, ratelimit_held(&t->d->publish));
	jsonw_key_uint(w, "batches_merged", t->d->publish.merged);
	jsonw_cstr(w, "data");
	metrics_json(w, &t->metrics);
}

void engine_list(void *engine, struct jsonw *w)
{
	struct engine *e = engine;

	jsonw_cstr(w, "domains");
	jsonw_array_open(w);
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		struct tracked *t = engine_visible(e, domid);

		if (!t)
			continue;
		jsonw_map_open(w);
		event_write_identity(w, t->d);
		jsonw_cstr(w, "state");
		jsonw_cstr(w, domain_state_name(t->d->state));
		jsonw_map_close(w);
	}
	jsonw_array_close(w);
}

void engine_stats(void *engine, struct jsonw *w)
{
	struct engine *e = engine;
	const struct xs_conn_stats stats = xs_conn_stats(e->xs), *xs = &stats;
	uint64_t rate_limited = 0;

	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		const struct tracked *t = engine_visible(e, domid);

		rate_limited += t && ratelimit_held(&t->d->publish);
	}

	jsonw_key_uint(w, "domains", e->n_domains);
	jsonw_key_uint(w, "resync_pending", engine_pending(e));
	jsonw_key_uint(w, "seq", e->seq);
	jsonw_key_uint(w, "batches", e->stats.batches);
	jsonw_key_uint(w, "identical_batches", e->stats.identical_batches);
	jsonw_key_uint(w, "batches_merged", e->stats.batches_merged);
	jsonw_key_uint(w, "rate_limited_domains", rate_limited);
	jsonw_key_uint(w, "keys_read", e->stats.keys_read);
	jsonw_key_uint(w, "events_published", e->stats.events_published);
	jsonw_key_uint(w, "events_unencoded", e->stats.events_unencoded);
	jsonw_key_uint(w, "domains_new", e->stats.domains_new);
	jsonw_key_uint(w, "domains_gone", e->stats.domains_gone);
	jsonw_key_uint(w, "reloads", e->stats.reloads);
	jsonw_cstr(w, "xenstore_connected");
	jsonw_bool(w, xs_conn_is_up(e->xs));
	jsonw_key_uint(w, "xenstore_connects", e->stats.connects);
	jsonw_key_uint(w, "xenstore_connect_attempts", xs->connect_attempts);
	jsonw_cstr(w, "xenstore_stalled");
	jsonw_bool(w, xs->stalled);
	jsonw_key_uint(w, "xenstore_stalls", xs->stalls);
	jsonw_key_uint(w, "xenstore_request_connections", xs_conn_workers(e->xs));
	jsonw_key_uint(w, "xenstore_jobs", xs->jobs);
	jsonw_key_uint(w, "xenstore_jobs_queued", xs->jobs_queued);
	jsonw_key_uint(w, "xenstore_jobs_running", xs->jobs_running);
	jsonw_key_uint(w, "xenstore_reads", xs->req.reads);
	jsonw_key_uint(w, "xenstore_directories", xs->req.directories);
	jsonw_key_uint(w, "xenstore_watches", xs->req.watches);
	jsonw_key_uint(w, "xenstore_other_requests", xs->req.other_requests);
	jsonw_key_uint(w, "xenstore_watch_events", xs->events);
	jsonw_key_uint(w, "xenstore_request_resets", xs->req.request_handle_resets);
	jsonw_key_uint(w, "xenstore_oversize_listings", xs->req.oversize_listings);
}

uint64_t engine_last_seq(void *engine)
{
	return ((struct engine *)engine)->seq;
}

unsigned int engine_foreach_domain(const struct engine *e, unsigned int first, size_t max,
				   engine_domain_fn *fn, void *ctx)
{
	unsigned int domid;

	for (domid = first; domid < DOMID_LIMIT && max; domid++) {
		const struct tracked *t = engine_visible(e, domid);

		/* Not read yet: all-false metrics would claim "no tools". */
		if (!t)
			continue;
		fn(ctx, domid, t->d->name, t->d->uuid, &t->metrics, ratelimit_held(&t->d->publish));
		max--;
	}
	return domid < DOMID_LIMIT ? domid : ENGINE_DOMID_END;
}

void engine_get_counters(const struct engine *e, struct engine_counters *out)
{
	*out = (struct engine_counters){
		.domains = e->n_domains,
		.resync_pending = engine_pending(e),
		.batches = e->stats.batches,
		.identical_batches = e->stats.identical_batches,
		.events_published = e->stats.events_published,
		.xenstore_connects = e->stats.connects,
		.xenstore_connected = e->xs && xs_conn_is_up(e->xs),
	};
	if (e->xs)
		out->xs = xs_conn_stats(e->xs);
}

/*
 * The engine: domain discovery and release, settled batch reads of only
 * the changed keys, metrics, and events encoded once for every subscriber.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "engine/engine.h"
#include "json/jsonw.h"
#include "metrics/metrics-json.h"
#include "protocol/message.h"
#include "util/log.h"
#include "util/time.h"

/* Domain ids at and above DOMID_FIRST_RESERVED are not domains. */
#define DOMID_LIMIT ENGINE_DOMID_END
/* A full read goes no deeper than this below a subtree root. */
#define WALK_MAX_DEPTH 8

#define TOKEN_INTRODUCE "@introduce"
#define TOKEN_RELEASE "@release"

/*
 * How long one slice of a (re)synchronisation pass may hold the loop. A
 * domain costs ~70 requests, ~12 ms against a xenstored serving 1000
 * domains: a slice does at least one, and clients wait at most about that.
 */
#define PASS_SLICE_MS 10

struct tracked {
	struct engine *engine;
	struct domain *d;
	struct event *settle_ev;	/* the batch's deadline */
	struct event *live_ev;		/* when "live" turns false */
	struct guest_metrics metrics;	/* as last published */
	bool watched;			/* its watches are on the current connection */
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
	struct tracked *domains[DOMID_LIMIT];
	size_t n_domains;
	/*
	 * Listed domids that were not introduced when asked: a home being
	 * built, or one that a dead domain left behind (the toolstack failed to
	 * remove it). Neither is a domain for subscribers. An @introduceDomain
	 * names no domain, so it asks the newly listed domids; these are asked
	 * again only when an introduction matched none of them
	 * (introduce_unmatched), so that leftover homes cost nothing per
	 * introduction.
	 */
	uint8_t awaiting[DOMID_LIMIT / 8];
	unsigned int introduce_unmatched;	/* @introduceDomain events no adoption answered yet */
	uint8_t listed[DOMID_LIMIT / 8];	/* /local/domain, as last listed */
	/*
	 * The pass: listed domids still to adopt, or (after a reconnection) to
	 * re-watch and re-read, a slice per loop turn so that clients, signals
	 * and watch events are served in between.
	 */
	uint8_t pending[DOMID_LIMIT / 8];
	size_t n_pending;
	struct event *pass_ev;
	bool connect_pass;		/* the pending domids came with a connection */
	uint32_t next_incarnation;
	uint64_t seq;
	struct jsonw events;	/* every event is encoded here, one after another */
	struct engine_stats stats;
};

static void arm_at(struct event *ev, uint64_t deadline_ms)
{
	uint64_t now = (uint64_t)monotonic_ms(), delay = deadline_ms > now ? deadline_ms - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(delay / 1000),
			      .tv_usec = (suseconds_t)(delay % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static void home_path(char *buf, size_t size, unsigned int domid, const char *rel)
{
	if (rel && *rel)
		snprintf(buf, size, "/local/domain/%u/%s", domid, rel);
	else
		snprintf(buf, size, "/local/domain/%u", domid);
}

static void token_for(char *buf, size_t size, const struct domain *d)
{
	snprintf(buf, size, "d%u.%" PRIu32, d->domid, d->incarnation);
}

/* ---- events ---- */

/* "id":..,"name":..,"uuid":.. of a domain, into an open map. */
static void write_identity(struct jsonw *w, const struct domain *d)
{
	jsonw_cstr(w, "id");
	jsonw_int(w, d->domid);
	jsonw_cstr(w, "name");
	jsonw_cstr_or_null(w, d->name);
	jsonw_cstr(w, "uuid");
	jsonw_cstr_or_null(w, d->uuid);
}

static void write_domain_ref(struct jsonw *w, const struct domain *d)
{
	jsonw_cstr(w, "domain");
	jsonw_map_open(w);
	write_identity(w, d);
	jsonw_map_close(w);
}

/* Encodes one event line into w (reset first); changed may be NULL. 0 or a negative errno. */
static int encode_event(struct jsonw *w, const struct tracked *t, enum xgm_event kind,
			uint64_t seq, const char *const *changed, size_t n_changed)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	jsonw_reset(w);
	message_event_open(w, seq, kind);
	jsonw_cstr(w, "timestamp");
	jsonw_map_open(w);
	jsonw_cstr(w, "seconds");
	jsonw_int(w, tv.tv_sec);
	jsonw_cstr(w, "microseconds");
	jsonw_int(w, tv.tv_usec);
	jsonw_map_close(w);
	write_domain_ref(w, t->d);
	if (changed) {
		jsonw_cstr(w, "changed");
		jsonw_array_open(w);
		for (size_t i = 0; i < n_changed; i++)
			jsonw_cstr(w, changed[i]);
		jsonw_array_close(w);
	}
	if (kind != XGM_EVENT_DOMAIN_GONE) {
		jsonw_cstr(w, "data");
		metrics_json(w, &t->metrics);
	}
	jsonw_map_close(w);
	return jsonw_error(w);
}

static void publish(struct engine *e, struct tracked *t, enum xgm_event kind,
		    const char *const *changed, size_t n_changed)
{
	const char *text;
	size_t len;

	int r = encode_event(&e->events, t, kind, e->seq + 1, changed, n_changed);

	e->seq++;
	if (r < 0) {
		/*
		 * The event happened: its seq is spent, and every subscriber it
		 * was for counts it lost, so it gets a lost notice and a fresh
		 * snapshot instead of a silent gap.
		 */
		log_err("domain %u: cannot encode %s: %s", t->d->domid, xgm_event_name(kind),
			strerror(-r));
		e->stats.events_unencoded++;
		e->publish(e->publish_ctx, t->d->domid, kind, e->seq, NULL, 0);
		return;
	}
	jsonw_text(&e->events, &text, &len);
	e->stats.events_published++;
	/* The server copies the line and ends it; every subscriber gets these same bytes. */
	e->publish(e->publish_ctx, t->d->domid, kind, e->seq, text, len);
}

/* ---- reading a domain ---- */

/*
 * Keeps the first of a sequence of errors: ORing negative errnos together
 * makes another errno (-ENOMEM | -EINVAL is -ENOENT).
 */
static void first_error(int *r, int next)
{
	if (*r == 0 && next < 0)
		*r = next;
}

/*
 * Folds a child's result into the walk's: a child removed while we walked
 * (-ENOENT) is no error, a lost connection or the domain's limits
 * (-ENOTCONN, -ENOSPC) stop the walk whatever came before, and otherwise
 * the first error wins.
 */
static void walk_error(int *r, int rc)
{
	if (rc == -ENOTCONN || rc == -ENOSPC)
		*r = rc;
	else if (rc != -ENOENT)
		first_error(r, rc);
}

/*
 * Stores node rel, whose value was just read, into keys: a leaf's value,
 * or, for a node with children, its subtree (a write fires for the leaf,
 * an rm for the removed root). Agents write leaves, and xenstored makes the
 * nodes above them empty, so only an empty value needs a listing: that
 * saves a request per key. (A node with both a value and children is kept
 * as a leaf; a write below it still fires and is read.)
 *
 * A node's own leaves are stored before any of its subdirectories is
 * walked. The two xenstoreds list children in different orders (oxenstored
 * sorts them), and a guest that floods one subdirectory must not push its
 * other keys out of its limits on one daemon and not on the other.
 *
 * Returns 0, -ENOENT when the node is gone, -ENOTCONN, -ENOSPC when the
 * domain's limits stop the walk, or the first other error of a child, past
 * which the walk went on.
 */
static int store_node(struct engine *e, struct keyset *keys, unsigned int domid,
		      const char *rel, int depth, const char *value, unsigned int len)
{
	char path[KEYSET_PATH_MAX + 64];
	unsigned int n = 0, n_dirs = 0;
	char **children = NULL;
	bool *is_dir = NULL;
	int err = 0, r = 0;

	if (len == 0) {
		home_path(path, sizeof(path), domid, rel);
		children = xs_conn_directory(e->xs, path, &n, &err);
		/*
		 * A listing larger than a message (oxenstored sends those, and a
		 * guest can make one): its keys are left out, and the walk goes
		 * on with the rest of the domain.
		 */
		if (!children)
			return err == -EMSGSIZE ? 0 : err;
	}
	if (n == 0) {
		free(children);
		r = keyset_set(keys, rel, value, len);
		return r < 0 ? r : 0;
	}
	if (depth >= WALK_MAX_DEPTH) {
		free(children);
		return 0;
	}
	is_dir = calloc(n, sizeof(*is_dir));
	if (!is_dir) {
		free(children);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n && r != -ENOTCONN && r != -ENOSPC; i++) {
		char child[KEYSET_PATH_MAX + 1];
		unsigned int child_len;
		char *child_value;

		if (snprintf(child, sizeof(child), "%s/%s", rel, children[i]) >= (int)sizeof(child))
			continue;
		home_path(path, sizeof(path), domid, child);
		child_value = xs_conn_read(e->xs, path, &child_len, &err);
		if (!child_value) {
			walk_error(&r, err);
			continue;
		}
		e->stats.keys_read++;
		if (child_len == 0) {
			is_dir[i] = true;
			n_dirs++;
		} else {
			int rc = keyset_set(keys, child, child_value, child_len);

			walk_error(&r, rc < 0 ? rc : 0);
		}
		free(child_value);
	}
	for (unsigned int i = 0; i < n && n_dirs > 0 && r != -ENOTCONN && r != -ENOSPC; i++) {
		char child[KEYSET_PATH_MAX + 1];

		/* A path too long was skipped above, so is_dir[i] is false for it. */
		if (!is_dir[i] ||
		    snprintf(child, sizeof(child), "%s/%s", rel, children[i]) >= (int)sizeof(child))
			continue;
		walk_error(&r, store_node(e, keys, domid, child, depth + 1, "", 0));
	}
	free(is_dir);
	free(children);
	return r;
}

/* Reads node rel and stores it (see store_node). */
static int read_node(struct engine *e, struct keyset *keys, unsigned int domid,
		     const char *rel, int depth)
{
	char path[KEYSET_PATH_MAX + 64];
	unsigned int len;
	char *value;
	int err = 0, r;

	home_path(path, sizeof(path), domid, rel);
	value = xs_conn_read(e->xs, path, &len, &err);
	if (!value)
		return err;
	e->stats.keys_read++;
	r = store_node(e, keys, domid, rel, depth, value, len);
	free(value);
	return r;
}

/* Re-reads every tracked subtree into a fresh keyset. */
static int read_all(struct engine *e, struct tracked *t)
{
	struct keyset *fresh = keyset_new(keyset_limits(t->d->keys));
	int r = 0;

	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < domain_subtree_count; i++) {
		r = read_node(e, fresh, t->d->domid, domain_subtrees[i], 0);
		if (r == -ENOENT)
			r = 0;
		if (r == -ENOSPC) {
			log_warning("domain %u: over its tracking limits; some keys are ignored",
				    t->d->domid);
			r = 0;
		}
		if (r < 0)
			break;
	}
	if (r < 0) {
		keyset_free(fresh);
		return r;
	}
	keyset_free(t->d->keys);
	t->d->keys = fresh;
	return 0;
}

/*
 * Re-reads the dirty paths only: one read each, or a walk where a subtree
 * came or went. -ENOSPC (the limit refused a key, which the keyset flags
 * and the metrics report) and -ENOENT are outcomes, not errors; the first
 * real error is returned, and the rest of the batch is read anyway unless
 * the connection is gone.
 */
static int read_dirty(struct engine *e, struct tracked *t, char **paths, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r != -ENOTCONN; i++) {
		char path[KEYSET_PATH_MAX + 64];
		unsigned int len;
		char *value;
		int err = 0, rc = 0;

		home_path(path, sizeof(path), t->d->domid, paths[i]);
		value = xs_conn_read(e->xs, path, &len, &err);
		if (value) {
			e->stats.keys_read++;
			if (len == 0) {
				/* Empty: a leaf, or a directory that gained children. */
				keyset_remove_subtree(t->d->keys, paths[i]);
				rc = store_node(e, t->d->keys, t->d->domid, paths[i], 1, value, len);
			} else {
				rc = keyset_set(t->d->keys, paths[i], value, len);
			}
			free(value);
		} else if (err == -ENOENT) {
			keyset_remove_subtree(t->d->keys, paths[i]);
		} else if (err != -EACCES) {
			rc = err;
		}
		/* EACCES: the key is not ours to know; leave it. */
		if (rc != -ENOENT && rc != -ENOSPC)
			first_error(&r, rc < 0 ? rc : 0);
		if (rc == -ENOTCONN)
			r = rc;
	}
	return r;
}

/*
 * Recomputes the metrics and publishes what changed. "live" follows every
 * agent write (a heartbeat); "last_updated" is the time of the last real
 * change, as in xapi, so that a rewrite of unchanged values changes nothing.
 */
static void recompute(struct engine *e, struct tracked *t, bool publish_changes)
{
	struct guest_metrics fresh;
	struct metrics_clock clk = {
		.now = wall_seconds(),
		.last_write = t->d->last_write_wall ? t->d->last_write_wall : GM_ABSENT,
		.live_timeout = e->cfg.live_timeout_s,
	};
	const char *changed[METRICS_FIELD_COUNT];
	size_t n;
	bool real_change = false;

	if (metrics_compute(&fresh, t->d->keys, &e->cfg.metrics, &clk) < 0) {
		log_err("domain %u: cannot compute metrics: out of memory", t->d->domid);
		return;
	}
	/* Monotonic milliseconds: a clock step must not make a guest live or dead. */
	fresh.live = t->d->last_write_wall != 0 &&
		(uint64_t)monotonic_ms() - t->d->last_write_ms < (uint64_t)e->cfg.live_timeout_s * 1000;
	fresh.last_updated = t->metrics.last_updated;
	n = metrics_diff(&t->metrics, &fresh, changed, METRICS_FIELD_COUNT - 1);
	for (size_t i = 0; i < n; i++)
		real_change |= strcmp(changed[i], metrics_field_name(METRICS_LIVE)) != 0;
	if (real_change) {
		fresh.last_updated = clk.now;
		changed[n++] = metrics_field_name(METRICS_LAST_UPDATED);
	}
	metrics_free(&t->metrics);
	t->metrics = fresh;
	if (n == 0) {
		e->stats.identical_batches++;
		return;
	}
	if (publish_changes)
		publish(e, t, XGM_EVENT_DOMAIN_METRICS, changed, n);
}

static void arm_live_timer(struct engine *e, struct tracked *t)
{
	if (t->d->last_write_wall == 0 || !e->cfg.live_timeout_s)
		return;
	arm_at(t->live_ev, t->d->last_write_ms + (uint64_t)e->cfg.live_timeout_s * 1000);
}

static void forget(struct engine *e, struct tracked *t, bool announce);

/* The home is gone when every tracked subtree and the home itself are. */
static bool home_exists(struct engine *e, unsigned int domid)
{
	char path[64];
	unsigned int len;
	int err = 0;
	char *value;

	home_path(path, sizeof(path), domid, NULL);
	value = xs_conn_read(e->xs, path, &len, &err);
	free(value);
	return value || err != -ENOENT;
}

static void read_batch(struct engine *e, struct tracked *t)
{
	size_t n = 0;
	bool rescan;
	char **paths = domain_take_dirty(t->d, &n, &rescan);
	int r;

	e->stats.batches++;
	if (e->cfg.reread_all)
		rescan = true;
	r = rescan ? read_all(e, t) : read_dirty(e, t, paths, n);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	/*
	 * Room again after the limit refused writes: the refused keys are not
	 * kept, so only a whole read makes the keyset what xenstore holds
	 * (a fresh keyset raises the flag again if it still does not fit).
	 */
	if (r == 0 && !rescan && keyset_limit_reached(t->d->keys) &&
	    keyset_clear_limit(t->d->keys)) {
		rescan = true;
		r = read_all(e, t);
	}
	domain_batch_done(t->d);
	if (r == -ENOTCONN)
		return;		/* the resync after reconnecting reads it all again */
	if (r < 0)	/* what was read is published; the next batch or resync retries the rest */
		log_warning("domain %u: cannot read all of its batch: %s", t->d->domid, strerror(-r));
	if (rescan && !home_exists(e, t->d->domid)) {
		forget(e, t, true);
		return;
	}
	recompute(e, t, true);
	arm_live_timer(e, t);
}

/*
 * A batch settled. The publication limit may hold it: it stays open, what
 * the guest writes meanwhile merges into it, and it is read when the next
 * token comes. A data/updated kick re-arms this timer for now, but it finds
 * no token either, so a kick cannot bypass the limit. Reads happen only
 * when a batch is admitted, so the limit bounds a guest's xenstore reads too.
 */
static void on_settle_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tracked *t = arg;
	struct engine *e = t->engine;
	const struct ratelimit_config *limit = &e->cfg.domain.publish;
	uint64_t now = (uint64_t)monotonic_ms();

	if (!ratelimit_admit(&t->d->publish, limit, now)) {
		e->stats.batches_merged++;
		if (ratelimit_warn_due(&t->d->publish, now))
			log_warning("domain %u publishes too often; its changes are merged "
				    "(limits.publish_burst %u, publish_rate %u/s; %" PRIu64 " merged so far)",
				    t->d->domid, limit->burst, limit->per_s, t->d->publish.merged);
		arm_at(t->settle_ev, ratelimit_next(&t->d->publish, limit, now));
		return;
	}
	read_batch(e, t);
}

static void on_live_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tracked *t = arg;

	/* Nothing to read: only "live" can have changed. */
	recompute(t->engine, t, true);
	if (t->metrics.live)	/* woken a little early: look again */
		arm_at(t->live_ev, (uint64_t)monotonic_ms() + 10);
}

/* ---- domain life cycle ---- */

static int watch_subtrees(struct engine *e, struct tracked *t)
{
	char path[128], token[64];
	int r;

	token_for(token, sizeof(token), t->d);
	t->d->initial_events = 0;
	t->watched = true;
	for (size_t i = 0; i < domain_subtree_count; i++) {
		home_path(path, sizeof(path), t->d->domid, domain_subtrees[i]);
		r = xs_conn_watch(e->xs, path, token);
		if (r < 0)
			return r;
		t->d->initial_events++;
	}
	return 0;
}

static void unwatch_subtrees(struct engine *e, struct tracked *t)
{
	char path[128], token[64];

	/* A lost connection took the watches with it: do not ask the next one. */
	if (!t->watched || !xs_conn_is_up(e->xs))
		return;
	token_for(token, sizeof(token), t->d);
	for (size_t i = 0; i < domain_subtree_count; i++) {
		home_path(path, sizeof(path), t->d->domid, domain_subtrees[i]);
		xs_conn_unwatch(e->xs, path, token);
	}
}

static void read_identity(struct engine *e, struct tracked *t)
{
	char path[128];
	unsigned int len;
	char *name, *vm, *uuid = NULL;
	int err;

	home_path(path, sizeof(path), t->d->domid, "name");
	name = xs_conn_read(e->xs, path, &len, &err);
	home_path(path, sizeof(path), t->d->domid, "vm");
	vm = xs_conn_read(e->xs, path, &len, &err);
	if (vm) {
		/* The toolstack writes "/vm/<uuid>". */
		const char *slash = strrchr(vm, '/');

		uuid = strdup(slash ? slash + 1 : vm);
		free(vm);
	}
	domain_set_identity(t->d, name, uuid);
}

static bool bit_get(const uint8_t *map, unsigned int domid)
{
	return map[domid / 8] & (1u << (domid % 8));
}

static void bit_put(uint8_t *map, unsigned int domid, bool on)
{
	if (on)
		map[domid / 8] |= (uint8_t)(1u << (domid % 8));
	else
		map[domid / 8] &= (uint8_t)~(1u << (domid % 8));
}

static void set_pending(struct engine *e, unsigned int domid, bool on)
{
	if (bit_get(e->pending, domid) == on)
		return;
	bit_put(e->pending, domid, on);
	if (on)
		e->n_pending++;
	else
		e->n_pending--;
}

static void forget(struct engine *e, struct tracked *t, bool announce)
{
	unsigned int domid = t->d->domid;

	if (announce) {
		e->stats.domains_gone++;
		log_info("domain %u is gone", domid);
		publish(e, t, XGM_EVENT_DOMAIN_GONE, NULL, 0);
	}
	unwatch_subtrees(e, t);
	event_free(t->settle_ev);
	event_free(t->live_ev);
	metrics_free(&t->metrics);
	domain_free(t->d);
	free(t);
	e->domains[domid] = NULL;
	e->n_domains--;
	set_pending(e, domid, false);
}

/* Registers watches and reads the domain whole; publishes domain.new or what changed. */
static int sync_domain(struct engine *e, struct tracked *t, bool is_new)
{
	int r;

	r = watch_subtrees(e, t);
	if (r == 0) {
		read_identity(e, t);
		r = read_all(e, t);
	}
	if (r < 0)
		return r;
	domain_batch_done(t->d);
	if (is_new) {
		recompute(e, t, false);
		e->stats.domains_new++;
		log_info("domain %u is new", t->d->domid);
		publish(e, t, XGM_EVENT_DOMAIN_NEW, NULL, 0);
	} else {
		recompute(e, t, true);
	}
	return 0;
}

static int adopt(struct engine *e, unsigned int domid)
{
	struct tracked *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->engine = e;
	t->d = domain_new(domid, ++e->next_incarnation, &e->cfg.domain);
	t->settle_ev = evtimer_new(e->base, on_settle_timer, t);
	t->live_ev = evtimer_new(e->base, on_live_timer, t);
	if (!t->d || !t->settle_ev || !t->live_ev ||
	    metrics_compute(&t->metrics, t->d->keys, &e->cfg.metrics,
			    &(struct metrics_clock){ .now = wall_seconds(), .last_write = GM_ABSENT }) < 0) {
		if (t->settle_ev)
			event_free(t->settle_ev);
		if (t->live_ev)
			event_free(t->live_ev);
		domain_free(t->d);
		free(t);
		return -ENOMEM;
	}
	e->domains[domid] = t;
	e->n_domains++;
	r = sync_domain(e, t, true);
	if (r < 0) {
		/*
		 * Never announced, so never known: subscribers learn of a domain
		 * from its domain.new. It is untracked and not awaiting, so the
		 * next @introduceDomain, or the next connection's pass, tries again.
		 */
		forget(e, t, false);
	}
	return r;
}

static void on_pass_slice(evutil_socket_t fd, short what, void *arg);

/* Runs the next slice of the pass from the loop, once what is ready now has been served. */
static void kick_pass(struct engine *e)
{
	/*
	 * A zero timeout, not event_active(): libevent runs an event activated
	 * from its own callback again in the same turn, without polling, so a
	 * pass would starve the sockets it is meant to let through.
	 */
	static const struct timeval zero = { 0, 0 };

	if (e->n_pending > 0 && !evtimer_pending(e->pass_ev, NULL))
		evtimer_add(e->pass_ev, &zero);
}

/* Why /local/domain is listed, which decides what the pass is given. */
enum listing {
	LIST_CONNECT,		/* every listed domid: adopt, or re-watch and re-read */
	LIST_INTRODUCE,		/* the newly listed domids that are not tracked */
	LIST_RELEASE,		/* none: only what left the listing matters */
};

static void queue_awaiting(struct engine *e)
{
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++)
		if (bit_get(e->awaiting, domid))
			set_pending(e, domid, true);
}

/*
 * Once the domids an @introduceDomain queued are all asked: if some
 * introduction was not answered by an adoption, the domain introduced is one
 * listed earlier (its home was written before another listing, or a reused
 * domid over a leftover home), so every awaiting domid is asked once.
 */
static void answer_introductions(struct engine *e)
{
	if (e->n_pending > 0 || e->introduce_unmatched == 0)
		return;
	e->introduce_unmatched = 0;
	queue_awaiting(e);
}

/*
 * Lists /local/domain into e->listed and queues for the pass what `why`
 * asks. A domid that left the listing leaves the queue and stops awaiting.
 * No listing at all (-ENOENT) is an empty one: a fresh xenstored before the
 * toolstack.
 */
static int list_domains(struct engine *e, enum listing why)
{
	unsigned int n = 0;
	char **names;
	int err = 0;

	names = xs_conn_directory(e->xs, "/local/domain", &n, &err);
	if (!names && err != -ENOENT)
		return err;
	memset(e->listed, 0, sizeof(e->listed));
	for (unsigned int i = 0; i < n; i++) {
		char *end;
		unsigned long domid = strtoul(names[i], &end, 10);

		if (!*end && end != names[i] && domid < DOMID_LIMIT)
			bit_put(e->listed, (unsigned int)domid, true);
	}
	free(names);
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		if (!bit_get(e->listed, domid)) {
			bit_put(e->awaiting, domid, false);
			set_pending(e, domid, false);
		} else if (why == LIST_CONNECT ||
			   (why == LIST_INTRODUCE && !e->domains[domid] &&
			    !bit_get(e->awaiting, domid))) {
			set_pending(e, domid, true);
		}
	}
	if (why == LIST_INTRODUCE)
		answer_introductions(e);
	kick_pass(e);
	return 0;
}

/*
 * One domid of the pass. An untracked one is adopted once it is introduced:
 * a home without an introduced domain is one being built, which its own
 * @introduceDomain will bring, or one a dead domain left behind, which must
 * never pass for a live domain. A tracked one is re-watched and re-read,
 * unless it died (is no longer introduced) while the connection was down.
 */
static int pass_one(struct engine *e, unsigned int domid)
{
	struct tracked *t = e->domains[domid];
	int introduced = xs_conn_is_introduced(e->xs, domid);

	if (introduced < 0)
		return introduced;
	if (t) {
		if (introduced)
			return sync_domain(e, t, false);
		forget(e, t, true);
		return 0;
	}
	bit_put(e->awaiting, domid, !introduced);
	if (!introduced)
		return 0;
	if (e->introduce_unmatched > 0)
		e->introduce_unmatched--;
	return adopt(e, domid);
}

/*
 * Forgets what the latest listing lacks and, with check_introduced, what
 * died. A domain that cannot be asked keeps its place (the next release
 * asks again) and does not stop the others being asked; a lost connection
 * does, since its pass asks them all.
 */
static void reap_domains(struct engine *e, bool check_introduced)
{
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		struct tracked *t = e->domains[domid];
		int introduced;

		if (!t)
			continue;
		if (!bit_get(e->listed, domid)) {
			forget(e, t, true);
			continue;
		}
		/* A pending domain's slice asks anyway: no burst after a reconnection. */
		if (!check_introduced || bit_get(e->pending, domid))
			continue;
		introduced = xs_conn_is_introduced(e->xs, domid);
		if (introduced == -ENOTCONN)
			return;
		if (introduced < 0)
			log_warning("domain %u: cannot ask whether it is introduced: %s", domid,
				    strerror(-introduced));
		else if (!introduced)
			forget(e, t, true);
	}
}

static void on_pass_slice(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	uint64_t deadline = (uint64_t)monotonic_ms() + PASS_SLICE_MS;
	int r;

	for (unsigned int domid = 0; domid < DOMID_LIMIT && e->n_pending > 0; domid++) {
		if (!bit_get(e->pending, domid))
			continue;
		set_pending(e, domid, false);
		r = pass_one(e, domid);
		/* Lost: on_lost() ends the pass, and the next connection starts another. */
		if (r == -ENOTCONN)
			return;
		if (r < 0)	/* an adoption, a re-read or the question itself */
			log_warning("domain %u: cannot adopt or re-read it: %s", domid, strerror(-r));
		if ((uint64_t)monotonic_ms() >= deadline)
			break;
	}
	answer_introductions(e);
	if (e->n_pending > 0) {
		kick_pass(e);
		return;
	}
	if (e->connect_pass)
		log_notice("xenstore synchronised: %zu domains", e->n_domains);
	e->connect_pass = false;
}

/* ---- the xenstore connection's callbacks ---- */

static int on_connected(void *ctx, struct xs_conn *conn)
{
	struct engine *e = ctx;
	int r;

	e->xs = conn;
	r = xs_conn_watch(conn, "@introduceDomain", TOKEN_INTRODUCE);
	if (r == 0)
		r = xs_conn_watch(conn, "@releaseDomain", TOKEN_RELEASE);
	if (r < 0)
		return r;
	if (e->stats.connects++ > 0 || e->n_domains > 0)
		log_notice("xenstore connected; resynchronising %zu domains", e->n_domains);
	e->introduce_unmatched = 0;	/* the connection's pass asks every listed domid */
	r = list_domains(e, LIST_CONNECT);
	if (r == -ENOTCONN)
		return 0;	/* the connection's own retry takes over */
	if (r < 0) {
		log_warning("xenstore: cannot list /local/domain: %s", strerror(-r));
		return r;
	}
	e->connect_pass = e->n_pending > 0;
	/*
	 * What is not listed is gone; the rest waits for its slice. Forgetting
	 * now, not after the pass, leaves no stale domain that a reused domid
	 * listed in the meantime could pass off as resynchronised.
	 */
	reap_domains(e, false);
	return 0;
}

static void on_lost(void *ctx)
{
	struct engine *e = ctx;

	/* Timers would read through a dead handle: the resync reads all anyway. */
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		struct tracked *t = e->domains[domid];

		if (!t)
			continue;
		evtimer_del(t->settle_ev);
		t->watched = false;
	}
	/* So does the next connection's pass. */
	evtimer_del(e->pass_ev);
	memset(e->pending, 0, sizeof(e->pending));
	e->n_pending = 0;
	e->connect_pass = false;
	e->introduce_unmatched = 0;
}

static void on_domain_event(struct engine *e, const char *path, const char *token)
{
	unsigned int domid;
	uint32_t incarnation;
	char prefix[64];
	const char *rel;
	struct tracked *t;
	uint64_t deadline;
	size_t plen;

	if (sscanf(token, "d%u.%" SCNu32, &domid, &incarnation) != 2 || domid >= DOMID_LIMIT)
		return;
	t = e->domains[domid];
	/* A stale event for an earlier domain with this domid. */
	if (!t || t->d->incarnation != incarnation)
		return;
	home_path(prefix, sizeof(prefix), domid, NULL);
	plen = strlen(prefix);
	if (strncmp(path, prefix, plen) != 0 || (path[plen] != '/' && path[plen] != '\0'))
		return;
	rel = path[plen] == '/' ? path + plen + 1 : "";
	deadline = domain_on_write(t->d, rel, (uint64_t)monotonic_ms(), wall_seconds(),
				   &e->cfg.domain.settle);
	if (deadline != SETTLE_NEVER)
		arm_at(t->settle_ev, deadline);
}

static void on_watch_event(void *ctx, const char *path, const char *token)
{
	struct engine *e = ctx;
	int r = 0;

	/* A listing is one request; adopting what it finds waits for the pass. */
	if (strcmp(token, TOKEN_INTRODUCE) == 0) {
		e->introduce_unmatched++;
		r = list_domains(e, LIST_INTRODUCE);
	} else if (strcmp(token, TOKEN_RELEASE) == 0) {
		r = list_domains(e, LIST_RELEASE);
		if (r == 0)
			reap_domains(e, true);
	} else {
		on_domain_event(e, path, token);
	}
	/*
	 * Lost: the next connection lists everything. Otherwise what was
	 * tracked stays as it was until the next listing, which retries.
	 */
	if (r < 0 && r != -ENOTCONN)
		log_warning("xenstore: cannot list /local/domain after %s: %s", token, strerror(-r));
}

static const struct xs_conn_ops xs_ops = {
	.connected = on_connected,
	.watch_event = on_watch_event,
	.lost = on_lost,
};

/* ---- life ---- */

struct engine *engine_new(struct event_base *base, const struct engine_config *cfg,
			  engine_publish_fn *publish_fn, void *publish_ctx)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->base = base;
	e->cfg = *cfg;
	e->publish = publish_fn;
	e->publish_ctx = publish_ctx;
	e->pass_ev = evtimer_new(base, on_pass_slice, e);
	if (jsonw_init(&e->events) < 0 || !e->pass_ev) {
		if (e->pass_ev)
			event_free(e->pass_ev);
		jsonw_release(&e->events);
		free(e);
		return NULL;
	}
	return e;
}

int engine_start(struct engine *e)
{
	e->xs = xs_conn_new(e->base, &e->cfg.xs, &xs_ops, e);
	return e->xs ? 0 : -ENOMEM;
}

void engine_reconfigure(struct engine *e, const struct engine_config *cfg)
{
	struct xs_conn_config xs = e->cfg.xs;
	bool reread_all = e->cfg.reread_all;

	e->cfg = *cfg;
	e->cfg.xs = xs;
	e->cfg.reread_all = reread_all;
	e->stats.reloads++;
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		struct tracked *t = e->domains[domid];

		if (!t)
			continue;
		keyset_set_limits(t->d->keys, &e->cfg.domain.limits);
		recompute(e, t, true);
		event_del(t->live_ev);
		if (t->metrics.live)
			arm_live_timer(e, t);
	}
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	/* Perhaps in the middle of a pass: its next slice must not run. */
	event_free(e->pass_ev);
	jsonw_release(&e->events);
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		struct tracked *t = e->domains[domid];

		if (!t)
			continue;
		/*
		 * Closing the connection drops its watches: unwatching would
		 * cost six round trips per domain on the way out.
		 */
		t->watched = false;
		forget(e, t, false);
	}
	xs_conn_free(e->xs);
	free(e);
}

/* ---- queries ---- */

int engine_snapshot(void *engine, const struct command_filter *f, struct evbuffer *out)
{
	struct engine *e = engine;
	int r = 0;

	for (unsigned int domid = 0; domid < DOMID_LIMIT && r == 0; domid++) {
		struct tracked *t = e->domains[domid];
		const char *text;
		size_t len;

		if (!t || !command_filter_match_domain(f, domid))
			continue;
		r = encode_event(&e->events, t, XGM_EVENT_DOMAIN_SNAPSHOT, e->seq, NULL, 0);
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
	struct tracked *t = domid < DOMID_LIMIT ? e->domains[domid] : NULL;

	if (!t) {
		jsonw_fail(w, -ENOENT);
		return;
	}
	write_domain_ref(w, t->d);
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
		struct tracked *t = e->domains[domid];

		if (!t)
			continue;
		jsonw_map_open(w);
		write_identity(w, t->d);
		jsonw_cstr(w, "state");
		jsonw_cstr(w, domain_state_name(t->d->state));
		jsonw_map_close(w);
	}
	jsonw_array_close(w);
}

void engine_stats(void *engine, struct jsonw *w)
{
	struct engine *e = engine;
	const struct xs_conn_stats *xs = xs_conn_stats(e->xs);
	uint64_t rate_limited = 0;

	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++)
		rate_limited += e->domains[domid] && ratelimit_held(&e->domains[domid]->d->publish);

	jsonw_key_uint(w, "domains", e->n_domains);
	jsonw_key_uint(w, "resync_pending", e->n_pending);
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
	jsonw_key_uint(w, "xenstore_reads", xs->reads);
	jsonw_key_uint(w, "xenstore_directories", xs->directories);
	jsonw_key_uint(w, "xenstore_watches", xs->watches);
	jsonw_key_uint(w, "xenstore_other_requests", xs->other_requests);
	jsonw_key_uint(w, "xenstore_watch_events", xs->events);
	jsonw_key_uint(w, "xenstore_request_resets", xs->request_handle_resets);
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
		const struct tracked *t = e->domains[domid];

		/* Not read yet: all-false metrics would claim "no tools". */
		if (!t || t->d->state == DOMAIN_DISCOVERED)
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
		.resync_pending = e->n_pending,
		.batches = e->stats.batches,
		.identical_batches = e->stats.identical_batches,
		.events_published = e->stats.events_published,
		.xenstore_connects = e->stats.connects,
		.xenstore_connected = e->xs && xs_conn_is_up(e->xs),
	};
	if (e->xs)
		out->xs = *xs_conn_stats(e->xs);
}

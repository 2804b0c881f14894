/*
 * The engine: the glue between the loop, the xenstore connection's jobs
 * (xs-conn.h), the domain lifecycle (domain/lifecycle.h), each domain's
 * state machine (domain/domain.h), the walker (walk.h) and event encoding
 * (event.h). Nothing here waits for xenstored: a request is part of a job
 * that a worker runs, and its answer is applied when the job is done.
 *
 * A domain has at most one job that reads it in flight (t->job): its sync
 * (adoption, or re-watch and re-read after a reconnection) or a batch. A
 * batch lends the job the domain's keyset, which the loop leaves alone
 * until it comes back; a sync reads into a fresh one. Watch events that
 * come meanwhile mark keys dirty as ever, and their batch waits for the job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine-internal.h"
#include "engine/event.h"
#include "engine/walk.h"
#include "util/log.h"
#include "util/time.h"

#define TOKEN_INTRODUCE "@introduce"
#define TOKEN_RELEASE "@release"

/*
 * Bulk jobs (syncs, checks, unwatches) queued or running per worker. Two
 * keep every worker busy between completions; more would only delay the
 * loop's view of the pass. Batches and listings are urgent: they go first.
 */
#define BULK_PER_WORKER 2

enum job_kind {
	JOB_HELLO,	/* a connection's own watches */
	JOB_LIST,	/* list /local/domain */
	JOB_SYNC,	/* introduced? then watch and read a domain whole */
	JOB_CHECK,	/* still introduced? */
	JOB_BATCH,	/* read what a settled batch found dirty */
	JOB_UNWATCH,	/* a forgotten domain's watches */
};

struct engine_job {
	struct xs_job xs;		/* xs.err: 0 or the job's first error */
	struct engine *e;
	enum job_kind kind;
	struct lc_work work;		/* LIST, SYNC, CHECK */
	unsigned int domid;
	uint32_t incarnation;
	char token[32];

	/* BATCH: the dirty paths; BATCH, SYNC: the keyset read into (see above). */
	char **paths;
	size_t n_paths;
	bool rescan;
	struct keyset *keys;

	/* Results. */
	int introduced;			/* SYNC, CHECK: 1 or 0 */
	bool home_gone;			/* BATCH */
	bool over_limits;
	uint64_t keys_read;
	char *name, *uuid;		/* SYNC */
	struct lc_set *listed;		/* LIST */
};

static void job_done(struct xs_job *xs);

static struct engine_job *job_new(struct engine *e, enum job_kind kind, bool urgent,
				  void (*run)(struct xs_job *, struct xs_conn *, struct xs_req *))
{
	struct engine_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->xs.run = run;
	j->xs.done = job_done;
	j->xs.urgent = urgent;
	j->e = e;
	j->kind = kind;
	return j;
}

static void job_free(struct engine_job *j)
{
	for (size_t i = 0; i < j->n_paths; i++)
		free(j->paths[i]);
	free(j->paths);
	keyset_free(j->keys);
	free(j->name);
	free(j->uuid);
	free(j->listed);
	free(j);
}

static void arm_at(struct event *ev, uint64_t deadline_ms)
{
	uint64_t now = (uint64_t)monotonic_ms(), delay = deadline_ms > now ? deadline_ms - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(delay / 1000),
			      .tv_usec = (suseconds_t)(delay % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static void token_for(char *buf, size_t size, unsigned int domid, uint32_t incarnation)
{
	snprintf(buf, size, "d%u.%" PRIu32, domid, incarnation);
}

/* ---- events ---- */

static void publish(struct engine *e, struct tracked *t, enum xgm_event kind,
		    const char *const *changed, size_t n_changed)
{
	const char *text;
	size_t len;
	int r = event_encode(&e->events, t->d, &t->metrics, kind, e->seq + 1, changed, n_changed);

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

/*
 * Recomputes the metrics and publishes what changed. "live" follows every
 * agent write (a heartbeat); "last_updated" is the time of the last real
 * change, as in xapi, so that a rewrite of unchanged values changes nothing.
 * Not while a batch holds the keys: its completion recomputes.
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

	if (!t->d->keys)
		return;
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

/* ---- jobs, on a worker thread: requests only, into the job ---- */

static int run_watches(struct xs_conn *conn, struct xs_req *req, const char *token, bool on,
		       unsigned int domid)
{
	char path[128];
	int r = 0;

	for (size_t i = 0; i < domain_subtree_count && r != -ENOTCONN; i++) {
		int rc;

		walk_home_path(path, sizeof(path), domid, domain_subtrees[i]);
		rc = on ? xs_conn_watch(conn, req, path, token) : xs_conn_unwatch(conn, req, path, token);
		if (r == 0 || rc == -ENOTCONN)
			r = rc;
	}
	return r;
}

static void run_hello(struct xs_job *xs, struct xs_conn *conn, struct xs_req *req)
{
	xs->err = xs_conn_watch(conn, req, "@introduceDomain", TOKEN_INTRODUCE);
	if (xs->err == 0)
		xs->err = xs_conn_watch(conn, req, "@releaseDomain", TOKEN_RELEASE);
}

/* No listing at all (-ENOENT) is an empty one: a fresh xenstored before the toolstack. */
static void run_list(struct xs_job *xs, struct xs_conn *conn, struct xs_req *req)
{
	struct engine_job *j = (struct engine_job *)xs;
	unsigned int n = 0;
	int err = 0;
	char **names = xs_req_directory(req, "/local/domain", &n, &err);

	if (!names && err != -ENOENT) {
		xs->err = err;
		return;
	}
	j->listed = calloc(1, sizeof(*j->listed));
	if (!j->listed) {
		free(names);
		xs->err = -ENOMEM;
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		char *end;
		unsigned long domid = strtoul(names[i], &end, 10);

		if (!*end && end != names[i] && domid < DOMID_LIMIT)
			lc_set_put(j->listed, (unsigned int)domid, true);
	}
	free(names);
}

static void run_check(struct xs_job *xs, struct xs_conn *conn, struct xs_req *req)
{
	struct engine_job *j = (struct engine_job *)xs;
	int r = xs_req_is_introduced(req, j->domid);

	if (r < 0)
		xs->err = r;
	else
		j->introduced = r;
}

static void run_sync(struct xs_job *xs, struct xs_conn *conn, struct xs_req *req)
{
	struct engine_job *j = (struct engine_job *)xs;
	struct walk w = { .req = req };
	int r = xs_req_is_introduced(req, j->domid);

	if (r <= 0) {
		xs->err = r;
		return;
	}
	j->introduced = 1;
	r = run_watches(conn, req, j->token, true, j->domid);
	if (r == 0) {
		walk_identity(&w, j->domid, &j->name, &j->uuid);
		r = walk_read_all(&w, j->domid, j->keys);
	}
	j->keys_read = w.keys_read;
	j->over_limits = w.over_limits;
	xs->err = r;
}

/* Reads the domain whole into a fresh keyset with j->keys' limits, which it then replaces. */
static int read_whole(struct walk *w, struct engine_job *j)
{
	struct keyset *fresh = keyset_new(keyset_limits(j->keys));
	int r = fresh ? walk_read_all(w, j->domid, fresh) : -ENOMEM;

	if (r < 0) {
		keyset_free(fresh);
		return r;
	}
	keyset_free(j->keys);
	j->keys = fresh;
	return 0;
}

static void run_batch(struct xs_job *xs, struct xs_conn *conn, struct xs_req *req)
{
	struct engine_job *j = (struct engine_job *)xs;
	struct walk w = { .req = req };
	int r;

	if (j->rescan)
		r = read_whole(&w, j);
	else
		r = walk_read_dirty(&w, j->domid, j->keys, j->paths, j->n_paths);
	/*
	 * Room again after the limit refused writes: the refused keys are not
	 * kept, so only a whole read makes the keyset what xenstore holds (a
	 * fresh keyset raises the flag again if it still does not fit).
	 */
	if (r == 0 && !j->rescan && keyset_limit_reached(j->keys) && keyset_clear_limit(j->keys)) {
		j->rescan = true;
		r = read_whole(&w, j);
	}
	if (r != -ENOTCONN && j->rescan)
		j->home_gone = walk_home_exists(&w, j->domid) == 0;
	j->keys_read = w.keys_read;
	j->over_limits = w.over_limits;
	xs->err = r;
}

static void run_unwatch(struct xs_job *xs, struct xs_conn *conn, struct xs_req *req)
{
	struct engine_job *j = (struct engine_job *)xs;

	xs->err = run_watches(conn, req, j->token, false, j->domid);
}

/* ---- domains ---- */

static void pump(struct engine *e);

static void forget(struct engine *e, struct tracked *t, bool announce)
{
	unsigned int domid = t->d->domid;

	if (announce && t->announced) {
		e->stats.domains_gone++;
		log_info("domain %u is gone", domid);
		publish(e, t, XGM_EVENT_DOMAIN_GONE, NULL, 0);
	}
	/* A lost connection took the watches with it: do not ask the next one. */
	if (t->watched && xs_conn_is_up(e->xs)) {
		struct engine_job *j = job_new(e, JOB_UNWATCH, false, run_unwatch);

		if (j) {
			j->domid = domid;
			token_for(j->token, sizeof(j->token), domid, t->d->incarnation);
			xs_conn_submit(e->xs, &j->xs);
		}
		/* Without memory, a stale watch costs only events the token filters. */
	}
	/*
	 * A job of its still in flight finds no domain of its incarnation when
	 * it is done, and frees what it holds (a batch's keyset included).
	 */
	event_free(t->settle_ev);
	event_free(t->live_ev);
	metrics_free(&t->metrics);
	domain_free(t->d);
	if (t->announced)
		e->n_domains--;
	free(t);
	e->domains[domid] = NULL;
}

static void forget_departed(struct engine *e)
{
	unsigned int domid;

	while (lc_next_forget(&e->lc, &domid))
		if (e->domains[domid])
			forget(e, e->domains[domid], true);
}

static void submit_batch(struct engine *e, struct tracked *t)
{
	struct engine_job *j = job_new(e, JOB_BATCH, true, run_batch);

	if (!j) {
		/* Still dirty: the next write or timer tries again. */
		log_err("domain %u: cannot read its batch: out of memory", t->d->domid);
		return;
	}
	j->domid = t->d->domid;
	j->incarnation = t->d->incarnation;
	j->paths = domain_take_dirty(t->d, &j->n_paths, &j->rescan);
	if (e->cfg.reread_all)
		j->rescan = true;
	j->keys = t->d->keys;
	t->d->keys = NULL;
	t->job = j;
	xs_conn_submit(e->xs, &j->xs);
}

/*
 * A batch settled. The publication limit may hold it: it stays open, what
 * the guest writes meanwhile merges into it, and it is read when the next
 * token comes. A data/updated kick re-arms this timer for now, but it finds
 * no token either, so a kick cannot bypass the limit. Reads happen only
 * when a batch is admitted, so the limit bounds a guest's xenstore reads too.
 */
static void settled(struct engine *e, struct tracked *t)
{
	const struct ratelimit_config *limit = &e->cfg.domain.publish;
	uint64_t now = (uint64_t)monotonic_ms();

	if (t->job) {
		t->batch_wanted = true;
		return;
	}
	if (!ratelimit_admit(&t->d->publish, limit, now)) {
		e->stats.batches_merged++;
		if (ratelimit_warn_due(&t->d->publish, now))
			log_warning("domain %u publishes too often; its changes are merged "
				    "(limits.publish_burst %u, publish_rate %u/s; %" PRIu64 " merged so far)",
				    t->d->domid, limit->burst, limit->per_s, t->d->publish.merged);
		arm_at(t->settle_ev, ratelimit_next(&t->d->publish, limit, now));
		return;
	}
	submit_batch(e, t);
}

static void on_settle_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tracked *t = arg;

	settled(t->engine, t);
}

static void on_live_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tracked *t = arg;

	/* A batch in flight recomputes, and re-arms this, when it is done. */
	if (t->job)
		return;
	/* Nothing to read: only "live" can have changed. */
	recompute(t->engine, t, true);
	if (t->metrics.live)	/* woken a little early: look again */
		arm_at(t->live_ev, (uint64_t)monotonic_ms() + 10);
}

/* The job on t is over: run the batch that waited for it. */
static void job_over(struct engine *e, struct tracked *t)
{
	t->job = NULL;
	domain_batch_done(t->d);
	/* Its timer may have found the job in the way. */
	if (t->metrics.live)
		arm_live_timer(e, t);
	if (t->batch_wanted) {
		t->batch_wanted = false;
		settled(e, t);
	}
}

static struct tracked *track(struct engine *e, unsigned int domid)
{
	struct tracked *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
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
		return NULL;
	}
	e->domains[domid] = t;
	return t;
}

/* ---- lifecycle work ---- */

static bool busy(void *ctx, unsigned int domid)
{
	struct engine *e = ctx;

	return e->domains[domid] && e->domains[domid]->job;
}

static void discard_dirty(struct domain *d)
{
	size_t n;
	bool rescan;
	char **paths = domain_take_dirty(d, &n, &rescan);

	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* A sync: adoption of a new domain, or re-watch and re-read of a known one. */
static int submit_sync(struct engine *e, const struct lc_work *w)
{
	struct tracked *t = e->domains[w->domid];
	struct engine_job *j = job_new(e, JOB_SYNC, false, run_sync);

	if (j)
		j->keys = keyset_new(&e->cfg.domain.limits);
	if (j && j->keys && !t)
		t = track(e, w->domid);
	if (!j || !j->keys || !t) {
		if (j)
			job_free(j);
		return -ENOMEM;
	}
	j->work = *w;
	j->domid = w->domid;
	j->incarnation = t->d->incarnation;
	token_for(j->token, sizeof(j->token), w->domid, t->d->incarnation);
	/* The whole read covers what is dirty now; what is written from now on is read after. */
	discard_dirty(t->d);
	evtimer_del(t->settle_ev);
	/* Each watch registration fires once at once; the domain ignores those. */
	t->d->initial_events = (unsigned int)domain_subtree_count;
	t->watched = true;
	t->job = j;
	xs_conn_submit(e->xs, &j->xs);
	return 0;
}

/* A listing or a check: the job carries the work item and nothing else. */
static int submit_question(struct engine *e, const struct lc_work *w)
{
	bool listing = w->kind == LC_WORK_LIST;
	struct engine_job *j = job_new(e, listing ? JOB_LIST : JOB_CHECK, listing,
				       listing ? run_list : run_check);

	if (!j)
		return -ENOMEM;
	j->work = *w;
	j->domid = w->domid;
	xs_conn_submit(e->xs, &j->xs);
	return 0;
}

static void submit_work(struct engine *e, const struct lc_work *w)
{
	int r = w->kind == LC_WORK_SYNC ? submit_sync(e, w) : submit_question(e, w);

	if (r == 0)
		return;
	/* Answered as failed at once: the next event or connection asks again. */
	log_err("xenstore: cannot queue a request: out of memory");
	if (w->kind == LC_WORK_LIST)
		lc_listing_done(&e->lc, w, NULL);
	else if (w->kind == LC_WORK_SYNC)
		lc_sync_done(&e->lc, w, r);
	else
		lc_check_done(&e->lc, w, r);
}

/* Hands the lifecycle's work to the connection, bulk work a little at a time. */
static void pump(struct engine *e)
{
	size_t cap = xs_conn_workers(e->xs) * BULK_PER_WORKER;
	struct lc_work w;

	/* Departures come from the answers just given to the lifecycle, not from handing out work. */
	forget_departed(e);
	while (xs_conn_is_up(e->xs) && lc_next_listing(&e->lc, &w))
		submit_work(e, &w);
	while (xs_conn_is_up(e->xs) && xs_conn_bulk_backlog(e->xs) < cap &&
	       lc_next_work(&e->lc, &w, busy, e))
		submit_work(e, &w);
	if (lc_take_synchronised(&e->lc))
		log_notice("xenstore synchronised: %zu domains", e->n_domains);
}

/* ---- job completions, in the loop ---- */

static void sync_done(struct engine *e, struct engine_job *j, struct tracked *t)
{
	int result = j->xs.err < 0 ? j->xs.err : j->introduced;
	enum lc_outcome out = lc_sync_done(&e->lc, &j->work, result);

	if (j->over_limits)
		log_warning("domain %u: over its tracking limits; some keys are ignored", j->domid);
	if (j->xs.err < 0 && j->xs.err != -ENOTCONN)
		log_warning("domain %u: cannot adopt or re-read it: %s", j->domid,
			    strerror(-j->xs.err));
	if (!t) {
		/* Its domain was freed under it: the lifecycle must not count it. */
		if (out == LC_ADOPTED || out == LC_RESYNCED)
			lc_forgotten(&e->lc, j->domid);
		return;
	}
	switch (out) {
	case LC_ADOPTED:
	case LC_RESYNCED:
		keyset_free(t->d->keys);
		t->d->keys = j->keys;
		j->keys = NULL;
		domain_set_identity(t->d, j->name, j->uuid);
		j->name = j->uuid = NULL;
		if (out == LC_RESYNCED) {
			recompute(e, t, true);
			break;
		}
		recompute(e, t, false);
		t->announced = true;
		e->n_domains++;
		e->stats.domains_new++;
		log_info("domain %u is new", t->d->domid);
		publish(e, t, XGM_EVENT_DOMAIN_NEW, NULL, 0);
		break;
	case LC_DIED:
		forget(e, t, true);
		return;
	case LC_NOTHING:
		/*
		 * Never announced, so never known: subscribers learn of a domain
		 * from its domain.new. The next @introduceDomain, or the next
		 * connection's pass, tries again.
		 */
		if (!t->announced) {
			forget(e, t, false);
			return;
		}
		break;
	}
	job_over(e, t);
}

static void batch_done(struct engine *e, struct engine_job *j, struct tracked *t)
{
	/* The keyset comes home, whatever happened to the batch. */
	t->d->keys = j->keys;
	j->keys = NULL;
	keyset_set_limits(t->d->keys, &e->cfg.domain.limits);
	e->stats.batches++;
	if (j->over_limits)
		log_warning("domain %u: over its tracking limits; some keys are ignored", j->domid);
	if (j->xs.err == -ENOTCONN) {
		job_over(e, t);
		return;		/* the resync after reconnecting reads it all again */
	}
	if (j->xs.err < 0)	/* what was read is published; the next batch or resync retries the rest */
		log_warning("domain %u: cannot read all of its batch: %s", j->domid,
			    strerror(-j->xs.err));
	if (j->home_gone) {
		lc_forgotten(&e->lc, j->domid);
		forget(e, t, true);
		return;
	}
	recompute(e, t, true);
	job_over(e, t);
}

static void job_done(struct xs_job *xs)
{
	struct engine_job *j = (struct engine_job *)xs;
	struct engine *e = j->e;
	struct tracked *t = j->domid < DOMID_LIMIT ? e->domains[j->domid] : NULL;

	/* The domain this job was for, not a later one with its domid. */
	if (t && (t->d->incarnation != j->incarnation || t->job != j))
		t = NULL;
	e->stats.keys_read += j->keys_read;
	if (xs->err == -ECANCELED) {
		/* The engine is being freed: give back what was lent, and nothing else. */
		if (t && j->kind == JOB_BATCH) {
			t->d->keys = j->keys;
			j->keys = NULL;
		}
		if (t)
			t->job = NULL;
		job_free(j);
		return;
	}
	switch (j->kind) {
	case JOB_HELLO:
		e->hello_pending = false;
		if (xs->err == 0) {
			lc_connected(&e->lc);
		} else if (xs->err != -ENOTCONN) {
			log_warning("xenstore: cannot watch @introduceDomain and @releaseDomain: %s",
				    strerror(-xs->err));
			xs_conn_drop(e->xs);
		}
		break;
	case JOB_LIST:
		if (xs->err < 0 && xs->err != -ENOTCONN)
			log_warning("xenstore: cannot list /local/domain: %s", strerror(-xs->err));
		lc_listing_done(&e->lc, &j->work, xs->err < 0 ? NULL : j->listed);
		/* Without the connection's listing there is no pass: connect again. */
		if (xs->err < 0 && xs->err != -ENOTCONN && (j->work.why & LC_LIST_CONNECT))
			xs_conn_drop(e->xs);
		break;
	case JOB_SYNC:
		sync_done(e, j, t);
		break;
	case JOB_CHECK:
		if (xs->err < 0 && xs->err != -ENOTCONN)
			log_warning("domain %u: cannot ask whether it is introduced: %s", j->domid,
				    strerror(-xs->err));
		if (lc_check_done(&e->lc, &j->work, xs->err < 0 ? xs->err : j->introduced) &&
		    e->domains[j->domid])
			forget(e, e->domains[j->domid], true);
		break;
	case JOB_BATCH:
		if (t)
			batch_done(e, j, t);
		break;
	case JOB_UNWATCH:
		/* A watch left behind costs only events that its stale token filters out. */
		if (xs->err < 0 && xs->err != -ENOTCONN)
			log_debug("domain %u: cannot remove its watches: %s", j->domid,
				  strerror(-xs->err));
		break;
	}
	job_free(j);
	pump(e);
}

/* ---- the xenstore connection's callbacks ---- */

static void on_connected(void *ctx, struct xs_conn *conn)
{
	struct engine *e = ctx;
	struct engine_job *j = job_new(e, JOB_HELLO, true, run_hello);

	e->xs = conn;
	if (e->stats.connects++ > 0 || e->n_domains > 0)
		log_notice("xenstore connected; resynchronising %zu domains", e->n_domains);
	if (!j) {
		log_err("xenstore: cannot start the connection's pass: out of memory");
		xs_conn_drop(conn);
		return;
	}
	e->hello_pending = true;
	xs_conn_submit(conn, &j->xs);
}

static void on_lost(void *ctx)
{
	struct engine *e = ctx;

	/* The next connection's pass re-watches and re-reads every domain. */
	for (unsigned int domid = 0; domid < DOMID_LIMIT; domid++) {
		struct tracked *t = e->domains[domid];

		if (!t)
			continue;
		evtimer_del(t->settle_ev);
		t->watched = false;
		t->batch_wanted = false;
	}
	lc_lost(&e->lc);
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
	walk_home_path(prefix, sizeof(prefix), domid, NULL);
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

	/* A listing is one request, however many events ask for one meanwhile. */
	if (strcmp(token, TOKEN_INTRODUCE) == 0) {
		lc_introduce_event(&e->lc);
		pump(e);
	} else if (strcmp(token, TOKEN_RELEASE) == 0) {
		lc_release_event(&e->lc);
		pump(e);
	} else {
		on_domain_event(e, path, token);
	}
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
	lc_init(&e->lc);
	if (jsonw_init(&e->events) < 0) {
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
		struct tracked *t = engine_visible(e, domid);

		/* A batch in flight holds the keys: it applies the limits when it is done. */
		if (!t || !t->d->keys)
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
	/* First: its cancelled jobs give back the keysets they hold. */
	xs_conn_free(e->xs);
	e->xs = NULL;
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
	free(e);
}

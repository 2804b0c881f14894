/*
 * The xenstore connection: watch handles read by the loop, request
 * handles owned by worker threads, and the job queues between them.
 *
 * Why workers: libxenstore's requests block, and it has no timeout. A
 * request made from the loop freezes every client, signal and watch event
 * for as long as xenstored takes, and for ever if it is wedged. A worker
 * with its own handle waits instead, and the loop learns of the answer
 * through an eventfd. With several workers several requests are in
 * flight: C xenstored serves one request per connection per pass of its
 * main loop, so K connections get K answers per pass (docs/design.md).
 *
 * The watches are spread over several handles, by token: oxenstored writes
 * one packet per connection per pass of its loop, so one connection caps
 * the events it can deliver to us, and past about a thousand queued events
 * it holds back every guest that writes (docs/sandbox.md). libxenstore's
 * reader thread takes each handle's events off its socket as they come;
 * the loop takes them from libxenstore, a bounded number per turn. A
 * handle's watch pipe stays silent when xenstored dies, so a timer polls
 * xs_check_watch() too, and a probe request notices a wedged xenstored
 * when no job would.
 *
 * Threads share only what the mutex guards: the two queues, the finished
 * list, each worker's current job, the generation and the quit flag. A
 * job's own fields belong to the worker while it runs and to the loop
 * otherwise. The watch handles are closed only when no job runs, since a
 * running job may be registering a watch on one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "util/log.h"
#include "util/time.h"
#include "xs/xs-conn.h"

/* Watch events taken from libxenstore per handle per loop turn. */
#define EVENTS_PER_TURN 256
/* How long finishing jobs may hold the loop per turn. */
#define FINISH_SLICE_MS 2
/* How long xs_conn_free() waits for the workers, altogether. */
#define JOIN_TIMEOUT_MS 300

struct job_list {
	struct xs_job *head, *tail;
};

struct watch_handle {
	struct xs_conn *conn;
	struct xs_handle *xs;
	struct event *ev;		/* readable while its events are queued */
};

struct worker {
	struct xs_conn *conn;
	pthread_t thread;
	bool started;
	struct xs_req req;		/* the worker's alone */
	uint64_t req_generation;	/* the connection req->h was opened on */
	struct xs_job *current;		/* under the mutex */
};

struct xs_conn {
	struct event_base *base;
	struct xs_conn_config cfg;
	const struct xs_conn_ops *ops;
	void *ctx;

	bool up;
	struct watch_handle watch[XS_CONN_WATCH_HANDLES_MAX];
	bool watch_open;		/* the handles are open (up, or draining a loss) */
	struct event *timer_ev;		/* liveness check, or reconnect backoff */
	struct event *stall_ev;		/* checks the age of running requests */
	struct event *lost_ev;		/* reports a loss from the loop, not from a job's done() */
	uint32_t backoff_ms;
	struct xs_conn_stats stats;
	uint64_t stalled_since_ms;
	size_t bulk;			/* non-urgent jobs queued or running (loop) */
	uint64_t finished_since_tick;	/* jobs finished since the last liveness tick */
	bool probe_busy;
	struct xs_job probe;

	/* Finished jobs the loop has yet to hand back (loop only). */
	struct job_list finishing;
	struct event *finish_ev;	/* the eventfd, readable when workers finished jobs */
	struct event *continue_ev;	/* finishing what one turn left */
	int efd;

	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job_list urgent, queued, finished;	/* under lock */
	uint64_t generation;		/* under lock; bumped by each loss */
	uint32_t running;		/* under lock */
	uint32_t queued_jobs;		/* under lock: in urgent and queued */
	bool quit;			/* under lock */
	struct worker *workers;
	uint32_t n_workers;
};

static void list_push(struct job_list *l, struct xs_job *job)
{
	job->next = NULL;
	if (l->tail)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
}

static struct xs_job *list_pop(struct job_list *l)
{
	struct xs_job *job = l->head;

	if (job) {
		l->head = job->next;
		if (!l->head)
			l->tail = NULL;
	}
	return job;
}

static void list_append(struct job_list *to, struct job_list *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

static void arm(struct event *ev, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct xs_conn *conn = w->conn;

	pthread_mutex_lock(&conn->lock);
	for (;;) {
		struct xs_job *job;
		bool stale, wake;

		if (conn->quit)
			break;
		job = list_pop(&conn->urgent);
		if (!job)
			job = list_pop(&conn->queued);
		if (!job) {
			pthread_cond_wait(&conn->work, &conn->lock);
			continue;
		}
		conn->queued_jobs--;
		w->current = job;
		job->started_ms = (uint64_t)monotonic_ms();
		conn->running++;
		stale = job->generation != conn->generation;
		pthread_mutex_unlock(&conn->lock);

		job->err = 0;
		if (stale) {
			job->err = -ENOTCONN;
		} else {
			if (w->req_generation != job->generation) {
				xs_req_close(&w->req);
				w->req_generation = job->generation;
			}
			w->req.counts = &job->counts;
			job->err = xs_req_open(&w->req);
			if (job->err == 0)
				job->run(job, conn, &w->req);
			if (job->err == -ENOTCONN)
				xs_req_close(&w->req);
		}

		pthread_mutex_lock(&conn->lock);
		w->current = NULL;
		conn->running--;
		wake = !conn->finished.head;
		list_push(&conn->finished, job);
		if (wake) {
			uint64_t one = 1;

			/* Cannot fail short of a bug: the counter is far from overflowing. */
			if (write(conn->efd, &one, sizeof(one)) < 0)
				abort();
		}
	}
	pthread_mutex_unlock(&conn->lock);
	xs_req_close(&w->req);
	return NULL;
}

/* Every signal stays with the loop's thread, which libevent handles them on. */
static int start_workers(struct xs_conn *conn)
{
	sigset_t all, old;
	int r = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (uint32_t i = 0; i < conn->n_workers && r == 0; i++) {
		struct worker *w = &conn->workers[i];

		w->conn = conn;
		r = -pthread_create(&w->thread, NULL, worker_main, w);
		w->started = r == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* ---- the connection, in the loop ---- */

static void close_watch_handles(struct xs_conn *conn)
{
	for (unsigned int i = 0; i < conn->cfg.watch_handles; i++) {
		struct watch_handle *w = &conn->watch[i];

		/* Deleted, not freed: this may run inside its own callback. */
		if (w->ev)
			event_del(w->ev);
		if (w->xs)
			xs_close(w->xs);
		w->xs = NULL;
	}
	conn->watch_open = false;
}

static uint32_t running(struct xs_conn *conn)
{
	uint32_t n;

	pthread_mutex_lock(&conn->lock);
	n = conn->running;
	pthread_mutex_unlock(&conn->lock);
	return n;
}

/* After a loss, once no job can be using them. */
static void maybe_close_watch_handles(struct xs_conn *conn)
{
	if (!conn->up && conn->watch_open && running(conn) == 0)
		close_watch_handles(conn);
}

static void schedule_finishing(struct xs_conn *conn)
{
	static const struct timeval zero = { 0, 0 };

	/* A zero timeout, not event_active(): the sockets are served first. */
	if (conn->finishing.head && !evtimer_pending(conn->continue_ev, NULL))
		evtimer_add(conn->continue_ev, &zero);
}

/*
 * The next connection attempt, after the current backoff, which doubles up
 * to reconnect_max_ms; a job that succeeds on a connection resets it.
 */
static void retry_later(struct xs_conn *conn)
{
	arm(conn->timer_ev, conn->backoff_ms);
	conn->backoff_ms = conn->backoff_ms * 2 > conn->cfg.reconnect_max_ms ?
		conn->cfg.reconnect_max_ms : conn->backoff_ms * 2;
}

/* Drops the handles; tells the owner from the loop; retries later. */
static void mark_lost(struct xs_conn *conn)
{
	struct job_list flushed = { 0 };

	if (!conn->up)
		return;
	log_warning("xenstore connection lost; reconnecting");
	conn->up = false;
	pthread_mutex_lock(&conn->lock);
	conn->generation++;
	list_append(&flushed, &conn->urgent);
	list_append(&flushed, &conn->queued);
	conn->queued_jobs = 0;
	pthread_mutex_unlock(&conn->lock);
	/* The queued never ran: they finish with -ENOTCONN, from the loop. */
	for (struct xs_job *job = flushed.head; job; job = job->next)
		job->err = -ENOTCONN;
	list_append(&conn->finishing, &flushed);
	schedule_finishing(conn);
	maybe_close_watch_handles(conn);
	event_active(conn->lost_ev, 0, 0);
	/* Not reset here: a connection that is dropped as soon as it is made backs off too. */
	retry_later(conn);
}

void xs_conn_drop(struct xs_conn *conn)
{
	mark_lost(conn);
}

static void update_stalled(struct xs_conn *conn)
{
	uint64_t now = (uint64_t)monotonic_ms(), oldest = now;

	pthread_mutex_lock(&conn->lock);
	for (uint32_t i = 0; i < conn->n_workers; i++)
		if (conn->workers[i].current && conn->workers[i].current->started_ms < oldest)
			oldest = conn->workers[i].current->started_ms;
	pthread_mutex_unlock(&conn->lock);

	if (!conn->stats.stalled && now - oldest >= conn->cfg.request_timeout_ms) {
		conn->stats.stalled = true;
		conn->stats.stalls++;
		conn->stalled_since_ms = oldest;
		log_warning("xenstore stalled: a request has waited %" PRIu64 " ms "
			    "(xenstore.request_timeout_ms %" PRIu32 "); serving the last known state",
			    now - oldest, conn->cfg.request_timeout_ms);
	} else if (conn->stats.stalled && now - oldest < conn->cfg.request_timeout_ms) {
		conn->stats.stalled = false;
		log_notice("xenstore answers again after %" PRIu64 " ms",
			   now - conn->stalled_since_ms);
	}
}

static void finish(struct xs_conn *conn, struct xs_job *job)
{
	xs_req_counts_add(&conn->stats.req, &job->counts);
	memset(&job->counts, 0, sizeof(job->counts));
	conn->stats.jobs++;
	conn->finished_since_tick++;
	if (!job->urgent)
		conn->bulk--;
	if (job->err == -ENOTCONN && job->generation == conn->generation && conn->up)
		mark_lost(conn);
	else if (job->err == 0 && conn->up)
		conn->backoff_ms = conn->cfg.reconnect_min_ms;
	job->done(job);
}

static void finish_some(struct xs_conn *conn)
{
	uint64_t deadline = (uint64_t)monotonic_ms() + FINISH_SLICE_MS;
	uint64_t resets = conn->stats.req.request_handle_resets;
	struct xs_job *job;

	while ((job = list_pop(&conn->finishing))) {
		finish(conn, job);
		if ((uint64_t)monotonic_ms() >= deadline)
			break;
	}
	/* A guest can cause resets at will: log the 1st, 2nd, 4th, 8th... */
	for (uint64_t n = resets + 1; n <= conn->stats.req.request_handle_resets; n++)
		if ((n & (n - 1)) == 0)
			log_warning("xenstore: an answer could not be read (a listing larger than a "
				    "message?); request connection reopened (%" PRIu64 " times so far)", n);
	if (conn->stats.stalled)
		update_stalled(conn);
	maybe_close_watch_handles(conn);
	schedule_finishing(conn);
}

static void on_finished(evutil_socket_t fd, short what, void *arg)
{
	struct xs_conn *conn = arg;
	uint64_t count;

	if (read(conn->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_err("xenstore: cannot read the workers' eventfd: %s", strerror(errno));
	pthread_mutex_lock(&conn->lock);
	list_append(&conn->finishing, &conn->finished);
	pthread_mutex_unlock(&conn->lock);
	finish_some(conn);
}

static void on_continue(evutil_socket_t fd, short what, void *arg)
{
	finish_some(arg);
}

void xs_conn_submit(struct xs_conn *conn, struct xs_job *job)
{
	memset(&job->counts, 0, sizeof(job->counts));
	if (!job->urgent)
		conn->bulk++;
	if (!conn->up) {
		job->err = -ENOTCONN;
		list_push(&conn->finishing, job);
		schedule_finishing(conn);
		return;
	}
	pthread_mutex_lock(&conn->lock);
	job->generation = conn->generation;
	list_push(job->urgent ? &conn->urgent : &conn->queued, job);
	conn->queued_jobs++;
	pthread_cond_signal(&conn->work);
	pthread_mutex_unlock(&conn->lock);
}

size_t xs_conn_bulk_backlog(const struct xs_conn *conn)
{
	return conn->bulk;
}

size_t xs_conn_workers(const struct xs_conn *conn)
{
	return conn->n_workers;
}

/* ---- watches ---- */

/* The handle that holds token's watches: FNV-1a of the token. */
static struct watch_handle *watch_for(struct xs_conn *conn, const char *token)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)token; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &conn->watch[h % conn->cfg.watch_handles];
}

int xs_conn_watch(struct xs_conn *conn, struct xs_req *req, const char *path, const char *token)
{
	return xs_req_watch(req, watch_for(conn, token)->xs, path, token);
}

int xs_conn_unwatch(struct xs_conn *conn, struct xs_req *req, const char *path, const char *token)
{
	return xs_req_unwatch(req, watch_for(conn, token)->xs, path, token);
}

static void dispatch_events(struct watch_handle *w)
{
	struct xs_conn *conn = w->conn;
	char **ev = NULL;

	/*
	 * A bounded number per turn: libxenstore keeps the watch pipe readable
	 * while events remain, so the rest come next turn, after the sockets.
	 * A callback may lose the connection, which closes w->xs.
	 */
	for (int i = 0; i < EVENTS_PER_TURN && conn->up && (ev = xs_check_watch(w->xs)); i++) {
		conn->stats.events++;
		conn->ops->watch_event(conn->ctx, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
		free(ev);
	}
	if (conn->up && !ev && errno != EAGAIN)
		mark_lost(conn);
}

static void on_watch_fd(evutil_socket_t fd, short what, void *arg)
{
	dispatch_events(arg);
}

static void on_lost(evutil_socket_t fd, short what, void *arg)
{
	struct xs_conn *conn = arg;

	conn->ops->lost(conn->ctx);
}

/* ---- connecting, liveness ---- */

static void try_connect(struct xs_conn *conn)
{
	conn->stats.connect_attempts++;
	for (unsigned int i = 0; i < conn->cfg.watch_handles; i++) {
		struct watch_handle *w = &conn->watch[i];

		w->conn = conn;
		/*
		 * No XS_UNWATCH_FILTER: libxenstore 4.17's filter frees the queued
		 * events of an unwatched token but not their bodies, a leak of about
		 * six blocks per departed domain. The engine ignores a stale event by
		 * its token's incarnation anyway.
		 */
		w->xs = xs_open(0);
		conn->watch_open = true;
		if (!w->xs) {
			log_debug("xenstore: connect failed: %s", strerror(errno));
			goto retry;
		}
		if (w->ev)
			event_free(w->ev);
		w->ev = event_new(conn->base, xs_fileno(w->xs), EV_READ | EV_PERSIST,
				  on_watch_fd, w);
		if (!w->ev || event_add(w->ev, NULL) < 0) {
			log_err("xenstore: cannot watch the event fd");
			goto retry;
		}
	}
	conn->up = true;
	arm(conn->timer_ev, conn->cfg.liveness_ms);
	conn->ops->connected(conn->ctx, conn);
	return;
retry:
	close_watch_handles(conn);
	retry_later(conn);
}

static void run_probe(struct xs_job *job, struct xs_conn *conn, struct xs_req *req)
{
	job->err = xs_req_probe(req);
}

static void probe_done(struct xs_job *job)
{
	struct xs_conn *conn = (struct xs_conn *)((char *)job - offsetof(struct xs_conn, probe));

	conn->probe_busy = false;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct xs_conn *conn = arg;

	if (!conn->up) {
		/* A job still running may be using a watch handle: wait for it. */
		if (conn->watch_open)
			arm(conn->timer_ev, conn->cfg.reconnect_min_ms);
		else
			try_connect(conn);
		return;
	}
	/* libxenstore's pipe stays silent when xenstored dies: a dead handle answers EINVAL. */
	for (unsigned int i = 0; i < conn->cfg.watch_handles && conn->up; i++)
		dispatch_events(&conn->watch[i]);
	/*
	 * Quiet since the last tick: one round trip, so that a wedged or dead
	 * xenstored is noticed even when nothing asks it anything.
	 */
	if (conn->up && conn->finished_since_tick == 0 && !conn->probe_busy) {
		conn->probe_busy = true;
		xs_conn_submit(conn, &conn->probe);
	}
	conn->finished_since_tick = 0;
	if (conn->up)
		arm(conn->timer_ev, conn->cfg.liveness_ms);
}

static void on_stall_check(evutil_socket_t fd, short what, void *arg)
{
	update_stalled(arg);
}

struct xs_conn *xs_conn_new(struct event_base *base, const struct xs_conn_config *cfg,
			    const struct xs_conn_ops *ops, void *ctx)
{
	struct xs_conn *conn = calloc(1, sizeof(*conn));
	uint32_t stall_tick;

	if (!conn)
		return NULL;
	conn->base = base;
	conn->cfg = *cfg;
	conn->ops = ops;
	conn->ctx = ctx;
	conn->efd = -1;
	if (conn->cfg.watch_handles == 0)
		conn->cfg.watch_handles = 1;
	if (conn->cfg.watch_handles > XS_CONN_WATCH_HANDLES_MAX)
		conn->cfg.watch_handles = XS_CONN_WATCH_HANDLES_MAX;
	conn->n_workers = conn->cfg.request_handles ? conn->cfg.request_handles : 1;
	if (conn->n_workers > XS_CONN_WORKERS_MAX)
		conn->n_workers = XS_CONN_WORKERS_MAX;
	if (conn->cfg.request_timeout_ms == 0)
		conn->cfg.request_timeout_ms = 1;
	conn->backoff_ms = cfg->reconnect_min_ms;
	conn->probe = (struct xs_job){ .run = run_probe, .done = probe_done, .urgent = true };
	pthread_mutex_init(&conn->lock, NULL);
	pthread_cond_init(&conn->work, NULL);
	conn->workers = calloc(conn->n_workers, sizeof(*conn->workers));
	conn->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	conn->timer_ev = evtimer_new(base, on_timer, conn);
	conn->stall_ev = event_new(base, -1, EV_PERSIST, on_stall_check, conn);
	conn->lost_ev = event_new(base, -1, 0, on_lost, conn);
	conn->continue_ev = evtimer_new(base, on_continue, conn);
	if (!conn->workers || conn->efd < 0 || !conn->timer_ev || !conn->stall_ev ||
	    !conn->lost_ev || !conn->continue_ev)
		goto fail;
	conn->finish_ev = event_new(base, conn->efd, EV_READ | EV_PERSIST, on_finished, conn);
	if (!conn->finish_ev || event_add(conn->finish_ev, NULL) < 0)
		goto fail;
	/* A quarter of the timeout: a stall is reported at most 25 % late. */
	stall_tick = conn->cfg.request_timeout_ms / 4 ? conn->cfg.request_timeout_ms / 4 : 1;
	arm(conn->stall_ev, stall_tick);
	if (start_workers(conn) < 0) {
		log_err("xenstore: cannot start the request threads");
		goto fail;
	}
	try_connect(conn);
	return conn;
fail:
	xs_conn_free(conn);
	return NULL;
}

static void cancel_all(struct job_list *l)
{
	struct xs_job *job;

	while ((job = list_pop(l))) {
		job->err = -ECANCELED;
		job->done(job);
	}
}

/*
 * Waits for every worker until the deadline; true when all joined. One
 * still inside a request to a wedged xenstored is detached and left: the
 * request cannot be interrupted (libxenstore holds its mutex across it).
 */
static bool join_workers(struct xs_conn *conn)
{
	struct timespec deadline;
	bool all = true;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += (long)JOIN_TIMEOUT_MS * 1000000;
	deadline.tv_sec += deadline.tv_nsec / 1000000000;
	deadline.tv_nsec %= 1000000000;
	for (uint32_t i = 0; i < conn->n_workers; i++) {
		struct worker *w = &conn->workers[i];

		if (!w->started)
			continue;
		if (pthread_timedjoin_np(w->thread, NULL, &deadline) != 0) {
			pthread_detach(w->thread);
			all = false;
		}
	}
	return all;
}

void xs_conn_free(struct xs_conn *conn)
{
	bool joined = true;

	if (!conn)
		return;
	if (conn->workers) {
		pthread_mutex_lock(&conn->lock);
		conn->quit = true;
		pthread_cond_broadcast(&conn->work);
		pthread_mutex_unlock(&conn->lock);
		joined = join_workers(conn);
	}
	/* No worker takes a job now: what is queued or finished is the loop's. */
	pthread_mutex_lock(&conn->lock);
	list_append(&conn->finishing, &conn->finished);
	list_append(&conn->finishing, &conn->urgent);
	list_append(&conn->finishing, &conn->queued);
	pthread_mutex_unlock(&conn->lock);
	cancel_all(&conn->finishing);
	if (conn->finish_ev)
		event_free(conn->finish_ev);
	if (conn->continue_ev)
		event_free(conn->continue_ev);
	if (conn->timer_ev)
		event_free(conn->timer_ev);
	if (conn->stall_ev)
		event_free(conn->stall_ev);
	if (conn->lost_ev)
		event_free(conn->lost_ev);
	if (!joined) {
		/* The detached workers still use the lock, their handles and the watch handles. */
		log_warning("xenstore is not answering: exiting with its requests unanswered");
		return;
	}
	close_watch_handles(conn);
	for (unsigned int i = 0; i < conn->cfg.watch_handles; i++)
		if (conn->watch[i].ev)
			event_free(conn->watch[i].ev);
	if (conn->efd >= 0)
		close(conn->efd);
	pthread_cond_destroy(&conn->work);
	pthread_mutex_destroy(&conn->lock);
	free(conn->workers);
	free(conn);
}

bool xs_conn_is_up(const struct xs_conn *conn)
{
	return conn->up;
}

struct xs_conn_stats xs_conn_stats(struct xs_conn *conn)
{
	struct xs_conn_stats out = conn->stats;

	pthread_mutex_lock(&conn->lock);
	out.jobs_queued = conn->queued_jobs;
	out.jobs_running = conn->running;
	pthread_mutex_unlock(&conn->lock);
	return out;
}

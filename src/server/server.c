/*
 * The event socket's listener and client set: binds the UNIX socket,
 * admits clients up to the limit, fairly (a bounded batch per loop turn,
 * hung-up clients dropped before the limit is judged), fans events out,
 * frees closed clients from the loop (never inside their own callbacks),
 * shares one snapshot of every domain among the clients that need it at
 * the same seq, and says bye on shutdown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "config/defaults.h"
#include "json/jsonw.h"
#include "protocol/message.h"
#include "server/client.h"
#include "server/server.h"
#include "server/snapshot.h"
#include "util/log.h"
#include "util/log-limit.h"
#include "util/peer.h"
#include "util/time.h"

/* After accept() fails for lack of fds or memory, wait this long before trying again. */
#define ACCEPT_RETRY_MS 1000
/* At most one "refusing a client" line this often, with a count of the others. */
#define REFUSAL_LOG_INTERVAL_MS 10000

TAILQ_HEAD(client_list, server_client);

struct server {
	struct event_base *base;
	struct server_config cfg;
	struct client_host host;
	struct server_stats stats;
	char instance[33];

	int listen_fd;			/* -1: not listening */
	struct event *accept_ev;	/* persistent read event on listen_fd */
	struct event *accept_retry;
	struct log_limit refusal_log;
	char *path;			/* the socket file we bound, to remove at the end */
	dev_t path_dev;
	ino_t path_ino;

	/* Every domain's snapshot at its seq, while no event came since (one reference). */
	struct snapshot *snapshot_all;
	/* Where published lines go, shared by the subscribers' runs (outblock.h); NULL: none. */
	struct out_block *block;
	struct event *seal_ev;		/* a zero timeout: seal the block after the loop polls */

	struct client_list clients;	/* open and closing */
	struct client_list dead;	/* closed, freed by reap() */
	struct event *reap;
	uint64_t n_clients;
	unsigned long next_serial;
	bool shut_down;
};

void server_config_from(struct server_config *scfg, const struct xgm_config *cfg)
{
	*scfg = (struct server_config){
		.max_clients = cfg->limits.max_clients,
		.client_output_cap = cfg->limits.client_output_cap,
		.stall_timeout_ms = cfg->limits.client_stall_timeout_s * 1000u,
		.shutdown_flush_ms = 0,
	};
}

static void apply_config(struct server *s, const struct server_config *cfg)
{
	s->cfg = *cfg;
	if (!s->cfg.max_clients)
		s->cfg.max_clients = XGM_DEFAULT_LIMITS_MAX_CLIENTS;
	if (!s->cfg.client_output_cap)
		s->cfg.client_output_cap = XGM_DEFAULT_LIMITS_CLIENT_OUTPUT_CAP;
	if (!s->cfg.shutdown_flush_ms)
		s->cfg.shutdown_flush_ms = XGM_DEFAULT_SHUTDOWN_FLUSH_MS;
}

/* Random, so that a restarted daemon (seq from 0 again) is told apart from a reordered one. */
static void make_instance(char out[33])
{
	unsigned char bytes[16];
	ssize_t n = getrandom(bytes, sizeof(bytes), GRND_NONBLOCK);

	if (n != (ssize_t)sizeof(bytes)) {
		struct timespec ts;
		uint64_t mix;

		clock_gettime(CLOCK_REALTIME, &ts);
		mix = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		for (size_t i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)((mix >> (8 * (i % 8))) ^ ((unsigned)getpid() >> (i % 3)));
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

/*
 * A snapshot filtered by domain is the client's own; one of every domain is
 * encoded once per seq: after a restart, or a burst that overran many
 * subscribers, they all recover from the same one.
 */
static struct snapshot *snapshot_for(void *arg, const struct command_filter *f, int *err)
{
	struct server *s = arg;
	struct snapshot *snap;

	if (f->all_domains && s->snapshot_all &&
	    snapshot_seq(s->snapshot_all) == s->host.ops->last_seq(s->host.engine))
		return snapshot_ref(s->snapshot_all);
	snap = snapshot_take(s->host.ops, s->host.engine, f, err);
	if (!snap)
		return NULL;
	s->stats.snapshots_encoded++;
	if (f->all_domains) {
		snapshot_unref(s->snapshot_all);
		s->snapshot_all = snapshot_ref(snap);
	}
	return snap;
}

static void write_stats(void *arg, struct jsonw *w)
{
	struct server *s = arg;
	struct server_stats st;

	server_get_stats(s, &st);
	jsonw_key_uint(w, "clients", st.clients);
	jsonw_key_uint(w, "subscribers", st.subscribers);
	jsonw_key_uint(w, "output_queued", st.output_queued);
	jsonw_key_uint(w, "clients_accepted", st.clients_accepted);
	jsonw_key_uint(w, "clients_rejected", st.clients_rejected);
	jsonw_key_uint(w, "clients_hung_up", st.clients_hung_up);
	jsonw_key_uint(w, "clients_stalled", st.clients_stalled);
	jsonw_key_uint(w, "commands", st.commands);
	jsonw_key_uint(w, "errors", st.errors);
	jsonw_key_uint(w, "events_sent", st.events_sent);
	jsonw_key_uint(w, "events_dropped", st.events_dropped);
	jsonw_key_uint(w, "lost_notices", st.lost_notices);
	jsonw_key_uint(w, "snapshots", st.snapshots);
	jsonw_key_uint(w, "snapshots_encoded", st.snapshots_encoded);
}

static void reap(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	size_t freed = 0;
	struct server_client *c;

	while ((c = TAILQ_FIRST(&s->dead))) {
		TAILQ_REMOVE(&s->dead, c, link);
		freed += server_client_output_length(c);
		server_client_free(c);
	}
	/*
	 * Stalled subscribers leave their queues' chains scattered over the
	 * heap; glibc keeps such freed memory, and RSS stayed at ~98 MB after
	 * 250 of them left. Give it back once a cap's worth is freed.
	 */
	if (freed >= s->cfg.client_output_cap)
		malloc_trim(0);
}

static void client_closed(void *arg, struct server_client *c)
{
	struct server *s = arg;

	TAILQ_REMOVE(&s->clients, c, link);
	s->n_clients--;
	TAILQ_INSERT_TAIL(&s->dead, c, link);
	event_active(s->reap, EV_TIMEOUT, 0);
}

/* Queues every client's run and lets go of the block they are runs of. */
static void seal_block(struct server *s)
{
	struct server_client *c, *next;

	if (!s->block)
		return;
	/* A client that cannot queue its run is closed, which unlinks it. */
	for (c = TAILQ_FIRST(&s->clients); c; c = next) {
		next = TAILQ_NEXT(c, link);
		server_client_flush_run(c);
	}
	out_block_unref(s->block);
	s->block = NULL;
	evtimer_del(s->seal_ev);
}

static void on_seal(evutil_socket_t fd, short what, void *arg)
{
	seal_block(arg);
}

struct server *server_new(struct event_base *base, const struct server_config *cfg,
			  const struct server_engine_ops *ops, void *engine)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base = base;
	apply_config(s, cfg);
	make_instance(s->instance);
	s->listen_fd = -1;
	s->refusal_log = (struct log_limit)LOG_LIMIT_INIT(REFUSAL_LOG_INTERVAL_MS);
	TAILQ_INIT(&s->clients);
	TAILQ_INIT(&s->dead);
	s->reap = event_new(base, -1, 0, reap, s);
	s->seal_ev = evtimer_new(base, on_seal, s);
	if (!s->reap || !s->seal_ev) {
		if (s->reap)
			event_free(s->reap);
		if (s->seal_ev)
			event_free(s->seal_ev);
		free(s);
		return NULL;
	}
	s->host = (struct client_host){
		.base = base,
		.ops = ops,
		.engine = engine,
		.cfg = &s->cfg,
		.instance = s->instance,
		.stats = &s->stats,
		.snapshot_for = snapshot_for,
		.write_stats = write_stats,
		.closed = client_closed,
		.arg = s,
	};
	return s;
}

const char *server_instance(const struct server *s)
{
	return s->instance;
}

void server_reconfigure(struct server *s, const struct server_config *cfg)
{
	struct server_client *c;

	apply_config(s, cfg);
	TAILQ_FOREACH(c, &s->clients, link)
		server_client_reconfigure(c);
}

void server_get_stats(const struct server *s, struct server_stats *ret)
{
	const struct server_client *c;

	*ret = s->stats;
	ret->clients = s->n_clients;
	ret->subscribers = 0;
	ret->output_queued = 0;
	TAILQ_FOREACH(c, &s->clients, link) {
		if (c->state == CLIENT_OPEN && c->subscribed)
			ret->subscribers++;
		ret->output_queued += server_client_output_length(c);
	}
}

/* One error line, best effort, without a bufferevent: the client is not admitted. */
static void reject(struct server *s, evutil_socket_t fd)
{
	uint64_t held_back;
	struct jsonw w;
	char desc[96];

	s->stats.clients_rejected++;
	if (log_limit_pass(&s->refusal_log, monotonic_ms(), &held_back))
		log_info("refusing a client: %u clients connected (limits.max_clients); "
			 "%llu more refused since the last such line", s->cfg.max_clients,
			 (unsigned long long)held_back);
	snprintf(desc, sizeof(desc), "too many clients (%u); try again later", s->cfg.max_clients);
	jsonw_init(&w);
	message_error(&w, NULL, COMMAND_ERROR_TOO_MANY_CLIENTS, desc);
	if (jsonw_error(&w) == 0) {
		const char *text;
		size_t len;
		ssize_t n;

		jsonw_text(&w, &text, &len);
		/* A fresh socket's buffer always takes one short line; newline in the same call. */
		n = send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE);
		if (n == (ssize_t)len)
			n = send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			s->stats.errors++;
	}
	jsonw_release(&w);
	close(fd);
}

/*
 * Closes the clients whose peer is gone altogether (POLLHUP: it closed, so
 * nobody can read our replies) and whose EOF the loop has not reached yet:
 * a client connecting and closing in a tight loop would otherwise fill
 * every slot with the dead and lock the living out. One poll() over at
 * most max_clients fds, at most once per client admitted.
 */
static void close_hung_up(struct server *s)
{
	struct pollfd *fds = calloc(s->n_clients, sizeof(*fds));
	struct server_client **who = calloc(s->n_clients, sizeof(*who));
	struct server_client *c;
	nfds_t n = 0;

	if (fds && who) {
		TAILQ_FOREACH(c, &s->clients, link) {
			fds[n] = (struct pollfd){ .fd = bufferevent_getfd(c->bev), .events = 0 };
			who[n++] = c;
		}
		if (poll(fds, n, 0) > 0)
			for (nfds_t i = 0; i < n; i++)
				if (fds[i].revents & (POLLHUP | POLLERR))
					server_client_close(who[i], "hung up");
	}
	free(fds);
	free(who);
}

/*
 * Admits or refuses one accepted connection. A connection whose peer has
 * already closed it is dropped before it takes a slot: a connect/close
 * flood leaves its connections in the backlog closed. When the clients
 * are at the limit, those that hung up since the last sweep are closed
 * first; a sweep is due again only once a client was admitted after it,
 * because only an admitted client can have hung up unseen since.
 */
static void admit(struct server *s, int fd, bool *sweep_due)
{
	struct server_client *c;

	/* Not a half-close: a client may shut its side and still read its replies. */
	if (peer_gone(fd, false)) {
		close(fd);
		s->stats.clients_hung_up++;
		return;
	}
	if (s->n_clients >= s->cfg.max_clients && *sweep_due) {
		close_hung_up(s);
		*sweep_due = false;
	}
	if (s->n_clients >= s->cfg.max_clients) {
		reject(s, fd);
		return;
	}
	c = server_client_new(&s->host, fd, ++s->next_serial);
	if (!c) {
		log_warning("cannot serve a new client: out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&s->clients, c, link);
	s->n_clients++;
	s->stats.clients_accepted++;
	*sweep_due = true;
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	if (s->accept_ev)
		event_add(s->accept_ev, NULL);
}

/* accept() failed for a reason that persists (EMFILE, ENOBUFS): back off instead of spinning. */
static void accept_pause(struct server *s, int err)
{
	struct timeval tv = { .tv_sec = ACCEPT_RETRY_MS / 1000, .tv_usec = (ACCEPT_RETRY_MS % 1000) * 1000 };

	log_warning("cannot accept a client: %s; pausing for %d ms", strerror(err), ACCEPT_RETRY_MS);
	event_del(s->accept_ev);
	evtimer_add(s->accept_retry, &tv);
}

/*
 * At most SERVER_ACCEPT_BATCH connections per loop turn: the rest wait in
 * the kernel's backlog while the loop serves everyone else, including the
 * EOFs that free slots. (libevent's evconnlistener accepts until the
 * backlog is empty, so a connect/close flood never let the loop turn.)
 */
static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;
	bool sweep_due = true;

	for (int i = 0; i < SERVER_ACCEPT_BATCH; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				accept_pause(s, errno);
			return;
		}
		if (s->shut_down)
			close(fd);
		else
			admit(s, fd, &sweep_due);
	}
}

int server_listen_fd(struct server *s, int fd)
{
	if (s->listen_fd >= 0) {
		close(fd);
		return -EBUSY;
	}
	if (!s->accept_retry)
		s->accept_retry = evtimer_new(s->base, accept_retry_cb, s);
	if (!s->accept_retry || evutil_make_socket_nonblocking(fd) < 0 ||
	    evutil_make_socket_closeonexec(fd) < 0) {
		close(fd);
		log_err("cannot set up the listening socket: %s", strerror(errno ? errno : ENOMEM));
		return -ENOMEM;
	}
	s->accept_ev = event_new(s->base, fd, EV_READ | EV_PERSIST, accept_cb, s);
	if (!s->accept_ev || event_add(s->accept_ev, NULL) < 0) {
		if (s->accept_ev)
			event_free(s->accept_ev);
		s->accept_ev = NULL;
		close(fd);
		log_err("cannot set up the listening socket: out of memory");
		return -ENOMEM;
	}
	s->listen_fd = fd;
	return 0;
}

static int bind_mode(int fd, const struct sockaddr_un *sa, mode_t mode)
{
	/* The file gets its final mode at birth: no window where it is wider. */
	mode_t old = umask(~mode & 0777);
	int r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));

	umask(old);
	return r < 0 ? -errno : 0;
}

/*
 * The path is taken: by a live server (connect succeeds, or its backlog is
 * full), by a stale socket (refused: 0, the caller may replace it), or by
 * something that is no socket at all.
 */
static int probe_existing(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket; not replacing it", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN || r == -EINPROGRESS) {
		log_err("%s is in use by a running server; stop it first or choose another socket",
			sa->sun_path);
		return -EADDRINUSE;
	}
	if (r == -ECONNREFUSED) {
		log_info("removing stale socket %s", sa->sun_path);
		if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
			r = -errno;
			log_err("cannot remove stale socket %s: %s", sa->sun_path, strerror(-r));
			return r;
		}
		return 0;
	}
	log_err("cannot check whether %s is in use: %s", sa->sun_path, strerror(-r));
	return r;
}

int server_listen(struct server *s, const char *path, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (s->listen_fd >= 0)
		return -EBUSY;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("socket path %s is longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		log_err("cannot create a socket: %s", strerror(-r));
		return r;
	}
	r = bind_mode(fd, &sa, mode);
	if (r == -EADDRINUSE) {
		r = probe_existing(&sa);
		if (r == 0)
			r = bind_mode(fd, &sa, mode);
		else
			goto fail_quiet;
	}
	if (r < 0) {
		log_err("cannot bind %s: %s", path, strerror(-r));
		goto fail_quiet;
	}
	if (listen(fd, SOMAXCONN) < 0 || stat(path, &st) < 0) {
		r = -errno;
		log_err("cannot listen on %s: %s", path, strerror(-r));
		unlink(path);
		goto fail_quiet;
	}
	s->path = strdup(path);
	if (!s->path) {
		unlink(path);
		r = -ENOMEM;
		log_err("cannot listen on %s: out of memory", path);
		goto fail_quiet;
	}
	s->path_dev = st.st_dev;
	s->path_ino = st.st_ino;
	return server_listen_fd(s, fd);
fail_quiet:
	close(fd);
	return r;
}

/* Removes the socket file, unless another server has replaced it since. */
static void stop_listening(struct server *s)
{
	struct stat st;

	if (s->accept_ev) {
		event_free(s->accept_ev);
		s->accept_ev = NULL;
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
	}
	if (s->accept_retry)
		evtimer_del(s->accept_retry);
	if (s->path && stat(s->path, &st) == 0 && st.st_dev == s->path_dev && st.st_ino == s->path_ino)
		unlink(s->path);
	free(s->path);
	s->path = NULL;
}

/*
 * Appends line to the current block, sealing that first when it is full.
 * A new block is sealed once the loop has turned (after it polled), so
 * that the runs of one turn's events reach the sockets together. The
 * block, or NULL on ENOMEM.
 */
static struct out_block *append_line(struct server *s, const char *line, size_t len,
				     size_t *offset, size_t *line_len)
{
	static const struct timeval now = { 0, 0 };

	if (s->block && out_block_append(s->block, line, len, offset, line_len) == 0)
		return s->block;
	seal_block(s);
	s->block = out_block_new(len + 1);
	if (!s->block || out_block_append(s->block, line, len, offset, line_len) < 0) {
		out_block_unref(s->block);
		s->block = NULL;
		return NULL;
	}
	evtimer_add(s->seal_ev, &now);
	return s->block;
}

void server_publish(struct server *s, unsigned int domid, enum xgm_event kind, uint64_t seq,
		    const char *line, size_t len)
{
	struct out_block *block = NULL;
	size_t offset = 0, line_len = 0;
	struct server_client *c, *next;

	if (s->shut_down)
		return;
	/* The seq moved on: the shared snapshot is of the past (clients sending it keep theirs). */
	snapshot_unref(s->snapshot_all);
	s->snapshot_all = NULL;
	/* No line (the engine could not encode it, or no memory): lost for every subscriber it matches. */
	if (line)
		block = append_line(s, line, len, &offset, &line_len);
	/* A client whose run cannot be queued is closed, which unlinks it. */
	for (c = TAILQ_FIRST(&s->clients); c; c = next) {
		next = TAILQ_NEXT(c, link);
		server_client_publish(c, domid, kind, seq, block, offset, line_len);
	}
}

/*
 * Sends what is queued to c without blocking: 0 when there may be more to
 * send later, -errno when the client is gone. The bufferevent keeps the
 * front of its output frozen against outside draining; thaw it meanwhile.
 */
static int send_queued(struct server_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int fd = bufferevent_getfd(c->bev), r = 0;

	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out)) {
		struct evbuffer_iovec v;
		ssize_t n;

		if (evbuffer_peek(out, -1, NULL, &v, 1) < 1)
			break;
		n = send(fd, v.iov_base, v.iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			r = errno == EAGAIN || errno == EINTR ? 0 : -errno;
			break;
		}
		evbuffer_drain(out, (size_t)n);
	}
	evbuffer_freeze(out, 1);
	return r;
}

/*
 * Writes what the clients still have queued, directly and without the
 * loop (the caller may be about to leave it), until all is out or the
 * deadline passes.
 */
static void flush_all(struct server *s)
{
	int64_t deadline = monotonic_ms() + s->cfg.shutdown_flush_ms;
	struct pollfd *fds = calloc(s->n_clients ? s->n_clients : 1, sizeof(*fds));
	struct server_client **who = calloc(s->n_clients ? s->n_clients : 1, sizeof(*who));

	while (fds && who) {
		int64_t left = deadline - monotonic_ms();
		struct server_client *c;
		nfds_t n = 0;

		TAILQ_FOREACH(c, &s->clients, link) {
			if (c->state == CLIENT_CLOSED || server_client_output_length(c) == 0)
				continue;
			fds[n] = (struct pollfd){ .fd = bufferevent_getfd(c->bev), .events = POLLOUT };
			who[n++] = c;
		}
		if (n == 0 || left <= 0)
			break;
		if (poll(fds, n, (int)left) < 0 && errno != EINTR)
			break;
		for (nfds_t i = 0; i < n; i++)
			if (fds[i].revents && send_queued(who[i]) < 0)
				server_client_close(who[i], "gone during shutdown");
	}
	free(fds);
	free(who);
}

void server_shutdown(struct server *s)
{
	struct server_client *c, *next;

	if (s->shut_down)
		return;
	s->shut_down = true;
	stop_listening(s);
	for (c = TAILQ_FIRST(&s->clients); c; c = next) {
		next = TAILQ_NEXT(c, link);
		server_client_bye(c, "shutdown");
	}
	flush_all(s);
	while ((c = TAILQ_FIRST(&s->clients)))
		server_client_close(c, "shutdown");
}

void server_free(struct server *s)
{
	struct server_client *c;

	if (!s)
		return;
	stop_listening(s);
	while ((c = TAILQ_FIRST(&s->clients))) {
		TAILQ_REMOVE(&s->clients, c, link);
		server_client_free(c);
	}
	reap(-1, 0, s);
	snapshot_unref(s->snapshot_all);
	out_block_unref(s->block);
	event_free(s->seal_ev);
	event_free(s->reap);
	if (s->accept_retry)
		event_free(s->accept_retry);
	free(s);
}

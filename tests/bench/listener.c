/*
 * The subscribers' reading thread: one epoll over every stream, lines
 * split as they come. Only the measured stream is parsed (with yajl, as a
 * client would); the others are counted, which is all a fan-out test needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "floor-board.h"
#include "listener.h"
#include "xgmd-test.h"

#define MAX_STREAMS 256
/* Longer lines are counted and skipped: events are far smaller. */
#define LINE_MAX_BYTES (1 << 20)

struct stream {
	int fd;
	bool measure;
	char *buf;
	size_t len;
	bool skipping;		/* inside a line over LINE_MAX_BYTES */
};

struct listener {
	struct marks *marks;
	pthread_t thread;
	pthread_mutex_t lock;	/* everything below */
	int epfd;
	int wake[2];
	bool stop;
	struct stream streams[MAX_STREAMS];
	size_t n_streams;
	struct listener_counts counts;
	char stats_line[4096];
	struct samples samples;
	const struct floor_board *board;	/* the floor's, polled while set */
};

/* How often the floor's board is looked at: the resolution of its latencies. */
#define BOARD_POLL_MS 1

/* A mark seen for the first time is a sample: from its write to when it was seen. */
static void see_mark(struct listener *l, long long domid, long long mark, uint64_t seen_ns)
{
	struct marks *m = l->marks;

	if (domid < 1 || (unsigned long long)domid > m->n_domains || mark < 0)
		return;
	if ((uint64_t)mark < m->base || (uint64_t)mark - m->base >= m->cap)
		return;
	if ((uint64_t)mark <= atomic_load(&m->last_seen[domid - 1]))
		return;
	atomic_store(&m->last_seen[domid - 1], (uint64_t)mark);
	samples_add(&l->samples, seen_ns - m->written_ns[mark - m->base]);
}

static void measure_event(struct listener *l, yajl_val v, uint64_t now)
{
	see_mark(l, json_int(v, "domain", "id"),
		 json_int(json_get(v, "data", "memory"), "free_kib", NULL), now);
}

/* The floor's values, with the time it read them. */
static void poll_board(struct listener *l)
{
	const struct floor_board *b = l->board;
	uint32_t n = b->n_domains < l->marks->n_domains ? b->n_domains : l->marks->n_domains;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = atomic_load(&b->slots[i].value);

		if (v > atomic_load(&l->marks->last_seen[i]))
			see_mark(l, i + 1, (long long)v, atomic_load(&b->slots[i].seen_ns));
	}
}

static void handle_line(struct listener *l, struct stream *s, char *line, size_t len)
{
	char err[128];
	const char *type;
	yajl_val v;

	l->counts.bytes += len + 1;
	/* Cheap classification first: only the measured stream is parsed. */
	if (!s->measure) {
		if (memmem(line, len, "\"type\":\"event\"", 14))
			l->counts.events++;
		else if (memmem(line, len, "\"type\":\"lost\"", 13))
			l->counts.lost++;
		return;
	}
	line[len] = '\0';
	v = yajl_tree_parse(line, err, sizeof(err));
	if (!v) {
		fprintf(stderr, "xgm-bench: invalid JSON from a subscriber: %s\n", err);
		l->counts.invalid++;
		return;
	}
	type = json_str(v, "type", NULL);
	if (type && strcmp(type, "event") == 0) {
		l->counts.events++;
		measure_event(l, v, monotonic_ns());
	} else if (type && strcmp(type, "lost") == 0) {
		l->counts.lost++;
	} else if (type && strcmp(type, "ready") == 0) {
		l->counts.ready++;
	} else if (type && strcmp(type, "stats") == 0) {
		snprintf(l->stats_line, sizeof(l->stats_line), "%s", line);
		l->counts.stats++;
	}
	yajl_tree_free(v);
}

/* Reads what is there; false at EOF or error. */
static bool read_stream(struct listener *l, struct stream *s)
{
	for (;;) {
		char *start, *nl;
		ssize_t n;

		if (s->len == LINE_MAX_BYTES) {	/* drop the overlong line's head */
			s->skipping = true;
			s->len = 0;
		}
		n = read(s->fd, s->buf + s->len, LINE_MAX_BYTES - s->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		s->len += (size_t)n;
		start = s->buf;
		while ((nl = memchr(start, '\n', s->len - (size_t)(start - s->buf)))) {
			if (!s->skipping)
				handle_line(l, s, start, (size_t)(nl - start));
			s->skipping = false;
			start = nl + 1;
		}
		s->len -= (size_t)(start - s->buf);
		memmove(s->buf, start, s->len);
	}
}

static void close_stream(struct listener *l, size_t i)
{
	struct stream *s = &l->streams[i];

	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	free(s->buf);
	s->fd = -1;
	s->buf = NULL;
}

static void *run(void *arg)
{
	struct listener *l = arg;
	struct epoll_event evs[64];

	for (;;) {
		int timeout, n;

		pthread_mutex_lock(&l->lock);
		timeout = l->board ? BOARD_POLL_MS : -1;
		pthread_mutex_unlock(&l->lock);
		n = epoll_wait(l->epfd, evs, 64, timeout);
		pthread_mutex_lock(&l->lock);
		if (l->stop) {
			pthread_mutex_unlock(&l->lock);
			return NULL;
		}
		if (l->board)
			poll_board(l);
		for (int i = 0; i < n; i++) {
			size_t idx = evs[i].data.u64;

			if (idx == MAX_STREAMS) {	/* woken: drain, or epoll says so again */
				char buf[64];

				while (read(l->wake[0], buf, sizeof(buf)) > 0)
					;
				continue;
			}
			if (idx >= l->n_streams || l->streams[idx].fd < 0)
				continue;	/* a stream dropped meanwhile */
			if (!read_stream(l, &l->streams[idx]))
				close_stream(l, idx);
		}
		pthread_mutex_unlock(&l->lock);
	}
}

struct listener *listener_new(struct marks *m)
{
	struct listener *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = MAX_STREAMS };

	if (!l)
		return NULL;
	l->marks = m;
	l->wake[0] = l->wake[1] = -1;
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0 || pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake[0], &ev) < 0 ||
	    pthread_create(&l->thread, NULL, run, l) != 0) {
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->wake[0] >= 0) {
			close(l->wake[0]);
			close(l->wake[1]);
		}
		free(l);
		return NULL;
	}
	return l;
}

void listener_drop_all(struct listener *l)
{
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n_streams; i++)
		if (l->streams[i].fd >= 0)
			close_stream(l, i);
	l->n_streams = 0;
	pthread_mutex_unlock(&l->lock);
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_mutex_unlock(&l->lock);
	if (write(l->wake[1], "", 1) < 0)
		perror("xgm-bench: waking the listener");
	pthread_join(l->thread, NULL);
	listener_drop_all(l);
	close(l->epfd);
	close(l->wake[0]);
	close(l->wake[1]);
	pthread_mutex_destroy(&l->lock);
	free(l->samples.v);
	free(l);
}

int listener_add(struct listener *l, int fd, bool measure)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct stream *s;
	int r = 0;

	pthread_mutex_lock(&l->lock);
	if (l->n_streams == MAX_STREAMS) {
		r = -EMFILE;
		goto out;
	}
	s = &l->streams[l->n_streams];
	*s = (struct stream){ .fd = fd, .measure = measure, .buf = malloc(LINE_MAX_BYTES + 1) };
	ev.data.u64 = l->n_streams;
	if (!s->buf || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = s->buf ? -errno : -ENOMEM;
		free(s->buf);
		goto out;
	}
	l->n_streams++;
out:
	pthread_mutex_unlock(&l->lock);
	if (r < 0)
		close(fd);
	return r;
}

void listener_watch_board(struct listener *l, const struct floor_board *board)
{
	pthread_mutex_lock(&l->lock);
	l->board = board;
	pthread_mutex_unlock(&l->lock);
	/* epoll_wait may be waiting with no timeout */
	if (write(l->wake[1], "", 1) < 0)
		perror("xgm-bench: waking the listener");
}

void listener_counts(struct listener *l, struct listener_counts *c)
{
	pthread_mutex_lock(&l->lock);
	*c = l->counts;
	pthread_mutex_unlock(&l->lock);
}

bool listener_stats_line(struct listener *l, char *buf, size_t size)
{
	bool found;

	pthread_mutex_lock(&l->lock);
	found = l->stats_line[0] != '\0';
	snprintf(buf, size, "%s", l->stats_line);
	pthread_mutex_unlock(&l->lock);
	return found;
}

size_t listener_take_samples(struct listener *l, uint64_t **samples)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	*samples = l->samples.v;
	n = l->samples.n;
	l->samples = (struct samples){ 0 };
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* The sampling thread of backlog.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "backlog.h"
#include "workload.h"

struct backlog {
	const struct workload *w;
	backlog_taken_fn *taken;
	void *ctx;
	unsigned int interval_ms;
	uint64_t writes0;
	int64_t taken0;
	pthread_t thread;
	atomic_bool stop;
	struct backlog_result res;	/* the thread's until joined */
	double sum;
};

static void *run(void *arg)
{
	struct backlog *b = arg;

	while (!atomic_load(&b->stop)) {
		int64_t taken = b->taken(b->ctx);
		/* After the answer: a write in between counts as unread, an overestimate of one round trip. */
		uint64_t writes = workload_writes_done(b->w) - b->writes0;
		uint64_t unread;

		if (taken < 0)
			break;
		taken -= b->taken0;
		unread = (int64_t)writes > taken ? writes - (uint64_t)taken : 0;
		b->res.samples++;
		b->sum += (double)unread;
		if (unread > b->res.peak)
			b->res.peak = unread;
		usleep(b->interval_ms * 1000);
	}
	return NULL;
}

struct backlog *backlog_start(const struct workload *w, backlog_taken_fn *taken, void *ctx,
			      unsigned int interval_ms)
{
	struct backlog *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	*b = (struct backlog){ .w = w, .taken = taken, .ctx = ctx, .interval_ms = interval_ms };
	b->writes0 = workload_writes_done(w);
	b->taken0 = taken(ctx);
	if (b->taken0 < 0 || pthread_create(&b->thread, NULL, run, b) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

void backlog_stop(struct backlog *b, struct backlog_result *res)
{
	*res = (struct backlog_result){ 0 };
	if (!b)
		return;
	atomic_store(&b->stop, true);
	pthread_join(b->thread, NULL);
	*res = b->res;
	if (res->samples)
		res->mean = b->sum / (double)res->samples;
	free(b);
}

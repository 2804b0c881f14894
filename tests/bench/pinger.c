/*
 * The pinging thread (pinger.h). Its own connection, so that its round
 * trips wait for nothing but xgmd's loop; its own ids, so that a late reply
 * is never taken for the next ping's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinger.h"
#include "spread.h"
#include "workload.h"
#include "xgmd-test.h"

/* Past this a ping is unanswered; it only ends a hung wait. */
#define PING_LIMIT_MS 30000

struct pinger {
	char socket[108];
	unsigned int interval_ms;
	pthread_t thread;
	atomic_bool stop;
	struct client client;
	struct samples samples;	/* the thread's until it is joined */
	uint64_t unanswered;
};

/* One round trip: true when the reply to this id came. */
static bool ping(struct pinger *p, long long id)
{
	char line[64];
	uint64_t t0 = monotonic_ns();

	snprintf(line, sizeof(line), "{\"cmd\":\"ping\",\"id\":%lld}", id);
	if (client_send(&p->client, line) < 0)
		return false;
	while (!atomic_load(&p->stop) && (monotonic_ns() - t0) / 1000000 < PING_LIMIT_MS) {
		yajl_val v = client_next(&p->client, 100);
		bool mine = v && json_int(v, "id", NULL) == id;

		if (v)
			yajl_tree_free(v);
		if (mine) {
			samples_add(&p->samples, monotonic_ns() - t0);
			return true;
		}
		if (!v && p->client.eof)
			return false;
	}
	if (atomic_load(&p->stop))
		return true;	/* stopped while waiting: not xgmd's fault */
	/* Unanswered, and kept as a round trip of at least this long: the worst case stays in. */
	samples_add(&p->samples, monotonic_ns() - t0);
	return false;
}

static void *run(void *arg)
{
	struct pinger *p = arg;
	long long id = 0;

	p->client.fd = -1;
	while (!atomic_load(&p->stop)) {
		yajl_val hello;

		if (p->client.eof)
			client_close(&p->client);
		if (p->client.fd < 0) {
			/* The hello can wait behind a slice of xgmd's first pass. */
			hello = client_connect(&p->client, p->socket);
			if (!hello) {
				client_close(&p->client);
				usleep(10000);
				continue;
			}
			yajl_tree_free(hello);
		}
		if (!ping(p, ++id))
			p->unanswered++;
		usleep(p->interval_ms * 1000);
	}
	client_close(&p->client);
	return NULL;
}

struct pinger *pinger_start(const char *socket, unsigned int interval_ms)
{
	struct pinger *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->socket, sizeof(p->socket), "%s", socket);
	p->interval_ms = interval_ms;
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

size_t pinger_stop(struct pinger *p, uint64_t **samples, uint64_t *unanswered)
{
	size_t n;

	*samples = NULL;
	*unanswered = 0;
	if (!p)
		return 0;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	*samples = p->samples.v;
	*unanswered = p->unanswered;
	n = p->samples.n;
	free(p);
	return n;
}

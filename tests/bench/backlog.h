/*
 * Watch events left unread under a storm, seen from outside xenstored:
 * every guest write of the storm fires one event for the subject (one
 * watch covers data/), so the writes done minus the events the subject has
 * taken are the events still on their way to it — queued in xenstored, in
 * the socket, or in libxenstore's own list inside the subject. A thread
 * samples that difference while the storm runs.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct workload;

/* The watch events the subject has taken so far; negative on error. */
typedef int64_t backlog_taken_fn(void *ctx);

struct backlog_result {
	size_t samples;
	double mean;
	uint64_t peak;
};

struct backlog;

/* Samples every interval_ms from now on, against the writes w does from now on. */
struct backlog *backlog_start(const struct workload *w, backlog_taken_fn *taken, void *ctx,
			      unsigned int interval_ms);
/* Stops it; NULL (never started) gives an empty result. */
void backlog_stop(struct backlog *b, struct backlog_result *res);

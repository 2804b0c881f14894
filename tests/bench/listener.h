/*
 * The benchmark's subscribers: a thread that reads every subscriber's
 * stream (xgmd's sockets, or the baseline monitor's stdout) as it comes,
 * counts what each receives, and, on the measured stream, turns each
 * data/meminfo_free mark it sees into a latency sample; for the floor
 * client, which prints nothing, it polls the floor's board instead.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "workload.h"

struct listener;

struct listener_counts {
	uint64_t events;	/* lines of "type":"event" */
	uint64_t lost;		/* "type":"lost" */
	uint64_t bytes;
	uint64_t ready;		/* "type":"ready" (the baseline monitor's start) */
	uint64_t stats;		/* "type":"stats" (the baseline's counters) */
	uint64_t invalid;	/* lines that are not JSON (the measured stream) */
};

/* NULL on ENOMEM. The thread starts at once. */
struct listener *listener_new(struct marks *m);
/* Stops the thread and closes every stream. */
void listener_free(struct listener *l);

/* Adds a stream; the listener owns fd from then on. measure: its marks give latency samples. */
int listener_add(struct listener *l, int fd, bool measure);
struct floor_board;
/*
 * Polls the floor's board every millisecond, its data/meminfo_free values
 * as marks seen (at the time the floor read them); NULL stops. The caller
 * keeps the board mapped until then.
 */
void listener_watch_board(struct listener *l, const struct floor_board *board);
/* Closes every stream (the thread keeps running). */
void listener_drop_all(struct listener *l);

/* Sums over every stream. */
void listener_counts(struct listener *l, struct listener_counts *c);
/* The last line of "type":"stats" seen (the baseline's counters), copied into buf. */
bool listener_stats_line(struct listener *l, char *buf, size_t size);

/* Hands over the samples (ns) gathered since the last call; the caller frees *samples. */
size_t listener_take_samples(struct listener *l, uint64_t **samples);

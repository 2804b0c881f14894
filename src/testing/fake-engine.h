/*
 * A fake engine for the server's tests: three canned domains (0, 5, 7)
 * behind struct server_engine_ops, and a way to publish events as the real
 * engine would (one encoded line, fanned out by the server).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/server.h"

#define FAKE_ENGINE_DOMAINS 3

struct fake_engine {
	uint64_t seq;			/* last published */
	unsigned int domids[FAKE_ENGINE_DOMAINS];
	const char *names[FAKE_ENGINE_DOMAINS];
	int fail_snapshot;		/* non-zero: snapshot() returns it */
	/* Each snapshot line this many times with this much filler: a snapshot of a big host. */
	unsigned int snapshot_repeat;	/* 0 is 1 */
	size_t snapshot_pad;
	unsigned int snapshots;		/* snapshot() calls */
};

extern const struct server_engine_ops fake_engine_ops;

void fake_engine_init(struct fake_engine *e);

/*
 * Publishes one event about domid through s with the next seq; pad bytes
 * of filler in "data" make it as big as a test needs. Returns its length
 * on the wire (newline included).
 */
size_t fake_engine_publish(struct fake_engine *e, struct server *s, unsigned int domid,
			   enum xgm_event kind, size_t pad);

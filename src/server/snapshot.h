/*
 * A snapshot: the "domain.snapshot" lines of every domain a filter
 * matches, encoded once at one seq and then only read. Clients that need
 * the same snapshot at the same seq share one (after a restart, every
 * subscriber that fell behind needs the same one), and each copies it into
 * its output a few lines at a time as the output drains, so a snapshot
 * costs its size once, and a client never holds much more than its cap.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <event2/buffer.h>

#include "protocol/command.h"
#include "server/server.h"

struct snapshot;

/*
 * Encodes a snapshot for filter f through ops, at ops->last_seq(). The
 * caller owns the one reference. NULL with *err set (negative errno) when
 * the engine failed or memory ran out.
 */
struct snapshot *snapshot_take(const struct server_engine_ops *ops, void *engine,
			       const struct command_filter *f, int *err);

struct snapshot *snapshot_ref(struct snapshot *s);
void snapshot_unref(struct snapshot *s);	/* NULL is fine */

/* The seq the snapshot was taken at: its snapshot-end says it. */
uint64_t snapshot_seq(const struct snapshot *s);
size_t snapshot_length(const struct snapshot *s);

/*
 * Appends whole lines of s from *offset to out, at least want bytes (or
 * what is left) and at most one line more, and moves *offset past them.
 * Returns the bytes appended (0 at the end) or -ENOMEM.
 */
long snapshot_copy_lines(const struct snapshot *s, size_t *offset, struct evbuffer *out, size_t want);

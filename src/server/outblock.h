/*
 * A block of published event lines that every subscriber's output shares.
 * The server appends each event line to the current block; a subscriber's
 * consecutive events form a run of the block, queued as one piece when the
 * run ends (see client.h). A long run is queued by reference, so 100
 * subscribers of a 1000-event burst hold one copy of it, not 100; a short
 * one is copied, since a reference costs a ~1 KiB evbuffer chain: shared
 * one by one, 550-byte lines cost ~1,040 bytes of heap per subscriber.
 * Refcounted: the server holds one reference while it appends, each
 * queued reference one more; freed when the last goes.
 */
#pragma once

#include <stddef.h>
#include <event2/buffer.h>

/* What a block holds, unless one line alone is longer. */
#define OUT_BLOCK_SIZE 65536
/*
 * Runs of at least this many bytes are shared by reference: the chain then
 * adds at most 1/16, and a subscriber pins at most 4 times what it has
 * queued in blocks others may not share.
 */
#define OUT_BLOCK_SHARE_MIN 16384

struct out_block;

/* An empty block with room for at least min bytes, holding one reference; NULL on ENOMEM. */
struct out_block *out_block_new(size_t min);
void out_block_unref(struct out_block *b);

/*
 * Appends line (its "\n" added when missing) and gives its offset and
 * length in the block; -ENOSPC when it does not fit.
 */
int out_block_append(struct out_block *b, const char *line, size_t len, size_t *offset,
		     size_t *line_len);

/* Queues bytes [offset, offset + len) of b to out, copied or by reference; 0 or -ENOMEM. */
int out_block_queue(struct evbuffer *out, struct out_block *b, size_t offset, size_t len);

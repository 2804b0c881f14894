/* Shared blocks of published event lines (see outblock.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/outblock.h"

struct out_block {
	unsigned int refs;
	size_t len, cap;
	char text[];
};

struct out_block *out_block_new(size_t min)
{
	size_t cap = min > OUT_BLOCK_SIZE ? min : OUT_BLOCK_SIZE;
	struct out_block *b = malloc(sizeof(*b) + cap);

	if (!b)
		return NULL;
	b->refs = 1;
	b->len = 0;
	b->cap = cap;
	return b;
}

void out_block_unref(struct out_block *b)
{
	if (b && --b->refs == 0)
		free(b);
}

int out_block_append(struct out_block *b, const char *line, size_t len, size_t *offset,
		     size_t *line_len)
{
	if (len && line[len - 1] == '\n')
		len--;
	if (len + 1 > b->cap - b->len)
		return -ENOSPC;
	*offset = b->len;
	*line_len = len + 1;
	memcpy(b->text + b->len, line, len);
	b->text[b->len + len] = '\n';
	b->len += len + 1;
	return 0;
}

/* evbuffer's cleanup for a reference: the buffer has sent or dropped it. */
static void release_reference(const void *data, size_t len, void *arg)
{
	out_block_unref(arg);
}

int out_block_queue(struct evbuffer *out, struct out_block *b, size_t offset, size_t len)
{
	if (len < OUT_BLOCK_SHARE_MIN)
		return evbuffer_add(out, b->text + offset, len) < 0 ? -ENOMEM : 0;
	b->refs++;
	if (evbuffer_add_reference(out, b->text + offset, len, release_reference, b) == 0)
		return 0;
	b->refs--;
	return -ENOMEM;
}

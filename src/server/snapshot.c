/* Snapshots encoded once, shared by reference count, copied out a few lines at a time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/snapshot.h"

struct snapshot {
	unsigned int refs;
	uint64_t seq;
	struct evbuffer *buf;	/* one contiguous chain after take: text points into it */
	const char *text;
	size_t len;
};

struct snapshot *snapshot_take(const struct server_engine_ops *ops, void *engine,
			       const struct command_filter *f, int *err)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s || !(s->buf = evbuffer_new()))
		goto fail;
	s->refs = 1;
	s->seq = ops->last_seq(engine);
	r = ops->snapshot(engine, f, s->buf);
	if (r < 0)
		goto fail;
	s->len = evbuffer_get_length(s->buf);
	/* Contiguous, so that copying out is a memchr and a memcpy. */
	s->text = s->len ? (const char *)evbuffer_pullup(s->buf, -1) : "";
	if (!s->text) {
		r = -ENOMEM;
		goto fail;
	}
	return s;
fail:
	if (s && s->buf)
		evbuffer_free(s->buf);
	free(s);
	*err = r;
	return NULL;
}

struct snapshot *snapshot_ref(struct snapshot *s)
{
	s->refs++;
	return s;
}

void snapshot_unref(struct snapshot *s)
{
	if (!s || --s->refs)
		return;
	evbuffer_free(s->buf);
	free(s);
}

uint64_t snapshot_seq(const struct snapshot *s)
{
	return s->seq;
}

size_t snapshot_length(const struct snapshot *s)
{
	return s->len;
}

long snapshot_copy_lines(const struct snapshot *s, size_t *offset, struct evbuffer *out, size_t want)
{
	size_t from = *offset, end;
	const char *nl;

	if (from >= s->len)
		return 0;
	end = want && want < s->len - from ? from + want : s->len;
	/* The line that want ends in goes out whole: nothing may come between its bytes. */
	nl = memchr(s->text + end - 1, '\n', s->len - (end - 1));
	end = nl ? (size_t)(nl - s->text) + 1 : s->len;
	if (evbuffer_add(out, s->text + from, end - from) < 0)
		return -ENOMEM;
	*offset = end;
	return (long)(end - from);
}

/*
 * The fake engine behind the server tests: canned domains and events in
 * the real event shape, so tests can tell what reached whom.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>

#include "json/jsonw.h"
#include "protocol/message.h"
#include "testing/fake-engine.h"

void fake_engine_init(struct fake_engine *e)
{
	*e = (struct fake_engine){
		.domids = { 0, 5, 7 },
		.names = { "Domain-0", "web01", "db01" },
	};
}

static const char *name_of(const struct fake_engine *e, unsigned int domid)
{
	for (int i = 0; i < FAKE_ENGINE_DOMAINS; i++)
		if (e->domids[i] == domid)
			return e->names[i];
	return NULL;
}

/* One event line into w; 0 or a negative errno. */
static int encode_event(struct jsonw *w, const struct fake_engine *e, unsigned int domid,
			enum xgm_event kind, uint64_t seq, size_t pad)
{
	message_event_open(w, seq, kind);
	jsonw_cstr(w, "domain");
	jsonw_map_open(w);
	jsonw_cstr(w, "id");
	jsonw_int(w, domid);
	jsonw_cstr(w, "name");
	jsonw_cstr_or_null(w, name_of(e, domid));
	jsonw_map_close(w);
	jsonw_cstr(w, "data");
	jsonw_map_open(w);
	if (pad) {
		char *filler = malloc(pad);

		if (filler) {
			memset(filler, 'x', pad);
			jsonw_cstr(w, "pad");
			jsonw_string(w, filler, pad);
			free(filler);
		} else {
			jsonw_fail(w, -ENOMEM);
		}
	}
	jsonw_map_close(w);
	jsonw_map_close(w);
	return jsonw_error(w);
}

static int snapshot(void *engine, const struct command_filter *f, struct evbuffer *out)
{
	struct fake_engine *e = engine;

	e->snapshots++;
	if (e->fail_snapshot)
		return e->fail_snapshot;
	for (int i = 0; i < FAKE_ENGINE_DOMAINS; i++) {
		struct jsonw w;
		const char *text;
		size_t len;
		int r;

		if (!command_filter_match_domain(f, e->domids[i]))
			continue;
		jsonw_init(&w);
		r = encode_event(&w, e, e->domids[i], XGM_EVENT_DOMAIN_SNAPSHOT, e->seq, e->snapshot_pad);
		jsonw_text(&w, &text, &len);
		for (unsigned int n = 0; !r && n < (e->snapshot_repeat ? e->snapshot_repeat : 1); n++)
			if (evbuffer_add(out, text, len) < 0 || evbuffer_add(out, "\n", 1) < 0)
				r = -ENOMEM;
		jsonw_release(&w);
		if (r)
			return r;
	}
	return 0;
}

static void get(void *engine, unsigned int domid, struct jsonw *w)
{
	struct fake_engine *e = engine;
	const char *name = name_of(e, domid);

	if (!name) {
		jsonw_fail(w, -ENOENT);
		return;
	}
	jsonw_cstr(w, "domain");
	jsonw_map_open(w);
	jsonw_cstr(w, "id");
	jsonw_int(w, domid);
	jsonw_cstr(w, "name");
	jsonw_cstr(w, name);
	jsonw_map_close(w);
	jsonw_cstr(w, "data");
	jsonw_map_open(w);
	jsonw_map_close(w);
}

static void list(void *engine, struct jsonw *w)
{
	struct fake_engine *e = engine;

	jsonw_cstr(w, "domains");
	jsonw_array_open(w);
	for (int i = 0; i < FAKE_ENGINE_DOMAINS; i++) {
		jsonw_map_open(w);
		jsonw_cstr(w, "id");
		jsonw_int(w, e->domids[i]);
		jsonw_cstr(w, "name");
		jsonw_cstr(w, e->names[i]);
		jsonw_map_close(w);
	}
	jsonw_array_close(w);
}

static void stats(void *engine, struct jsonw *w)
{
	struct fake_engine *e = engine;

	jsonw_key_uint(w, "domains", FAKE_ENGINE_DOMAINS);
	jsonw_key_uint(w, "snapshots", e->snapshots);
}

static uint64_t last_seq(void *engine)
{
	return ((struct fake_engine *)engine)->seq;
}

const struct server_engine_ops fake_engine_ops = {
	.snapshot = snapshot,
	.get = get,
	.list = list,
	.stats = stats,
	.last_seq = last_seq,
};

size_t fake_engine_publish(struct fake_engine *e, struct server *s, unsigned int domid,
			   enum xgm_event kind, size_t pad)
{
	struct jsonw w;
	const char *text;
	size_t len = 0;

	jsonw_init(&w);
	if (encode_event(&w, e, domid, kind, ++e->seq, pad) == 0) {
		jsonw_text(&w, &text, &len);
		server_publish(s, domid, kind, e->seq, text, len);
	}
	jsonw_release(&w);
	return len + 1;
}

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
#include "server/test-engine.h"

void test_engine_init(struct test_engine *e)
{
	*e = (struct test_engine){
		.domids = { 0, 5, 7 },
		.names = { "Domain-0", "web01", "db01" },
	};
}

static const char *name_of(const struct test_engine *e, unsigned int domid)
{
	for (int i = 0; i < TEST_ENGINE_DOMAINS; i++)
		if (e->domids[i] == domid)
			return e->names[i];
	return NULL;
}

static int encode_event(yajl_gen g, const struct test_engine *e, unsigned int domid,
			enum xgm_event kind, uint64_t seq, size_t pad)
{
	const char *name = name_of(e, domid);
	int r = 0;

	r = r ?: jsonw_map_open(g);
	r = r ?: jsonw_cstr(g, "type");
	r = r ?: jsonw_cstr(g, "event");
	r = r ?: jsonw_cstr(g, "seq");
	r = r ?: jsonw_int(g, (long long)seq);
	r = r ?: jsonw_cstr(g, "event");
	r = r ?: jsonw_cstr(g, xgm_event_name(kind));
	r = r ?: jsonw_cstr(g, "domain");
	r = r ?: jsonw_map_open(g);
	r = r ?: jsonw_cstr(g, "id");
	r = r ?: jsonw_int(g, domid);
	r = r ?: jsonw_cstr(g, "name");
	r = r ?: (name ? jsonw_cstr(g, name) : jsonw_null(g));
	r = r ?: jsonw_map_close(g);
	r = r ?: jsonw_cstr(g, "data");
	r = r ?: jsonw_map_open(g);
	if (pad) {
		char *filler = malloc(pad);

		if (!filler)
			return -ENOMEM;
		memset(filler, 'x', pad);
		r = r ?: jsonw_cstr(g, "pad");
		r = r ?: jsonw_string(g, filler, pad);
		free(filler);
	}
	r = r ?: jsonw_map_close(g);
	r = r ?: jsonw_map_close(g);
	return r;
}

static int snapshot(void *engine, const struct command_filter *f, struct evbuffer *out)
{
	struct test_engine *e = engine;

	e->snapshots++;
	if (e->fail_snapshot)
		return e->fail_snapshot;
	for (int i = 0; i < TEST_ENGINE_DOMAINS; i++) {
		yajl_gen g;
		const char *text;
		size_t len;
		int r;

		if (!command_filter_match_domain(f, e->domids[i]))
			continue;
		g = jsonw_new();
		if (!g)
			return -ENOMEM;
		r = encode_event(g, e, e->domids[i], XGM_EVENT_DOMAIN_SNAPSHOT, e->seq, e->snapshot_pad);
		jsonw_text(g, &text, &len);
		for (unsigned int n = 0; !r && n < (e->snapshot_repeat ? e->snapshot_repeat : 1); n++)
			if (evbuffer_add(out, text, len) < 0 || evbuffer_add(out, "\n", 1) < 0)
				r = -ENOMEM;
		yajl_gen_free(g);
		if (r)
			return r;
	}
	return 0;
}

static int get(void *engine, unsigned int domid, yajl_gen g)
{
	struct test_engine *e = engine;
	const char *name = name_of(e, domid);
	int r = 0;

	if (!name)
		return -ENOENT;
	r = r ?: jsonw_cstr(g, "domain");
	r = r ?: jsonw_map_open(g);
	r = r ?: jsonw_cstr(g, "id");
	r = r ?: jsonw_int(g, domid);
	r = r ?: jsonw_cstr(g, "name");
	r = r ?: jsonw_cstr(g, name);
	r = r ?: jsonw_map_close(g);
	r = r ?: jsonw_cstr(g, "data");
	r = r ?: jsonw_map_open(g);
	r = r ?: jsonw_map_close(g);
	return r;
}

static int list(void *engine, yajl_gen g)
{
	struct test_engine *e = engine;
	int r = 0;

	r = r ?: jsonw_cstr(g, "domains");
	r = r ?: jsonw_array_open(g);
	for (int i = 0; i < TEST_ENGINE_DOMAINS; i++) {
		r = r ?: jsonw_map_open(g);
		r = r ?: jsonw_cstr(g, "id");
		r = r ?: jsonw_int(g, e->domids[i]);
		r = r ?: jsonw_cstr(g, "name");
		r = r ?: jsonw_cstr(g, e->names[i]);
		r = r ?: jsonw_map_close(g);
	}
	r = r ?: jsonw_array_close(g);
	return r;
}

static int stats(void *engine, yajl_gen g)
{
	struct test_engine *e = engine;
	int r = 0;

	r = r ?: jsonw_cstr(g, "domains");
	r = r ?: jsonw_int(g, TEST_ENGINE_DOMAINS);
	r = r ?: jsonw_cstr(g, "snapshots");
	r = r ?: jsonw_int(g, e->snapshots);
	return r;
}

static uint64_t last_seq(void *engine)
{
	return ((struct test_engine *)engine)->seq;
}

const struct server_engine_ops test_engine_ops = {
	.snapshot = snapshot,
	.get = get,
	.list = list,
	.stats = stats,
	.last_seq = last_seq,
};

size_t test_engine_publish(struct test_engine *e, struct server *s, unsigned int domid,
			   enum xgm_event kind, size_t pad)
{
	yajl_gen g = jsonw_new();
	const char *text;
	size_t len = 0;

	if (g && encode_event(g, e, domid, kind, ++e->seq, pad) == 0) {
		jsonw_text(g, &text, &len);
		server_publish(s, domid, kind, e->seq, text, len);
	}
	yajl_gen_free(g);
	return len + 1;
}

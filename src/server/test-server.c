/*
 * Integration tests of the socket server in one process: a real UNIX
 * socket in a temporary directory, the server's event loop and test
 * clients taking turns, and a fake engine with canned domains
 * (testing/server-fixture.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <yajl/yajl_tree.h>

#include "server/server.h"
#include "testing/server-fixture.h"
#include "util/log.h"
#include "xgm-config.h"
#include "util/time.h"

#define CAP (64 * 1024)
#define TIMEOUT_MS 5000

static int setup(void **state)
{
	struct server_config cfg = { .max_clients = 8, .client_output_cap = CAP, .stall_timeout_ms = 0 };

	*state = server_fixture_new(&cfg, 0660);
	assert_non_null(*state);
	return 0;
}

static int teardown(void **state)
{
	server_fixture_free(*state);
	return 0;
}

static void pump_for(struct server_fixture *f, int ms)
{
	int64_t end = monotonic_ms() + ms;

	while (monotonic_ms() < end) {
		server_fixture_pump(f);
		poll(NULL, 0, 5);
	}
}

/* A client of the server at path (NULL: the fixture's), the hello not read. */
static struct client *conn_open_at(struct server_fixture *f, const char *path)
{
	struct client *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(server_fixture_dial(f, c, path), 0);
	return c;
}

static struct client *conn_open(struct server_fixture *f)
{
	return conn_open_at(f, NULL);
}

static void conn_close(struct server_fixture *f, struct client *c)
{
	client_close(c);
	free(c);
	server_fixture_pump(f);
}

/* The next line from the server (malloc'd, without newline), or NULL at EOF. */
static char *conn_line(struct server_fixture *f, struct client *c)
{
	size_t n;
	char *line = client_line(c, TIMEOUT_MS, &n), *copy;

	if (!line) {
		if (!c->eof)
			fail_msg("no line from the server within %d ms", TIMEOUT_MS);
		assert_int_equal(client_pending(c), 0);	/* every message ends with a newline */
		return NULL;
	}
	copy = strdup(line);
	assert_non_null(copy);
	assert_int_equal(strlen(copy), n);
	return copy;
}

static yajl_val conn_json(struct server_fixture *f, struct client *c)
{
	char err[128];
	char *line = conn_line(f, c);
	yajl_val v;

	if (!line)
		fail_msg("connection closed where a message was expected");
	v = yajl_tree_parse(line, err, sizeof(err));
	if (!v)
		fail_msg("server sent invalid JSON (%s): %s", err, line);
	free(line);
	return v;
}

static void conn_send_bytes(struct server_fixture *f, struct client *c, const char *s, size_t len)
{
	assert_int_equal(client_send_bytes(c, s, len), 0);
}

static void conn_send(struct server_fixture *f, struct client *c, const char *s)
{
	conn_send_bytes(f, c, s, strlen(s));
}

static void conn_expect_eof(struct server_fixture *f, struct client *c)
{
	char *line = conn_line(f, c);

	if (line)
		fail_msg("expected the server to close, got %s", line);
}

static void assert_str(yajl_val v, const char *a, const char *b, const char *expect)
{
	const char *s = json_str(v, a, b);

	if (!s || strcmp(s, expect))
		fail_msg("%s%s%s: expected \"%s\"", a, b ? "." : "", b ? b : "", expect);
}

static const char *type_of(yajl_val v)
{
	return json_str(v, "type", NULL) ?: "";
}

static long long get_int(yajl_val v, const char *a, const char *b)
{
	yajl_val x = json_get(v, a, b);

	if (!YAJL_IS_INTEGER(x))
		fail_msg("%s%s%s: not an integer", a, b ? "." : "", b ? b : "");
	return YAJL_GET_INTEGER(x);
}

/* Reads one message and checks its type (and, for replies and errors, its id). */
static yajl_val expect(struct server_fixture *f, struct client *c, const char *type)
{
	yajl_val v = conn_json(f, c);

	assert_str(v, "type", NULL, type);
	return v;
}

static void expect_free(struct server_fixture *f, struct client *c, const char *type)
{
	yajl_tree_free(expect(f, c, type));
}

static void expect_error(struct server_fixture *f, struct client *c, const char *cls, long long id)
{
	yajl_val v = expect(f, c, "error");

	assert_str(v, "error", "class", cls);
	assert_true(YAJL_IS_STRING(json_get(v, "error", "desc")));
	if (id < 0)
		assert_true(YAJL_IS_NULL(json_get(v, "id", NULL)));
	else
		assert_int_equal(get_int(v, "id", NULL), id);
	yajl_tree_free(v);
}

static void expect_reply(struct server_fixture *f, struct client *c, long long id)
{
	yajl_val v = expect(f, c, "reply");

	assert_int_equal(get_int(v, "id", NULL), id);
	assert_true(YAJL_IS_TRUE(json_get(v, "ok", NULL)));
	yajl_tree_free(v);
}

/* An event; returns its seq and checks domain and kind. */
static long long expect_event(struct server_fixture *f, struct client *c, unsigned int domid, const char *kind)
{
	yajl_val v = expect(f, c, "event");
	long long seq = get_int(v, "seq", NULL);

	assert_int_equal(get_int(v, "domain", "id"), domid);
	assert_str(v, "event", NULL, kind);
	yajl_tree_free(v);
	return seq;
}

static struct client *conn_open_hello(struct server_fixture *f)
{
	struct client *c = conn_open(f);

	expect_free(f, c, "hello");
	return c;
}

/*
 * Subscribes with a filter (JSON text or NULL) and a snapshot; reads the
 * reply, the snapshot (which must hold n_snapshot domains) and its end.
 */
/* Reads snapshot lines up to snapshot-end, each and the end at seq; returns how many. */
static int read_snapshot(struct server_fixture *f, struct client *c, long long seq)
{
	yajl_val v;
	int n = 0;

	for (;;) {
		v = conn_json(f, c);
		if (strcmp(type_of(v), "snapshot-end") == 0)
			break;
		assert_str(v, "event", NULL, "domain.snapshot");
		assert_int_equal(get_int(v, "seq", NULL), seq);
		yajl_tree_free(v);
		n++;
	}
	assert_int_equal(get_int(v, "seq", NULL), seq);
	yajl_tree_free(v);
	return n;
}

static long long subscribe(struct server_fixture *f, struct client *c, const char *filter, int n_snapshot)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "{\"cmd\":\"subscribe\",\"id\":100%s%s}\n", filter ? ",\"filter\":" : "",
		 filter ? filter : "");
	conn_send(f, c, cmd);
	expect_reply(f, c, 100);
	assert_int_equal(read_snapshot(f, c, (long long)f->engine.seq), n_snapshot);
	return (long long)f->engine.seq;
}

/* A ping round trip: proves that nothing else was queued before its reply. */
static void sync_ping(struct server_fixture *f, struct client *c, long long id)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "{\"cmd\":\"ping\",\"id\":%lld}\n", id);
	conn_send(f, c, cmd);
	expect_reply(f, c, id);
}

static void test_hello(void **state)
{
	struct server_fixture *f = *state;
	struct client *c;
	yajl_val v;

	f->engine.seq = 41;
	c = conn_open(f);
	v = expect(f, c, "hello");
	assert_int_equal(get_int(v, "protocol", NULL), 1);
	assert_str(v, "server", "name", "xgmd");
	assert_str(v, "server", "version", XGM_VERSION);
	assert_str(v, "instance", NULL, server_instance(f->server));
	assert_int_equal(strlen(server_instance(f->server)), 32);
	assert_int_equal(get_int(v, "seq", NULL), 41);
	yajl_tree_free(v);
	conn_close(f, c);
}

static void test_ping(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	yajl_val v;

	sync_ping(f, c, 1);
	conn_send(f, c, "{\"cmd\":\"ping\",\"id\":\"abc\"}\r\n\n   \n{\"cmd\":\"ping\"}\n");
	v = expect(f, c, "reply");
	assert_str(v, "id", NULL, "abc");
	yajl_tree_free(v);
	v = expect(f, c, "reply");
	assert_true(YAJL_IS_NULL(json_get(v, "id", NULL)));
	yajl_tree_free(v);
	/* Blank lines got no answer: the next message is this reply. */
	sync_ping(f, c, 2);
	conn_close(f, c);
}

/* Ids come back byte for byte, in replies and in errors, whatever yajl would make of them. */
static void test_id_verbatim(void **state)
{
	static const char *const ids[] = { "\"\\ud800\"", "\"\\u00E9\\/\"", "-0", "\"\\udfff\\ud800x\"" };
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	char cmd[128], expect_reply[128], expect_error[160], *line;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(cmd, sizeof(cmd), "{\"cmd\":\"ping\",\"id\": %s }\n{\"id\":%s,\"cmd\":\"get\"}\n",
			 ids[i], ids[i]);
		snprintf(expect_reply, sizeof(expect_reply), "{\"type\":\"reply\",\"id\":%s,\"ok\":true}", ids[i]);
		snprintf(expect_error, sizeof(expect_error), "{\"type\":\"error\",\"id\":%s,\"error\":", ids[i]);
		conn_send(f, c, cmd);
		line = conn_line(f, c);
		assert_string_equal(line, expect_reply);
		free(line);
		line = conn_line(f, c);
		assert_non_null(line);
		assert_memory_equal(line, expect_error, strlen(expect_error));
		free(line);
	}
	conn_close(f, c);
}

static void test_subscribe(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	long long end;

	f->engine.seq = 10;
	conn_send(f, c, "{\"cmd\":\"subscribe\",\"id\":1,\"filter\":{\"domains\":[5],"
			"\"events\":[\"domain.metrics\"]},\"snapshot\":true}\n");
	expect_reply(f, c, 1);
	assert_int_equal(expect_event(f, c, 5, "domain.snapshot"), 10);
	{
		yajl_val v = expect(f, c, "snapshot-end");

		end = get_int(v, "seq", NULL);
		assert_int_equal(end, 10);
		yajl_tree_free(v);
	}
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_METRICS, 0);
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_NEW, 0);
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	/* Only the matching event, and after the snapshot's seq. */
	assert_int_equal(expect_event(f, c, 5, "domain.metrics"), 13);
	sync_ping(f, c, 2);
	conn_close(f, c);
}

static void test_fan_out(void **state)
{
	struct server_fixture *f = *state;
	struct client *all = conn_open_hello(f), *seven = conn_open_hello(f), *none = conn_open_hello(f);
	struct server_stats st;

	subscribe(f, all, NULL, 3);
	subscribe(f, seven, "{\"domains\":[7]}", 1);
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_GONE, 0);
	assert_int_equal(expect_event(f, all, 5, "domain.metrics"), 1);
	assert_int_equal(expect_event(f, all, 7, "domain.gone"), 2);
	assert_int_equal(expect_event(f, seven, 7, "domain.gone"), 2);
	sync_ping(f, seven, 1);
	/* Not subscribed: no events at all. */
	sync_ping(f, none, 1);
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients, 3);
	assert_int_equal(st.subscribers, 2);
	assert_int_equal(st.events_sent, 3);
	conn_close(f, all);
	conn_close(f, seven);
	conn_close(f, none);
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients, 0);
}

/* A snapshot holds the known domains the filter names, in order, and no others. */
static void test_snapshot_filter(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);

	conn_send(f, c, "{\"cmd\":\"subscribe\",\"id\":1,\"filter\":{\"domains\":[7,0,99]}}\n");
	expect_reply(f, c, 1);
	expect_event(f, c, 0, "domain.snapshot");
	expect_event(f, c, 7, "domain.snapshot");
	expect_free(f, c, "snapshot-end");
	conn_close(f, c);
}

static void test_resubscribe_replaces(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);

	conn_send(f, c, "{\"cmd\":\"subscribe\",\"id\":1,\"filter\":{\"domains\":[5]},\"snapshot\":false}\n");
	expect_reply(f, c, 1);
	conn_send(f, c, "{\"cmd\":\"subscribe\",\"id\":2,\"filter\":{\"domains\":[7]},\"snapshot\":false}\n");
	expect_reply(f, c, 2);
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_METRICS, 0);
	assert_int_equal(expect_event(f, c, 7, "domain.metrics"), 2);
	conn_send(f, c, "{\"cmd\":\"unsubscribe\",\"id\":3}\n");
	expect_reply(f, c, 3);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_METRICS, 0);
	sync_ping(f, c, 4);
	conn_close(f, c);
}

static void test_queries(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	yajl_val v, domains;

	conn_send(f, c, "{\"cmd\":\"get\",\"id\":1,\"domain\":5}\n");
	v = expect(f, c, "reply");
	assert_int_equal(get_int(v, "id", NULL), 1);
	assert_int_equal(get_int(v, "domain", "id"), 5);
	assert_str(v, "domain", "name", "web01");
	assert_true(YAJL_IS_OBJECT(json_get(v, "data", NULL)));
	yajl_tree_free(v);

	conn_send(f, c, "{\"cmd\":\"get\",\"id\":2,\"domain\":6}\n");
	expect_error(f, c, "NotFound", 2);

	conn_send(f, c, "{\"cmd\":\"list\",\"id\":3}\n");
	v = expect(f, c, "reply");
	domains = json_get(v, "domains", NULL);
	assert_true(YAJL_IS_ARRAY(domains));
	assert_int_equal(domains->u.array.len, 3);
	yajl_tree_free(v);

	conn_send(f, c, "{\"cmd\":\"stats\",\"id\":4}\n");
	v = expect(f, c, "reply");
	assert_int_equal(get_int(v, "server", "clients"), 1);
	assert_int_equal(get_int(v, "server", "errors"), 1);
	assert_int_equal(get_int(v, "server", "commands"), 4);
	assert_int_equal(get_int(v, "server", "events_dropped"), 0);
	assert_int_equal(get_int(v, "engine", "domains"), 3);
	yajl_tree_free(v);
	conn_close(f, c);
}

static void test_malformed(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	static const char nul_line[] = "{\"cmd\":\"ping\",\0\"id\":1}\n";

	conn_send(f, c, "garbage\n");
	expect_error(f, c, "ParseError", -1);
	conn_send(f, c, "{\"cmd\":\"reboot\",\"id\":4}\n");
	expect_error(f, c, "UnknownCommand", 4);
	conn_send(f, c, "[]\n\"x\"\n{\"cmd\":5}\n");
	expect_error(f, c, "InvalidCommand", -1);
	expect_error(f, c, "InvalidCommand", -1);
	expect_error(f, c, "InvalidCommand", -1);
	conn_send_bytes(f, c, nul_line, sizeof(nul_line) - 1);
	expect_error(f, c, "ParseError", -1);
	conn_send(f, c, "{\"cmd\":\"ping\",\"id\":\"\xff\xfe\"}\n");
	expect_error(f, c, "ParseError", -1);
	conn_send(f, c, "{\"cmd\":\"get\",\"id\":5,\"domain\":-1}\n");
	expect_error(f, c, "InvalidArgument", 5);
	conn_send(f, c, "{\"cmd\":\"ping\",\"id\":1e400}\n");
	expect_error(f, c, "InvalidArgument", -1);
	{
		/* Deep nesting inside the line limit. */
		char deep[20001];

		memset(deep, '[', 10000);
		memset(deep + 10000, ']', 10000);
		deep[20000] = '\n';
		conn_send_bytes(f, c, deep, sizeof(deep));
		expect_error(f, c, "ParseError", -1);
	}
	/* ... and the connection lives on. */
	sync_ping(f, c, 9);
	conn_close(f, c);
}

static void test_line_too_long(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	size_t n = XGM_MAX_CLIENT_LINE + 100;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, 'a', n);
	/* The longest line allowed is answered (a ParseError), not refused. */
	big[XGM_MAX_CLIENT_LINE] = '\n';
	conn_send_bytes(f, c, big, XGM_MAX_CLIENT_LINE + 1);
	expect_error(f, c, "ParseError", -1);
	big[XGM_MAX_CLIENT_LINE] = 'a';
	conn_send_bytes(f, c, big, n);
	expect_error(f, c, "LineTooLong", -1);
	conn_expect_eof(f, c);
	conn_close(f, c);

	/* One byte too many before the newline is too long as well. */
	c = conn_open_hello(f);
	big[XGM_MAX_CLIENT_LINE + 1] = '\n';
	conn_send_bytes(f, c, big, XGM_MAX_CLIENT_LINE + 2);
	expect_error(f, c, "LineTooLong", -1);
	conn_expect_eof(f, c);
	conn_close(f, c);
	free(big);
}

/*
 * A subscriber that stops reading: its queue stays under the cap while
 * megabytes are published, and once it reads again it learns exactly what
 * it lost and gets a snapshot that makes it whole.
 */
static void test_slow_subscriber(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	size_t line_len = 0, published = 0;
	long long seq, expect_seq, lost_count, first, last, end;
	struct server_stats st;
	yajl_val v;

	subscribe(f, c, NULL, 3);
	while (published < 8u * 1024 * 1024) {
		line_len = fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 1000);
		published += line_len;
		server_fixture_pump(f);
		server_get_stats(f->server, &st);
		assert_true(st.output_queued <= CAP + line_len);
	}
	assert_true(st.events_dropped > 0);
	assert_int_equal(st.lost_notices, 0);

	/* Read again: events in order up to the loss, then the notice. */
	expect_seq = 1;
	for (;;) {
		v = conn_json(f, c);
		if (strcmp(type_of(v), "lost") == 0)
			break;
		assert_str(v, "type", NULL, "event");
		seq = get_int(v, "seq", NULL);
		assert_int_equal(seq, expect_seq);
		expect_seq++;
		yajl_tree_free(v);
	}
	lost_count = get_int(v, "count", NULL);
	first = get_int(v, "first_seq", NULL);
	last = get_int(v, "last_seq", NULL);
	yajl_tree_free(v);
	assert_int_equal(first, expect_seq);
	assert_int_equal(last, (long long)f->engine.seq);
	assert_int_equal(lost_count, last - first + 1);
	server_get_stats(f->server, &st);
	assert_int_equal(st.events_dropped, lost_count);
	assert_int_equal(st.lost_notices, 1);

	/* Then a fresh snapshot, same filter, and live events after it. */
	for (int i = 0; i < FAKE_ENGINE_DOMAINS; i++)
		expect_event(f, c, f->engine.domids[i], "domain.snapshot");
	v = expect(f, c, "snapshot-end");
	end = get_int(v, "seq", NULL);
	assert_int_equal(end, last);
	yajl_tree_free(v);
	fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_GONE, 0);
	assert_int_equal(expect_event(f, c, 7, "domain.gone"), end + 1);
	conn_close(f, c);
}

/* Subscribers that need every domain at the same seq share one snapshot; a filtered one has its own. */
static void test_snapshot_shared(void **state)
{
	struct server_fixture *f = *state;
	struct client *c[4];
	struct server_stats st;
	unsigned int before = f->engine.snapshots;

	for (int i = 0; i < 4; i++) {
		c[i] = conn_open_hello(f);
		subscribe(f, c[i], NULL, 3);
	}
	server_get_stats(f->server, &st);
	assert_int_equal(f->engine.snapshots - before, 1);
	assert_int_equal(st.snapshots_encoded, 1);
	assert_int_equal(st.snapshots, 4);

	/* An event moves the seq on: the next one is new, and so is a filtered one. */
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	for (int i = 0; i < 4; i++)
		expect_event(f, c[i], 5, "domain.metrics");
	conn_close(f, c[3]);
	c[3] = conn_open_hello(f);
	subscribe(f, c[3], NULL, 3);
	conn_close(f, c[2]);
	c[2] = conn_open_hello(f);
	subscribe(f, c[2], "{\"domains\":[5]}", 1);
	server_get_stats(f->server, &st);
	assert_int_equal(f->engine.snapshots - before, 3);
	assert_int_equal(st.snapshots_encoded, 3);
	for (int i = 0; i < 4; i++)
		conn_close(f, c[i]);
}

/*
 * A snapshot bigger than the cap is copied out as the output drains: a
 * client that does not read holds about half the cap, not the snapshot.
 * Commands wait until its end and events published meanwhile follow its
 * snapshot-end, so the client still sees reply, snapshot, end, live events.
 */
static void test_snapshot_streamed(void **state)
{
	enum { REPEAT = 200, PAD = 2000 };
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	struct server_stats st;
	size_t line = 0, max_queued = 0;
	long long end;

	f->engine.snapshot_repeat = REPEAT;
	f->engine.snapshot_pad = PAD;
	conn_send(f, c, "{\"cmd\":\"subscribe\",\"id\":100}\n");
	conn_send(f, c, "{\"cmd\":\"ping\",\"id\":101}\n");
	for (int i = 0; i < 50; i++) {
		server_fixture_pump(f);
		server_get_stats(f->server, &st);
		if (st.output_queued > max_queued)
			max_queued = st.output_queued;
	}
	line = fake_engine_publish(&f->engine, f->server, 7, XGM_EVENT_DOMAIN_GONE, 0);
	server_fixture_pump(f);
	server_get_stats(f->server, &st);
	assert_int_equal(st.snapshots, 0);	/* not read: not all out */
	/* Half the cap of snapshot lines, a line more, the reply, the held event. */
	assert_true(max_queued <= CAP / 2 + PAD + 256 + 256 + line);
	printf("# a %d-line snapshot of %d KiB to a client that does not read: %zu bytes queued at most "
	       "(cap %d)\n", REPEAT * FAKE_ENGINE_DOMAINS, REPEAT * FAKE_ENGINE_DOMAINS * PAD / 1024,
	       max_queued, CAP);

	expect_reply(f, c, 100);
	end = (long long)f->engine.seq - 1;
	assert_int_equal(read_snapshot(f, c, end), REPEAT * FAKE_ENGINE_DOMAINS);
	assert_int_equal(expect_event(f, c, 7, "domain.gone"), end + 1);
	expect_reply(f, c, 101);
	server_get_stats(f->server, &st);
	assert_int_equal(st.snapshots, 1);
	assert_int_equal(st.events_dropped, 0);
	conn_close(f, c);
}

/* An event the engine could not encode is lost for its subscribers, never a silent gap. */
static void test_unencoded_event(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	struct server_stats st;
	long long seq;
	yajl_val v;

	subscribe(f, c, NULL, 3);
	seq = (long long)++f->engine.seq;
	server_publish(f->server, 5, XGM_EVENT_DOMAIN_METRICS, (uint64_t)seq, NULL, 0);
	server_fixture_pump(f);
	v = expect(f, c, "lost");
	assert_int_equal(get_int(v, "count", NULL), 1);
	assert_int_equal(get_int(v, "first_seq", NULL), seq);
	assert_int_equal(get_int(v, "last_seq", NULL), seq);
	yajl_tree_free(v);
	for (int i = 0; i < FAKE_ENGINE_DOMAINS; i++)
		expect_event(f, c, f->engine.domids[i], "domain.snapshot");
	v = expect(f, c, "snapshot-end");
	yajl_tree_free(v);
	server_get_stats(f->server, &st);
	assert_int_equal(st.events_dropped, 1);
	assert_int_equal(st.lost_notices, 1);
	conn_close(f, c);
}

/* Heap in use by malloc, or 0 where it cannot be told (under a sanitizer's allocator). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks;
}

/*
 * The server's malloc_trim(), in place of glibc's: it notes the heap in use
 * when the reaper trims. glibc gives back only the pages that are free at
 * that moment; what is freed later stays resident. (Trimming itself
 * changes nothing these tests measure.)
 */
static struct {
	unsigned int calls;
	size_t heap_in_use;
} trimmed;

int malloc_trim(size_t pad)
{
	trimmed.calls++;
	trimmed.heap_in_use = heap_in_use();
	return 0;
}

/*
 * Stalled subscribers cost what their cap says, whatever the size of the
 * events: a queued line is charged at what it costs (a short one copied,
 * not referenced through a 1 KiB chain), and the heap is given back once
 * they are gone: their queues are freed before the reaper trims.
 */
static void test_stalled_subscribers_memory(void **state)
{
	enum { N = 40 };
	static const size_t pads[] = { 0, 450, 9000 };	/* ~150 B, ~550 B, ~9 KiB lines */
	struct server_fixture *f = *state;
	struct server_config cfg = f->cfg;
	struct client *subs[N];
	struct server_stats st;

	cfg.max_clients = N + 1;
	server_reconfigure(f->server, &cfg);
	for (size_t p = 0; p < sizeof(pads) / sizeof(pads[0]); p++) {
		size_t base, before, peak, after, line = 0;

		/* Before the subscribers came: what must be back once they are gone. */
		base = heap_in_use();
		for (int i = 0; i < N; i++) {
			subs[i] = conn_open_hello(f);
			subscribe(f, subs[i], NULL, 3);
		}
		server_fixture_pump(f);
		server_get_stats(f->server, &st);
		before = heap_in_use();
		/* Until every one drops events: its socket and its queue are full. */
		do {
			uint64_t dropped = st.events_dropped;

			line = fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS,
						   pads[p]);
			server_fixture_pump(f);
			server_get_stats(f->server, &st);
			if (st.events_dropped == dropped + N)
				break;
		} while (true);
		assert_true(st.output_queued >= N * (CAP - line));
		assert_true(st.output_queued <= N * (CAP + line));
		peak = heap_in_use();
		trimmed.calls = 0;
		for (int i = 0; i < N; i++)
			conn_close(f, subs[i]);
		pump_for(f, 20);
		after = heap_in_use();
		printf("# %d stalled subscribers, %zu-byte lines, cap %d: heap +%zu bytes "
		       "(%.2f x the caps), %zd after they left\n", N, line, CAP, peak - before,
		       (double)(peak - before) / (N * CAP), (ssize_t)(after - base));
		if (before == 0)
			continue;	/* no mallinfo under this allocator */
		/* The socket buffers hold some of it: the heap holds at most cap + 1/4 + one line. */
		assert_true(peak - before <= N * (CAP + CAP / 4 + line));
		assert_true(after <= base + CAP);
		/*
		 * The last trim came after the last queue was freed: what was
		 * freed later is a client's structures, not a queue (a client's
		 * queue once stayed allocated until libevent's finalizer ran).
		 */
		assert_true(trimmed.calls > 0);
		assert_true(trimmed.heap_in_use <= after + CAP / 8);
	}
}

/*
 * A burst of events published in one loop turn is held once, not once per
 * subscriber: each subscriber's run of the shared block is queued by
 * reference. Every subscriber still gets every event, in order, before
 * the reply to a command it sends afterwards.
 */
static void test_burst_shared(void **state)
{
	enum { N = 20, EVENTS = 100 };
	struct server_fixture *f = *state;
	struct server_config cfg = f->cfg;
	struct client *subs[N];
	size_t before, queued, line = 0;

	cfg.max_clients = N + 1;
	server_reconfigure(f->server, &cfg);
	for (int i = 0; i < N; i++) {
		subs[i] = conn_open_hello(f);
		subscribe(f, subs[i], NULL, 3);
	}
	server_fixture_pump(f);
	before = heap_in_use();
	for (int e = 0; e < EVENTS; e++)
		line = fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 450);
	/* One turn: the block is sealed and the runs queued; the sockets are not written yet. */
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	queued = heap_in_use() - before;
	printf("# %d subscribers, %d events of %zu bytes in one turn: heap +%zu bytes "
	       "(%.3f of one copy each)\n", N, EVENTS, line, queued,
	       (double)queued / (N * EVENTS * line));
	if (before)
		assert_true(queued < N * EVENTS * line / 4);
	for (int i = 0; i < N; i++) {
		long long last = 0;

		conn_send(f, subs[i], "{\"cmd\":\"ping\",\"id\":9}\n");
		for (int e = 0; e < EVENTS; e++) {
			long long seq = expect_event(f, subs[i], 5, "domain.metrics");

			assert_true(seq > last);
			last = seq;
		}
		expect_reply(f, subs[i], 9);
		conn_close(f, subs[i]);
	}
}

/* A client that sends commands but never reads the replies is throttled, not buffered. */
static void test_pipelined_commands(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);
	static const char cmd[] = "{\"cmd\":\"list\",\"id\":7}\n";
	size_t n = 3000, len = sizeof(cmd) - 1, got = 0;
	char *batch = malloc(n * len), *line;
	struct server_stats st;

	assert_non_null(batch);
	for (size_t i = 0; i < n; i++)
		memcpy(batch + i * len, cmd, len);
	/* More replies than the cap holds: the server stops reading, the kernel holds the rest. */
	conn_send_bytes(f, c, batch, n * len);
	pump_for(f, 50);
	server_get_stats(f->server, &st);
	assert_true(st.output_queued >= CAP / 2);
	assert_true(st.output_queued <= CAP + 4096);
	assert_true(st.commands < n);
	while (got < n && (line = conn_line(f, c))) {
		assert_non_null(strstr(line, "\"domains\":["));
		free(line);
		got++;
	}
	assert_int_equal(got, n);
	sync_ping(f, c, 1);
	free(batch);
	conn_close(f, c);
}

static void test_max_clients(void **state)
{
	struct server_fixture *f = *state;
	struct server_config cfg = f->cfg;
	struct client *a, *b, *c;
	struct server_stats st;

	cfg.max_clients = 2;
	server_reconfigure(f->server, &cfg);
	a = conn_open_hello(f);
	b = conn_open_hello(f);
	c = conn_open(f);
	expect_error(f, c, "TooManyClients", -1);
	conn_expect_eof(f, c);
	conn_close(f, c);
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients, 2);
	assert_int_equal(st.clients_rejected, 1);
	/* A freed slot is usable again. */
	conn_close(f, a);
	c = conn_open_hello(f);
	sync_ping(f, c, 1);
	sync_ping(f, b, 1);
	conn_close(f, b);
	conn_close(f, c);
}

/* A connection made without waiting for the server (the backlog holds it). */
static int connect_nowait(struct server_fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/*
 * One loop turn (one poll, its callbacks run once) accepts a bounded
 * batch: the loop turns between batches.
 */
static void test_accept_batch(void **state)
{
	struct server_fixture *f = *state;
	struct server_config cfg = f->cfg;
	int fds[3 * SERVER_ACCEPT_BATCH];
	struct server_stats st;

	cfg.max_clients = 4 * SERVER_ACCEPT_BATCH;
	server_reconfigure(f->server, &cfg);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		fds[i] = connect_nowait(f);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients_accepted, SERVER_ACCEPT_BATCH);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients_accepted, 2 * SERVER_ACCEPT_BATCH);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
	pump_for(f, 20);
	server_get_stats(f->server, &st);
	/* The third batch closed in the backlog: taken, but not admitted. */
	assert_int_equal(st.clients_accepted, 2 * SERVER_ACCEPT_BATCH);
	assert_int_equal(st.clients_hung_up, SERVER_ACCEPT_BATCH);
	assert_int_equal(st.clients, 0);
}

/*
 * Clients that closed before the loop saw their EOF do not count against
 * the limit: the slot of one that hung up goes to the newcomer.
 */
static void test_hung_up_before_limit(void **state)
{
	struct server_fixture *f = *state;
	struct server_config cfg = f->cfg;
	struct server_stats st;
	struct client *live, *c;
	int dead[SERVER_ACCEPT_BATCH - 1];

	cfg.max_clients = SERVER_ACCEPT_BATCH;
	server_reconfigure(f->server, &cfg);
	live = conn_open_hello(f);
	/* Fill every other slot in one batch, hang up, then connect before the loop runs. */
	for (size_t i = 0; i < sizeof(dead) / sizeof(dead[0]); i++)
		dead[i] = connect_nowait(f);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients, SERVER_ACCEPT_BATCH);
	for (size_t i = 0; i < sizeof(dead) / sizeof(dead[0]); i++)
		close(dead[i]);
	c = conn_open(f);
	expect_free(f, c, "hello");
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients_rejected, 0);
	sync_ping(f, c, 1);
	sync_ping(f, live, 2);
	conn_close(f, c);
	conn_close(f, live);
}

/*
 * Connections closed before the loop took them from the backlog (a
 * connect/close loop) take no slot and get no reply, however many of
 * them a batch holds: the living client behind them is admitted.
 */
static void test_closed_in_backlog(void **state)
{
	struct server_fixture *f = *state;
	struct server_config cfg = f->cfg;
	struct server_stats st;
	struct client *live, *c;

	cfg.max_clients = 2;
	server_reconfigure(f->server, &cfg);
	live = conn_open_hello(f);
	for (int i = 0; i < 3 * SERVER_ACCEPT_BATCH; i++)
		close(connect_nowait(f));
	c = conn_open(f);
	expect_free(f, c, "hello");
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients_hung_up, 3 * SERVER_ACCEPT_BATCH);
	assert_int_equal(st.clients_rejected, 0);
	assert_int_equal(st.clients, 2);
	sync_ping(f, c, 1);
	sync_ping(f, live, 2);
	conn_close(f, c);
	conn_close(f, live);
}

static void test_stall(void **state)
{
	struct server_fixture *f = *state;
	struct server_config cfg = f->cfg;
	struct client *c;
	struct server_stats st;
	char *line;

	cfg.stall_timeout_ms = 200;
	server_reconfigure(f->server, &cfg);
	c = conn_open_hello(f);
	subscribe(f, c, NULL, 3);
	/* More than any socket buffer: the server's writes stop making progress. */
	for (int i = 0; i < 4000; i++) {
		fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 1000);
		server_fixture_pump(f);
	}
	pump_for(f, 600);
	server_get_stats(f->server, &st);
	assert_int_equal(st.clients_stalled, 1);
	assert_int_equal(st.clients, 0);
	/* What was in the socket still arrives, then the end. */
	while ((line = conn_line(f, c)))
		free(line);
	conn_close(f, c);
}

static void test_half_close(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);

	/* The last command needs no newline when the client ends its input. */
	conn_send(f, c, "{\"cmd\":\"ping\",\"id\":1}\n{\"cmd\":\"ping\",\"id\":2}");
	assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
	expect_reply(f, c, 1);
	expect_reply(f, c, 2);
	conn_expect_eof(f, c);
	conn_close(f, c);
}

static void fake_engine_failure(void **state)
{
	struct server_fixture *f = *state;
	struct client *c = conn_open_hello(f);

	f->engine.fail_snapshot = -EIO;
	conn_send(f, c, "{\"cmd\":\"subscribe\",\"id\":1}\n");
	expect_error(f, c, "InternalError", 1);
	/* The failed subscribe did not subscribe. */
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	sync_ping(f, c, 2);
	f->engine.fail_snapshot = 0;
	subscribe(f, c, NULL, 3);
	conn_close(f, c);
}

static void test_shutdown(void **state)
{
	struct server_fixture *f = *state;
	struct client *a = conn_open_hello(f), *b = conn_open_hello(f);
	struct stat st;
	yajl_val v;

	subscribe(f, a, NULL, 3);
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	/* No loop iteration needed: shutdown flushes by itself. */
	server_shutdown(f->server);
	assert_int_equal(stat(f->path, &st), -1);
	expect_event(f, a, 5, "domain.metrics");
	v = expect(f, a, "bye");
	assert_str(v, "reason", NULL, "shutdown");
	yajl_tree_free(v);
	conn_expect_eof(f, a);
	expect_free(f, b, "bye");
	conn_expect_eof(f, b);
	/* Publishing after shutdown is harmless. */
	fake_engine_publish(&f->engine, f->server, 5, XGM_EVENT_DOMAIN_METRICS, 0);
	server_shutdown(f->server);
	conn_close(f, a);
	conn_close(f, b);
}

static void test_listen(void **state)
{
	struct server_fixture *f = *state;
	struct server *other;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[200];
	struct stat st;
	int fd;

	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);

	/* A live server keeps its socket. */
	other = server_new(f->base, &f->cfg, &fake_engine_ops, &f->engine);
	assert_non_null(other);
	assert_int_equal(server_listen(other, f->path, 0600), -EADDRINUSE);
	assert_int_equal(stat(f->path, &st), 0);

	/* A stale socket (its server died) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(server_listen(other, path, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	server_free(other);
	/* The server removes its socket file when it goes. */
	assert_int_equal(stat(path, &st), -1);

	/* Something that is not a socket is never removed. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	other = server_new(f->base, &f->cfg, &fake_engine_ops, &f->engine);
	assert_int_equal(server_listen(other, path, 0600), -EEXIST);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);

	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(server_listen(other, path, 0600), -ENAMETOOLONG);
	snprintf(path, sizeof(path), "%s/no/such/dir.sock", f->dir);
	assert_int_equal(server_listen(other, path, 0600), -ENOENT);
	server_free(other);
	/* One listener per server. */
	snprintf(path, sizeof(path), "%s/second.sock", f->dir);
	assert_int_equal(server_listen(f->server, path, 0600), -EBUSY);
	assert_int_equal(stat(path, &st), -1);
}

/* Socket activation: a socket systemd bound and passed is served as is. */
static void test_listen_fd(void **state)
{
	struct server_fixture *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct server *other;
	struct client *c;
	int fd;

	other = server_new(f->base, &f->cfg, &fake_engine_ops, &f->engine);
	assert_non_null(other);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/activated.sock", f->dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(server_listen_fd(other, fd), 0);
	c = conn_open_at(f, sa.sun_path);
	expect_free(f, c, "hello");
	sync_ping(f, c, 1);
	conn_close(f, c);
	server_free(other);
	/* The file is systemd's: it stays. */
	assert_int_equal(access(sa.sun_path, F_OK), 0);
	unlink(sa.sun_path);
}

static void test_config_from(void **state)
{
	struct xgm_config cfg;
	struct server_config scfg;

	config_init(&cfg);
	cfg.limits.client_stall_timeout_s = 7;
	server_config_from(&scfg, &cfg);
	assert_int_equal(scfg.max_clients, 256);
	assert_int_equal(scfg.client_output_cap, 1048576);
	assert_int_equal(scfg.stall_timeout_ms, 7000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_verbatim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fan_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resubscribe_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unencoded_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_subscriber, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_subscribers_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hung_up_before_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_in_backlog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(fake_engine_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_fd, setup, teardown),
		cmocka_unit_test(test_config_from),
	};

	/* The server's writes must not kill the test when a test client is gone. */
	signal(SIGPIPE, SIG_IGN);
	/* Expected failures log errors; XGM_TEST_LOG=debug shows them and more. */
	{
		const char *level = getenv("XGM_TEST_LOG");
		enum log_level l;

		log_set_level(level && log_level_parse(level, &l) == 0 ? l : (enum log_level)0);
	}
	if (getenv("XGM_TEST_FILTER"))
		cmocka_set_test_filter(getenv("XGM_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * xgm-scenario: replays a scenario (docs/scenarios.md) against a sandbox's
 * real xenstored and an xgmd started on it, and checks every event xgmd
 * publishes against the scenario's expectations, reporting the first
 * failure with the scenario line, what was expected and what came.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "match.h"
#include "sandbox.h"
#include "sandbox-test.h"
#include "scenario.h"
#include "xgmd-test.h"
#include "xgm/protocol.h"

/* How many of the last events a failure report shows. */
#define HISTORY 8
/* A repeat block's first iterations are shown with --verbose, the rest counted. */
#define VERBOSE_ITERATIONS 2
/* Real seconds to wait for the answer to a command. */
#define CALL_TIMEOUT 10.0
/* Real seconds --wait-subscribers waits for the other subscribers. */
#define SUBSCRIBERS_TIMEOUT 30.0

enum { EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_ERROR = 2, EXIT_SKIP = 77 };

struct dom {
	unsigned int domid;
	struct guest *guest;	/* its ring, opened at its first guest step */
	uint32_t tx;		/* the guest's open transaction, 0 for none */
	double last_action;	/* real seconds since the start */
	unsigned int last_line;
};

/* A message from xgmd: an event, or the reply to a command. */
struct event {
	yajl_val v;		/* parsed, for its type, domain, seq */
	char *line;		/* as it came, for conditions: its strings keep their NULs */
	size_t len;
	double at;		/* real seconds since the start */
	unsigned int domid;
	char text[2048];	/* a compact summary, for reports and --verbose */
};

struct runner {
	struct scenario scn;
	char **lines;		/* the scenario's source lines, for reports */
	size_t n_lines;
	double scale;		/* real seconds per scenario second */
	double slack;		/* real seconds a "within" tolerates for scheduling */
	bool verbose;
	bool notes;		/* print notes as they are reached (a narrated demo) */
	long wait_subscribers;	/* other subscribers to wait for before the first step */
	bool keep;
	char dir[PATH_MAX];
	bool own_sandbox;
	enum sandbox_flavour flavour;	/* the sandbox's xenstored, for on FLAVOUR { } */
	struct xs_handle *xs;
	struct xgmd xgmd;
	struct client *client;
	struct timespec t0;

	struct dom *doms;
	size_t n_doms;
	struct event *queue;	/* arrived, not yet consumed by an expectation */
	size_t n_queue;
	struct event history[HISTORY];	/* the last events seen, as a ring */
	size_t n_history;

	uint64_t rng;
	long next_id;
	long awaiting;		/* the id of the command whose reply is wanted */
	struct event reply;	/* its reply, once it came (reply.v set) */
	const char *note;	/* the last note, recalled in reports */
	unsigned int note_line;
	bool show;		/* print steps with --verbose (not in later iterations) */
	const struct scn_step *step;	/* the step running, for reports */
	const struct scn_iters *iters;	/* its enclosing repeats' iterations */
	long failed_line;	/* the line of the first failure, 0 at the end, -1 none */
	unsigned long n_events;	/* events received, for the summary */
	unsigned long n_checks;	/* expectations that held */
	long expect_fail;	/* --expect-fail LINE, or -1 */
};

static struct runner *cleanup_runner;

static double elapsed(const struct runner *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - r->t0.tv_sec) + (double)(ts.tv_nsec - r->t0.tv_nsec) / 1e9;
}

/* Real seconds as the scenario's seconds, which is what a person reads in the file. */
static double scn_time(const struct runner *r, double real)
{
	return real / r->scale;
}

static const char *source_line(const struct runner *r, unsigned int line)
{
	const char *s;

	if (line == 0 || line > r->n_lines)
		return "";
	for (s = r->lines[line - 1]; *s == ' ' || *s == '\t'; s++)
		;
	return s;
}

static void print_event(const struct runner *r, FILE *f, const char *prefix, const struct event *e)
{
	fprintf(f, "%s%8.3f s  %s\n", prefix, scn_time(r, e->at), e->text);
}

/*
 * The failure report: the step, what it expected, what came, and the last
 * events. Returns -1 so callers can "return report(...)".
 */
__attribute__((format(printf, 5, 6)))
static int report(struct runner *r, const struct scn_step *s, const char *expected,
		  const struct event *came, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (!s)
		s = r->step;
	if (r->failed_line < 0)
		r->failed_line = s ? (long)s->line : 0;
	if (s)
		fprintf(stderr, "\nFAIL %s:%u at %.3f s: %s\n", r->scn.name, s->line,
			scn_time(r, elapsed(r)), source_line(r, s->line));
	else
		fprintf(stderr, "\nFAIL %s at %.3f s\n", r->scn.name, scn_time(r, elapsed(r)));
	if (expected)
		fprintf(stderr, "  expected: %s\n", expected);
	if (came)
		print_event(r, stderr, "  came:    ", came);
	if (fmt) {
		fprintf(stderr, "  problem:  ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	if (s && r->iters && r->iters->n) {
		fprintf(stderr, "  in iteration:");
		for (unsigned int d = 0; d < r->iters->n; d++)
			fprintf(stderr, " %c=%lu", r->iters->name[d], r->iters->v[d]);
		fprintf(stderr, "\n");
	}
	if (r->note)
		fprintf(stderr, "  last note (line %u): %s\n", r->note_line, r->note);
	fprintf(stderr, "  last events seen (scenario time):\n");
	if (r->n_history == 0)
		fprintf(stderr, "    (none)\n");
	for (size_t i = r->n_history > HISTORY ? r->n_history - HISTORY : 0; i < r->n_history; i++)
		print_event(r, stderr, "    ", &r->history[i % HISTORY]);
	if (r->n_queue) {
		fprintf(stderr, "  not yet consumed by an expectation:\n");
		for (size_t i = 0; i < r->n_queue && i < HISTORY; i++)
			print_event(r, stderr, "    ", &r->queue[i]);
	}
	fprintf(stderr, "  xgmd's log: %s/xgm-scenario.log%s\n", r->dir,
		r->own_sandbox && !r->keep ? " (removed; run with --keep to read it)" : "");
	return -1;
}

static struct dom *get_dom(struct runner *r, unsigned int domid)
{
	struct dom *grown;

	for (size_t i = 0; i < r->n_doms; i++)
		if (r->doms[i].domid == domid)
			return &r->doms[i];
	grown = realloc(r->doms, (r->n_doms + 1) * sizeof(*grown));
	if (!grown) {
		perror("xgm-scenario");
		exit(EXIT_ERROR);
	}
	r->doms = grown;
	r->doms[r->n_doms] = (struct dom){ .domid = domid };
	return &r->doms[r->n_doms++];
}

static void close_guest(struct dom *d)
{
	if (d->guest)
		guest_close(d->guest);
	d->guest = NULL;
	d->tx = 0;
}

static void event_free(struct event *e)
{
	if (e->v)
		yajl_tree_free(e->v);
	free(e->line);
	e->v = NULL;
	e->line = NULL;
}

static void take_event(struct runner *r, size_t i, struct event *out)
{
	*out = r->queue[i];
	memmove(&r->queue[i], &r->queue[i + 1], (r->n_queue - i - 1) * sizeof(*r->queue));
	r->n_queue--;
}

static ssize_t find_event(const struct runner *r, unsigned int domid)
{
	for (size_t i = 0; i < r->n_queue; i++)
		if (r->queue[i].domid == domid)
			return (ssize_t)i;
	return -1;
}

/*
 * An event as a person reads it: "domain.metrics 5 #3 changed=[...]
 * data={...}", leaving out the timestamp and the domain's name and uuid.
 * Other messages as compact JSON. Rendered from the line, so that a string
 * with a NUL shows whole.
 */
static void describe(const struct event *e, char *buf, size_t size)
{
	const char *name = json_str(e->v, "event", NULL);
	char changed[512], data[sizeof(e->text)];

	if (!name) {
		scn_json_render_at(e->line, e->len, "", buf, size);
		return;
	}
	changed[0] = '\0';
	if (json_get(e->v, "changed", NULL)) {
		strcpy(changed, " changed=");
		scn_json_render_at(e->line, e->len, "changed", changed + 9, sizeof(changed) - 9);
	}
	scn_json_render_at(e->line, e->len, "data", data, sizeof(data));
	snprintf(buf, size, "%s %lld #%lld%s data=%s", name, json_int(e->v, "domain", "id"),
		 json_int(e->v, "seq", NULL), changed, data);
}

/* One message from xgmd, owned from now on: events are queued, the awaited reply kept, the rest noted. */
static int handle(struct runner *r, struct event *e)
{
	const char *type = json_str(e->v, "type", NULL);
	struct event *grown, *h;

	e->at = elapsed(r);
	describe(e, e->text, sizeof(e->text));
	if (type && (!strcmp(type, "reply") || !strcmp(type, "error")) &&
	    json_int(e->v, "id", NULL) == r->awaiting) {
		r->reply = *e;
		return 0;
	}
	if (!type || strcmp(type, "event") != 0) {
		int ret = 0;

		if (r->verbose)
			print_event(r, stdout, "    <- ", e);
		if (type && (!strcmp(type, "lost") || !strcmp(type, "bye")))
			ret = report(r, NULL, "every event delivered", NULL,
				     "xgmd sent \"%s\": %s", type, e->text);
		event_free(e);
		return ret;
	}
	e->domid = (unsigned int)json_int(e->v, "domain", "id");
	if (r->verbose)
		print_event(r, stdout, "    <- ", e);
	grown = realloc(r->queue, (r->n_queue + 1) * sizeof(*grown));
	if (!grown) {
		event_free(e);
		perror("xgm-scenario");
		exit(EXIT_ERROR);
	}
	r->queue = grown;
	r->queue[r->n_queue++] = *e;
	r->n_events++;
	/* The history keeps the summary; the queue owns the message. */
	h = &r->history[r->n_history++ % HISTORY];
	*h = *e;
	h->v = NULL;
	h->line = NULL;
	return 0;
}

/*
 * A line xgmd sent, n bytes, as a message. Every line must be one JSON
 * object: what xgmd sends is checked here, not just what the scenario asks
 * about.
 */
static int take_line(struct runner *r, const char *line, size_t n)
{
	struct event e = { .len = n };
	char err[256];

	if (memchr(line, '\0', n))
		return report(r, NULL, "one JSON object per line", NULL, "xgmd sent a raw NUL byte");
	e.line = strndup(line, n);
	if (!e.line)
		return report(r, NULL, NULL, NULL, "out of memory");
	e.v = yajl_tree_parse(e.line, err, sizeof(err));
	if (!e.v || !YAJL_IS_OBJECT(e.v)) {
		report(r, NULL, "one JSON object per line", NULL, "xgmd sent %s: %.300s",
		       e.v ? "a line that is not an object" : "a line that is not JSON", e.line);
		event_free(&e);
		return -1;
	}
	return handle(r, &e) < 0 ? -1 : 1;
}

/*
 * Reads what xgmd sent until one message was handled (1) or the real time
 * until passed (0); -1 when the connection failed. until in the past only
 * takes what is already there, so steps stay fast in a storm.
 */
static int pump_once(struct runner *r, double until)
{
	struct client *c = r->client;

	for (;;) {
		double left = until - elapsed(r);
		size_t n;
		char *line = client_line(c, left > 0 ? (int)ceil(left * 1000) : 0, &n);

		if (line)
			return take_line(r, line, n);
		if (client_pending(c) >= CLIENT_MAX_LINE)
			return report(r, NULL, NULL, NULL, "xgmd sent a line longer than %u bytes",
				      CLIENT_MAX_LINE);
		if (c->eof)
			return report(r, NULL, "xgmd to keep its connection", NULL,
				      "the connection to xgmd broke (xgmd %s)",
				      waitpid(r->xgmd.pid, NULL, WNOHANG) == r->xgmd.pid ? "exited" : "runs");
		if (elapsed(r) >= until)
			return 0;
	}
}

static int pump_until(struct runner *r, double until)
{
	int n;

	while ((n = pump_once(r, until)) == 1)
		;
	return n;
}

/*
 * Sends a command (printf-style, "%ld" first for its id) and waits for its
 * answer: r->reply, which the caller frees with event_free().
 */
__attribute__((format(printf, 2, 3)))
static struct event *call(struct runner *r, const char *fmt, ...)
{
	double deadline = elapsed(r) + CALL_TIMEOUT;
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->awaiting = r->next_id;
	event_free(&r->reply);
	if (client_send(r->client, line) < 0) {
		report(r, NULL, NULL, NULL, "cannot send %s: %s", line, strerror(errno));
		return NULL;
	}
	while (!r->reply.v) {
		int n = pump_once(r, deadline);

		if (n < 0)
			return NULL;
		if (n == 0) {
			report(r, NULL, "an answer", NULL, "no answer to %s within %.0f s", line, CALL_TIMEOUT);
			return NULL;
		}
	}
	r->awaiting = -1;
	return &r->reply;
}

static void free_conds(struct scn_cond *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		scn_cond_free(&c[i]);
	free(c);
}

/* The step's conditions with its iteration numbers filled in; NULL, reported, on failure. */
static struct scn_cond *bind_matches(struct runner *r, const struct scn_step *s,
				     const struct scn_iters *it)
{
	struct scn_cond *c = calloc(s->n_matches ? s->n_matches : 1, sizeof(*c));
	char why[SCN_ERROR_MAX];

	if (!c) {
		report(r, s, NULL, NULL, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < s->n_matches; i++) {
		if (scn_match_bind(&s->matches[i], it, &c[i], why) < 0) {
			free_conds(c, i);
			report(r, s, NULL, NULL, "%s", why);
			return NULL;
		}
	}
	return c;
}

/* Whether every condition holds; the failing ones are described into why. */
static bool check_matches(const struct scn_cond *c, size_t n, const struct event *e, char *why,
			  size_t size)
{
	size_t used = 0;
	bool ok = true;

	why[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char got[256];

		if (scn_match_eval(&c[i], e->line, e->len, got, sizeof(got)))
			continue;
		ok = false;
		if (used < size)
			used += (size_t)snprintf(why + used, size - used, "%s%s: the field holds %s",
						 used ? "; " : "", c[i].source, got);
	}
	return ok;
}

/* expect and wait-for: the next event about the domain, or the next that matches. */
static int await_event(struct runner *r, const struct scn_step *s, const struct scn_cond *conds)
{
	struct dom *d = get_dom(r, s->domid);
	double deadline = d->last_action + s->seconds * r->scale + r->slack;
	char expected[256], why[1024];

	snprintf(expected, sizeof(expected), "%s about domain %u by %.3f s (%g s after line %u)",
		 s->name, s->domid, scn_time(r, deadline), s->seconds, d->last_line);
	for (;;) {
		ssize_t i = find_event(r, s->domid);
		struct event e;
		const char *name;
		bool ok;

		if (i < 0) {
			int n = pump_once(r, deadline);

			if (n < 0)
				return -1;
			if (n == 0)
				return report(r, s, expected, NULL, "nothing came about domain %u", s->domid);
			continue;
		}
		take_event(r, (size_t)i, &e);
		name = json_str(e.v, "event", NULL);
		if (e.at > deadline) {
			report(r, s, expected, &e, "this came %.3f s late",
			       scn_time(r, e.at - deadline));
			event_free(&e);
			return -1;
		}
		ok = name && !strcmp(name, s->name);
		if (!ok)
			snprintf(why, sizeof(why), "a %s event, not %s", name ? name : "nameless", s->name);
		else
			ok = check_matches(conds, s->n_matches, &e, why, sizeof(why));
		if (ok) {
			if (r->verbose && r->show)
				printf("    ok: line %u\n", s->line);
			event_free(&e);
			return 0;
		}
		if (s->kind == SCN_WAIT_FOR) {
			if (r->verbose)
				printf("    skipped for line %u: %s\n", s->line, why);
			event_free(&e);
			continue;
		}
		report(r, s, expected, &e, "%s", why);
		event_free(&e);
		return -1;
	}
}

static int expect_event(struct runner *r, const struct scn_step *s, const struct scn_iters *it)
{
	struct scn_cond *conds = bind_matches(r, s, it);
	int ret;

	if (!conds)
		return -1;
	ret = await_event(r, s, conds);
	free_conds(conds, s->n_matches);
	return ret;
}

static int expect_none(struct runner *r, const struct scn_step *s)
{
	double until = elapsed(r) + s->seconds * r->scale;
	char expected[256];

	snprintf(expected, sizeof(expected), "no event about domain %u until %.3f s",
		 s->domid, scn_time(r, until));
	for (;;) {
		ssize_t i = find_event(r, s->domid);
		int n;

		if (i >= 0)
			return report(r, s, expected, &r->queue[i], "an event no expectation accounts for");
		n = pump_once(r, until);
		if (n <= 0)
			return n;
	}
}

static int expect_reply(struct runner *r, const struct scn_step *s, const struct scn_iters *it)
{
	struct scn_cond *conds = bind_matches(r, s, it);
	struct event *reply;
	char why[1024];
	int ret = -1;

	if (!conds)
		return -1;
	r->next_id++;
	if (s->kind == SCN_EXPECT_GET)
		reply = call(r, "{\"cmd\":\"get\",\"id\":%ld,\"domain\":%u}", r->next_id, s->domid);
	else
		reply = call(r, "{\"cmd\":\"stats\",\"id\":%ld}", r->next_id);
	if (!reply)
		goto out;
	if (!check_matches(conds, s->n_matches, reply, why, sizeof(why))) {
		report(r, s, "a reply with these fields", reply, "%s", why);
		goto out;
	}
	if (r->verbose && r->show)
		printf("    ok: line %u\n", s->line);
	ret = 0;
out:
	event_free(&r->reply);
	free_conds(conds, s->n_matches);
	return ret;
}

static struct guest *guest_of(struct runner *r, const struct scn_step *s, struct dom *d)
{
	if (!d->guest && !(d->guest = guest_open(r->dir, d->domid)))
		report(r, s, NULL, NULL, "cannot open the ring of domain %u: %s", d->domid, strerror(errno));
	return d->guest;
}

/* A write or rm, as dom0 or as the guest; its outcome checked against "fails". */
static int store_op(struct runner *r, const struct scn_step *s, const struct scn_iters *it)
{
	struct dom *d = get_dom(r, s->domid);
	bool write = s->kind == SCN_WRITE || s->kind == SCN_GUEST;
	bool as_guest = s->kind == SCN_GUEST || s->kind == SCN_GUEST_RM;
	char *rel = NULL, *path = NULL, *value = NULL;
	size_t len = 0, vlen = 0;
	int err = 0, ret = -1;

	if (scn_text_expand(&s->path, it, &rel, &len) < 0 ||
	    (write && scn_text_expand(&s->value, it, &value, &vlen) < 0))
		goto oom;
	if (as_guest) {
		struct guest *g = guest_of(r, s, d);

		if (!g)
			goto out;
		err = write ? guest_write(g, d->tx, rel, value, vlen) : guest_rm(g, d->tx, rel);
	} else {
		bool ok;

		if (rel[0] == '/')
			path = strdup(rel);
		else if (asprintf(&path, "/local/domain/%u/%s", s->domid, rel) < 0)
			path = NULL;
		if (!path)
			goto oom;
		ok = write ? xs_write(r->xs, XBT_NULL, path, value, (unsigned int)vlen)
			   : xs_rm(r->xs, XBT_NULL, path);
		err = ok ? 0 : -errno;
	}
	if (err == 0 && s->fails) {
		report(r, s, "xenstored to refuse this", NULL, "xenstored accepted it");
		goto out;
	}
	if (err < 0 && !s->fails) {
		report(r, s, NULL, NULL, "xenstored refused it: %s", strerror(-err));
		goto out;
	}
	if (r->verbose && r->show && err < 0)
		printf("    refused as expected: %s\n", strerror(-err));
	ret = 0;
	goto out;
oom:
	report(r, s, NULL, NULL, "out of memory");
out:
	free(rel);
	free(path);
	free(value);
	return ret;
}

/* xenstored exits and loses every node: rings and the dom0 connection go with it. */
static int xenstored_stop(struct runner *r, const struct scn_step *s)
{
	int err;

	for (size_t i = 0; i < r->n_doms; i++)
		close_guest(&r->doms[i]);
	if (r->xs)
		xs_close(r->xs);
	r->xs = NULL;
	err = sandbox_stop(r->dir);
	if (err < 0)
		return report(r, s, NULL, NULL, "cannot stop xenstored: %s", strerror(-err));
	return pump_until(r, 0);
}

/* A fresh xenstored in the same sandbox: the toolstack must write the domains again. */
static int xenstored_start(struct runner *r, const struct scn_step *s)
{
	struct sandbox_options opts;
	int err;

	if (r->xs)
		return report(r, s, NULL, NULL, "xenstored runs already (xenstored-stop first)");
	sandbox_default_options(&opts);
	opts.die_with_parent = r->own_sandbox;
	err = sandbox_start(r->dir, &opts);
	if (err < 0)
		return report(r, s, NULL, NULL, "cannot start xenstored: %s", strerror(-err));
	r->xs = sandbox_connect(r->dir);
	if (!r->xs)
		return report(r, s, NULL, NULL, "cannot connect to the new xenstored");
	return pump_until(r, 0);
}

static int exec_block(struct runner *r, const struct scn_block *b, const struct scn_iters *it);

static uint64_t next_random(struct runner *r)
{
	/* xorshift64*: enough for a reproducible order, and the same on every host. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 2685821657736338717ULL;
}

static int exec_shuffle(struct runner *r, const struct scn_step *s, const struct scn_iters *it)
{
	size_t n = s->body.n, *order = malloc(n * sizeof(*order));
	int ret = 0;

	if (!order)
		return report(r, s, NULL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(next_random(r) % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct scn_block one = { .steps = &s->body.steps[order[i]], .n = 1 };

		ret = exec_block(r, &one, it);
	}
	free(order);
	return ret;
}

/* Counts an expectation that held, for the summary. */
static int checked(struct runner *r, int ret)
{
	if (ret == 0)
		r->n_checks++;
	return ret;
}

static int exec_step(struct runner *r, const struct scn_step *s, const struct scn_iters *it)
{
	struct dom *d = s->domid ? get_dom(r, s->domid) : NULL;
	bool acts = true;
	int err = 0;

	r->step = s;
	r->iters = it;
	if (r->verbose && r->show)
		printf("%8.3f s  %4u  %s\n", scn_time(r, elapsed(r)), s->line, source_line(r, s->line));
	if (!r->xs && (s->kind == SCN_CREATE || s->kind == SCN_RELEASE || s->kind == SCN_WRITE ||
		       s->kind == SCN_RM || s->kind == SCN_GUEST || s->kind == SCN_GUEST_RM ||
		       s->kind == SCN_TX_BEGIN || s->kind == SCN_TX_END))
		return report(r, s, NULL, NULL, "xenstored is stopped (xenstored-start first)");
	switch (s->kind) {
	case SCN_AT:
		if (r->verbose && elapsed(r) > s->seconds * r->scale + r->slack)
			printf("    behind schedule by %.3f s\n", scn_time(r, elapsed(r)) - s->seconds);
		return pump_until(r, s->seconds * r->scale);
	case SCN_AFTER:
		return pump_until(r, elapsed(r) + s->seconds * r->scale);
	case SCN_NOTE:
		r->note = s->name;
		r->note_line = s->line;
		if (r->notes && !r->verbose)
			printf(isatty(STDOUT_FILENO) ? "\n\033[1m== %s\033[0m\n" : "\n== %s\n", s->name);
		return 0;
	case SCN_CREATE: {
		char name[32];

		/* The same default name as "xen-sandbox create". */
		snprintf(name, sizeof(name), "guest-%u", s->domid);
		close_guest(d);
		err = sandbox_domain_create(r->dir, r->xs, s->domid, s->name ? s->name : name, true);
		break;
	}
	case SCN_RELEASE:
		err = sandbox_domain_release(r->xs, s->domid);
		break;
	case SCN_SHUTDOWN:
		err = sandbox_domain_set_state(r->dir, s->domid, DOMSTATE_SHUTDOWN);
		break;
	case SCN_CRASH:
		err = sandbox_domain_set_state(r->dir, s->domid, DOMSTATE_CRASHED);
		break;
	case SCN_DYING:
		err = sandbox_domain_set_state(r->dir, s->domid, DOMSTATE_DYING);
		break;
	case SCN_DESTROY:
		close_guest(d);
		err = sandbox_domain_destroy(r->dir, s->domid);
		break;
	case SCN_XENSTORED_STOP:
		return xenstored_stop(r, s);
	case SCN_XENSTORED_START:
		return xenstored_start(r, s);
	case SCN_WRITE: case SCN_GUEST: case SCN_RM: case SCN_GUEST_RM:
		if (store_op(r, s, it) < 0)
			return -1;
		break;
	case SCN_TX_BEGIN:
		if (!guest_of(r, s, d))
			return -1;
		err = guest_transaction_start(d->guest, &d->tx);
		acts = false;
		break;
	case SCN_TX_END:
		if (!guest_of(r, s, d))
			return -1;
		err = guest_transaction_end(d->guest, d->tx, !s->abort);
		d->tx = 0;
		break;
	case SCN_REPEAT: {
		/* The parser bounds nesting by SCN_NEST_MAX, so the body's iterations fit. */
		struct scn_iters inner = *it;
		bool show = r->show;
		int ret = 0;

		inner.name[inner.n] = s->var;
		inner.n++;
		for (unsigned long k = 0; k < s->count && ret == 0; k++) {
			r->show = show && k < VERBOSE_ITERATIONS;
			if (r->verbose && show && k == VERBOSE_ITERATIONS)
				printf("    ... %lu more iterations\n", s->count - k);
			inner.v[inner.n - 1] = k;
			ret = exec_block(r, &s->body, &inner);
		}
		r->show = show;
		r->iters = it;
		return ret;
	}
	case SCN_SHUFFLE:
		return exec_shuffle(r, s, it);
	case SCN_ON: {
		enum sandbox_flavour flavour;

		if (sandbox_flavour_parse(s->name, &flavour) < 0)
			return report(r, s, NULL, NULL, "on %s: not a xenstored (c or ocaml)", s->name);
		return flavour == r->flavour ? exec_block(r, &s->body, it) : 0;
	}
	case SCN_EXPECT: case SCN_WAIT_FOR:
		return checked(r, expect_event(r, s, it));
	case SCN_EXPECT_NONE:
		return checked(r, expect_none(r, s));
	case SCN_EXPECT_GET: case SCN_EXPECT_STATS:
		return checked(r, expect_reply(r, s, it));
	}
	if (err < 0)
		return report(r, s, NULL, NULL, "%s failed: %s", scn_kind_name(s->kind), strerror(-err));
	if (acts && d) {
		d->last_action = elapsed(r);
		d->last_line = s->line;
	}
	/* Timestamp what already arrived, without waiting. */
	return pump_until(r, 0);
}

static int exec_block(struct runner *r, const struct scn_block *b, const struct scn_iters *it)
{
	for (size_t i = 0; i < b->n; i++)
		if (exec_step(r, &b->steps[i], it) < 0)
			return -1;
	return 0;
}

/* Every domid the scenario mentions: the subscription's filter. */
static void collect_domids(const struct scn_block *b, bool *seen)
{
	for (size_t i = 0; i < b->n; i++) {
		collect_domids(&b->steps[i].body, seen);
		seen[b->steps[i].domid] = true;
	}
}

static void format_domids(const struct scn_block *b, char *buf, size_t size)
{
	static bool seen[XGM_DOMID_MAX + 1];
	size_t used = 0;

	buf[0] = '\0';
	collect_domids(b, seen);
	for (unsigned int d = 1; d <= XGM_DOMID_MAX && used < size; d++)
		if (seen[d])
			used += (size_t)snprintf(buf + used, size - used, "%s%u", used ? "," : "", d);
}

/* --set options for xgmd: the scenario's config lines, durations scaled, and the scaled defaults. */
static int build_sets(struct runner *r, char ***out)
{
	/*
	 * floor: the least real duration a scaled default gets. A harness
	 * descheduled between two writes of one burst for longer than the quiet
	 * window splits it in two batches; at timescale 0.02 the window was
	 * 5 ms, and a loaded CI machine split a burst (live-timeout@c).
	 */
	static const struct { const char *key; unsigned long def, floor; } durations[] = {
		{ "settle.quiet_ms", 250, 25 }, { "settle.max_wait_ms", 2000, 100 },
		{ "metrics.live_timeout_s", 300, 1 },
	};
	size_t n = 0, max = r->scn.n_settings + 5;
	char **sets = calloc(max, sizeof(*sets));
	bool rate_given = false;

	if (!sets)
		return -ENOMEM;
	/* A rate scales the other way: 1 publication per scenario second. */
	for (size_t k = 0; k < r->scn.n_settings; k++)
		rate_given |= !strcmp(r->scn.settings[k].key, "limits.publish_rate");
	if (!rate_given && asprintf(&sets[n++], "limits.publish_rate=%.0f",
				    fmin(1000, fmax(1, round(1 / r->scale)))) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		bool given = false;

		for (size_t k = 0; k < r->scn.n_settings; k++)
			given |= !strcmp(r->scn.settings[k].key, durations[i].key);
		if (!given && asprintf(&sets[n++], "%s=%.0f", durations[i].key,
				       fmax(durations[i].floor,
					    round((double)durations[i].def * r->scale))) < 0)
			return -ENOMEM;
	}
	for (size_t k = 0; k < r->scn.n_settings; k++) {
		const struct scn_setting *set = &r->scn.settings[k];
		int ok;

		if (scn_setting_is_duration(set->key)) {
			char *end;
			double v = strtod(set->value, &end);

			if (*end || end == set->value || v < 0) {
				fprintf(stderr, "%s:%u: config %s: a duration must be a number\n",
					r->scn.name, set->line, set->key);
				return -EINVAL;
			}
			ok = asprintf(&sets[n++], "%s=%.0f", set->key, fmax(1, round(v * r->scale)));
		} else {
			ok = asprintf(&sets[n++], "%s=%s", set->key, set->value);
		}
		if (ok < 0)
			return -ENOMEM;
	}
	*out = sets;
	return 0;
}

static int load_lines(struct runner *r, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char **grown = realloc(r->lines, (r->n_lines + 1) * sizeof(*grown));

		if (!grown)
			break;
		r->lines = grown;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		r->lines[r->n_lines++] = line;
		line = NULL;
		cap = 0;
	}
	free(line);
	fclose(f);
	return 0;
}

static void cleanup(void)
{
	struct runner *r = cleanup_runner;

	if (!r)
		return;
	cleanup_runner = NULL;
	xgmd_stop(&r->xgmd);
	for (size_t i = 0; i < r->n_doms; i++)
		close_guest(&r->doms[i]);
	if (r->xs)
		xs_close(r->xs);
	if (r->own_sandbox && r->dir[0] && !r->keep)
		sandbox_test_stop(r->dir);
	else if (r->own_sandbox && r->dir[0])
		fprintf(stderr, "xgm-scenario: the sandbox stays in %s (xen-sandbox -d %s stop)\n",
			r->dir, r->dir);
}

/*
 * Waits until wait_subscribers clients besides the runner subscribe to
 * xgmd, such as a person's xgmctl monitor, so that they see every event.
 */
static int wait_subscribers(struct runner *r)
{
	double deadline = elapsed(r) + SUBSCRIBERS_TIMEOUT;

	for (;;) {
		struct event *reply;
		long long n;

		r->next_id++;
		reply = call(r, "{\"cmd\":\"stats\",\"id\":%ld}", r->next_id);
		if (!reply)
			return -1;
		n = json_int(reply->v, "server", "subscribers");
		event_free(reply);
		if (n >= r->wait_subscribers)
			return 0;
		if (elapsed(r) > deadline) {
			fprintf(stderr, "xgm-scenario: %lld of %ld subscribers to %s after %.0f s\n",
				n, r->wait_subscribers, r->xgmd.socket, SUBSCRIBERS_TIMEOUT);
			return -1;
		}
		usleep(20000);
	}
}

static const char usage_text[] =
	"usage: xgm-scenario [OPTIONS] FILE\n"
	"\n"
	"Replays the scenario FILE (docs/scenarios.md) against a sandbox's xenstored\n"
	"and an xgmd started on it, and checks every event.\n"
	"\n"
	"  -s, --sandbox DIR    use the running sandbox in DIR (default: a private one)\n"
	"  -x, --xgmd PATH      the xgmd to test (default: the one built with this)\n"
	"  -t, --timescale F    real seconds per scenario second (overrides the file)\n"
	"      --slack S        real seconds of scheduling tolerance added to each \"within\" (0.25)\n"
	"  -k, --keep           leave the private sandbox and xgmd's log for inspection\n"
	"      --expect-fail L  succeed only if the scenario fails at line L (0: at its end);\n"
	"                       for the harness's self-tests and known discrepancies\n"
	"  -v, --verbose        print every step and every message as it happens\n"
	"  -n, --notes          print each note as it is reached (a narrated run)\n"
	"      --wait-subscribers N\n"
	"                       before the first step, wait until N clients besides the\n"
	"                       runner subscribe to xgmd (xgmctl monitor on its socket,\n"
	"                       xgm-scenario.sock in the sandbox); at most 30 s\n"
	"  -h, --help           print this help\n"
	"\n"
	"Exit status: 0 pass, 1 fail, 2 error, 77 skip (xenstored not installed).\n";

static int run(struct runner *r)
{
	char filter[4096], **sets = NULL;
	struct event *reply;
	yajl_val v;
	int ret = EXIT_ERROR;

	if (build_sets(r, &sets) < 0)
		goto out;
	if (r->own_sandbox) {
		sandbox_test_start(r->dir);
	} else if (sandbox_pid(r->dir) < 0) {
		fprintf(stderr, "xgm-scenario: no sandbox runs in %s\n", r->dir);
		goto out;
	}
	r->xs = sandbox_connect(r->dir);
	if (!r->xs)
		goto out;
	xgmd_start(&r->xgmd, r->dir, "xgm-scenario", (const char *const *)sets);
	if (r->verbose) {
		printf("sandbox %s, xgmd on %s, timescale %g", r->dir, r->xgmd.socket, r->scale);
		for (char **s = sets; *s; s++)
			printf(", --set %s", *s);
		printf("\n");
	}
	v = client_connect(r->client, r->xgmd.socket);
	if (!v || !json_str(v, "type", NULL) || strcmp(json_str(v, "type", NULL), "hello") != 0) {
		fprintf(stderr, "xgm-scenario: no hello from xgmd on %s\n", r->xgmd.socket);
		if (v)
			yajl_tree_free(v);
		goto out;
	}
	yajl_tree_free(v);
	/* call() times its answers from t0; the scenario's clock starts after the wait. */
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	if (r->wait_subscribers > 0 && wait_subscribers(r) < 0)
		goto out;

	format_domids(&r->scn.steps, filter, sizeof(filter));
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->next_id++;
	reply = call(r, "{\"cmd\":\"subscribe\",\"id\":%ld,\"snapshot\":false,\"filter\":{\"domains\":[%s]}}",
		     r->next_id, filter);
	if (!reply)
		goto fail;
	if (json_bool(reply->v, "ok", NULL) != 1) {
		fprintf(stderr, "xgm-scenario: subscribe refused: %s\n", reply->text);
		event_free(reply);
		goto out;
	}
	event_free(reply);

	if (exec_block(r, &r->scn.steps, &(struct scn_iters){ .n = 0 }) < 0)
		goto fail;
	r->step = NULL;
	r->iters = NULL;
	if (pump_until(r, 0) < 0)
		goto fail;
	if (r->n_queue) {
		report(r, NULL, "every event accounted for by an expectation", &r->queue[0],
		       "%zu event(s) left over at the end", r->n_queue);
		goto fail;
	}
	printf("PASS %s: %lu events, %lu expectations held (%.3f s, %.3f s real)\n", r->scn.name,
	       r->n_events, r->n_checks, scn_time(r, elapsed(r)), elapsed(r));
	ret = EXIT_PASS;
	goto out;
fail:
	ret = EXIT_FAIL;
out:
	for (char **s = sets; s && *s; s++)
		free(*s);
	free(sets);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sandbox", required_argument, NULL, 's' },
		{ "xgmd", required_argument, NULL, 'x' },
		{ "timescale", required_argument, NULL, 't' },
		{ "slack", required_argument, NULL, 'S' },
		{ "expect-fail", required_argument, NULL, 'F' },
		{ "keep", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "notes", no_argument, NULL, 'n' },
		{ "wait-subscribers", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct runner runner = {
		.slack = 0.25, .awaiting = -1, .show = true, .failed_line = -1, .expect_fail = -1,
	};
	struct runner *r = &runner;
	struct sandbox_options sandbox;
	char error[SCN_ERROR_MAX], *end;
	double timescale = 0;
	int opt, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt_long(argc, argv, "s:x:t:kvnh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (strlen(optarg) >= sizeof(r->dir)) {
				fprintf(stderr, "xgm-scenario: --sandbox: path too long\n");
				return EXIT_ERROR;
			}
			strcpy(r->dir, optarg);
			break;
		case 'x':
			/* xgmd-test.c starts getenv("XGM_XGMD") (see meson.build). */
			if (access(optarg, X_OK) < 0) {
				fprintf(stderr, "xgm-scenario: --xgmd %s: %s\n", optarg, strerror(errno));
				return EXIT_ERROR;
			}
			setenv("XGM_XGMD", optarg, 1);
			break;
		case 't':
		case 'S': {
			double v = strtod(optarg, &end);

			if (*end || end == optarg || !isfinite(v) || v < 0 || (opt == 't' && (v <= 0 || v > 100))) {
				fprintf(stderr, "xgm-scenario: %s %s: not a valid number\n",
					opt == 't' ? "--timescale" : "--slack", optarg);
				return EXIT_ERROR;
			}
			if (opt == 't')
				timescale = v;
			else
				r->slack = v;
			break;
		}
		case 'F':
			r->expect_fail = strtol(optarg, &end, 10);
			if (*end || end == optarg || r->expect_fail < 0) {
				fprintf(stderr, "xgm-scenario: --expect-fail %s: not a line number\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'W':
			r->wait_subscribers = strtol(optarg, &end, 10);
			if (*end || end == optarg || r->wait_subscribers < 0 || r->wait_subscribers > 1000) {
				fprintf(stderr, "xgm-scenario: --wait-subscribers %s: not a count\n", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'n':
			r->notes = true;
			break;
		case 'k':
			r->keep = true;
			break;
		case 'v':
			r->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_PASS;
		default:
			fputs(usage_text, stderr);
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		return EXIT_ERROR;
	}
	setenv("XGM_XGMD", getenv("XGM_XGMD") ? getenv("XGM_XGMD") : XGM_SCENARIO_XGMD, 0);
	if (scenario_load(argv[optind], &r->scn, error) < 0) {
		fprintf(stderr, "xgm-scenario: %s\n", error);
		return EXIT_ERROR;
	}
	if (load_lines(r, argv[optind]) < 0) {
		fprintf(stderr, "xgm-scenario: %s: %s\n", argv[optind], strerror(errno));
		scenario_free(&r->scn);
		return EXIT_ERROR;
	}
	r->scale = timescale > 0 ? timescale : r->scn.timescale;
	r->rng = r->scn.seed * 0x9e3779b97f4a7c15ULL + 1;
	r->own_sandbox = r->dir[0] == '\0';
	sandbox_default_options(&sandbox);
	r->flavour = sandbox.flavour;
	r->client = calloc(1, sizeof(*r->client));
	if (!r->client) {
		perror("xgm-scenario");
		return EXIT_ERROR;
	}
	r->client->fd = -1;
	/* xgmd_start() and sandbox_test_start() exit on failure: still stop what was started. */
	cleanup_runner = r;
	atexit(cleanup);
	ret = run(r);
	cleanup();
	if (r->expect_fail >= 0) {
		bool as_expected = ret == EXIT_FAIL && r->failed_line == r->expect_fail;

		if (as_expected)
			printf("failed at line %ld, as expected\n", r->expect_fail);
		else if (ret == EXIT_PASS)
			fprintf(stderr, "xgm-scenario: expected a failure at line %ld, but %s passed\n",
				r->expect_fail, r->scn.name);
		else if (ret == EXIT_FAIL)
			fprintf(stderr, "xgm-scenario: expected a failure at line %ld, not at line %ld\n",
				r->expect_fail, r->failed_line);
		if (ret != EXIT_SKIP && ret != EXIT_ERROR)
			ret = as_expected ? EXIT_PASS : EXIT_FAIL;
	}
	client_close(r->client);
	free(r->client);
	for (size_t i = 0; i < r->n_queue; i++)
		event_free(&r->queue[i]);
	event_free(&r->reply);
	free(r->queue);
	free(r->doms);
	for (size_t i = 0; i < r->n_lines; i++)
		free(r->lines[i]);
	free(r->lines);
	scenario_free(&r->scn);
	return ret;
}

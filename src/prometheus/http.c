/*
 * The /metrics endpoint over evhttp (see http.h): renders the engine's
 * domains in the negotiated format a slice per loop turn, adds the
 * engine's and the server's counters at the end, and hands the text to
 * evhttp without a copy.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "prometheus/exposition.h"
#include "prometheus/http.h"
#include "util/log.h"
#include "util/peer.h"
#include "xgm-config.h"

/* Scrapes in progress at once; more get 503. Each holds ~1.3 kB per domain until sent. */
#define MAX_SCRAPES 4

/* One GET /metrics being rendered, over as many loop turns as it takes. */
struct scrape {
	TAILQ_ENTRY(scrape) link;
	struct prom_http *h;
	struct evhttp_request *req;	/* evhttp's; detached, not freed, if the scraper leaves */
	struct prom_builder *builder;
	enum prom_format format;
	unsigned int next_domid;
};

TAILQ_HEAD(scrape_list, scrape);

struct prom_http {
	struct engine *engine;
	struct server *server;
	struct evhttp *http;
	struct scrape_list scrapes;	/* in progress, the next to get a slice first */
	size_t n_scrapes;
	struct event *slice_ev;		/* a zero timeout: the next slice after the loop polls */
	/*
	 * Domains per slice. A scrape yields to the loop after each: rendered
	 * whole, 3000 domains held every socket client for ~55 ms.
	 */
	uint32_t slice_domains;
};

int prom_listen_parse(const char *address, char host[PROM_HOST_MAX], uint16_t *port)
{
	const char *colon = strrchr(address, ':');
	unsigned char bin[sizeof(struct in6_addr)];
	size_t hlen;
	char *end;
	unsigned long p;

	if (!colon)
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || p < 1 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	hlen = (size_t)(colon - address);
	if (hlen == 0) {
		strcpy(host, "127.0.0.1");
		return 0;
	}
	if (address[0] == '[') {
		if (hlen < 3 || address[hlen - 1] != ']' || hlen - 2 >= PROM_HOST_MAX)
			return -EINVAL;
		memcpy(host, address + 1, hlen - 2);
		host[hlen - 2] = '\0';
		return inet_pton(AF_INET6, host, bin) == 1 ? 0 : -EINVAL;
	}
	if (hlen >= PROM_HOST_MAX)
		return -EINVAL;
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	return inet_pton(AF_INET, host, bin) == 1 ? 0 : -EINVAL;
}

static void add_domain(void *ctx, unsigned int domid, const char *name, const char *uuid,
		       const struct guest_metrics *m, bool rate_limited)
{
	struct prom_domain d = { domid, name, uuid, m, rate_limited };

	prom_builder_add(ctx, &d);
}

static void free_text(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

/*
 * A reply with a short plain-text body and, when header is set, that
 * header (evhttp_send_error() would drop every header but its own).
 */
static void send_status(struct evhttp_request *req, int code, const char *reason,
			const char *header, const char *value)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();

	if (!body || evbuffer_add_printf(body, "%d %s\n", code, reason) < 0) {
		if (body)
			evbuffer_free(body);
		evhttp_send_error(req, code, reason);
		return;
	}
	if (header)
		evhttp_add_header(out, header, value);
	evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, body);
	evbuffer_free(body);
}

/* Sends the finished exposition, or a 500; the request is evhttp's again after this. */
static void scrape_send(struct prom_http *h, struct scrape *s)
{
	struct prom_daemon daemon = { .version = XGM_VERSION };
	struct evbuffer *reply = evbuffer_new();
	char *text = NULL;
	size_t len;
	int r;

	engine_get_counters(h->engine, &daemon.engine);
	server_get_stats(h->server, &daemon.server);
	r = prom_builder_finish(s->builder, &daemon, &text, &len);
	s->builder = NULL;
	if (r == 0 && reply && evbuffer_add_reference(reply, text, len, free_text, NULL) == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(s->req), "Content-Type",
				  prom_content_type(s->format));
		evhttp_send_reply(s->req, HTTP_OK, "OK", reply);
	} else {
		free(text);
		log_err("prometheus: cannot render a scrape: out of memory");
		send_status(s->req, HTTP_INTERNAL, "Internal Server Error", NULL, NULL);
	}
	if (reply)
		evbuffer_free(reply);
}

/*
 * Takes s off the list and off its connection's close callback, before
 * its request is answered (which may free the request); the caller frees s.
 */
static void scrape_unlink(struct prom_http *h, struct scrape *s)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(s->req);

	TAILQ_REMOVE(&h->scrapes, s, link);
	h->n_scrapes--;
	if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
}

static void scrape_free(struct scrape *s)
{
	prom_builder_free(s->builder);
	free(s);
}

/*
 * The scraper closed its connection before its exposition was ready: stop
 * rendering it. evhttp has detached the request it could not answer, so
 * it is ours to free.
 */
static void on_scraper_gone(struct evhttp_connection *evcon, void *arg)
{
	struct scrape *s = arg;

	scrape_unlink(s->h, s);
	if (!evhttp_request_get_connection(s->req))
		evhttp_request_free(s->req);
	scrape_free(s);
}

/*
 * Whether s's scraper has left. evhttp does not read a connection while
 * its request is being answered, so it would learn that only when the
 * exposition is written; ask the kernel instead, and close the connection
 * (on_scraper_gone frees s) rather than render for nobody.
 */
static bool drop_if_gone(struct scrape *s)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(s->req);

	if (!evcon) {
		on_scraper_gone(NULL, s);
		return true;
	}
	if (!peer_gone(bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)), true))
		return false;
	evhttp_connection_free(evcon);
	return true;
}

static void schedule_slice(struct prom_http *h)
{
	static const struct timeval now = { 0, 0 };

	if (!TAILQ_EMPTY(&h->scrapes))
		evtimer_add(h->slice_ev, &now);
}

/*
 * One slice of the first scrape, which then goes to the back: concurrent
 * scrapes take turns. Domains come from the engine as they are now, so a
 * domain destroyed mid-scrape is simply not reached; each domain's samples
 * are read at one moment.
 */
static void on_slice(evutil_socket_t fd, short what, void *arg)
{
	struct prom_http *h = arg;
	struct scrape *s = TAILQ_FIRST(&h->scrapes);

	if (!s)
		return;
	if (drop_if_gone(s)) {
		schedule_slice(h);
		return;
	}
	s->next_domid = engine_foreach_domain(h->engine, s->next_domid, h->slice_domains,
					      add_domain, s->builder);
	if (s->next_domid == ENGINE_DOMID_END) {
		scrape_unlink(h, s);
		scrape_send(h, s);
		scrape_free(s);
	} else {
		TAILQ_REMOVE(&h->scrapes, s, link);
		TAILQ_INSERT_TAIL(&h->scrapes, s, link);
	}
	schedule_slice(h);
}

/* Starts rendering a scrape for req; -ENOMEM or -EBUSY (MAX_SCRAPES in progress). */
static int scrape_start(struct prom_http *h, struct evhttp_request *req, enum prom_format format)
{
	struct scrape *s, *next;

	/* Scrapers that left free their places before a newcomer is refused. */
	for (s = TAILQ_FIRST(&h->scrapes); s && h->n_scrapes >= MAX_SCRAPES; s = next) {
		next = TAILQ_NEXT(s, link);
		drop_if_gone(s);
	}
	if (h->n_scrapes >= MAX_SCRAPES)
		return -EBUSY;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->builder = prom_builder_new(format);
	if (!s->builder) {
		free(s);
		return -ENOMEM;
	}
	s->h = h;
	s->req = req;
	s->format = format;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_scraper_gone, s);
	TAILQ_INSERT_TAIL(&h->scrapes, s, link);
	h->n_scrapes++;
	schedule_slice(h);
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct prom_http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum prom_format format;
	int r;

	if (!path || strcmp(path, "/metrics")) {
		send_status(req, HTTP_NOTFOUND, "Not Found", NULL, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		send_status(req, HTTP_BADMETHOD, "Method Not Allowed", "Allow", "GET");
		return;
	}
	format = prom_negotiate(evhttp_find_header(evhttp_request_get_input_headers(req), "Accept"));
	r = scrape_start(h, req, format);
	if (r == -EBUSY) {
		/* Prometheus retries at its next interval; say when to come back anyway. */
		send_status(req, HTTP_SERVUNAVAIL, "Too many scrapes in progress", "Retry-After",
			    "1");
	} else if (r < 0) {
		log_err("prometheus: cannot start a scrape: out of memory");
		send_status(req, HTTP_INTERNAL, "Internal Server Error", NULL, NULL);
	}
}

struct prom_http *prom_http_new(struct event_base *base, struct engine *engine,
				struct server *server, uint32_t slice_domains)
{
	struct prom_http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->engine = engine;
	h->server = server;
	prom_http_set_slice(h, slice_domains);
	TAILQ_INIT(&h->scrapes);
	h->slice_ev = evtimer_new(base, on_slice, h);
	h->http = evhttp_new(base);
	if (!h->slice_ev || !h->http) {
		prom_http_free(h);
		return NULL;
	}
	/* Every method reaches on_request, which answers 405 itself (evhttp would say 501). */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	/* A scraper sends a few hundred bytes of headers and no body. */
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_max_body_size(h->http, 4096);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_gencb(h->http, on_request, h);
	return h;
}

void prom_http_set_slice(struct prom_http *h, uint32_t slice_domains)
{
	h->slice_domains = slice_domains ? slice_domains : 1;
}

int prom_http_listen(struct prom_http *h, const char *address)
{
	char host[PROM_HOST_MAX];
	uint16_t port;

	if (prom_listen_parse(address, host, &port) < 0) {
		log_err("prometheus.listen: '%s' is not ADDRESS:PORT", address);
		return -EINVAL;
	}
	if (!evhttp_bind_socket_with_handle(h->http, host, port)) {
		log_err("prometheus: cannot listen on %s: %s", address, strerror(errno));
		return -EADDRNOTAVAIL;
	}
	log_notice("prometheus: serving /metrics on %s", address);
	return 0;
}

void prom_http_free(struct prom_http *h)
{
	struct scrape *s;

	if (!h)
		return;
	/*
	 * A scrape's request is evhttp's: answer it before evhttp_free() frees
	 * its connection (or, if the scraper left, frees the detached request).
	 */
	while ((s = TAILQ_FIRST(&h->scrapes))) {
		scrape_unlink(h, s);
		send_status(s->req, HTTP_SERVUNAVAIL, "Shutting down", NULL, NULL);
		scrape_free(s);
	}
	if (h->http)
		evhttp_free(h->http);
	if (h->slice_ev)
		event_free(h->slice_ev);
	free(h);
}

/*
 * The /metrics endpoint over evhttp (see http.h): gathers a view of the
 * engine and the server, renders it in the negotiated format and hands the
 * text to evhttp without a copy.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "prometheus/exposition.h"
#include "prometheus/http.h"
#include "util/log.h"
#include "xgm-config.h"

struct prom_http {
	struct engine *engine;
	struct server *server;
	struct evhttp *http;
	/* Reused between scrapes: the view's domain array. */
	struct prom_domain *domains;
	size_t n_domains, cap_domains;
	bool failed;		/* the array could not grow during this gathering */
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

static void gather_domain(void *ctx, unsigned int domid, const char *name, const char *uuid,
			  const struct guest_metrics *m, bool rate_limited)
{
	struct prom_http *h = ctx;

	if (h->n_domains == h->cap_domains) {
		size_t cap = h->cap_domains ? 2 * h->cap_domains : 64;
		struct prom_domain *p = realloc(h->domains, cap * sizeof(*p));

		if (!p) {
			h->failed = true;
			return;
		}
		h->domains = p;
		h->cap_domains = cap;
	}
	h->domains[h->n_domains++] = (struct prom_domain){ domid, name, uuid, m, rate_limited };
}

static void free_text(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

/* Renders the current state into reply; 0 or -ENOMEM. */
static int scrape(struct prom_http *h, enum prom_format format, struct evbuffer *reply)
{
	struct prom_view view = { .version = XGM_VERSION };
	char *text;
	size_t len;
	int r;

	h->n_domains = 0;
	h->failed = false;
	engine_foreach_domain(h->engine, gather_domain, h);
	if (h->failed)
		return -ENOMEM;
	view.domains = h->domains;
	view.n_domains = h->n_domains;
	engine_get_counters(h->engine, &view.engine);
	server_get_stats(h->server, &view.server);
	r = prom_render(&view, format, &text, &len);
	if (r < 0)
		return r;
	if (evbuffer_add_reference(reply, text, len, free_text, NULL) < 0) {
		free(text);
		return -ENOMEM;
	}
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct prom_http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	enum prom_format format;
	struct evbuffer *reply;

	if (!path || strcmp(path, "/metrics")) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(out, "Allow", "GET");
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	format = prom_negotiate(evhttp_find_header(evhttp_request_get_input_headers(req), "Accept"));
	reply = evbuffer_new();
	if (!reply || scrape(h, format, reply) < 0) {
		log_err("prometheus: cannot render a scrape: out of memory");
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		if (reply)
			evbuffer_free(reply);
		return;
	}
	evhttp_add_header(out, "Content-Type", prom_content_type(format));
	evhttp_send_reply(req, HTTP_OK, "OK", reply);
	evbuffer_free(reply);
}

struct prom_http *prom_http_new(struct event_base *base, struct engine *engine,
				struct server *server)
{
	struct prom_http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->engine = engine;
	h->server = server;
	h->http = evhttp_new(base);
	if (!h->http) {
		free(h);
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
	if (!h)
		return;
	evhttp_free(h->http);
	free(h->domains);
	free(h);
}

/*
 * The /metrics endpoint: an evhttp server on xgmd's own loop that answers
 * GET /metrics with the exposition (exposition.h) of the engine's and the
 * socket server's current state. A scrape reads memory only, never
 * xenstore. Everything else gets 404 (another path) or 405 (another
 * method). It owns the evhttp instance, its connections and the scrapes
 * being rendered.
 */
#pragma once

#include <stdint.h>
#include <event2/event.h>

#include "engine/engine.h"
#include "server/server.h"

/* "HOST:PORT" with HOST an IPv4 address or a [bracketed] IPv6 one, or ":PORT" for 127.0.0.1. */
#define PROM_HOST_MAX 64	/* NUL included */

/* Splits a [prometheus] listen value; 0 or -EINVAL. Pure. */
int prom_listen_parse(const char *address, char host[PROM_HOST_MAX], uint16_t *port);

struct prom_http;

/*
 * engine and server are borrowed and must outlive it. A scrape renders at
 * most slice_domains domains per loop turn ([prometheus] slice_domains).
 * NULL on ENOMEM.
 */
struct prom_http *prom_http_new(struct event_base *base, struct engine *engine,
				struct server *server, uint32_t slice_domains);

/* A reload's slice_domains, from the next slice on. */
void prom_http_set_slice(struct prom_http *h, uint32_t slice_domains);

/* Binds and listens on address (as prom_listen_parse() takes it); logs why on failure. */
int prom_http_listen(struct prom_http *h, const char *address);

/* Closes the listener and every connection. NULL is fine. */
void prom_http_free(struct prom_http *h);

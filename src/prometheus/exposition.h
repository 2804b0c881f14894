/*
 * The Prometheus exposition of xgmd's state: a pure function from a
 * read-only view (the domains' published guest metrics and the daemon's
 * counters) to the text format 0.0.4 or OpenMetrics 1.0, and the Accept
 * negotiation between them. No I/O and no engine access: the HTTP side
 * (prometheus/http.c) gathers the view and sends the text.
 *
 * Guest bytes become label values only through prom_label_value(): UTF-8
 * repaired, NUL replaced, cut to PROM_LABEL_VALUE_MAX bytes on a character
 * boundary, then escaped. Every domain has the same bounded label set.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "metrics/metrics.h"
#include "server/server.h"

/* Raw bytes (after repair) kept of one label value; escaping at most doubles them. */
#define PROM_LABEL_VALUE_MAX 128
/* Room for one escaped label value, NUL included. */
#define PROM_LABEL_ESCAPED_MAX (2 * PROM_LABEL_VALUE_MAX + 1)

enum prom_format {
	PROM_FORMAT_TEXT,		/* text/plain; version=0.0.4 */
	PROM_FORMAT_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

struct prom_domain {
	unsigned int domid;
	const char *name;		/* NULL: unknown */
	const char *uuid;		/* NULL: unknown */
	const struct guest_metrics *m;
	bool rate_limited;		/* the publication limit holds a batch back */
};

/* The daemon's own series, taken when an exposition is finished. */
struct prom_daemon {
	struct engine_counters engine;
	struct server_stats server;
	const char *version;		/* xgm's version, for xgm_build_info */
};

/*
 * One exposition being built a domain at a time, so that a caller can
 * spread the work of thousands of domains over several loop turns. Each
 * family's samples accumulate in a buffer of their own, and finishing
 * writes the families whole, one after another, as both formats require.
 */
struct prom_builder;

/* A builder for format (the caller frees it with prom_builder_finish() or _free()); NULL: no memory. */
struct prom_builder *prom_builder_new(enum prom_format format);

/*
 * Adds d's samples. Everything in d is read during the call only. Out of
 * memory is remembered and reported by prom_builder_finish().
 */
void prom_builder_add(struct prom_builder *b, const struct prom_domain *d);

/*
 * Frees b and renders what it holds, then daemon's series, into a
 * malloc'ed text (*text, *len; the caller frees), NUL-terminated (not
 * counted in *len). 0, or -ENOMEM with *text NULL.
 */
int prom_builder_finish(struct prom_builder *b, const struct prom_daemon *daemon, char **text,
			size_t *len);

void prom_builder_free(struct prom_builder *b);

/* The Content-Type of a response in format. */
const char *prom_content_type(enum prom_format format);

/*
 * The format for an Accept header (NULL: none): the supported media range
 * with the highest q, the earlier one on a tie; text when nothing matches.
 */
enum prom_format prom_negotiate(const char *accept);

/*
 * Writes the escaped, bounded form of s[0..len) (any bytes) to out, which
 * holds PROM_LABEL_ESCAPED_MAX bytes; returns its length (NUL not counted).
 */
size_t prom_label_value(const char *s, size_t len, char *out);

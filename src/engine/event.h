/*
 * How a domain is written in JSON: its identity, and the event lines the
 * engine publishes and snapshots (docs/protocol.md). Pure.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "domain/domain.h"
#include "json/jsonw.h"
#include "metrics/metrics.h"
#include "protocol/message.h"

/* "id":..,"name":..,"uuid":.. of a domain, into an open map. */
void event_write_identity(struct jsonw *w, const struct domain *d);
/* "domain":{identity}, into an open map. */
void event_write_domain_ref(struct jsonw *w, const struct domain *d);

/*
 * Encodes one event line into w (reset first), stamped with the wall
 * clock now; changed may be NULL. 0 or a negative errno.
 */
int event_encode(struct jsonw *w, const struct domain *d, const struct guest_metrics *m,
		 enum xgm_event kind, uint64_t seq, const char *const *changed, size_t n_changed);

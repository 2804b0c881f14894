/* Event lines (event.h). */
#include <sys/time.h>

#include "engine/event.h"
#include "metrics/metrics-json.h"

void event_write_identity(struct jsonw *w, const struct domain *d)
{
	jsonw_cstr(w, "id");
	jsonw_int(w, d->domid);
	jsonw_cstr(w, "name");
	jsonw_cstr_or_null(w, d->name);
	jsonw_cstr(w, "uuid");
	jsonw_cstr_or_null(w, d->uuid);
}

void event_write_domain_ref(struct jsonw *w, const struct domain *d)
{
	jsonw_cstr(w, "domain");
	jsonw_map_open(w);
	event_write_identity(w, d);
	jsonw_map_close(w);
}

int event_encode(struct jsonw *w, const struct domain *d, const struct guest_metrics *m,
		 enum xgm_event kind, uint64_t seq, const char *const *changed, size_t n_changed)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	jsonw_reset(w);
	message_event_open(w, seq, kind);
	jsonw_cstr(w, "timestamp");
	jsonw_map_open(w);
	jsonw_cstr(w, "seconds");
	jsonw_int(w, tv.tv_sec);
	jsonw_cstr(w, "microseconds");
	jsonw_int(w, tv.tv_usec);
	jsonw_map_close(w);
	event_write_domain_ref(w, d);
	if (changed) {
		jsonw_cstr(w, "changed");
		jsonw_array_open(w);
		for (size_t i = 0; i < n_changed; i++)
			jsonw_cstr(w, changed[i]);
		jsonw_array_close(w);
	}
	if (kind != XGM_EVENT_DOMAIN_GONE) {
		jsonw_cstr(w, "data");
		metrics_json(w, m);
	}
	jsonw_map_close(w);
	return jsonw_error(w);
}

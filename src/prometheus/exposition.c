/*
 * Renders the Prometheus exposition (see exposition.h). A builder takes
 * one domain at a time: its identity labels are escaped once and its
 * samples go to one buffer per family; finishing writes the families
 * whole, one after another, as both formats require.
 * The text is built with memcpy and a hand-rolled integer formatter: at
 * 3000 domains a scrape writes ~35000 lines on the loop's time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prometheus/exposition.h"
#include "util/array.h"
#include "util/utf8.h"

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

static bool reserve(struct out *o, size_t more)
{
	if (o->failed)
		return false;
	if (more > SIZE_MAX - o->len ||
	    ARRAY_RESERVE(o->buf, o->cap, o->len + more, 65536, SIZE_MAX) < 0) {
		o->failed = true;
		return false;
	}
	return true;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(struct out *o, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	put(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

size_t prom_label_value(const char *s, size_t len, char *out)
{
	size_t kept = 0, n = 0;

	for (size_t i = 0; i < len;) {
		size_t seq = s[i] ? utf8_sequence_length((const unsigned char *)s + i, len - i) : 0;
		const char *c = seq ? s + i : UTF8_REPLACEMENT;
		size_t clen = seq ? seq : 3;

		if (kept + clen > PROM_LABEL_VALUE_MAX)
			break;	/* cut on a character boundary */
		kept += clen;
		i += seq ? seq : 1;
		if (clen == 1 && (*c == '\\' || *c == '"' || *c == '\n')) {
			out[n++] = '\\';
			out[n++] = *c == '\n' ? 'n' : *c;
		} else {
			memcpy(out + n, c, clen);
			n += clen;
		}
	}
	out[n] = '\0';
	return n;
}

static void put_label(struct out *o, const char *name, const char *value, size_t len)
{
	char esc[PROM_LABEL_ESCAPED_MAX];
	size_t n = prom_label_value(value ? value : "", value ? len : 0, esc);

	puts_(o, name);
	put(o, "=\"", 2);
	put(o, esc, n);
	put(o, "\"", 1);
}

static void put_label_str(struct out *o, const char *name, const char *value)
{
	put_label(o, name, value, value ? strlen(value) : 0);
}

/* A string-map entry as a label: its value, "" when the key is absent. */
static void put_label_field(struct out *o, const char *name, const struct gm_map *m,
			    const char *key)
{
	const struct gm_pair *p = gm_map_find(m, key, strlen(key));

	put(o, ",", 1);
	put_label(o, name, p ? p->value : NULL, p ? p->value_len : 0);
}

/* ---- families ---- */

enum kind { GAUGE, COUNTER, INFO };

/*
 * HELP, TYPE (and UNIT) for a family. name is the sample name without
 * _total (counters) or _info (info); unit, when set, is its last suffix.
 */
static void family(struct out *o, enum prom_format f, const char *name, enum kind kind,
		   const char *unit, const char *help)
{
	static const char *const type_names[] = { "gauge", "counter", "info" };
	/* The 0.0.4 family of a counter is its sample name; info is a gauge there. */
	const char *suffix = f == PROM_FORMAT_OPENMETRICS ? "" :
			     kind == COUNTER ? "_total" : kind == INFO ? "_info" : "";
	const char *type = f == PROM_FORMAT_TEXT && kind == INFO ? "gauge" : type_names[kind];

	put(o, "# HELP ", 7);
	puts_(o, name);
	puts_(o, suffix);
	put(o, " ", 1);
	puts_(o, help);
	put(o, "\n# TYPE ", 8);
	puts_(o, name);
	puts_(o, suffix);
	put(o, " ", 1);
	puts_(o, type);
	put(o, "\n", 1);
	if (unit && f == PROM_FORMAT_OPENMETRICS) {
		put(o, "# UNIT ", 7);
		puts_(o, name);
		put(o, " ", 1);
		puts_(o, unit);
		put(o, "\n", 1);
	}
}

static void sample(struct out *o, const char *name, const char *labels, uint64_t v)
{
	puts_(o, name);
	if (labels) {
		put(o, "{", 1);
		puts_(o, labels);
		put(o, "}", 1);
	}
	put(o, " ", 1);
	put_uint(o, v);
	put(o, "\n", 1);
}

/* A one-sample family of the daemon itself. */
static void daemon_series(struct out *o, enum prom_format f, const char *name, enum kind kind,
			  const char *help, uint64_t v)
{
	char sname[96];

	family(o, f, name, kind, NULL, help);
	snprintf(sname, sizeof(sname), "%s%s", name, kind == COUNTER ? "_total" : "");
	sample(o, sname, NULL, v);
}

/* ---- per domain ---- */

/* A per-domain gauge: its value, or GM_ABSENT for no sample. */
struct domain_gauge {
	const char *name, *unit, *help;
	long long (*value)(const struct prom_domain *d);
};

static long long kib_to_bytes(long long kib)
{
	return kib == GM_ABSENT ? GM_ABSENT : kib * 1024;
}

static long long v_detected(const struct prom_domain *d) { return d->m->pv_drivers_detected; }
static long long v_up_to_date(const struct prom_domain *d) { return d->m->pv_drivers_up_to_date; }
static long long v_not_upgradable(const struct prom_domain *d) { return d->m->pv_drivers_not_upgradable; }
static long long v_live(const struct prom_domain *d) { return d->m->live; }
static long long v_mem_total(const struct prom_domain *d) { return kib_to_bytes(d->m->memory.total_kib); }
static long long v_mem_free(const struct prom_domain *d) { return kib_to_bytes(d->m->memory.free_kib); }
static long long v_last_updated(const struct prom_domain *d) { return d->m->last_updated; }
static long long v_limit_reached(const struct prom_domain *d) { return d->m->limit_reached; }
static long long v_rate_limited(const struct prom_domain *d) { return d->rate_limited; }

static const struct domain_gauge domain_gauges[] = {
	{ "xgm_guest_pv_drivers_detected", NULL,
	  "1 when the guest reports PV drivers with a parsable version.", v_detected },
	{ "xgm_guest_pv_drivers_up_to_date", NULL,
	  "1 when the PV drivers are up to date (or declared not upgradable).", v_up_to_date },
	{ "xgm_guest_pv_drivers_not_upgradable", NULL,
	  "1 when the guest wrote attr/PVAddons/NotUpgradable=1.", v_not_upgradable },
	{ "xgm_guest_agent_live", NULL,
	  "1 when a guest agent wrote within the live timeout.", v_live },
	{ "xgm_guest_memory_total_bytes", "bytes",
	  "Memory total as the guest agent reports it; absent when unknown.", v_mem_total },
	{ "xgm_guest_memory_free_bytes", "bytes",
	  "Memory free as the guest agent reports it; absent when unknown.", v_mem_free },
	{ "xgm_guest_last_updated_timestamp_seconds", "seconds",
	  "When the guest metrics last changed, in seconds since the epoch.", v_last_updated },
	{ "xgm_guest_limit_reached", NULL,
	  "1 when the domain's keys hit xgmd's per-domain limits.", v_limit_reached },
	{ "xgm_guest_rate_limited", NULL,
	  "1 while the domain's publication limit holds a batch of its changes back.", v_rate_limited },
};

/* Addresses in networks ("<vif>/ipv4/<i>", "<vif>/ipv6/<i>"; not the "<vif>/ip" alias). */
static void count_addresses(const struct gm_map *nets, uint64_t *v4, uint64_t *v6)
{
	*v4 = *v6 = 0;
	for (size_t i = 0; i < nets->count; i++) {
		const char *k = nets->items[i].key;

		if (strstr(k, "/ipv4/"))
			(*v4)++;
		else if (strstr(k, "/ipv6/"))
			(*v6)++;
	}
}

/* "major.minor.micro.build" from what the guest wrote, parts missing left out. */
static void put_tools_version(struct out *o, const struct gm_map *pv)
{
	static const char *const parts[] = { "major", "minor", "micro", "build" };
	char raw[4 * (PROM_LABEL_VALUE_MAX + 1)];
	size_t n = 0;

	for (size_t i = 0; i < 4; i++) {
		const struct gm_pair *p = gm_map_find(pv, parts[i], strlen(parts[i]));
		size_t len;

		if (!p)
			continue;
		len = p->value_len < PROM_LABEL_VALUE_MAX ? p->value_len : PROM_LABEL_VALUE_MAX;
		if (n)
			raw[n++] = '.';
		memcpy(raw + n, p->value, len);
		n += len;
	}
	put(o, ",", 1);
	put_label(o, "tools_version", raw, n);
}

/* One family per domain gauge, then the address counts, then the info series. */
#define N_GAUGES (sizeof(domain_gauges) / sizeof(domain_gauges[0]))
#define FAMILY_ADDRESSES N_GAUGES
#define FAMILY_INFO (N_GAUGES + 1)
#define N_FAMILIES (N_GAUGES + 2)

struct prom_builder {
	enum prom_format format;
	struct out family[N_FAMILIES];	/* each family's samples, without its header */
	struct out labels;		/* the domain being added: its identity labels */
	bool failed;
};

struct prom_builder *prom_builder_new(enum prom_format format)
{
	struct prom_builder *b = calloc(1, sizeof(*b));

	if (b)
		b->format = format;
	return b;
}

void prom_builder_free(struct prom_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < N_FAMILIES; i++)
		free(b->family[i].buf);
	free(b->labels.buf);
	free(b);
}

/* d's domid, name and vm_uuid labels, escaped, into labels (NUL-terminated). */
static void domain_labels(const struct prom_domain *d, struct out *labels)
{
	puts_(labels, "domid=\"");
	put_uint(labels, d->domid);
	puts_(labels, "\",");
	put_label_str(labels, "name", d->name);
	put(labels, ",", 1);
	put_label_str(labels, "vm_uuid", d->uuid);
	put(labels, "", 1);
}

void prom_builder_add(struct prom_builder *b, const struct prom_domain *d)
{
	struct out *labels = &b->labels;
	const struct guest_metrics *m = d->m;
	struct out *o;
	uint64_t v4, v6;

	labels->len = 0;
	domain_labels(d, labels);
	if (labels->failed) {
		b->failed = true;
		return;
	}
	for (size_t g = 0; g < N_GAUGES; g++) {
		long long val = domain_gauges[g].value(d);

		if (val != GM_ABSENT)
			sample(&b->family[g], domain_gauges[g].name, labels->buf, (uint64_t)val);
	}

	o = &b->family[FAMILY_ADDRESSES];
	count_addresses(&m->networks, &v4, &v6);
	for (int fam = 0; fam < 2; fam++) {
		puts_(o, "xgm_guest_addresses{");
		puts_(o, labels->buf);
		puts_(o, fam ? ",family=\"ipv6\"} " : ",family=\"ipv4\"} ");
		put_uint(o, fam ? v6 : v4);
		put(o, "\n", 1);
	}

	o = &b->family[FAMILY_INFO];
	puts_(o, "xgm_guest_info{");
	puts_(o, labels->buf);
	put_label_field(o, "os_distro", &m->os_version, "distro");
	put_label_field(o, "os_name", &m->os_version, "name");
	put_label_field(o, "os_major", &m->os_version, "major");
	put_label_field(o, "os_minor", &m->os_version, "minor");
	put_tools_version(o, &m->pv_drivers_version);
	puts_(o, "} 1\n");

	for (size_t i = 0; i < N_FAMILIES; i++)
		b->failed |= b->family[i].failed;
}

/* Each per-domain family: its header, then the samples the builder holds. */
static void render_domains(struct out *o, const struct prom_builder *b)
{
	enum prom_format f = b->format;

	for (size_t g = 0; g < N_GAUGES; g++) {
		const struct domain_gauge *dg = &domain_gauges[g];

		family(o, f, dg->name, GAUGE, dg->unit, dg->help);
		put(o, b->family[g].buf, b->family[g].len);
	}
	family(o, f, "xgm_guest_addresses", GAUGE, NULL,
	       "Addresses the guest agent reports, per family.");
	put(o, b->family[FAMILY_ADDRESSES].buf, b->family[FAMILY_ADDRESSES].len);
	family(o, f, "xgm_guest", INFO, NULL,
	       "The guest's OS and tools, as its agent reports them (guest-controlled strings).");
	put(o, b->family[FAMILY_INFO].buf, b->family[FAMILY_INFO].len);
}

static void render_daemon(struct out *o, enum prom_format f, const struct prom_daemon *v)
{
	const struct engine_counters *e = &v->engine;
	static const char *const kinds[] = { "read", "directory", "watch", "other" };
	const uint64_t requests[] = { e->xs.req.reads, e->xs.req.directories, e->xs.req.watches,
				      e->xs.req.other_requests };

	daemon_series(o, f, "xgm_domains", GAUGE, "Domains xgmd tracks.", e->domains);
	daemon_series(o, f, "xgm_resync_pending", GAUGE,
		      "Domains still to (re)read after a start or a reconnection.", e->resync_pending);
	daemon_series(o, f, "xgm_events_published", COUNTER, "Events published.",
		      e->events_published);
	daemon_series(o, f, "xgm_batches", COUNTER, "Settled batches read.", e->batches);
	daemon_series(o, f, "xgm_identical_batches", COUNTER,
		      "Settled batches that changed nothing.", e->identical_batches);
	family(o, f, "xgm_xenstore_requests", COUNTER, NULL, "xenstore requests, by kind.");
	for (size_t i = 0; i < 4; i++) {
		puts_(o, "xgm_xenstore_requests_total{kind=\"");
		puts_(o, kinds[i]);
		puts_(o, "\"} ");
		put_uint(o, requests[i]);
		put(o, "\n", 1);
	}
	daemon_series(o, f, "xgm_xenstore_watch_events", COUNTER, "xenstore watch events received.",
		      e->xs.events);
	daemon_series(o, f, "xgm_xenstore_reconnects", COUNTER,
		      "Connections to xenstore after the first.",
		      e->xenstore_connects ? e->xenstore_connects - 1 : 0);
	daemon_series(o, f, "xgm_xenstore_connected", GAUGE, "1 while xenstore is connected.",
		      e->xenstore_connected);
	daemon_series(o, f, "xgm_clients", GAUGE, "Clients connected to the event socket.",
		      v->server.clients);
	daemon_series(o, f, "xgm_subscribers", GAUGE, "Clients subscribed to events.",
		      v->server.subscribers);
	daemon_series(o, f, "xgm_events_dropped", COUNTER,
		      "Events not sent to a subscriber over its output cap.", v->server.events_dropped);
	daemon_series(o, f, "xgm_lost_notices", COUNTER, "\"lost\" notices sent to subscribers.",
		      v->server.lost_notices);
	family(o, f, "xgm_build", INFO, NULL, "xgmd's version.");
	puts_(o, "xgm_build_info{");
	put_label_str(o, "version", v->version);
	puts_(o, "} 1\n");
}

int prom_builder_finish(struct prom_builder *b, const struct prom_daemon *daemon, char **text,
			size_t *len)
{
	struct out o = { 0 };
	size_t size = 8192;	/* the headers and the daemon's series */
	int r = 0;

	*text = NULL;
	*len = 0;
	for (size_t i = 0; i < N_FAMILIES; i++)
		size += b->family[i].len;
	/* One allocation in the common case. */
	if (!b->failed && reserve(&o, size)) {
		render_domains(&o, b);
		render_daemon(&o, b->format, daemon);
		if (b->format == PROM_FORMAT_OPENMETRICS)
			puts_(&o, "# EOF\n");
		put(&o, "", 1);	/* a C string too, for callers that want one */
	}
	if (b->failed || o.failed) {
		free(o.buf);
		r = -ENOMEM;
	} else {
		*text = o.buf;
		*len = o.len - 1;
	}
	prom_builder_free(b);
	return r;
}

const char *prom_content_type(enum prom_format format)
{
	return format == PROM_FORMAT_OPENMETRICS ?
		"application/openmetrics-text; version=1.0.0; charset=utf-8" :
		"text/plain; version=0.0.4; charset=utf-8";
}

/* q of one media range's parameters ("; q=0.5"), 1 when absent. */
static double range_q(const char *params, size_t len)
{
	for (size_t i = 0; i + 2 <= len; i++) {
		if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=' &&
		    (i == 0 || params[i - 1] == ';' || params[i - 1] == ' '))
			return strtod(params + i + 2, NULL);
	}
	return 1.0;
}

enum prom_format prom_negotiate(const char *accept)
{
	enum prom_format best = PROM_FORMAT_TEXT;
	double best_q = -1;

	for (const char *p = accept; p && *p;) {
		size_t len = strcspn(p, ","), type_len;
		const char *type;
		double q;
		int fmt = -1;

		type = p + strspn(p, " \t");
		type_len = strcspn(type, ";, \t");
		if (type_len == 28 && !strncasecmp(type, "application/openmetrics-text", 28))
			fmt = PROM_FORMAT_OPENMETRICS;
		else if ((type_len == 10 && !strncasecmp(type, "text/plain", 10)) ||
			 (type_len == 3 && !strncmp(type, "*/*", 3)))
			fmt = PROM_FORMAT_TEXT;
		q = range_q(type + type_len, len - (size_t)(type + type_len - p));
		if (fmt >= 0 && q > 0 && q > best_q) {
			best = (enum prom_format)fmt;
			best_q = q;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return best;
}

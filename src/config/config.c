/*
 * The INI parser behind struct xgm_config: one table lists every key with
 * its type, range, place in the struct and whether a reload changes it, so
 * parsing, --set, formatting, reloading and xgmd.conf(5) (checked against
 * the table by tests/install/test-conf-page.py) cannot drift apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "config/defaults.h"
#include "util/log.h"

enum key_type {
	KEY_UINT,	/* decimal uint32_t in [min, max] */
	KEY_MODE,	/* octal permission bits */
	KEY_BOOL,
	KEY_LEVEL,	/* log level name */
	KEY_PATH,	/* absolute path that fits in sun_path */
	KEY_STRING,
};

/* When a new value takes effect: on SIGHUP, or only when xgmd starts again. */
enum key_apply {
	AT_RELOAD,
	AT_RESTART,
};

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;		/* KEY_PATH, KEY_STRING: buffer size */
	uint32_t min, max;	/* KEY_UINT */
	enum key_apply apply;
};

#define FIELD(sec, field) offsetof(struct xgm_config, sec.field)
#define UINT(sec, field, lo, hi, apply) { #sec, #field, KEY_UINT, FIELD(sec, field), 0, lo, hi, apply }

/*
 * In the order of data/xgmd.conf. AT_RESTART: the socket is bound once, the
 * xenstore connections are opened once, and rebinding the Prometheus
 * listener would need a second one while scrapes are in flight.
 */
static const struct key keys[] = {
	{ "daemon", "socket", KEY_PATH, FIELD(daemon, socket), CONFIG_SOCKET_MAX, 0, 0, AT_RESTART },
	{ "daemon", "socket_mode", KEY_MODE, FIELD(daemon, socket_mode), 0, 0, 0777, AT_RESTART },
	{ "daemon", "socket_group", KEY_STRING, FIELD(daemon, socket_group), CONFIG_GROUP_MAX, 0, 0,
	  AT_RESTART },
	{ "daemon", "log_level", KEY_LEVEL, FIELD(daemon, log_level), 0, 0, 0, AT_RELOAD },
	UINT(settle, quiet_ms, 0, 3600000, AT_RELOAD),
	UINT(settle, max_wait_ms, 1, 3600000, AT_RELOAD),
	{ "settle", "strict", KEY_BOOL, FIELD(settle, strict), 0, 0, 0, AT_RELOAD },
	{ "metrics", "reference_version", KEY_STRING, FIELD(metrics, reference_version),
	  CONFIG_REFERENCE_VERSION_MAX, 0, 0, AT_RELOAD },
	UINT(metrics, live_timeout_s, 1, 31536000, AT_RELOAD),
	UINT(limits, max_keys_per_domain, 1, 1000000, AT_RELOAD),
	UINT(limits, max_bytes_per_domain, 1024, 1073741824, AT_RELOAD),
	UINT(limits, publish_burst, 1, 1000, AT_RELOAD),
	UINT(limits, publish_rate, 0, 1000, AT_RELOAD),
	UINT(limits, max_clients, 1, 65536, AT_RELOAD),
	/* Below a few KiB a single snapshot line could not fit. */
	UINT(limits, client_output_cap, 4096, 1073741824, AT_RELOAD),
	UINT(limits, client_stall_timeout_s, 0, 86400, AT_RELOAD),
	UINT(xenstore, watch_connections, 1, 16, AT_RESTART),	/* XS_CONN_WATCH_HANDLES_MAX */
	UINT(xenstore, request_connections, 1, 64, AT_RESTART),	/* XS_CONN_WORKERS_MAX */
	UINT(xenstore, request_timeout_ms, 10, 3600000, AT_RESTART),
	UINT(xenstore, liveness_ms, 10, 3600000, AT_RESTART),
	UINT(xenstore, reconnect_min_ms, 1, 3600000, AT_RESTART),
	UINT(xenstore, reconnect_max_ms, 1, 3600000, AT_RESTART),
	{ "xenstore", "reread_all", KEY_BOOL, FIELD(xenstore, reread_all), 0, 0, 0, AT_RESTART },
	{ "prometheus", "listen", KEY_STRING, FIELD(prometheus, listen), CONFIG_LISTEN_MAX, 0, 0,
	  AT_RESTART },
	UINT(prometheus, slice_domains, 1, 100000, AT_RELOAD),
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(CONFIG_SOCKET_MAX >= CONFIG_GROUP_MAX && CONFIG_SOCKET_MAX >= CONFIG_LISTEN_MAX &&
	       CONFIG_SOCKET_MAX >= CONFIG_REFERENCE_VERSION_MAX, "config_keep_restart_keys() buffer");

/* Every key's default, from config/defaults.h: static, so even padding is zero. */
static const struct xgm_config defaults = {
	.daemon = {
		.socket = XGM_DEFAULT_DAEMON_SOCKET,
		.socket_mode = XGM_DEFAULT_DAEMON_SOCKET_MODE,
		.socket_group = XGM_DEFAULT_DAEMON_SOCKET_GROUP,
		.log_level = XGM_DEFAULT_DAEMON_LOG_LEVEL,
	},
	.settle = {
		.quiet_ms = XGM_DEFAULT_SETTLE_QUIET_MS,
		.max_wait_ms = XGM_DEFAULT_SETTLE_MAX_WAIT_MS,
		.strict = XGM_DEFAULT_SETTLE_STRICT,
	},
	.metrics = {
		.reference_version = XGM_DEFAULT_METRICS_REFERENCE_VERSION,
		.live_timeout_s = XGM_DEFAULT_METRICS_LIVE_TIMEOUT_S,
	},
	.limits = {
		.max_keys_per_domain = XGM_DEFAULT_LIMITS_MAX_KEYS_PER_DOMAIN,
		.max_bytes_per_domain = XGM_DEFAULT_LIMITS_MAX_BYTES_PER_DOMAIN,
		.publish_burst = XGM_DEFAULT_LIMITS_PUBLISH_BURST,
		.publish_rate = XGM_DEFAULT_LIMITS_PUBLISH_RATE,
		.max_clients = XGM_DEFAULT_LIMITS_MAX_CLIENTS,
		.client_output_cap = XGM_DEFAULT_LIMITS_CLIENT_OUTPUT_CAP,
		.client_stall_timeout_s = XGM_DEFAULT_LIMITS_CLIENT_STALL_TIMEOUT_S,
	},
	.xenstore = {
		.watch_connections = XGM_DEFAULT_XENSTORE_WATCH_CONNECTIONS,
		.request_connections = XGM_DEFAULT_XENSTORE_REQUEST_CONNECTIONS,
		.request_timeout_ms = XGM_DEFAULT_XENSTORE_REQUEST_TIMEOUT_MS,
		.liveness_ms = XGM_DEFAULT_XENSTORE_LIVENESS_MS,
		.reconnect_min_ms = XGM_DEFAULT_XENSTORE_RECONNECT_MIN_MS,
		.reconnect_max_ms = XGM_DEFAULT_XENSTORE_RECONNECT_MAX_MS,
		.reread_all = XGM_DEFAULT_XENSTORE_REREAD_ALL,
	},
	.prometheus = {
		.listen = XGM_DEFAULT_PROMETHEUS_LISTEN,
		.slice_domains = XGM_DEFAULT_PROMETHEUS_SLICE_DOMAINS,
	},
};

void config_init(struct xgm_config *cfg)
{
	*cfg = defaults;
}

/* Where a message points: "file:line" or "--set". */
struct where {
	const char *name;
	unsigned int line;
};

static int fail(struct config_diag *diag, const struct where *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vformat(char *buf, size_t size, const struct where *at, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void vformat(char *buf, size_t size, const struct where *at, const char *fmt, va_list ap)
{
	int n;

	if (at->line)
		n = snprintf(buf, size, "%s:%u: ", at->name, at->line);
	else
		n = snprintf(buf, size, "%s: ", at->name);
	if (n < 0 || (size_t)n >= size)
		return;
	vsnprintf(buf + n, size - (size_t)n, fmt, ap);
}

static int fail(struct config_diag *diag, const struct where *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(diag->error, sizeof(diag->error), at, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void warn(struct config_diag *diag, const struct where *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn(struct config_diag *diag, const struct where *at, const char *fmt, ...)
{
	char msg[sizeof(diag->error)];
	va_list ap;

	if (!diag->warn)
		return;
	va_start(ap, fmt);
	vformat(msg, sizeof(msg), at, fmt, ap);
	va_end(ap);
	diag->warn(diag->warn_arg, msg);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_blank((*s)[*len - 1]))
		(*len)--;
}

static bool equal(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool equal_nocase(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static bool known_section(const char *s, size_t len)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (equal(s, len, keys[i].section))
			return true;
	return false;
}

static const struct key *find_key(const char *section, size_t section_len, const char *name, size_t len)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (equal(section, section_len, keys[i].section) && equal(name, len, keys[i].name))
			return &keys[i];
	return NULL;
}

static bool parse_uint(const char *s, size_t len, unsigned int base, uint32_t *ret)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned int digit = (unsigned int)(s[i] - '0');

		if (s[i] < '0' || digit >= base)
			return false;
		v = v * base + digit;
		if (v > UINT32_MAX)
			return false;
	}
	*ret = (uint32_t)v;
	return true;
}

static int set_value(struct xgm_config *cfg, const struct key *k, const char *v, size_t len,
		     struct config_diag *diag, const struct where *at)
{
	char *field = (char *)cfg + k->offset;
	uint32_t u;

	switch (k->type) {
	case KEY_UINT:
		if (!parse_uint(v, len, 10, &u) || u < k->min || u > k->max)
			return fail(diag, at, "%s.%s must be an integer from %u to %u, not \"%.*s\"",
				    k->section, k->name, k->min, k->max, (int)(len > 40 ? 40 : len), v);
		memcpy(field, &u, sizeof(u));
		return 0;
	case KEY_MODE:
		if (!parse_uint(v, len, 8, &u) || u > k->max)
			return fail(diag, at, "%s.%s must be octal permission bits like 0660, not \"%.*s\"",
				    k->section, k->name, (int)(len > 40 ? 40 : len), v);
		memcpy(field, &u, sizeof(u));
		return 0;
	case KEY_BOOL: {
		bool b;

		if (equal_nocase(v, len, "true") || equal_nocase(v, len, "yes") ||
		    equal_nocase(v, len, "on") || equal(v, len, "1"))
			b = true;
		else if (equal_nocase(v, len, "false") || equal_nocase(v, len, "no") ||
			 equal_nocase(v, len, "off") || equal(v, len, "0"))
			b = false;
		else
			return fail(diag, at, "%s.%s must be true or false, not \"%.*s\"",
				    k->section, k->name, (int)(len > 40 ? 40 : len), v);
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case KEY_LEVEL: {
		/* log_level_parse() takes a C string; no level name is this long. */
		char name[16];
		enum log_level level;

		if (len < sizeof(name) && !memchr(v, '\0', len)) {
			memcpy(name, v, len);
			name[len] = '\0';
			if (log_level_parse(name, &level) == 0) {
				int i = (int)level;

				memcpy(field, &i, sizeof(i));
				return 0;
			}
		}
		return fail(diag, at, "%s.%s must be " LOG_LEVEL_NAMES ", not \"%.*s\"",
			    k->section, k->name, (int)(len > 40 ? 40 : len), v);
	}
	case KEY_PATH:
		if (len == 0 || v[0] != '/')
			return fail(diag, at, "%s.%s must be an absolute path", k->section, k->name);
		/* fall through */
	case KEY_STRING:
		if (len >= k->size)
			return fail(diag, at, "%s.%s is longer than %zu bytes", k->section, k->name,
				    k->size - 1);
		if (memchr(v, '\0', len))
			return fail(diag, at, "%s.%s contains a NUL byte", k->section, k->name);
		memcpy(field, v, len);
		field[len] = '\0';
		return 0;
	}
	return fail(diag, at, "internal error: key type %d", (int)k->type);
}

/* A value may be quoted to keep its blanks or to be empty; there are no escapes. */
static void unquote(const char **v, size_t *len)
{
	if (*len >= 2 && (*v)[0] == '"' && (*v)[*len - 1] == '"') {
		(*v)++;
		*len -= 2;
	}
}

static int parse_line(struct xgm_config *cfg, const char *s, size_t len, const char **section,
		      size_t *section_len, bool *skip_section, struct config_diag *diag,
		      const struct where *at)
{
	const char *eq, *key, *value;
	const struct key *k;
	size_t key_len, value_len;

	trim(&s, &len);
	if (len == 0 || s[0] == '#' || s[0] == ';')
		return 0;
	if (memchr(s, '\0', len))
		return fail(diag, at, "NUL byte in line");
	if (s[0] == '[') {
		if (s[len - 1] != ']')
			return fail(diag, at, "section header without a closing ]");
		s++;
		len -= 2;
		trim(&s, &len);
		*section = s;
		*section_len = len;
		*skip_section = false;
		if (known_section(s, len))
			return 0;
		if (diag->strict)
			return fail(diag, at, "unknown section [%.*s]", (int)(len > 40 ? 40 : len), s);
		warn(diag, at, "unknown section [%.*s], ignoring", (int)(len > 40 ? 40 : len), s);
		*skip_section = true;
		return 0;
	}
	eq = memchr(s, '=', len);
	if (!eq)
		return fail(diag, at, "expected \"key = value\", \"[section]\" or a comment");
	key = s;
	key_len = (size_t)(eq - s);
	value = eq + 1;
	value_len = len - key_len - 1;
	trim(&key, &key_len);
	trim(&value, &value_len);
	if (key_len == 0)
		return fail(diag, at, "empty key before =");
	if (!*section)
		return fail(diag, at, "\"%.*s\" is outside any [section]", (int)(key_len > 40 ? 40 : key_len), key);
	if (*skip_section)
		return 0;
	k = find_key(*section, *section_len, key, key_len);
	if (!k) {
		if (diag->strict)
			return fail(diag, at, "unknown key \"%.*s\" in [%.*s]", (int)(key_len > 40 ? 40 : key_len),
				    key, (int)*section_len, *section);
		warn(diag, at, "unknown key \"%.*s\" in [%.*s], ignoring", (int)(key_len > 40 ? 40 : key_len),
		     key, (int)*section_len, *section);
		return 0;
	}
	unquote(&value, &value_len);
	return set_value(cfg, k, value, value_len, diag, at);
}

int config_parse(struct xgm_config *cfg, const char *name, const char *text, size_t len,
		 struct config_diag *diag)
{
	struct where at = { .name = name ? name : "(config)", .line = 0 };
	struct xgm_config tmp = *cfg;
	const char *section = NULL;
	size_t section_len = 0, pos = 0;
	bool skip_section = false;

	diag->error[0] = '\0';
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		int r;

		at.line++;
		r = parse_line(&tmp, line, line_len, &section, &section_len, &skip_section, diag, &at);
		if (r)
			return r;
		pos += line_len + 1;
	}
	*cfg = tmp;
	return 0;
}

int config_load(struct xgm_config *cfg, const char *path, struct config_diag *diag)
{
	struct where at = { .name = path, .line = 0 };
	size_t len = 0;
	char *text;
	int fd, r;

	diag->error[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		fail(diag, &at, "cannot open: %s", strerror(-r));
		return r;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		close(fd);
		fail(diag, &at, "out of memory");
		return -ENOMEM;
	}
	/* Read one byte past the limit to tell "exactly the limit" from "too big". */
	for (;;) {
		ssize_t n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			fail(diag, &at, "cannot read: %s", strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX) {
			r = fail(diag, &at, "larger than %d bytes", CONFIG_FILE_MAX);
			goto out;
		}
	}
	r = config_parse(cfg, path, text, len, diag);
out:
	free(text);
	close(fd);
	return r;
}

int config_set(struct xgm_config *cfg, const char *assignment, struct config_diag *diag)
{
	struct where at = { .name = "--set", .line = 0 };
	const char *eq = strchr(assignment, '='), *dot, *name, *value;
	struct xgm_config tmp = *cfg;
	size_t name_len, value_len;
	const struct key *k;
	int r;

	diag->error[0] = '\0';
	if (!eq)
		return fail(diag, &at, "expected section.key=value, not \"%.80s\"", assignment);
	name = assignment;
	name_len = (size_t)(eq - assignment);
	trim(&name, &name_len);
	dot = memchr(name, '.', name_len);
	if (!dot)
		return fail(diag, &at, "expected section.key=value, not \"%.80s\"", assignment);
	k = find_key(name, (size_t)(dot - name), dot + 1, name_len - (size_t)(dot - name) - 1);
	if (!k)
		return fail(diag, &at, "unknown key \"%.*s\"", (int)(name_len > 80 ? 80 : name_len), name);
	value = eq + 1;
	value_len = strlen(value);
	trim(&value, &value_len);
	unquote(&value, &value_len);
	r = set_value(&tmp, k, value, value_len, diag, &at);
	if (r == 0)
		*cfg = tmp;
	return r;
}

int config_validate(const struct xgm_config *cfg, struct config_diag *diag)
{
	struct where at = { .name = "configuration", .line = 0 };

	diag->error[0] = '\0';
	if (cfg->xenstore.reconnect_min_ms > cfg->xenstore.reconnect_max_ms)
		return fail(diag, &at, "xenstore.reconnect_min_ms (%u) is above xenstore.reconnect_max_ms (%u)",
			    cfg->xenstore.reconnect_min_ms, cfg->xenstore.reconnect_max_ms);
	if (cfg->settle.quiet_ms > cfg->settle.max_wait_ms)
		return fail(diag, &at, "settle.quiet_ms (%u) is above settle.max_wait_ms (%u)",
			    cfg->settle.quiet_ms, cfg->settle.max_wait_ms);
	return 0;
}

bool config_key_at(size_t i, struct config_key_info *info)
{
	if (i >= N_KEYS)
		return false;
	info->section = keys[i].section;
	info->name = keys[i].name;
	info->restart = keys[i].apply == AT_RESTART;
	return true;
}

int config_format(const struct xgm_config *cfg, size_t i, char *buf, size_t size)
{
	const struct key *k;
	const char *field;
	uint32_t u;
	bool b;
	int level, n = -1;

	if (i >= N_KEYS)
		return -EINVAL;
	k = &keys[i];
	field = (const char *)cfg + k->offset;
	switch (k->type) {
	case KEY_UINT:
		memcpy(&u, field, sizeof(u));
		n = snprintf(buf, size, "%u", u);
		break;
	case KEY_MODE:
		memcpy(&u, field, sizeof(u));
		n = snprintf(buf, size, "%04o", u);
		break;
	case KEY_BOOL:
		memcpy(&b, field, sizeof(b));
		n = snprintf(buf, size, "%s", b ? "true" : "false");
		break;
	case KEY_LEVEL: {
		const char *name;

		memcpy(&level, field, sizeof(level));
		name = log_level_name((enum log_level)level);
		n = snprintf(buf, size, "%s", name ? name : "?");
		break;
	}
	case KEY_PATH:
	case KEY_STRING:
		n = snprintf(buf, size, "%s", field);
		break;
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

/* How many bytes of struct xgm_config key k occupies. */
static size_t key_size(const struct key *k)
{
	switch (k->type) {
	case KEY_UINT:
	case KEY_MODE:
		return sizeof(uint32_t);
	case KEY_BOOL:
		return sizeof(bool);
	case KEY_LEVEL:
		return sizeof(int);
	case KEY_PATH:
	case KEY_STRING:
		break;
	}
	return k->size;
}

void config_keep_restart_keys(struct xgm_config *next, const struct xgm_config *running,
			      void (*kept)(void *arg, const char *key, const char *value), void *arg)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		char *to = (char *)next + k->offset;
		const char *from = (const char *)running + k->offset;
		bool same;

		if (k->apply != AT_RESTART)
			continue;
		/* Strings compare up to their NUL: the bytes after it are not the value. */
		same = k->type == KEY_PATH || k->type == KEY_STRING ? strcmp(to, from) == 0 :
			memcmp(to, from, key_size(k)) == 0;
		if (same)
			continue;
		memcpy(to, from, key_size(k));
		if (kept) {
			/* The socket path is the longest value there is. */
			char name[64], value[CONFIG_SOCKET_MAX];

			snprintf(name, sizeof(name), "%s.%s", k->section, k->name);
			config_format(running, i, value, sizeof(value));
			kept(arg, name, value);
		}
	}
}

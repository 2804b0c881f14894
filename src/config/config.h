/*
 * xgmd's configuration: an INI file ([section], key = value, # and ;
 * comments) and --set overrides, parsed into a typed struct xgm_config with
 * defaults (config/defaults.h). Pure except config_load(), which only reads
 * the file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_SOCKET_MAX 108		/* sizeof(sun_path), NUL included */
#define CONFIG_REFERENCE_VERSION_MAX 64	/* NUL included */
#define CONFIG_GROUP_MAX 64		/* NUL included */
#define CONFIG_LISTEN_MAX 80		/* NUL included */
#define CONFIG_FILE_MAX (1024 * 1024)	/* a config file larger than this is an error */

/* Holds no pointers: copy it freely, and keep the old one when a reload fails. */
struct xgm_config {
	struct {
		char socket[CONFIG_SOCKET_MAX];	/* absolute path */
		uint32_t socket_mode;		/* permission bits, <= 0777 */
		char socket_group[CONFIG_GROUP_MAX];	/* "" = the process's group; resolved at listen */
		int log_level;			/* an enum log_level: syslog priority 3 (err) .. 7 (debug) */
	} daemon;
	struct {
		uint32_t quiet_ms;
		uint32_t max_wait_ms;
		bool strict;
	} settle;
	struct {
		char reference_version[CONFIG_REFERENCE_VERSION_MAX];	/* "" = none; not parsed here */
		uint32_t live_timeout_s;
	} metrics;
	struct {
		uint32_t max_keys_per_domain;
		uint32_t max_bytes_per_domain;
		uint32_t publish_burst;		/* a domain's batches published at once ... */
		uint32_t publish_rate;		/* ... then this many a second; 0: no limit */
		uint32_t max_clients;
		uint32_t client_output_cap;	/* bytes queued per subscriber before events drop */
		uint32_t client_stall_timeout_s;	/* disconnect after no write progress this long; 0 never */
	} limits;
	struct {
		uint32_t watch_connections;	/* the watches are spread over this many */
		uint32_t request_connections;	/* requests run on this many, a thread each */
		uint32_t request_timeout_ms;
		uint32_t liveness_ms;
		uint32_t reconnect_min_ms;
		uint32_t reconnect_max_ms;
		bool reread_all;	/* the toolstack's strategy, for comparison only */
	} xenstore;
	struct {
		char listen[CONFIG_LISTEN_MAX];	/* "" = off; ADDRESS:PORT, not parsed here */
		uint32_t slice_domains;	/* domains a scrape renders per loop turn */
	} prometheus;
};

/* Fills cfg with every default. */
void config_init(struct xgm_config *cfg);

/*
 * What went wrong, and what to do with unknown keys. Unknown sections and
 * keys are errors when strict (xgmd --check-config, and every --set); else
 * each is passed to warn (may be NULL), so a file written for a newer xgmd
 * still starts an older one. Malformed lines and bad values are always errors.
 */
struct config_diag {
	bool strict;
	void (*warn)(void *arg, const char *msg);	/* msg: "file:line: ..., ignoring" */
	void *warn_arg;
	char error[320];				/* on failure: "file:line: ..." */
};

/*
 * Applies text[0..len) (any bytes) on top of *cfg; name is the file name
 * used in messages. Returns 0, or -EINVAL with diag->error set and *cfg
 * untouched (a reload with a bad file keeps the old configuration).
 */
int config_parse(struct xgm_config *cfg, const char *name, const char *text, size_t len,
		 struct config_diag *diag);

/* Reads path and applies it as config_parse() does; -errno when it cannot be read. */
int config_load(struct xgm_config *cfg, const char *path, struct config_diag *diag);

/* Applies one "section.key=value" (a --set option). Unknown keys are always errors. */
int config_set(struct xgm_config *cfg, const char *assignment, struct config_diag *diag);

/*
 * Checks what no single key can: reconnect_min_ms <= reconnect_max_ms and
 * quiet_ms <= max_wait_ms. config_parse() and config_set() do not, since a
 * later file or --set may fix it; call this once everything is applied.
 */
int config_validate(const struct xgm_config *cfg, struct config_diag *diag);

/* One key of the configuration, for what lists them (tests, the man page check). */
struct config_key_info {
	const char *section, *name;
	bool restart;		/* a reload keeps the running value; it changes at restart */
};

/* The i-th key in the order of data/xgmd.conf; false past the last one. */
bool config_key_at(size_t i, struct config_key_info *info);

/*
 * Writes key i of cfg into buf as the file spells it ("0660", "true",
 * "info", "" for an empty string). -EINVAL: no key i; -ENOSPC: buf too small.
 */
int config_format(const struct xgm_config *cfg, size_t i, char *buf, size_t size);

/*
 * For a reload: sets every restart-only key of next back to its value in
 * running, and calls kept (may be NULL) with "section.key" and the running
 * value for each that differed.
 */
void config_keep_restart_keys(struct xgm_config *next, const struct xgm_config *running,
			      void (*kept)(void *arg, const char *key, const char *value), void *arg);

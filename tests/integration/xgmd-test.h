/*
 * Helpers for tests that run xgmd against a sandbox: start the daemon on a
 * socket in the sandbox directory, talk to it as a client, and wait for
 * events with a time bound.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

struct xgmd {
	pid_t pid;
	char socket[108];	/* sun_path */
	const char *config;	/* set before starting: --config FILE; NULL: none */
};

/*
 * Starts xgmd on <sandbox_dir>/<name>.sock, logging to <name>.log, with
 * extra "--set key=value" overrides (NULL-terminated); exits on failure.
 */
void xgmd_start(struct xgmd *x, const char *sandbox_dir, const char *name,
		const char *const *sets);
/* The same at another log level than "debug" (a benchmark must not pay for debug logs). */
void xgmd_start_logging(struct xgmd *x, const char *sandbox_dir, const char *name,
			const char *const *sets, const char *log_level);
/* SIGTERM, then the exit status: 0 for a clean exit, -1 (and its log) otherwise. */
int xgmd_stop(struct xgmd *x);
/* Its resident memory now (VmRSS), in KiB; -1 when /proc does not say. */
long xgmd_rss_kib(const struct xgmd *x);

struct client {
	int fd;
	char buf[1 << 20];
	size_t len;
};

/* Connects and consumes the hello line, which it returns (the caller frees). */
yajl_val client_connect(struct client *c, const char *socket);
/* Subscribe lines: every event, or only domain.new and domain.metrics; no snapshot. */
#define SUBSCRIBE_ALL "{\"cmd\":\"subscribe\",\"id\":1,\"snapshot\":false}"
#define SUBSCRIBE_METRICS "{\"cmd\":\"subscribe\",\"id\":1,\"filter\":{\"events\":[\"domain.new\",\"domain.metrics\"]},\"snapshot\":false}"

/* Connects and sends a subscribe line: true once it is acknowledged. */
bool client_subscribe(struct client *c, const char *socket, const char *line);
void client_close(struct client *c);
int client_send(struct client *c, const char *line);
/* The next line as a parsed object, or NULL on timeout or EOF. */
yajl_val client_next(struct client *c, int timeout_ms);
/* Sends a command and returns its reply or error (skipping events). */
yajl_val client_call(struct client *c, const char *line);

/* The next event of this kind ("domain.metrics") about domid, skipping others. */
yajl_val client_wait_event(struct client *c, const char *event, unsigned int domid,
			   int timeout_ms);
/* True when no event about domid arrives within ms. */
bool client_quiet(struct client *c, unsigned int domid, int ms);

/* Lookups into a parsed object by path ("data", "pv_drivers_up_to_date"). */
yajl_val json_get(yajl_val v, const char *a, const char *b);
const char *json_str(yajl_val v, const char *a, const char *b);
long long json_int(yajl_val v, const char *a, const char *b);
/* 1 true, 0 false, -1 absent or not a boolean. */
int json_bool(yajl_val v, const char *a, const char *b);
/* Whether the event's "changed" array names field. */
bool json_changed(yajl_val ev, const char *field);

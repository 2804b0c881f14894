/*
 * Helpers for tests that run xgmd against a sandbox: start the daemon on a
 * socket in the sandbox directory, talk to it with the tests' line client
 * (testing/client.h: lines, replies, the ping barrier, stats counters),
 * wait for its events with a time bound, and for facts about its domains
 * instead of time.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <xenstore.h>
#include <yajl/yajl_tree.h>

#include "testing/client.h"

struct xgmd {
	pid_t pid;
	char socket[108];	/* sun_path */
	const char *config;	/* set before starting: --config FILE; NULL: none */
	char valgrind_log[PATH_MAX + 16];	/* under $XGM_XGMD_VALGRIND: its report; "" not */
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

/* Subscribe lines: every event, or only domain.new and domain.metrics; no snapshot. */
#define SUBSCRIBE_ALL "{\"cmd\":\"subscribe\",\"id\":1,\"snapshot\":false}"
#define SUBSCRIBE_METRICS "{\"cmd\":\"subscribe\",\"id\":1,\"filter\":{\"events\":[\"domain.new\",\"domain.metrics\"]},\"snapshot\":false}"

/* The next event of this kind ("domain.metrics") about domid, skipping others. */
yajl_val client_wait_event(struct client *c, const char *event, unsigned int domid,
			   int timeout_ms);
/*
 * The next domain.metrics about domid whose "changed" names field, skipping
 * others: a guest's writes may settle as more than one batch.
 */
yajl_val client_wait_change(struct client *c, unsigned int domid, const char *field,
			    int timeout_ms);
/*
 * The domids a `list` reply names, in its order, the first max of them
 * into domids (NULL with max 0 to count only); how many it names, or -1
 * when the reply is not a list.
 */
long client_list_domids(struct client *c, unsigned int *domids, size_t max);
/* Whether a `list` reply names domid. */
bool client_lists(struct client *c, unsigned int domid);

/*
 * Asks get until domid's state is state ("idle", "settling"): true then,
 * false with a message once timeout_ms have passed, as client_wait_stat_*()
 * do.
 */
bool client_wait_domain_state(struct client *c, unsigned int domid, const char *state,
			      int timeout_ms);

/* What xgmd had taken in from xenstore before a test writes: see client_wait_read(). */
struct xgmd_mark {
	long long watch_events;		/* engine.xenstore_watch_events */
	long long batches;		/* engine.batches */
};
void client_mark(struct client *c, struct xgmd_mark *m);
/*
 * Waits until xgmd has read what the test wrote to domid since m: `events`
 * more watch events (one per write to a path of its own; xenstored merges
 * only identical ones), at least one more batch, and domid idle again, so
 * that every batch the writes opened was read and what it changed has been
 * published. Take m once xgmd has taken in the domain's earlier writes
 * (their event came), not between the writes and what they cause.
 */
bool client_wait_read(struct client *c, const struct xgmd_mark *m, unsigned int events,
		      unsigned int domid, int timeout_ms);

/*
 * What most tests start from: a private sandbox, dom0's libxenstore handle
 * on it, one xgmd, a client subscribed to it and one for commands.
 */
struct fixture {
	char dir[PATH_MAX];	/* the sandbox; empty until started */
	struct xs_handle *xs;	/* dom0's */
	struct xgmd xgmd;	/* .config may be set before starting */
	const char *log_level;	/* xgmd's; NULL: "debug" */
	struct client sub;	/* subscribed with the line given (or only connected) */
	struct client ctl;	/* connected, never subscribed: stats, get, list, ping */
};

/* The sandbox and dom0's handle, for a test that prepares xenstore before xgmd starts. */
void fixture_start_sandbox(struct fixture *f);
/*
 * xgmd on the sandbox with these "--set" overrides (NULL-terminated; NULL:
 * none), f->ctl connected, and f->sub connected and, unless subscribe is
 * NULL, subscribed with that line. Exits on failure, as xgmd_start() does.
 */
void fixture_start_xgmd(struct fixture *f, const char *const *sets, const char *subscribe);
/* Both. */
void fixture_start(struct fixture *f, const char *const *sets, const char *subscribe);
/*
 * Until the xgmd that ctl talks to has ended its first connection's pass
 * (stats: connected once, nothing pending): every domain of the sandbox is
 * adopted. fixture_start() and fixture_start_peer() wait for it; after
 * fixture_start_xgmd() a test may.
 */
bool xgmd_wait_synchronised(struct client *ctl);
/*
 * Closes the clients, stops xgmd and the sandbox and removes its directory,
 * whatever of it was started: 0, or -1 when xgmd ended badly.
 */
int fixture_stop(struct fixture *f);

/* A second xgmd on the fixture's sandbox, to compare with the first: the same clients. */
struct fixture_peer {
	struct xgmd xgmd;
	struct client sub;
	struct client ctl;
};
/* Started as fixture_start_xgmd() starts the fixture's, on <name>.sock. */
void fixture_start_peer(struct fixture *f, struct fixture_peer *p, const char *name,
			const char *const *sets, const char *subscribe);
/* Stops it and closes its clients (before fixture_stop()): 0, or -1 when it ended badly. */
int fixture_stop_peer(struct fixture_peer *p);

/*
 * The toolstack creates and introduces domid (sandbox_domain_create()):
 * true once f->sub, subscribed to domain.new, has had its event.
 */
bool fixture_new_domain(struct fixture *f, unsigned int domid, const char *name);

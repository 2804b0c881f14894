/*
 * Every default xgmd has, in one table, each with its unit: what each
 * configuration key is when neither the file nor --set sets it
 * (config_init()), which is also what the server falls back on for a zero
 * in its struct server_config and a keyset made without limits holds; and
 * the one default nothing configures. data/xgmd.conf, and xgmd.conf(5) made
 * from it, state them for people; tests/install/test-conf-page.py holds the
 * page against config_init(). Names are XGM_DEFAULT_<SECTION>_<KEY>. The
 * file's own path, XGM_DEFAULT_CONFIG, comes from the build's prefix
 * (xgm-config.h).
 */
#pragma once

#include "util/log.h"
#include "xgm/protocol.h"

/* [daemon] */
#define XGM_DEFAULT_DAEMON_SOCKET XGM_DEFAULT_SOCKET	/* path; clients connect to it too */
#define XGM_DEFAULT_DAEMON_SOCKET_MODE 0660		/* permission bits */
#define XGM_DEFAULT_DAEMON_SOCKET_GROUP ""		/* group name; "": xgmd's own */
#define XGM_DEFAULT_DAEMON_LOG_LEVEL LOG_LEVEL_INFO	/* enum log_level */

/* [settle] */
#define XGM_DEFAULT_SETTLE_QUIET_MS 250			/* ms without a write */
#define XGM_DEFAULT_SETTLE_MAX_WAIT_MS 2000		/* ms from a batch's first write */
#define XGM_DEFAULT_SETTLE_STRICT false			/* only data/updated closes a batch */

/* [metrics] */
#define XGM_DEFAULT_METRICS_REFERENCE_VERSION ""	/* PV tools version; "": none */
#define XGM_DEFAULT_METRICS_LIVE_TIMEOUT_S 300		/* s since the agent's last write */

/*
 * [limits]. xenstored lets a guest own about 1000 nodes (its quota), so
 * 1024 keys hold what a guest can write; 256 KiB is 256 bytes a key on
 * average, where agents write short values.
 */
#define XGM_DEFAULT_LIMITS_MAX_KEYS_PER_DOMAIN 1024	/* keys */
#define XGM_DEFAULT_LIMITS_MAX_BYTES_PER_DOMAIN (256 * 1024)	/* bytes of paths and values */
#define XGM_DEFAULT_LIMITS_PUBLISH_BURST 5		/* batches published at once */
#define XGM_DEFAULT_LIMITS_PUBLISH_RATE 1		/* batches a second after the burst */
#define XGM_DEFAULT_LIMITS_MAX_CLIENTS 256		/* connections at once */
#define XGM_DEFAULT_LIMITS_CLIENT_OUTPUT_CAP (1024 * 1024)	/* bytes queued per client */
#define XGM_DEFAULT_LIMITS_CLIENT_STALL_TIMEOUT_S 300	/* s without write progress */

/* [xenstore] */
#define XGM_DEFAULT_XENSTORE_WATCH_CONNECTIONS 4	/* connections */
#define XGM_DEFAULT_XENSTORE_REQUEST_CONNECTIONS 8	/* connections, a thread each */
#define XGM_DEFAULT_XENSTORE_REQUEST_TIMEOUT_MS 5000	/* ms before "stalled" */
#define XGM_DEFAULT_XENSTORE_LIVENESS_MS 1000		/* ms between checks */
#define XGM_DEFAULT_XENSTORE_RECONNECT_MIN_MS 100	/* ms, the first backoff */
#define XGM_DEFAULT_XENSTORE_RECONNECT_MAX_MS 5000	/* ms, the longest backoff */
#define XGM_DEFAULT_XENSTORE_REREAD_ALL false		/* read only what changed */

/* [prometheus] */
#define XGM_DEFAULT_PROMETHEUS_LISTEN ""		/* ADDRESS:PORT; "": off */
#define XGM_DEFAULT_PROMETHEUS_SLICE_DOMAINS 100	/* domains per loop turn */

/* Not configurable. */
#define XGM_DEFAULT_SHUTDOWN_FLUSH_MS 500		/* ms the server flushes clients at exit */

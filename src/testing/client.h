/*
 * The tests' line client of xgmd's socket: connect to a UNIX socket, send
 * lines, read lines with a time bound and parse them, and the round trips
 * tests synchronise on (a reply, a ping barrier, a stats counter).
 *
 * A client waits in poll() for a server in another process (xgmd). For a
 * server on the test's own loop (the component tests), it runs that loop
 * while it waits instead: set pump after client_dial().
 *
 * Free of xenstore and of the daemon's library: the component tests, the
 * integration tests, the scenario runner and the benchmarks all link it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

/* How long a helper waits for what must come: it only stops a hung test. */
#define CLIENT_WAIT_MS 8000
/* A longer line is an error, not a reason to grow without end. */
#define CLIENT_MAX_LINE (64u << 20)

struct client {
	int fd;			/* -1: not connected */
	bool eof;		/* the peer closed, or reading failed */
	/* What came: buf[off, len) is not taken yet (malloc'd, grows; client_close() frees). */
	char *buf;
	size_t off, len, size;
	size_t last_len;	/* the last line taken, its newline included */
	/* Runs the in-process server's loop once; NULL: the server is elsewhere, poll() waits. */
	void (*pump)(void *arg);
	void *pump_arg;
};

/*
 * Connects c to the socket at path, reading nothing: 0 or a negative errno.
 * Every field is set; a client dialled before must be closed first.
 */
int client_dial(struct client *c, const char *path);
/* Connects and consumes the hello line, which it returns (the caller frees); NULL on failure. */
yajl_val client_connect(struct client *c, const char *path);
/* The same when the hello does not matter: true once it came. */
bool client_open(struct client *c, const char *path);
/* Connects and sends a subscribe line: true once it is acknowledged. */
bool client_subscribe(struct client *c, const char *path, const char *line);
/* Closes the connection and frees the buffer; a closed or zeroed client may be closed again. */
void client_close(struct client *c);
/*
 * Hands the connection over (to a reader of its own, or one that never
 * reads): its fd, which the caller closes; the rest is freed as by
 * client_close(). What came and was not taken is dropped.
 */
int client_release_fd(struct client *c);

/*
 * Sends len bytes as they are (no newline added), waiting while the
 * socket is full: 0, or a negative errno (-ETIMEDOUT after CLIENT_WAIT_MS).
 * In pump mode the server's loop runs once after.
 */
int client_send_bytes(struct client *c, const void *bytes, size_t len);
/* Sends one line and its newline. */
int client_send(struct client *c, const char *line);

/*
 * The next line, without its newline and NUL-terminated, valid until the
 * next read from c; len (if not NULL) is its length, which may hold NULs.
 * NULL on timeout, or at the end (c->eof): the peer closed, reading
 * failed, or a line is longer than CLIENT_MAX_LINE (with a message; it is
 * client_pending()). A timeout of 0 takes only what came.
 */
char *client_line(struct client *c, int timeout_ms, size_t *len);
/* Bytes that came after the last line taken (a line not ended yet). */
size_t client_pending(const struct client *c);
/* The next line as a parsed value, or NULL on timeout, EOF or invalid JSON (with a message). */
yajl_val client_next(struct client *c, int timeout_ms);
/* Sends a command and returns its reply or error (skipping events); NULL without one. */
yajl_val client_call(struct client *c, const char *line);

/* Where a domid is asked for: an event about any domain. */
#define ANY_DOMAIN (-1LL)

/*
 * A barrier: a ping round trip on c. Whatever the server had queued for c
 * before it answered comes before its reply, so "nothing was published" is
 * checked here, not assumed from a quiet while. True when none of it was
 * an event about domid (ANY_DOMAIN: no event and no lost notice at all);
 * what came is dropped, and what should not have is printed.
 */
bool client_ping_quiet(struct client *c, long long domid);

/*
 * One stats round trip on a connection that is not subscribed (events
 * before the reply are dropped): section.key ("engine", "batches"), a
 * boolean as 1 or 0; -1 when absent or no reply.
 */
long long client_stat(struct client *c, const char *section, const char *key);
/*
 * Asks stats until section.key is at least at_least (_equal: exactly want):
 * true then, false with a message once timeout_ms have passed, which only
 * stops a hung test. Round trips, a few milliseconds apart.
 */
bool client_wait_stat_at_least(struct client *c, const char *section, const char *key,
			       long long at_least, int timeout_ms);
bool client_wait_stat_equal(struct client *c, const char *section, const char *key,
			    long long want, int timeout_ms);

/* Lookups into a parsed object by path ("data", "pv_drivers_up_to_date"); b may be NULL. */
yajl_val json_get(yajl_val v, const char *a, const char *b);
/* NULL when absent or not a string. */
const char *json_str(yajl_val v, const char *a, const char *b);
/* -1 when absent or not an integer. */
long long json_int(yajl_val v, const char *a, const char *b);
/* 1 true, 0 false, -1 absent or not a boolean. */
int json_bool(yajl_val v, const char *a, const char *b);
/* Whether the event's "changed" array names field. */
bool json_changed(yajl_val ev, const char *field);

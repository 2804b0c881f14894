/*
 * Helpers for tests that run against a sandbox: a private sandbox per test
 * process, and waiting for xenstore watch events with a time bound.
 */
#pragma once

#include <stdbool.h>
#include <xenstore.h>

#include "sandbox.h"

/* The xenstored the tests run on ($XEN_SANDBOX_FLAVOUR). */
enum sandbox_flavour sandbox_test_flavour(void);

/* Starts a sandbox in a fresh /tmp directory written to dir (PATH_MAX). Exits 77 (skip) without xenstored. */
void sandbox_test_start(char *dir);
/* Stops it and removes the directory. */
void sandbox_test_stop(const char *dir);

/*
 * Waits up to timeout_ms for a watch event; returns true and fills path and
 * token (each size bytes) when one came.
 */
bool sandbox_test_next_event(struct xs_handle *xs, int timeout_ms,
			     char *path, char *token, size_t size);
/* Waits for an event with exactly this path and token, skipping others. */
bool sandbox_test_wait_event(struct xs_handle *xs, int timeout_ms,
			     const char *path, const char *token);
/*
 * As guest domid over its own ring: writes value (a C string), or removes
 * path when value is NULL. Returns 0 or xenstored's negative errno.
 */
int sandbox_test_guest(const char *dir, unsigned int domid, const char *path,
		       const char *value);

/*
 * A libxenstore handle as guest domid, through its guest socket (started
 * if need be). NULL + message on error. XENSTORED_PATH is left as it was.
 */
struct xs_handle *sandbox_test_guest_connect(const char *dir, unsigned int domid);

/*
 * Drops every event already queued: after a request's reply (xs_unwatch()'s,
 * say), that is every event xenstored sent before it.
 */
void sandbox_test_drain(struct xs_handle *xs);

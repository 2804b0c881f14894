/*
 * Synchronous xenstore requests on one libxenstore handle, made by a
 * worker thread of the connection (xs-conn.h), never by the loop. It tells
 * xenstored's answers apart from a broken transport, replaces a handle that
 * an oversize answer broke, and counts every request it makes.
 */
#pragma once

#include <stdint.h>
#include <xenstore.h>

/* What requests a worker made, added to the connection's stats by the loop. */
struct xs_req_counts {
	uint64_t reads;
	uint64_t directories;
	uint64_t watches;
	uint64_t other_requests;
	uint64_t request_handle_resets;	/* a request broke its handle (-EMSGSIZE) */
	uint64_t oversize_listings;	/* of those, listings then read off the wire (xs-wire.h) */
};

void xs_req_counts_add(struct xs_req_counts *to, const struct xs_req_counts *from);

struct xs_req {
	struct xs_handle *h;		/* the worker's own request handle, or NULL */
	struct xs_req_counts *counts;	/* where this request's counts go */
};

/* Opens req->h if it is closed. 0 or a negative errno. */
int xs_req_open(struct xs_req *req);
void xs_req_close(struct xs_req *req);

/*
 * On failure these return NULL or a negative errno: -ENOENT and -EACCES
 * are answers; -EMSGSIZE means that xenstored's answer could not be read and
 * the handle was replaced (an oversize listing from oxenstored is read again
 * off the wire first); -ENOTCONN means xenstored is gone.
 */
/* The value, NUL-terminated, malloc'ed (the caller frees); *len excludes the NUL. */
char *xs_req_read(struct xs_req *req, const char *path, unsigned int *len, int *err);
/* An array of names in one allocation (the caller frees the array only). */
char **xs_req_directory(struct xs_req *req, const char *path, unsigned int *num, int *err);
/* 1 introduced, 0 not, or a negative errno. */
int xs_req_is_introduced(struct xs_req *req, unsigned int domid);
/* One cheap round trip: 0 when xenstored answers. */
int xs_req_probe(struct xs_req *req);
/*
 * A watch on another handle, watch_h, whose events the loop reads (a
 * watch is the connection's that registered it). An existing watch, or an
 * unwatch of an absent one, is success.
 */
int xs_req_watch(struct xs_req *req, struct xs_handle *watch_h, const char *path,
		 const char *token);
int xs_req_unwatch(struct xs_req *req, struct xs_handle *watch_h, const char *path,
		   const char *token);

/*
 * Reading a domain's tracked subtrees from xenstore into a keyset: a whole
 * read, or only the paths a batch found dirty. It runs on a worker thread
 * (xs-conn.h) on keysets that belong to the job alone, and makes one
 * request per key, plus a listing only for a node whose value is empty.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "metrics/keyset.h"
#include "xs/xs-req.h"

struct walk {
	struct xs_req *req;
	uint64_t keys_read;
	bool over_limits;	/* the keyset's limits stopped a whole read */
};

/* "/local/domain/<domid>[/rel]" into buf. */
void walk_home_path(char *buf, size_t size, unsigned int domid, const char *rel);

/*
 * Reads every tracked subtree of domid into keys (empty, with the domain's
 * limits). Limits reached are not an error (over_limits says so). 0, or a
 * negative errno: -ENOTCONN, or the first error that stopped it.
 */
int walk_read_all(struct walk *w, unsigned int domid, struct keyset *keys);

/*
 * Re-reads the dirty paths into keys: one read each, or a walk where a
 * subtree came or went. -ENOSPC (the limit refused a key, which the keyset
 * flags) and -ENOENT are outcomes, not errors; the first real error is
 * returned, and the rest is read anyway unless the connection is gone.
 */
int walk_read_dirty(struct walk *w, unsigned int domid, struct keyset *keys,
		    char *const *paths, size_t n);

/* 1 when the home exists (or cannot be told absent), 0 when it is gone. */
int walk_home_exists(struct walk *w, unsigned int domid);

/* The toolstack's name and the uuid of its vm path; each malloc'ed or NULL. */
void walk_identity(struct walk *w, unsigned int domid, char **name, char **uuid);

/*
 * The walker (walk.h): requests in, keys out. Agents write leaves, and
 * xenstored makes the nodes above them empty, so only an empty value needs
 * a listing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain.h"
#include "engine/walk.h"

/* A full read goes no deeper than this below a subtree root. */
#define WALK_MAX_DEPTH 8

void walk_home_path(char *buf, size_t size, unsigned int domid, const char *rel)
{
	if (rel && *rel)
		snprintf(buf, size, "/local/domain/%u/%s", domid, rel);
	else
		snprintf(buf, size, "/local/domain/%u", domid);
}

/*
 * Keeps the first of a sequence of errors: ORing negative errnos together
 * makes another errno (-ENOMEM | -EINVAL is -ENOENT).
 */
static void first_error(int *r, int next)
{
	if (*r == 0 && next < 0)
		*r = next;
}

/*
 * Folds a child's result into the walk's: a child removed while we walked
 * (-ENOENT) is no error, a lost connection or the domain's limits
 * (-ENOTCONN, -ENOSPC) stop the walk whatever came before, and otherwise
 * the first error wins.
 */
static void walk_error(int *r, int rc)
{
	if (rc == -ENOTCONN || rc == -ENOSPC)
		*r = rc;
	else if (rc != -ENOENT)
		first_error(r, rc);
}

/*
 * Stores node rel, whose value was just read, into keys: a leaf's value,
 * or, for a node with children, its subtree (a write fires for the leaf,
 * an rm for the removed root). Agents write leaves, and xenstored makes the
 * nodes above them empty, so only an empty value needs a listing: that
 * saves a request per key. (A node with both a value and children is kept
 * as a leaf; a write below it still fires and is read.)
 *
 * A node's own leaves are stored before any of its subdirectories is
 * walked. The two xenstoreds list children in different orders (oxenstored
 * sorts them), and a guest that floods one subdirectory must not push its
 * other keys out of its limits on one daemon and not on the other.
 *
 * Returns 0, -ENOENT when the node is gone, -ENOTCONN, -ENOSPC when the
 * domain's limits stop the walk, or the first other error of a child, past
 * which the walk went on.
 */
static int store_node(struct walk *w, struct keyset *keys, unsigned int domid,
		      const char *rel, int depth, const char *value, unsigned int len)
{
	char path[KEYSET_PATH_MAX + 64];
	unsigned int n = 0, n_dirs = 0;
	char **children = NULL;
	bool *is_dir = NULL;
	int err = 0, r = 0;

	if (len == 0) {
		walk_home_path(path, sizeof(path), domid, rel);
		children = xs_req_directory(w->req, path, &n, &err);
		/*
		 * A listing larger than a message (oxenstored sends those, and a
		 * guest can make one): its keys are left out, and the walk goes
		 * on with the rest of the domain.
		 */
		if (!children)
			return err == -EMSGSIZE ? 0 : err;
	}
	if (n == 0) {
		free(children);
		r = keyset_set(keys, rel, value, len);
		return r < 0 ? r : 0;
	}
	if (depth >= WALK_MAX_DEPTH) {
		free(children);
		return 0;
	}
	is_dir = calloc(n, sizeof(*is_dir));
	if (!is_dir) {
		free(children);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n && r != -ENOTCONN && r != -ENOSPC; i++) {
		char child[KEYSET_PATH_MAX + 1];
		unsigned int child_len;
		char *child_value;

		if (snprintf(child, sizeof(child), "%s/%s", rel, children[i]) >= (int)sizeof(child))
			continue;
		walk_home_path(path, sizeof(path), domid, child);
		child_value = xs_req_read(w->req, path, &child_len, &err);
		if (!child_value) {
			walk_error(&r, err);
			continue;
		}
		w->keys_read++;
		if (child_len == 0) {
			is_dir[i] = true;
			n_dirs++;
		} else {
			int rc = keyset_set(keys, child, child_value, child_len);

			walk_error(&r, rc < 0 ? rc : 0);
		}
		free(child_value);
	}
	for (unsigned int i = 0; i < n && n_dirs > 0 && r != -ENOTCONN && r != -ENOSPC; i++) {
		char child[KEYSET_PATH_MAX + 1];

		/* A path too long was skipped above, so is_dir[i] is false for it. */
		if (!is_dir[i] ||
		    snprintf(child, sizeof(child), "%s/%s", rel, children[i]) >= (int)sizeof(child))
			continue;
		walk_error(&r, store_node(w, keys, domid, child, depth + 1, "", 0));
	}
	free(is_dir);
	free(children);
	return r;
}

/* Reads node rel and stores it (see store_node). */
static int read_node(struct walk *w, struct keyset *keys, unsigned int domid,
		     const char *rel, int depth)
{
	char path[KEYSET_PATH_MAX + 64];
	unsigned int len;
	char *value;
	int err = 0, r;

	walk_home_path(path, sizeof(path), domid, rel);
	value = xs_req_read(w->req, path, &len, &err);
	if (!value)
		return err;
	w->keys_read++;
	r = store_node(w, keys, domid, rel, depth, value, len);
	free(value);
	return r;
}

int walk_read_dirty(struct walk *w, unsigned int domid, struct keyset *keys,
		    char *const *paths, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r != -ENOTCONN; i++) {
		char path[KEYSET_PATH_MAX + 64];
		unsigned int len;
		char *value;
		int err = 0, rc = 0;

		walk_home_path(path, sizeof(path), domid, paths[i]);
		value = xs_req_read(w->req, path, &len, &err);
		if (value) {
			w->keys_read++;
			if (len == 0) {
				/* Empty: a leaf, or a directory that gained children. */
				keyset_remove_subtree(keys, paths[i]);
				rc = store_node(w, keys, domid, paths[i], 1, value, len);
			} else {
				rc = keyset_set(keys, paths[i], value, len);
			}
			free(value);
		} else if (err == -ENOENT) {
			keyset_remove_subtree(keys, paths[i]);
		} else if (err != -EACCES) {
			rc = err;
		}
		/* EACCES: the key is not ours to know; leave it. */
		if (rc != -ENOENT && rc != -ENOSPC)
			first_error(&r, rc < 0 ? rc : 0);
		if (rc == -ENOTCONN)
			r = rc;
	}
	return r;
}

int walk_read_all(struct walk *w, unsigned int domid, struct keyset *keys)
{
	int r = 0;

	for (size_t i = 0; i < domain_subtree_count && r == 0; i++) {
		r = read_node(w, keys, domid, domain_subtrees[i], 0);
		if (r == -ENOENT)
			r = 0;
		if (r == -ENOSPC) {
			w->over_limits = true;
			r = 0;
		}
	}
	return r;
}

int walk_home_exists(struct walk *w, unsigned int domid)
{
	char path[64];
	unsigned int len;
	int err = 0;
	char *value;

	walk_home_path(path, sizeof(path), domid, NULL);
	value = xs_req_read(w->req, path, &len, &err);
	free(value);
	return value || err != -ENOENT;
}

void walk_identity(struct walk *w, unsigned int domid, char **name, char **uuid)
{
	char path[128];
	unsigned int len;
	char *vm;
	int err;

	walk_home_path(path, sizeof(path), domid, "name");
	*name = xs_req_read(w->req, path, &len, &err);
	walk_home_path(path, sizeof(path), domid, "vm");
	vm = xs_req_read(w->req, path, &len, &err);
	*uuid = NULL;
	if (vm) {
		/* The toolstack writes "/vm/<uuid>". */
		const char *slash = strrchr(vm, '/');

		*uuid = strdup(slash ? slash + 1 : vm);
		free(vm);
	}
}

/*
 * The bounded per-domain store of tracked xenstore keys: relative path under
 * the domain home (e.g. "attr/PVAddons/MajorVersion") -> value bytes.
 *
 * A keyset owns copies of every path and value it holds. Paths are ordered
 * bytewise, so all keys under one prefix are contiguous and iterate in order.
 * Limits bound what a guest can make us hold; hitting one refuses that write,
 * raises a sticky flag and leaves everything else working.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* xenstore's own bounds (xs_wire.h): a relative path, and a value, never exceed these. */
#define KEYSET_PATH_MAX 2048
#define KEYSET_VALUE_MAX 4096

struct keyset_limits {
	size_t max_keys;	/* entries */
	size_t max_bytes;	/* sum over entries of path length + value length */
};

/* keyset_set() results; errors are negative errno values. */
enum {
	KEYSET_SAME = 0,	/* the path already held exactly these bytes */
	KEYSET_CHANGED = 1,	/* new path, or a different value */
};

struct keyset;

/*
 * limits is copied; NULL means xgmd's defaults for a domain,
 * XGM_DEFAULT_LIMITS_MAX_KEYS_PER_DOMAIN and _MAX_BYTES_PER_DOMAIN
 * (config/defaults.h). NULL on ENOMEM.
 */
struct keyset *keyset_new(const struct keyset_limits *limits);
void keyset_free(struct keyset *ks);

/*
 * Stores value[0..len) (any bytes, NUL included) under path (a C string).
 * Returns KEYSET_SAME, KEYSET_CHANGED, or:
 *   -EINVAL        empty path;
 *   -ENAMETOOLONG  path longer than KEYSET_PATH_MAX;
 *   -E2BIG         len > KEYSET_VALUE_MAX;
 *   -ENOSPC        the new total would exceed a limit: the write is refused,
 *                  keyset_limit_reached() becomes true, and if path held an
 *                  older value that value is dropped, because it is now known
 *                  to be stale and must not be published as current;
 *   -ENOMEM.
 * Replacing a value is allowed whenever the total after the replacement fits.
 */
int keyset_set(struct keyset *ks, const char *path, const char *value, size_t len);

/* Removes exactly path. Returns the number removed (0 or 1). */
int keyset_remove(struct keyset *ks, const char *path);

/*
 * Removes path and every key below it, as a xenstore rm does: "attr/vif"
 * removes "attr/vif" and "attr/vif/0/ipv4/0" but not "attr/vif2". Trailing
 * slashes are ignored; "" removes everything. Returns the number removed.
 */
int keyset_remove_subtree(struct keyset *ks, const char *path);

/*
 * The value stored under path and its length, or NULL. The value is followed
 * by a NUL for convenience but may contain NULs itself: always use *len.
 * Valid until the next change to ks. len may be NULL.
 */
const char *keyset_get(const struct keyset *ks, const char *path, size_t *len);

size_t keyset_count(const struct keyset *ks);
size_t keyset_bytes(const struct keyset *ks);
const struct keyset_limits *keyset_limits(const struct keyset *ks);
/*
 * New limits (a reload). Keys already stored stay; a keyset now over a
 * limit refuses the next growing write, as if it had just filled up.
 */
void keyset_set_limits(struct keyset *ks, const struct keyset_limits *limits);

/* True once a set was refused with -ENOSPC, until keyset_clear_limit() succeeds. */
bool keyset_limit_reached(const struct keyset *ks);

/*
 * Clears the flag once the keyset has room again for a new key as large as
 * the largest write refused since the flag was raised, and returns whether it
 * was cleared (false also when it was not set). Merely being under the limits
 * is not enough: a refused 4 KiB value leaves the byte count under the limit.
 * The refused values themselves are not kept: whoever clears the flag should
 * re-read the domain's tree, or the keys refused stay missing until the guest
 * writes them again.
 */
bool keyset_clear_limit(struct keyset *ks);

/*
 * Ordered iteration over the keys starting with a byte prefix ("attr/vif/";
 * "" for all). Any change to ks invalidates the iterator and the pointers it
 * returned.
 *
 *	struct keyset_iter it;
 *	const char *path, *value;
 *	size_t len;
 *
 *	keyset_iter_init(&it, ks, "data/volumes/");
 *	while (keyset_iter_next(&it, &path, &value, &len))
 *		...
 */
struct keyset_iter {
	const struct keyset *ks;
	size_t pos, end;
};

void keyset_iter_init(struct keyset_iter *it, const struct keyset *ks, const char *prefix);
bool keyset_iter_next(struct keyset_iter *it, const char **path, const char **value, size_t *len);

/*
 * A directory listing larger than one xenstore message, read off the wire.
 * oxenstored has no XS_DIRECTORY_PART: it sends such a listing in one
 * oversize packet, which libxenstore takes for a broken connection. From
 * about 800 domains with 4-digit ids, /local/domain is such a listing, and
 * without it xgmd could neither adopt nor find new domains. This asks once
 * more on a private socket connection and reads the whole answer, up to a
 * bound. The framing and the parsing are pure; xs_wire_directory() does
 * the I/O, blocking: each of its sends and receives waits at most its
 * timeout (the request handle's answers block the loop the same way).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The largest listing read: /local/domain with every possible domid is ~190 KiB. */
#define XS_WIRE_LISTING_MAX (256 * 1024)

/*
 * The bytes of an XS_DIRECTORY request for path with req_id: header then
 * "path\0", into buf of size bytes. Its length, or -ENAMETOOLONG.
 */
long xs_wire_directory_request(const char *path, uint32_t req_id, char *buf, size_t size);

/*
 * Splits a DIRECTORY answer's payload ("a\0b\0", or empty) into an array
 * of names in one allocation, as xs_directory() returns it (the caller
 * frees the array only). NULL with *err: -EPROTO (not NUL-terminated) or
 * -ENOMEM.
 */
char **xs_wire_split_names(const char *payload, size_t len, unsigned int *num, int *err);

/*
 * One XS_DIRECTORY of path on a new connection to xenstored's socket,
 * answered however large (up to XS_WIRE_LISTING_MAX). NULL with *err: the
 * daemon's error (-ENOENT...), -EMSGSIZE (larger than the bound),
 * -ETIMEDOUT, or the connection's errno.
 */
char **xs_wire_directory(const char *socket_path, const char *path, int timeout_ms,
			 unsigned int *num, int *err);

/*
 * One direction of a xenstore ring (struct xenstore_domain_interface): copy
 * bytes in and out with the wrap-around and index checks both ends must do.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

/* Free space for the producer, or -1 when the indexes are corrupt. */
int ring_space(XENSTORE_RING_IDX cons, XENSTORE_RING_IDX prod);

/* Copies up to len bytes into ring at *prod; returns the count, advancing *prod. */
size_t ring_put(char *ring, XENSTORE_RING_IDX cons, XENSTORE_RING_IDX *prod,
		const void *data, size_t len);

/* Copies up to len bytes out of ring at *cons; returns the count, advancing *cons. */
size_t ring_get(const char *ring, XENSTORE_RING_IDX *cons, XENSTORE_RING_IDX prod,
		void *data, size_t len);

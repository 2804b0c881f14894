/*
 * Byte copies in and out of one direction of a xenstore ring page.
 */
#include <string.h>

#include "ring.h"

int ring_space(XENSTORE_RING_IDX cons, XENSTORE_RING_IDX prod)
{
	XENSTORE_RING_IDX used = prod - cons;

	if (used > XENSTORE_RING_SIZE)
		return -1;
	return (int)(XENSTORE_RING_SIZE - used);
}

size_t ring_put(char *ring, XENSTORE_RING_IDX cons, XENSTORE_RING_IDX *prod,
		const void *data, size_t len)
{
	const char *src = data;
	size_t done = 0;
	int space = ring_space(cons, *prod);

	if (space < 0)
		return 0;
	if (len > (size_t)space)
		len = (size_t)space;
	while (done < len) {
		size_t off = MASK_XENSTORE_IDX(*prod);
		size_t chunk = XENSTORE_RING_SIZE - off;

		if (chunk > len - done)
			chunk = len - done;
		memcpy(ring + off, src + done, chunk);
		done += chunk;
		*prod += (XENSTORE_RING_IDX)chunk;
	}
	return done;
}

size_t ring_get(const char *ring, XENSTORE_RING_IDX *cons, XENSTORE_RING_IDX prod,
		void *data, size_t len)
{
	char *dst = data;
	size_t done = 0;
	XENSTORE_RING_IDX avail = prod - *cons;

	if (avail > XENSTORE_RING_SIZE)
		return 0;
	if (len > avail)
		len = avail;
	while (done < len) {
		size_t off = MASK_XENSTORE_IDX(*cons);
		size_t chunk = XENSTORE_RING_SIZE - off;

		if (chunk > len - done)
			chunk = len - done;
		memcpy(dst + done, ring + off, chunk);
		done += chunk;
		*cons += (XENSTORE_RING_IDX)chunk;
	}
	return done;
}

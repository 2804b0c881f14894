/*
 * Growable arrays: the one way xgm makes room in an array it appends to
 * (string maps, a keyset's entries, text buffers). The capacity doubles, so
 * n appends cost O(n) copies; the byte size is checked for overflow; and a
 * caller's bound stops the growth, since what the array holds often comes
 * from a guest or a client.
 */
#pragma once

#include <stddef.h>

/*
 * Makes the array *items (room for *cap elements of elem bytes; NULL and 0
 * at first) hold at least need elements. The capacity doubles, starting
 * from first when it is smaller, until it does, but never goes past max: an
 * array that is never let to hold more than max elements needs no more room.
 * Returns 0 with *items and *cap updated (untouched when there was room
 * already), or -ENOMEM when need is above max, the size in bytes would
 * overflow, or realloc() fails; then *items and *cap are untouched and the
 * array is still valid. -EINVAL when elem is 0. The caller owns *items and
 * frees it with free().
 */
int array_reserve(void **items, size_t *cap, size_t need, size_t elem, size_t first, size_t max);

/*
 * array_reserve() on an array of any type: items is an lvalue of type T *
 * (for example m->items), cap an lvalue of type size_t.
 */
#define ARRAY_RESERVE(items, cap, need, first, max) \
	array_reserve((void **)&(items), &(cap), (need), sizeof(*(items)), (first), (max))

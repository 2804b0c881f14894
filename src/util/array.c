/*
 * Growable arrays (see array.h): the doubling, its overflow checks and the
 * caller's bound, written once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/array.h"

int array_reserve(void **items, size_t *cap, size_t need, size_t elem, size_t first, size_t max)
{
	size_t limit, n;
	void *p;

	if (!elem)
		return -EINVAL;
	if (need <= *cap)
		return 0;
	limit = SIZE_MAX / elem < max ? SIZE_MAX / elem : max;
	if (need > limit)
		return -ENOMEM;
	n = *cap > first ? *cap : first;
	if (!n)
		n = 1;
	while (n < need)
		n = n > limit / 2 ? limit : 2 * n;
	if (n > limit)
		n = limit;
	p = realloc(*items, n * elem);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = n;
	return 0;
}

/* Unit tests of ring copies: wrap-around, full and corrupt rings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ring.h"

static void test_roundtrip_wraps(void **state)
{
	static char ring[XENSTORE_RING_SIZE];
	char in[700], out[700];
	XENSTORE_RING_IDX prod = XENSTORE_RING_SIZE - 100, cons = prod;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7);
	/* Starts 100 bytes before the end, so the copy wraps. */
	assert_int_equal(ring_put(ring, cons, &prod, in, sizeof(in)), sizeof(in));
	assert_int_equal(ring_get(ring, &cons, prod, out, sizeof(out)), sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(cons, prod);
}

static void test_full_ring(void **state)
{
	static char ring[XENSTORE_RING_SIZE], big[XENSTORE_RING_SIZE + 10];
	XENSTORE_RING_IDX prod = 0, cons = 0;

	assert_int_equal(ring_put(ring, cons, &prod, big, sizeof(big)), XENSTORE_RING_SIZE);
	assert_int_equal(ring_space(cons, prod), 0);
	assert_int_equal(ring_put(ring, cons, &prod, big, 1), 0);
}

static void test_corrupt_indexes(void **state)
{
	static char ring[XENSTORE_RING_SIZE];
	char buf[8];
	XENSTORE_RING_IDX prod = 5000, cons = 0;	/* more than a ring's worth */

	assert_int_equal(ring_space(cons, prod), -1);
	assert_int_equal(ring_put(ring, cons, &prod, buf, sizeof(buf)), 0);
	assert_int_equal(ring_get(ring, &cons, prod, buf, sizeof(buf)), 0);
}

static void test_index_overflow(void **state)
{
	static char ring[XENSTORE_RING_SIZE];
	char out[4];
	XENSTORE_RING_IDX prod = UINT32_MAX - 1, cons = prod;

	/* Indexes are free-running and wrap at 2^32. */
	assert_int_equal(ring_put(ring, cons, &prod, "abcd", 4), 4);
	assert_int_equal(prod, 2);
	assert_int_equal(ring_get(ring, &cons, prod, out, 4), 4);
	assert_memory_equal(out, "abcd", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_wraps),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_corrupt_indexes),
		cmocka_unit_test(test_index_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

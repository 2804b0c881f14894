/* Unit tests of the per-domain key store: ordering, limits, subtree removal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/keyset.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_set_get(void **state)
{
	struct keyset *ks = keyset_new(NULL);
	const char *v;
	size_t len;

	assert_non_null(ks);
	assert_int_equal(keyset_set(ks, "data/meminfo_free", S("1024")), KEYSET_CHANGED);
	v = keyset_get(ks, "data/meminfo_free", &len);
	assert_non_null(v);
	assert_int_equal(len, 4);
	assert_memory_equal(v, "1024", 4);
	assert_int_equal(v[len], '\0');
	assert_null(keyset_get(ks, "data/meminfo_total", &len));
	assert_null(keyset_get(ks, "data", &len));
	assert_int_equal(keyset_count(ks), 1);
	assert_int_equal(keyset_bytes(ks), strlen("data/meminfo_free") + 4);
	keyset_free(ks);
}

static void test_same_and_changed(void **state)
{
	struct keyset *ks = keyset_new(NULL);
	size_t len;

	assert_int_equal(keyset_set(ks, "data/updated", S("1")), KEYSET_CHANGED);
	/* Agents rewrite unchanged values all the time. */
	assert_int_equal(keyset_set(ks, "data/updated", S("1")), KEYSET_SAME);
	assert_int_equal(keyset_set(ks, "data/updated", S("2")), KEYSET_CHANGED);
	/* Same prefix, different length: a change, not a match. */
	assert_int_equal(keyset_set(ks, "data/updated", S("2\0")), KEYSET_CHANGED);
	assert_non_null(keyset_get(ks, "data/updated", &len));
	assert_int_equal(len, 2);
	assert_int_equal(keyset_set(ks, "data/updated", S("")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "data/updated", S("")), KEYSET_SAME);
	assert_int_equal(keyset_count(ks), 1);
	assert_int_equal(keyset_bytes(ks), strlen("data/updated"));
	keyset_free(ks);
}

static void test_binary_values(void **state)
{
	static const char value[] = "a\0b\xff\0";
	struct keyset *ks = keyset_new(NULL);
	const char *v;
	size_t len;

	assert_int_equal(keyset_set(ks, "data/os_name", value, sizeof(value)), KEYSET_CHANGED);
	v = keyset_get(ks, "data/os_name", &len);
	assert_int_equal(len, sizeof(value));
	assert_memory_equal(v, value, sizeof(value));
	assert_int_equal(keyset_set(ks, "data/os_name", value, sizeof(value)), KEYSET_SAME);
	keyset_free(ks);
}

static void test_bad_arguments(void **state)
{
	struct keyset *ks = keyset_new(NULL);
	char big[KEYSET_VALUE_MAX + 1], path[KEYSET_PATH_MAX + 2];

	memset(big, 'x', sizeof(big));
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(keyset_set(ks, "", S("x")), -EINVAL);
	assert_int_equal(keyset_set(ks, "data/x", big, sizeof(big)), -E2BIG);
	assert_int_equal(keyset_set(ks, "data/x", big, KEYSET_VALUE_MAX), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, path, S("x")), -ENAMETOOLONG);
	/* Argument errors are not quota hits. */
	assert_false(keyset_limit_reached(ks));
	assert_int_equal(keyset_count(ks), 1);
	keyset_free(ks);
}

static void test_order_and_prefix_iteration(void **state)
{
	static const char *const paths[] = {
		"attr/vif/1/ipv4/0", "attr/vif2", "attr/vif/0/ipv6/0", "attr/vif",
		"attr/vif/0/ipv4/0", "attr/vif-x/0", "attr/eth0/ip", "data/ts",
		"attr/vif/10/ipv4/0",
	};
	static const char *const under_vif[] = {
		"attr/vif/0/ipv4/0", "attr/vif/0/ipv6/0", "attr/vif/1/ipv4/0",
		"attr/vif/10/ipv4/0",
	};
	struct keyset *ks = keyset_new(NULL);
	struct keyset_iter it;
	const char *path, *value, *prev = NULL;
	size_t len, n = 0;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(keyset_set(ks, paths[i], paths[i], strlen(paths[i])), KEYSET_CHANGED);

	keyset_iter_init(&it, ks, "attr/vif/");
	while (keyset_iter_next(&it, &path, &value, &len)) {
		assert_true(n < 4);
		assert_string_equal(path, under_vif[n]);
		assert_memory_equal(value, path, len);
		n++;
	}
	assert_int_equal(n, 4);

	n = 0;
	keyset_iter_init(&it, ks, "");
	while (keyset_iter_next(&it, &path, &value, &len)) {
		if (prev)
			assert_true(strcmp(prev, path) < 0);
		prev = path;
		n++;
	}
	assert_int_equal(n, sizeof(paths) / sizeof(paths[0]));

	keyset_iter_init(&it, ks, "control/");
	assert_false(keyset_iter_next(&it, &path, &value, &len));
	keyset_iter_init(&it, ks, "zzz");
	assert_false(keyset_iter_next(&it, &path, &value, &len));
	keyset_free(ks);
}

static void test_remove(void **state)
{
	struct keyset *ks = keyset_new(NULL);

	assert_int_equal(keyset_set(ks, "data/a", S("1")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "data/b", S("22")), KEYSET_CHANGED);
	assert_int_equal(keyset_remove(ks, "data/a"), 1);
	assert_int_equal(keyset_remove(ks, "data/a"), 0);
	assert_int_equal(keyset_remove(ks, "data"), 0);
	assert_null(keyset_get(ks, "data/a", NULL));
	assert_non_null(keyset_get(ks, "data/b", NULL));
	assert_int_equal(keyset_count(ks), 1);
	assert_int_equal(keyset_bytes(ks), strlen("data/b") + 2);
	keyset_free(ks);
}

static void test_remove_subtree(void **state)
{
	struct keyset *ks = keyset_new(NULL);

	assert_int_equal(keyset_set(ks, "attr/vif", S("")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "attr/vif/0/ipv4/0", S("10.0.0.1")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "attr/vif/0/ipv6/0", S("fe80::1")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "attr/vif/1/ipv4/0", S("10.0.0.2")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "attr/vif2", S("x")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "attr/vif-a", S("x")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "attr/eth0/ip", S("10.0.0.3")), KEYSET_CHANGED);

	assert_int_equal(keyset_remove_subtree(ks, "attr/vif/1"), 1);
	assert_null(keyset_get(ks, "attr/vif/1/ipv4/0", NULL));
	/* An rm of attr/vif takes the node and its children, not its siblings. */
	assert_int_equal(keyset_remove_subtree(ks, "attr/vif/"), 3);
	assert_null(keyset_get(ks, "attr/vif", NULL));
	assert_non_null(keyset_get(ks, "attr/vif2", NULL));
	assert_non_null(keyset_get(ks, "attr/vif-a", NULL));
	assert_non_null(keyset_get(ks, "attr/eth0/ip", NULL));
	assert_int_equal(keyset_count(ks), 3);
	assert_int_equal(keyset_remove_subtree(ks, "nothing/here"), 0);
	/* A subtree with no node of its own still goes. */
	assert_int_equal(keyset_remove_subtree(ks, "attr"), 3);
	assert_int_equal(keyset_count(ks), 0);
	assert_int_equal(keyset_bytes(ks), 0);

	assert_int_equal(keyset_set(ks, "a", S("1")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "b/c", S("1")), KEYSET_CHANGED);
	assert_int_equal(keyset_remove_subtree(ks, ""), 2);
	assert_int_equal(keyset_count(ks), 0);
	keyset_free(ks);
}

/* Found by tests/fuzz/fuzz-metrics: removals from a keyset that never held a key. */
static void test_remove_from_empty(void **state)
{
	struct keyset *ks = keyset_new(NULL);

	assert_non_null(ks);
	assert_int_equal(keyset_remove(ks, "data/x"), 0);
	assert_int_equal(keyset_remove_subtree(ks, "data"), 0);
	assert_int_equal(keyset_remove_subtree(ks, "data/meminfo_"), 0);
	assert_int_equal(keyset_remove_subtree(ks, ""), 0);
	assert_int_equal(keyset_set(ks, "data/x", S("1")), KEYSET_CHANGED);
	assert_int_equal(keyset_remove_subtree(ks, "attr"), 0);
	assert_int_equal(keyset_remove_subtree(ks, ""), 1);
	assert_int_equal(keyset_remove_subtree(ks, ""), 0);
	assert_int_equal(keyset_count(ks), 0);
	assert_int_equal(keyset_bytes(ks), 0);
	keyset_free(ks);
}

static void test_limit_keys(void **state)
{
	struct keyset_limits lim = { .max_keys = 3, .max_bytes = 1000 };
	struct keyset *ks = keyset_new(&lim);
	size_t len;

	assert_int_equal(keyset_set(ks, "k1", S("a")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "k2", S("a")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "k3", S("a")), KEYSET_CHANGED);
	assert_false(keyset_limit_reached(ks));
	assert_int_equal(keyset_set(ks, "k4", S("a")), -ENOSPC);
	assert_true(keyset_limit_reached(ks));
	assert_null(keyset_get(ks, "k4", NULL));
	assert_int_equal(keyset_count(ks), 3);
	/* Everything else keeps working: rewrites, replacements, reads. */
	assert_int_equal(keyset_set(ks, "k1", S("a")), KEYSET_SAME);
	assert_int_equal(keyset_set(ks, "k2", S("bb")), KEYSET_CHANGED);
	assert_memory_equal(keyset_get(ks, "k2", &len), "bb", 2);
	/* Still full: the flag stays. */
	assert_false(keyset_clear_limit(ks));
	assert_true(keyset_limit_reached(ks));
	assert_int_equal(keyset_remove(ks, "k3"), 1);
	/* The flag is sticky until cleared, even with room again. */
	assert_true(keyset_limit_reached(ks));
	assert_true(keyset_clear_limit(ks));
	assert_false(keyset_limit_reached(ks));
	assert_false(keyset_clear_limit(ks));
	assert_int_equal(keyset_set(ks, "k4", S("a")), KEYSET_CHANGED);
	keyset_free(ks);
}

static void test_limit_bytes(void **state)
{
	/* "k1"+"aaaa" = 6 bytes per key. */
	struct keyset_limits lim = { .max_keys = 100, .max_bytes = 14 };
	struct keyset *ks = keyset_new(&lim);
	size_t len;

	assert_int_equal(keyset_set(ks, "k1", S("aaaa")), KEYSET_CHANGED);
	assert_int_equal(keyset_set(ks, "k2", S("aaaa")), KEYSET_CHANGED);
	assert_int_equal(keyset_bytes(ks), 12);
	assert_int_equal(keyset_set(ks, "k3", S("a")), -ENOSPC);
	assert_true(keyset_limit_reached(ks));
	assert_int_equal(keyset_bytes(ks), 12);
	/* Under the limit (12 < 14) but still no room for the 3 bytes refused. */
	assert_false(keyset_clear_limit(ks));
	assert_true(keyset_limit_reached(ks));
	assert_int_equal(keyset_set(ks, "k2", S("a")), KEYSET_CHANGED);
	assert_int_equal(keyset_bytes(ks), 9);
	assert_true(keyset_clear_limit(ks));	/* 9 + 3 <= 14 */
	assert_false(keyset_limit_reached(ks));
	assert_int_equal(keyset_set(ks, "k2", S("aaaa")), KEYSET_CHANGED);
	assert_int_equal(keyset_bytes(ks), 12);

	/* Replacing within the limit is allowed: 12 - 4 + 6 = 14. */
	assert_int_equal(keyset_set(ks, "k1", S("aaaaaa")), KEYSET_CHANGED);
	assert_int_equal(keyset_bytes(ks), 14);
	assert_false(keyset_limit_reached(ks));
	/* Shrinking is always allowed. */
	assert_int_equal(keyset_set(ks, "k1", S("a")), KEYSET_CHANGED);
	assert_int_equal(keyset_bytes(ks), 9);

	/* A replacement that does not fit drops the stale old value. */
	assert_int_equal(keyset_set(ks, "k2", S("aaaaaaaaaa")), -ENOSPC);
	assert_true(keyset_limit_reached(ks));
	assert_null(keyset_get(ks, "k2", &len));
	assert_int_equal(keyset_count(ks), 1);
	assert_int_equal(keyset_bytes(ks), 3);
	keyset_free(ks);
}

static void test_many_keys(void **state)
{
	struct keyset *ks = keyset_new(NULL);
	struct keyset_iter it;
	const char *path, *value;
	char buf[64];
	size_t len, n = 0;

	/* Insert in an order that exercises insertion at both ends and the middle. */
	for (int i = 0; i < 1000; i++) {
		int k = (i * 7919) % 1000;

		snprintf(buf, sizeof(buf), "data/volumes/%d/size", k);
		assert_int_equal(keyset_set(ks, buf, buf, strlen(buf)), KEYSET_CHANGED);
	}
	assert_int_equal(keyset_count(ks), 1000);
	for (int k = 0; k < 1000; k += 37) {
		snprintf(buf, sizeof(buf), "data/volumes/%d/size", k);
		value = keyset_get(ks, buf, &len);
		assert_non_null(value);
		assert_memory_equal(value, buf, len);
	}
	keyset_iter_init(&it, ks, "data/volumes/99");
	while (keyset_iter_next(&it, &path, &value, &len))
		n++;
	assert_int_equal(n, 11);	/* 99 and 990..999 */
	assert_int_equal(keyset_remove_subtree(ks, "data/volumes"), 1000);
	keyset_free(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_get),
		cmocka_unit_test(test_same_and_changed),
		cmocka_unit_test(test_binary_values),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_order_and_prefix_iteration),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_remove_subtree),
		cmocka_unit_test(test_remove_from_empty),
		cmocka_unit_test(test_limit_keys),
		cmocka_unit_test(test_limit_bytes),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

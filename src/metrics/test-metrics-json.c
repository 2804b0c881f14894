/* Unit tests of the guest metrics JSON: exact schema, and valid JSON from hostile bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "json/jsonw.h"
#include "metrics/metrics-json.h"
#include "util/utf8.h"

#define FFFD "\xef\xbf\xbd"

static const struct metrics_clock clock_at = { .now = 1700000100, .last_write = 1700000000, .live_timeout = 300 };

/* The JSON text of m, NUL-terminated, owned by the caller. */
static char *to_json(const struct guest_metrics *m, size_t *len_out)
{
	struct jsonw w;
	const char *text;
	size_t len;
	char *copy;

	assert_int_equal(jsonw_init(&w), 0);
	metrics_json(&w, m);
	assert_int_equal(jsonw_error(&w), 0);
	jsonw_text(&w, &text, &len);
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	copy[len] = '\0';
	jsonw_release(&w);
	if (len_out)
		*len_out = len;
	return copy;
}

/* Parses text back (yajl validates UTF-8 and syntax): the proof it is valid JSON. */
static yajl_val parse(const char *text)
{
	char err[256];
	yajl_val root = yajl_tree_parse(text, err, sizeof(err));

	if (!root)
		fail_msg("invalid JSON: %s", err);
	assert_true(YAJL_IS_OBJECT(root));
	return root;
}

static const char *get_string(yajl_val root, const char *a, const char *b)
{
	const char *path[] = { a, b, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	if (!v)
		fail_msg("no string at %s/%s", a, b ? b : "");
	return YAJL_GET_STRING(v);
}

static void test_empty_schema(void **state)
{
	struct guest_metrics m;
	char *text;

	metrics_init(&m);
	text = to_json(&m, NULL);
	assert_string_equal(text,
		"{\"os_version\":{},\"pv_drivers_version\":{},"
		"\"pv_drivers_detected\":false,\"pv_drivers_up_to_date\":false,"
		"\"pv_drivers_not_upgradable\":false,\"networks\":{},\"memory\":{},"
		"\"disks\":{},\"other\":{},\"can_use_hotplug_vbd\":\"unspecified\","
		"\"can_use_hotplug_vif\":\"unspecified\",\"live\":false,"
		"\"last_updated\":null,\"limit_reached\":false}");
	free(text);
}

static void test_typical(void **state)
{
	static const char *const kv[][2] = {
		{ "data/os_name", "Debian GNU/Linux 12 (bookworm)" },
		{ "data/os_distro", "debian" },
		{ "attr/PVAddons/MajorVersion", "8" },
		{ "attr/PVAddons/MinorVersion", "4" },
		{ "attr/PVAddons/MicroVersion", "0" },
		{ "attr/PVAddons/BuildVersion", "1" },
		{ "attr/vif/0/ipv4/0", "10.0.0.5" },
		{ "attr/vif/0/ipv6/0", "fe80::1" },
		{ "data/meminfo_free", "512" },
		{ "data/volumes/0/size", "1024" },
		{ "control/feature-balloon", "1" },
		{ "feature/hotplug/vif", "1" },
	};
	struct keyset *ks = keyset_new(NULL);
	struct metrics_config cfg = { .has_reference = true };
	struct guest_metrics m;
	char *text;

	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		assert_true(keyset_set(ks, kv[i][0], kv[i][1], strlen(kv[i][1])) >= 0);
	assert_int_equal(pv_version_parse("9.0", &cfg.reference), 0);
	assert_int_equal(metrics_compute(&m, ks, &cfg, &clock_at), 0);
	text = to_json(&m, NULL);
	assert_string_equal(text,
		"{\"os_version\":{\"distro\":\"debian\",\"name\":\"Debian GNU/Linux 12 (bookworm)\"},"
		"\"pv_drivers_version\":{\"build\":\"1\",\"major\":\"8\",\"micro\":\"0\",\"minor\":\"4\"},"
		"\"pv_drivers_detected\":true,\"pv_drivers_up_to_date\":false,"
		"\"pv_drivers_not_upgradable\":false,"
		"\"networks\":{\"0/ip\":\"10.0.0.5\",\"0/ipv4/0\":\"10.0.0.5\",\"0/ipv6/0\":\"fe80::1\"},"
		"\"memory\":{\"free_kib\":512},\"disks\":{\"0/size\":\"1024\"},"
		"\"other\":{\"feature-balloon\":\"1\"},\"can_use_hotplug_vbd\":\"unspecified\","
		"\"can_use_hotplug_vif\":\"yes\",\"live\":true,"
		"\"last_updated\":1700000000,\"limit_reached\":false}");
	free(text);
	metrics_free(&m);
	keyset_free(ks);
}

static void test_hostile_values(void **state)
{
	static const char nul_name[] = "a\0b";
	static const char bad_utf8[] = "x\xff\xc3(\xed\xa0\x80y";	/* bad byte, truncated, surrogate */
	static const char controls[] = "\x01\x1f\n\r\t\"\\/\x7f";
	char *big = malloc(KEYSET_VALUE_MAX - 1);
	struct keyset *ks = keyset_new(NULL);
	struct guest_metrics m;
	yajl_val root;
	const char *s, *path[3];
	char *text;
	size_t len;

	assert_non_null(big);
	memset(big, 0xfe, KEYSET_VALUE_MAX - 1);	/* 4095 bytes, none valid UTF-8 */
	assert_true(keyset_set(ks, "data/os_name", nul_name, sizeof(nul_name) - 1) >= 0);
	assert_true(keyset_set(ks, "data/os_distro", bad_utf8, sizeof(bad_utf8) - 1) >= 0);
	assert_true(keyset_set(ks, "data/os_uname", controls, sizeof(controls) - 1) >= 0);
	assert_true(keyset_set(ks, "attr/vif/0/ipv4/0", big, KEYSET_VALUE_MAX - 1) >= 0);
	/* Keys built from paths are guest bytes too. */
	assert_true(keyset_set(ks, "control/feature-\xff", "1", 1) >= 0);
	assert_true(keyset_set(ks, "data/volumes/\xc3/size", "\0", 1) >= 0);
	assert_true(keyset_set(ks, "drivers/0", "V\xff XENBUS 1.0 \x80", 15) >= 0);
	assert_true(keyset_set(ks, "data/meminfo_free", "\xff", 1) >= 0);
	assert_int_equal(metrics_compute(&m, ks, NULL, &clock_at), 0);

	text = to_json(&m, &len);
	/* One line of valid UTF-8: every control byte was escaped. */
	assert_true(utf8_valid(text, len));
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)text[i] >= 0x20);
	assert_non_null(strstr(text, "\"name\":\"a\\u0000b\""));
	assert_non_null(strstr(text, "\"" FFFD "/size\":\"\\u0000\""));

	root = parse(text);
	assert_string_equal(get_string(root, "os_version", "distro"),
			    "x" FFFD FFFD "(" FFFD FFFD FFFD "y");
	assert_string_equal(get_string(root, "os_version", "uname"), controls);
	/* The NUL decodes back; C strings stop there, which is all we can see here. */
	assert_string_equal(get_string(root, "os_version", "name"), "a");
	s = get_string(root, "networks", "0/ipv4/0");
	assert_int_equal(strlen(s), 3 * (KEYSET_VALUE_MAX - 1));
	for (size_t i = 0; i < KEYSET_VALUE_MAX - 1; i++)
		assert_memory_equal(s + 3 * i, FFFD, 3);
	assert_string_equal(get_string(root, "networks", "0/ip"), s);
	assert_string_equal(get_string(root, "other", "feature-" FFFD), "1");
	assert_string_equal(get_string(root, "pv_drivers_version", "xenbus"), "V" FFFD " 1.0 " FFFD);
	path[0] = "disks";
	path[1] = FFFD "/size";
	path[2] = NULL;
	assert_non_null(yajl_tree_get(root, path, yajl_t_string));
	/* An unparsable memory value is left out, not sent as junk. */
	path[0] = "memory";
	path[1] = "free_kib";
	assert_null(yajl_tree_get(root, path, yajl_t_any));
	path[1] = NULL;
	assert_true(YAJL_IS_OBJECT(yajl_tree_get(root, path, yajl_t_any)));

	yajl_tree_free(root);
	free(text);
	metrics_free(&m);
	keyset_free(ks);
	free(big);
}

static void test_every_byte(void **state)
{
	/* Each byte value alone as a value: the output always parses. */
	struct keyset *ks = keyset_new(NULL);

	for (int b = 0; b < 256; b++) {
		char v = (char)b;
		struct guest_metrics m;
		yajl_val root;
		char *text;

		assert_true(keyset_set(ks, "control/feature-x", &v, 1) >= 0);
		assert_int_equal(metrics_compute(&m, ks, NULL, &clock_at), 0);
		text = to_json(&m, NULL);
		root = parse(text);
		assert_non_null(get_string(root, "other", "feature-x"));
		yajl_tree_free(root);
		free(text);
		metrics_free(&m);
	}
	keyset_free(ks);
}

static void test_numbers(void **state)
{
	struct guest_metrics m;
	yajl_val root, v;
	const char *path[3] = { "memory", "total_kib", NULL };
	char *text;

	metrics_init(&m);
	m.memory.total_kib = 9223372036854775807LL;
	m.memory.free_kib = 0;
	m.last_updated = 0;
	text = to_json(&m, NULL);
	assert_non_null(strstr(text, "\"memory\":{\"total_kib\":9223372036854775807,\"free_kib\":0}"));
	assert_non_null(strstr(text, "\"last_updated\":0,"));
	root = parse(text);
	v = yajl_tree_get(root, path, yajl_t_number);
	assert_non_null(v);
	assert_true(YAJL_IS_INTEGER(v));
	assert_int_equal(YAJL_GET_INTEGER(v), 9223372036854775807LL);
	yajl_tree_free(root);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_schema),
		cmocka_unit_test(test_typical),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of the exposition renderer: label escaping and bounds for
 * hostile guest bytes, both formats' family rules, absent values, and the
 * Accept negotiation.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/keyset.h"
#include "prometheus/exposition.h"
#include "util/utf8.h"

struct kv {
	const char *path, *value;
};

static void compute(struct guest_metrics *m, const struct kv *kv, size_t n)
{
	struct keyset *ks = keyset_new(NULL);
	struct metrics_clock clk = { .now = 1000, .last_write = 990, .live_timeout = 300 };

	assert_non_null(ks);
	for (size_t i = 0; i < n; i++)
		assert_true(keyset_set(ks, kv[i].path, kv[i].value, strlen(kv[i].value)) >= 0);
	assert_int_equal(metrics_compute(m, ks, NULL, &clk), 0);
	keyset_free(ks);
}

static char *render(const struct prom_domain *d, size_t n, enum prom_format f)
{
	struct prom_daemon v = { .version = "1.2.3" };
	struct prom_builder *b = prom_builder_new(f);
	char *text;
	size_t len;

	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		prom_builder_add(b, &d[i]);
	v.engine.domains = n;
	v.engine.events_published = 7;
	v.engine.xenstore_connects = 3;
	v.engine.xs.req.reads = 11;
	v.server.events_dropped = 5;
	assert_int_equal(prom_builder_finish(b, &v, &text, &len), 0);
	assert_int_equal(strlen(text), len);	/* no NUL inside */
	assert_true(utf8_valid(text, len));
	return text;
}

static void test_label_escaping(void **state)
{
	char out[PROM_LABEL_ESCAPED_MAX];
	size_t n;

	n = prom_label_value("a\"b\\c\nd", 7, out);
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	assert_int_equal(n, strlen(out));
	/* Invalid UTF-8 and NUL become U+FFFD; valid multibyte stays. */
	n = prom_label_value("x\xff\0y\xc3\xa9", 6, out);
	assert_string_equal(out, "x" UTF8_REPLACEMENT UTF8_REPLACEMENT "y\xc3\xa9");
	assert_int_equal(n, strlen(out));
	/* Empty. */
	assert_int_equal(prom_label_value("", 0, out), 0);
	assert_string_equal(out, "");
}

static void test_label_bounds(void **state)
{
	char big[2000], out[PROM_LABEL_ESCAPED_MAX];
	size_t n;

	/* 2000 quotes: 128 kept, each escaped, within the buffer. */
	memset(big, '"', sizeof(big));
	n = prom_label_value(big, sizeof(big), out);
	assert_int_equal(n, 2 * PROM_LABEL_VALUE_MAX);
	/* 2000 invalid bytes: cut on a whole replacement character. */
	memset(big, '\xfe', sizeof(big));
	n = prom_label_value(big, sizeof(big), out);
	assert_int_equal(n, (PROM_LABEL_VALUE_MAX / 3) * 3);
	assert_true(utf8_valid(out, n));
	/* A 2-byte character straddling the bound is dropped whole. */
	memset(big, 'a', PROM_LABEL_VALUE_MAX - 1);
	memcpy(big + PROM_LABEL_VALUE_MAX - 1, "\xc3\xa9", 2);
	n = prom_label_value(big, PROM_LABEL_VALUE_MAX + 1, out);
	assert_int_equal(n, PROM_LABEL_VALUE_MAX - 1);
}

static const struct kv appliance_keys[] = {
	{ "attr/PVAddons/MajorVersion", "6" }, { "attr/PVAddons/MinorVersion", "2" },
	{ "attr/PVAddons/MicroVersion", "0" }, { "attr/PVAddons/BuildVersion", "76888" },
	{ "attr/PVAddons/NotUpgradable", "1" },
	{ "data/os_distro", "debian" }, { "data/os_name", "Debian \"12\"\n\\" },
	{ "data/os_majorver", "12" }, { "data/os_minorver", "4" },
	{ "data/meminfo_total", "1024" },
	{ "attr/vif/0/ipv4/0", "192.0.2.1" }, { "attr/vif/0/ipv6/0", "2001:db8::1" },
	{ "attr/vif/0/ipv6/1", "fe80::1" },
};

static void test_text_format(void **state)
{
	struct guest_metrics m, empty;
	struct prom_domain d[2];
	char *text;

	compute(&m, appliance_keys, sizeof(appliance_keys) / sizeof(appliance_keys[0]));
	metrics_init(&empty);
	d[0] = (struct prom_domain){ 10, "app\"liance", "00000000-0000-4000-8000-00000000000a", &m, false };
	d[1] = (struct prom_domain){ 11, NULL, NULL, &empty, true };
	text = render(d, 2, PROM_FORMAT_TEXT);

	/* The publication limit is the engine's state, not the metrics'. */
	assert_non_null(strstr(text, "xgm_guest_rate_limited{domid=\"10\",name=\"app\\\"liance\","
				     "vm_uuid=\"00000000-0000-4000-8000-00000000000a\"} 0\n"));
	assert_non_null(strstr(text, "xgm_guest_rate_limited{domid=\"11\",name=\"\",vm_uuid=\"\"} 1\n"));

	assert_non_null(strstr(text, "# TYPE xgm_guest_pv_drivers_up_to_date gauge\n"));
	assert_non_null(strstr(text, "xgm_guest_pv_drivers_up_to_date{domid=\"10\",name=\"app\\\"liance\","
				     "vm_uuid=\"00000000-0000-4000-8000-00000000000a\"} 1\n"));
	assert_non_null(strstr(text, "xgm_guest_pv_drivers_up_to_date{domid=\"11\",name=\"\",vm_uuid=\"\"} 0\n"));
	assert_non_null(strstr(text, "xgm_guest_pv_drivers_not_upgradable{domid=\"10\","));
	/* Memory: total known (bytes), free unknown: absent, not 0. */
	assert_non_null(strstr(text, "xgm_guest_memory_total_bytes{domid=\"10\",name=\"app\\\"liance\","
				     "vm_uuid=\"00000000-0000-4000-8000-00000000000a\"} 1048576\n"));
	assert_null(strstr(text, "xgm_guest_memory_free_bytes{"));
	assert_null(strstr(text, "xgm_guest_memory_total_bytes{domid=\"11\""));
	assert_non_null(strstr(text, ",family=\"ipv4\"} 1\n"));
	assert_non_null(strstr(text, ",family=\"ipv6\"} 2\n"));
	assert_non_null(strstr(text, "os_distro=\"debian\",os_name=\"Debian \\\"12\\\"\\n\\\\\","
				     "os_major=\"12\",os_minor=\"4\",tools_version=\"6.2.0.76888\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE xgm_guest_info gauge\n"));
	/* Counters: the family is the _total name in 0.0.4; no UNIT, no EOF. */
	assert_non_null(strstr(text, "# TYPE xgm_events_published_total counter\nxgm_events_published_total 7\n"));
	assert_non_null(strstr(text, "xgm_xenstore_requests_total{kind=\"read\"} 11\n"));
	assert_non_null(strstr(text, "xgm_xenstore_reconnects_total 2\n"));
	assert_non_null(strstr(text, "xgm_events_dropped_total 5\n"));
	assert_non_null(strstr(text, "xgm_build_info{version=\"1.2.3\"} 1\n"));
	assert_null(strstr(text, "# UNIT"));
	assert_null(strstr(text, "# EOF"));
	free(text);
	metrics_free(&m);
}

static void test_openmetrics_format(void **state)
{
	struct guest_metrics m;
	struct prom_domain d;
	char *text;
	size_t len;

	compute(&m, appliance_keys, sizeof(appliance_keys) / sizeof(appliance_keys[0]));
	d = (struct prom_domain){ 10, "appliance", "u", &m, false };
	text = render(&d, 1, PROM_FORMAT_OPENMETRICS);
	len = strlen(text);
	assert_true(len > 6 && !strcmp(text + len - 6, "# EOF\n"));
	assert_non_null(strstr(text, "# TYPE xgm_events_published counter\nxgm_events_published_total 7\n"));
	assert_non_null(strstr(text, "# TYPE xgm_guest info\n"));
	assert_non_null(strstr(text, "# TYPE xgm_build info\nxgm_build_info{"));
	assert_non_null(strstr(text, "# TYPE xgm_guest_memory_total_bytes gauge\n"
				     "# UNIT xgm_guest_memory_total_bytes bytes\n"));
	assert_non_null(strstr(text, "# UNIT xgm_guest_last_updated_timestamp_seconds seconds\n"));
	free(text);
	metrics_free(&m);
}

/* A hostile name cannot add lines or labels: every line stays one series. */
static void test_hostile_identity(void **state)
{
	char name[2001];
	struct guest_metrics m;
	struct prom_domain d;
	char *text, *line, *save;

	for (size_t i = 0; i < 2000; i++)
		name[i] = "\"\\\n}{,=\xff"[i % 8];
	name[2000] = '\0';
	metrics_init(&m);
	d = (struct prom_domain){ 3, name, "\"} 1\nfake 2", &m, false };
	text = render(&d, 1, PROM_FORMAT_TEXT);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(line[0] == '#' || !strncmp(line, "xgm_", 4));
		assert_true(strlen(line) < 2048);
	}
	free(text);
}

static void test_negotiate(void **state)
{
	assert_int_equal(prom_negotiate(NULL), PROM_FORMAT_TEXT);
	assert_int_equal(prom_negotiate(""), PROM_FORMAT_TEXT);
	assert_int_equal(prom_negotiate("text/plain"), PROM_FORMAT_TEXT);
	assert_int_equal(prom_negotiate("application/openmetrics-text"), PROM_FORMAT_OPENMETRICS);
	/* What Prometheus 2.42 sends. */
	assert_int_equal(prom_negotiate("application/openmetrics-text;version=1.0.0,"
					"application/openmetrics-text;version=0.0.1;q=0.75,"
					"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
			 PROM_FORMAT_OPENMETRICS);
	assert_int_equal(prom_negotiate("text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5"),
			 PROM_FORMAT_TEXT);
	assert_int_equal(prom_negotiate("application/openmetrics-text;q=0, */*"), PROM_FORMAT_TEXT);
	assert_int_equal(prom_negotiate("application/json"), PROM_FORMAT_TEXT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_label_bounds),
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_openmetrics_format),
		cmocka_unit_test(test_hostile_identity),
		cmocka_unit_test(test_negotiate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

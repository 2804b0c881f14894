/*
 * The /metrics endpoint end to end: xgmd against the sandbox's real
 * xenstored with a few guests (old tools declared NotUpgradable, out of
 * date, no tools, hostile strings), its output checked by Debian's
 * promtool, and a real Prometheus server scraping it every second, asked
 * through its HTTP API. Loopback only; every wait is bounded and polls a
 * fact. Skips (77) when promtool or prometheus is not installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "http-client.h"
#include "xgmd-test.h"
#include "util/time.h"

#define TIMEOUT_MS 5000
/* Prometheus starts, scrapes every second and answers queries: time for a few rounds. */
#define PROMETHEUS_TIMEOUT_MS 60000

static struct fixture f;
static unsigned int xgmd_port, prom_port;
static pid_t prom_pid;

static char *scrape(const char *accept)
{
	char *body;

	assert_int_equal(http_request(xgmd_port, "GET", "/metrics", accept, TIMEOUT_MS, &body), 200);
	return body;
}

/* Runs "promtool check metrics" on text: its exit status, its complaints printed. */
static int promtool_check(const char *text)
{
	char path[PATH_MAX + 16], cmd[2 * PATH_MAX + 64];
	FILE *file;

	snprintf(path, sizeof(path), "%s/scrape.txt", f.dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' 1>&2", path);
	return system(cmd);
}

static void tools(unsigned int domid, const char *major, const char *minor)
{
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MajorVersion", major), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MinorVersion", minor), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MicroVersion", "0"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/BuildVersion", "1"), 0);
}

static int group_setup(void **state)
{
	char sets_listen[64];
	const char *sets[] = {
		"settle.quiet_ms=50", "settle.max_wait_ms=500",
		"metrics.reference_version=9.0", sets_listen,
		/* A domain per loop turn: every scrape here is rendered in several slices. */
		"prometheus.slice_domains=1", NULL,
	};
	struct xgmd_mark m;

	if (system("command -v promtool >/dev/null && command -v prometheus >/dev/null") != 0) {
		fprintf(stderr, "promtool or prometheus not installed (Debian: prometheus)\n");
		exit(77);
	}
	xgmd_port = http_free_port();
	assert_true(xgmd_port > 0);
	snprintf(sets_listen, sizeof(sets_listen), "prometheus.listen=127.0.0.1:%u", xgmd_port);
	fixture_start(&f, sets, SUBSCRIBE_ALL);

	/* The appliance: old tools, declared not upgradable, so up to date. */
	assert_true(fixture_new_domain(&f, 10, "appliance"));
	client_mark(&f.ctl, &m);
	tools(10, "6", "2");
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/PVAddons/NotUpgradable", "1"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "data/os_distro", "debian"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "data/meminfo_total", "2048"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 10, "attr/vif/0/ipv4/0", "192.0.2.10"), 0);
	/* Scrapes read what xgmd holds: all of it read before any test scrapes. */
	assert_true(client_wait_read(&f.ctl, &m, 8, 10, TIMEOUT_MS));
	/* Out of date: 7.1 against the reference 9.0. */
	assert_true(fixture_new_domain(&f, 11, "outdated"));
	client_mark(&f.ctl, &m);
	tools(11, "7", "1");
	assert_true(client_wait_read(&f.ctl, &m, 4, 11, TIMEOUT_MS));
	/* No tools at all. */
	assert_true(fixture_new_domain(&f, 12, "bare"));
	return 0;
}

static int group_teardown(void **state)
{
	int r = 0, status;

	if (prom_pid > 0) {
		kill(prom_pid, SIGTERM);
		waitpid(prom_pid, &status, 0);
	}
	r |= fixture_stop(&f);
	return r;
}

static void test_format(void **state)
{
	char *text = scrape(NULL);

	assert_non_null(strstr(http_headers(text), "text/plain; version=0.0.4"));
	assert_non_null(strstr(text, "xgm_guest_pv_drivers_up_to_date{domid=\"10\",name=\"appliance\","));
	assert_non_null(strstr(text, "xgm_guest_pv_drivers_not_upgradable{domid=\"10\","));
	assert_non_null(strstr(text, "xgm_guest_memory_total_bytes{domid=\"10\","));
	assert_null(strstr(text, "xgm_guest_memory_total_bytes{domid=\"12\","));	/* unknown: absent */
	assert_non_null(strstr(text, "xgm_guest_pv_drivers_detected{domid=\"12\",name=\"bare\","));
	assert_non_null(strstr(text, "tools_version=\"6.2.0.1\"} 1\n"));
	assert_non_null(strstr(text, "xgm_domains "));
	assert_int_equal(promtool_check(text), 0);
	free(text);

	/* OpenMetrics when asked, as Prometheus asks. */
	text = scrape("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
	assert_non_null(strstr(http_headers(text), "application/openmetrics-text; version=1.0.0"));
	assert_non_null(strstr(text, "\n# EOF\n"));
	free(text);
}

/* A scrape reads memory: xgmd's xenstore request counters do not move. */
static void test_scrape_reads_no_xenstore(void **state)
{
	char *a = scrape(NULL), *b = scrape(NULL), *pa, *pb;

	for (const char *kind = "read"; kind; kind = strcmp(kind, "read") ? NULL : "directory") {
		char key[64];

		snprintf(key, sizeof(key), "xgm_xenstore_requests_total{kind=\"%s\"} ", kind);
		pa = strstr(a, key);
		pb = strstr(b, key);
		assert_non_null(pa);
		assert_non_null(pb);
		assert_int_equal(strtoull(pa + strlen(key), NULL, 10),
				 strtoull(pb + strlen(key), NULL, 10));
	}
	free(a);
	free(b);
}

static void test_other_requests(void **state)
{
	char *body;

	assert_int_equal(http_request(xgmd_port, "GET", "/", NULL, TIMEOUT_MS, &body), 404);
	free(body);
	assert_int_equal(http_request(xgmd_port, "GET", "/metrics/x", NULL, TIMEOUT_MS, &body), 404);
	free(body);
	assert_int_equal(http_request(xgmd_port, "POST", "/metrics", NULL, TIMEOUT_MS, &body), 405);
	assert_non_null(strstr(http_headers(body), "Allow: GET"));
	free(body);
	assert_int_equal(http_request(xgmd_port, "HEAD", "/metrics", NULL, TIMEOUT_MS, &body), 405);
	free(body);
}

/* Guest and toolstack strings that try to break the exposition or add labels. */
static void test_hostile_labels(void **state)
{
	char name[2001];
	struct xgmd_mark m;
	char *text;

	for (size_t i = 0; i < 2000; i++)
		name[i] = "\"\\\n}{,=\xff"[i % 8];
	name[2000] = '\0';
	assert_true(fixture_new_domain(&f, 13, name));
	client_mark(&f.ctl, &m);
	assert_int_equal(sandbox_test_guest(f.dir, 13, "data/os_name",
					    "x\"} 1\nxgm_fake{a=\"b\\\xc3\x28\xff"), 0);
	assert_int_equal(sandbox_test_guest(f.dir, 13, "data/os_distro", "\n\n\n"), 0);
	assert_true(client_wait_read(&f.ctl, &m, 2, 13, TIMEOUT_MS));
	text = scrape(NULL);
	assert_null(strstr(text, "\nxgm_fake"));
	assert_non_null(strstr(text, "xgm_guest_info{domid=\"13\","));
	assert_int_equal(promtool_check(text), 0);
	free(text);
}

/* A whole exposition: every domain of the group's, and the daemon's series after them. */
static void assert_whole(const char *text)
{
	for (unsigned int domid = 10; domid <= 12; domid++) {
		char key[64];

		snprintf(key, sizeof(key), "xgm_guest_info{domid=\"%u\",", domid);
		assert_non_null(strstr(text, key));
	}
	assert_non_null(strstr(text, "\nxgm_build_info{"));
}

/* Scrapes in progress at once take turns; each is whole, or refused with 503 when too many. */
static void test_concurrent_scrapes(void **state)
{
	int fds[8], served = 0;

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		fds[i] = http_send(xgmd_port, "GET", "/metrics", NULL);
		assert_true(fds[i] >= 0);
	}
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		char *body;
		int status = http_receive(fds[i], TIMEOUT_MS, &body);

		if (status == 200) {
			assert_whole(body);
			served++;
		} else {
			assert_int_equal(status, 503);
			assert_non_null(strstr(http_headers(body), "Retry-After:"));
		}
		free(body);
	}
	printf("%d of %zu concurrent scrapes served, the others refused\n", served,
	       sizeof(fds) / sizeof(fds[0]));
	assert_true(served >= 1);
}

/* Scrapers that leave before their exposition is rendered cost nothing afterwards. */
static void test_scraper_leaves(void **state)
{
	char *text;
	yajl_val v;

	for (int i = 0; i < 50; i++) {
		int fd = http_send(xgmd_port, "GET", "/metrics", NULL);

		assert_true(fd >= 0);
		close(fd);
	}
	v = client_call(&f.ctl, "{\"cmd\":\"ping\",\"id\":1}");
	assert_non_null(v);
	yajl_tree_free(v);
	text = scrape(NULL);
	assert_whole(text);
	assert_int_equal(promtool_check(text), 0);
	free(text);
}

/* GET path on Prometheus's API; the parsed JSON, or NULL. */
static yajl_val prom_api(const char *path)
{
	char *body;
	yajl_val v;

	if (http_request(prom_port, "GET", path, NULL, TIMEOUT_MS, &body) != 200) {
		free(body);
		return NULL;
	}
	v = yajl_tree_parse(body, NULL, 0);
	free(body);
	return v;
}

/*
 * Instant query (already URL-encoded) until its result has want_count
 * series, the first with value want (NULL: any); false after the deadline.
 */
static bool query_until(const char *query, size_t want_count, const char *want)
{
	static const char *result_path[] = { "data", "result", NULL };
	static const char *value_path[] = { "value", NULL };
	char path[1024];

	snprintf(path, sizeof(path), "/api/v1/query?query=%s", query);
	for (long long deadline = monotonic_ms() + PROMETHEUS_TIMEOUT_MS; monotonic_ms() < deadline;) {
		yajl_val v = prom_api(path), result = v ? yajl_tree_get(v, result_path, yajl_t_array) : NULL;
		bool ok = false;

		if (result && YAJL_GET_ARRAY(result)->len == want_count) {
			ok = true;
			if (want_count && want) {
				yajl_val val = yajl_tree_get(YAJL_GET_ARRAY(result)->values[0],
							     value_path, yajl_t_array);

				const char *got = val && YAJL_GET_ARRAY(val)->len == 2 ?
					YAJL_GET_STRING(YAJL_GET_ARRAY(val)->values[1]) : NULL;

				ok = got && !strcmp(got, want);
			}
		}
		yajl_tree_free(v);
		if (ok)
			return true;
		/* Polling a fact: Prometheus scrapes once a second. */
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000000 }, NULL);
	}
	return false;
}

static void start_prometheus(void)
{
	char config[PATH_MAX + 32], data[PATH_MAX + 32], listen[64], log[PATH_MAX + 32];
	char arg_config[PATH_MAX + 64], arg_data[PATH_MAX + 64], arg_listen[96];
	FILE *file;

	snprintf(config, sizeof(config), "%s/prometheus.yml", f.dir);
	snprintf(data, sizeof(data), "%s/prometheus-data", f.dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", f.dir);
	prom_port = http_free_port();
	assert_true(prom_port > 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", prom_port);
	file = fopen(config, "w");
	assert_non_null(file);
	fprintf(file, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		   "scrape_configs:\n  - job_name: xgm\n    static_configs:\n"
		   "      - targets: ['127.0.0.1:%u']\n", xgmd_port);
	fclose(file);
	snprintf(arg_config, sizeof(arg_config), "--config.file=%s", config);
	snprintf(arg_data, sizeof(arg_data), "--storage.tsdb.path=%s", data);
	snprintf(arg_listen, sizeof(arg_listen), "--web.listen-address=%s", listen);
	prom_pid = fork();
	assert_true(prom_pid >= 0);
	if (prom_pid == 0) {
		FILE *l = freopen(log, "a", stderr);

		(void)l;
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("prometheus", "prometheus", arg_config, arg_data, arg_listen,
		       "--log.level=warn", (char *)NULL);
		perror("exec prometheus");
		_exit(127);
	}
}

static void test_real_prometheus(void **state)
{
	yajl_val ev;

	start_prometheus();
	/* The scrape itself succeeded (up is 1), then the facts. */
	assert_true(query_until("up%7Bjob%3D%22xgm%22%7D", 1, "1"));
	assert_true(query_until("xgm_guest_pv_drivers_up_to_date%7Bname%3D%22appliance%22%7D", 1, "1"));
	assert_true(query_until("xgm_guest_pv_drivers_up_to_date%7Bname%3D%22outdated%22%7D", 1, "0"));
	assert_true(query_until("xgm_guest_pv_drivers_not_upgradable%7Bdomid%3D%2210%22%7D", 1, "1"));
	assert_true(query_until("xgm_guest_pv_drivers_detected%7Bname%3D%22bare%22%7D", 1, "0"));

	/* A destroyed domain: gone from the next scrape, so from the query. */
	assert_int_equal(sandbox_domain_set_state(f.dir, 12, DOMSTATE_DYING), 0);
	ev = client_wait_event(&f.sub, "domain.gone", 12, TIMEOUT_MS);
	assert_non_null(ev);
	yajl_tree_free(ev);
	assert_int_equal(sandbox_domain_destroy(f.dir, 12), 0);
	assert_true(query_until("xgm_guest_pv_drivers_detected%7Bdomid%3D%2212%22%7D", 0, NULL));
	/* The others are still there. */
	assert_true(query_until("xgm_guest_pv_drivers_up_to_date%7Bdomid%3D%2210%22%7D", 1, "1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_scrape_reads_no_xenstore),
		cmocka_unit_test(test_other_requests),
		cmocka_unit_test(test_hostile_labels),
		cmocka_unit_test(test_concurrent_scrapes),
		cmocka_unit_test(test_scraper_leaves),
		cmocka_unit_test(test_real_prometheus),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* Unit tests of the configuration parser: defaults, keys, errors, --set, format, reload. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "util/log.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void parse_ok(struct xgm_config *cfg, const char *text, size_t len)
{
	struct config_diag diag = { .strict = true };

	if (config_parse(cfg, "t.conf", text, len, &diag))
		fail_msg("%s", diag.error);
}

/* The parse must fail with an error that starts with expect; *cfg must not change. */
static void parse_fail(const char *text, size_t len, const char *expect)
{
	struct config_diag diag = { .strict = true };
	struct xgm_config cfg, before;

	config_init(&cfg);
	before = cfg;
	assert_int_equal(config_parse(&cfg, "t.conf", text, len, &diag), -EINVAL);
	if (strncmp(diag.error, expect, strlen(expect)))
		fail_msg("got \"%s\", expected \"%s...\"", diag.error, expect);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void test_defaults(void **state)
{
	struct xgm_config cfg;
	struct config_diag diag = { 0 };

	config_init(&cfg);
	assert_string_equal(cfg.daemon.socket, "/run/xgm/xgmd.sock");
	assert_int_equal(cfg.daemon.socket_mode, 0660);
	assert_string_equal(cfg.daemon.socket_group, "");
	assert_int_equal(cfg.daemon.log_level, 6);
	assert_int_equal(cfg.settle.quiet_ms, 250);
	assert_int_equal(cfg.settle.max_wait_ms, 2000);
	assert_false(cfg.settle.strict);
	assert_string_equal(cfg.metrics.reference_version, "");
	assert_string_equal(cfg.prometheus.listen, "");
	assert_int_equal(cfg.prometheus.slice_domains, 100);
	assert_int_equal(cfg.metrics.live_timeout_s, 300);
	assert_int_equal(cfg.limits.max_keys_per_domain, 1024);
	assert_int_equal(cfg.limits.max_bytes_per_domain, 262144);
	assert_int_equal(cfg.limits.publish_burst, 5);
	assert_int_equal(cfg.limits.publish_rate, 1);
	assert_int_equal(cfg.limits.max_clients, 256);
	assert_int_equal(cfg.limits.client_output_cap, 1048576);
	assert_int_equal(cfg.limits.client_stall_timeout_s, 300);
	assert_int_equal(cfg.xenstore.watch_connections, 4);
	assert_int_equal(cfg.xenstore.liveness_ms, 1000);
	assert_int_equal(cfg.xenstore.reconnect_min_ms, 100);
	assert_int_equal(cfg.xenstore.reconnect_max_ms, 5000);
	assert_int_equal(config_validate(&cfg, &diag), 0);
	assert_string_equal(log_level_name((enum log_level)cfg.daemon.log_level), "info");
}

static void test_every_key(void **state)
{
	static const char text[] =
		"# full file\n"
		"; other comment style\n"
		"\n"
		"[daemon]\n"
		"socket = /tmp/x y.sock\n"
		"socket_mode=0600\n"
		"socket_group = xgm\n"
		"  log_level\t=\tdebug  \n"
		"[settle]\r\n"
		"quiet_ms = 0\r\n"
		"max_wait_ms = 3000\n"
		"strict = yes\n"
		"[ metrics ]\n"
		"reference_version = 9.4.0-123\n"
		"live_timeout_s = 60\n"
		"[limits]\n"
		"max_keys_per_domain = 10\n"
		"max_bytes_per_domain = 4096\n"
		"publish_burst = 20\n"
		"publish_rate = 0\n"
		"max_clients = 1\n"
		"client_output_cap = 65536\n"
		"client_stall_timeout_s = 0\n"
		"[prometheus]\n"
		"listen = [::1]:9101\n"
		"slice_domains = 7\n"
		"[xenstore]\n"
		"liveness_ms = 500\n"
		"reconnect_min_ms = 50\n"
		"reconnect_max_ms = 50";	/* no final newline */
	struct xgm_config cfg;

	config_init(&cfg);
	parse_ok(&cfg, S(text));
	assert_string_equal(cfg.daemon.socket, "/tmp/x y.sock");
	assert_int_equal(cfg.daemon.socket_mode, 0600);
	assert_string_equal(cfg.daemon.socket_group, "xgm");
	assert_int_equal(cfg.daemon.log_level, 7);
	assert_int_equal(cfg.settle.quiet_ms, 0);
	assert_int_equal(cfg.settle.max_wait_ms, 3000);
	assert_true(cfg.settle.strict);
	assert_string_equal(cfg.metrics.reference_version, "9.4.0-123");
	assert_int_equal(cfg.metrics.live_timeout_s, 60);
	assert_int_equal(cfg.limits.max_keys_per_domain, 10);
	assert_int_equal(cfg.limits.max_bytes_per_domain, 4096);
	assert_int_equal(cfg.limits.publish_burst, 20);
	assert_int_equal(cfg.limits.publish_rate, 0);
	assert_int_equal(cfg.limits.max_clients, 1);
	assert_int_equal(cfg.limits.client_output_cap, 65536);
	assert_int_equal(cfg.limits.client_stall_timeout_s, 0);
	assert_string_equal(cfg.prometheus.listen, "[::1]:9101");
	assert_int_equal(cfg.prometheus.slice_domains, 7);
	assert_int_equal(cfg.xenstore.liveness_ms, 500);
	assert_int_equal(cfg.xenstore.reconnect_min_ms, 50);
	assert_int_equal(cfg.xenstore.reconnect_max_ms, 50);
}

static void test_values(void **state)
{
	struct xgm_config cfg;

	config_init(&cfg);
	parse_ok(&cfg, S("[settle]\nstrict = ON\n"));
	assert_true(cfg.settle.strict);
	parse_ok(&cfg, S("[settle]\nstrict = 0\n"));
	assert_false(cfg.settle.strict);
	parse_ok(&cfg, S("[daemon]\nsocket_mode = 660\n"));
	assert_int_equal(cfg.daemon.socket_mode, 0660);
	/* Quotes keep an empty value or blanks; the last assignment wins. */
	parse_ok(&cfg, S("[metrics]\nreference_version = 1.0\nreference_version = \"\"\n"));
	assert_string_equal(cfg.metrics.reference_version, "");
	parse_ok(&cfg, S("[metrics]\nreference_version =\n"));
	assert_string_equal(cfg.metrics.reference_version, "");
	parse_ok(&cfg, S("[metrics]\nreference_version = \" 2 \"\n"));
	assert_string_equal(cfg.metrics.reference_version, " 2 ");
	/* Values are applied on top of what is there: files layer. */
	parse_ok(&cfg, S("[limits]\nmax_clients = 7\n"));
	parse_ok(&cfg, S("[limits]\nclient_output_cap = 8192\n"));
	assert_int_equal(cfg.limits.max_clients, 7);
	assert_int_equal(cfg.limits.client_output_cap, 8192);
	parse_ok(&cfg, S(""));
	parse_ok(&cfg, S("\n\n# only comments\n"));
}

static void test_errors(void **state)
{
	parse_fail(S("socket = /x\n"), "t.conf:1: \"socket\" is outside any [section]");
	parse_fail(S("[daemon]\n\nsocket /x\n"), "t.conf:3: expected \"key = value\"");
	parse_fail(S("[daemon\n"), "t.conf:1: section header without a closing ]");
	parse_fail(S("[daemon]\n= 5\n"), "t.conf:2: empty key");
	parse_fail(S("[daemon]\nsocket = relative.sock\n"), "t.conf:2: daemon.socket must be an absolute path");
	parse_fail(S("[daemon]\nsocket = \n"), "t.conf:2: daemon.socket must be an absolute path");
	parse_fail(S("[daemon]\nsocket_mode = 0800\n"), "t.conf:2: daemon.socket_mode must be octal");
	parse_fail(S("[daemon]\nsocket_mode = 01777\n"), "t.conf:2: daemon.socket_mode must be octal");
	parse_fail(S("[daemon]\nlog_level = verbose\n"), "t.conf:2: daemon.log_level must be err, warning");
	parse_fail(S("[daemon]\nlog_level = INFO\n"), "t.conf:2: daemon.log_level");
	parse_fail(S("[settle]\nstrict = maybe\n"), "t.conf:2: settle.strict must be true or false");
	parse_fail(S("[settle]\nquiet_ms = -1\n"), "t.conf:2: settle.quiet_ms must be an integer from 0 to");
	parse_fail(S("[settle]\nquiet_ms = 12ms\n"), "t.conf:2: settle.quiet_ms");
	parse_fail(S("[settle]\nquiet_ms = 250 # comment\n"), "t.conf:2: settle.quiet_ms");
	parse_fail(S("[settle]\nquiet_ms = 99999999999999999999\n"), "t.conf:2: settle.quiet_ms");
	parse_fail(S("[settle]\nmax_wait_ms = 0\n"), "t.conf:2: settle.max_wait_ms");
	parse_fail(S("[settle]\nmax_wait_ms =\n"), "t.conf:2: settle.max_wait_ms");
	parse_fail(S("[limits]\nclient_output_cap = 100\n"), "t.conf:2: limits.client_output_cap");
	parse_fail(S("[limits]\nmax_clients = 0\n"), "t.conf:2: limits.max_clients");
	parse_fail(S("[limits]\npublish_burst = 0\n"), "t.conf:2: limits.publish_burst");
	parse_fail(S("[daemon]\nsocket = /\0x\n"), "t.conf:2: NUL byte");
	{
		char path[200] = "[daemon]\nsocket = /";
		size_t n = strlen(path);

		memset(path + n, 'a', 120);
		parse_fail(path, n + 120, "t.conf:2: daemon.socket is longer than 107 bytes");
	}
	parse_fail(S("[metrics]\nreference_version = 0123456789012345678901234567890123456789"
		     "0123456789012345678901234\n"), "t.conf:2: metrics.reference_version is longer");
	/* The first error stops the parse; nothing before it is applied. */
	parse_fail(S("[limits]\nmax_clients = 5\nmax_clients = x\n"), "t.conf:3:");
}

static void test_unknown_keys(void **state)
{
	static const char text[] = "[daemon]\nsokcet = /x\n[future]\nthing = 1\n[limits]\nmax_clients = 3\n";
	struct config_diag diag = { .strict = true };
	struct xgm_config cfg;

	/* Strict (--check-config): the first unknown key is an error. */
	config_init(&cfg);
	assert_int_equal(config_parse(&cfg, "t.conf", S(text), &diag), -EINVAL);
	assert_string_equal(diag.error, "t.conf:2: unknown key \"sokcet\" in [daemon]");
	assert_int_equal(cfg.limits.max_clients, 256);

	/* Lenient (starting): each is a warning (none wanted here) and the rest applies. */
	diag = (struct config_diag){ .strict = false };
	assert_int_equal(config_parse(&cfg, "t.conf", S(text), &diag), 0);
	assert_int_equal(cfg.limits.max_clients, 3);

	parse_fail(S("[future]\n"), "t.conf:1: unknown section [future]");
}

static void collect(void *arg, const char *msg)
{
	char *buf = arg;

	strcat(buf, msg);
	strcat(buf, "|");
}

static void test_warnings(void **state)
{
	static const char text[] = "[daemon]\nsokcet = /x\n[future]\nthing = 1\nother = 2\n";
	struct config_diag diag = { .warn = collect };
	struct xgm_config cfg;
	char warnings[512] = "";

	diag.warn_arg = warnings;
	config_init(&cfg);
	assert_int_equal(config_parse(&cfg, "t.conf", S(text), &diag), 0);
	/* An unknown section warns once, not once per key. */
	assert_string_equal(warnings, "t.conf:2: unknown key \"sokcet\" in [daemon], ignoring|"
				      "t.conf:3: unknown section [future], ignoring|");
}

static void test_set(void **state)
{
	struct config_diag diag = { 0 };
	struct xgm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "limits.max_clients=12", &diag), 0);
	assert_int_equal(cfg.limits.max_clients, 12);
	assert_int_equal(config_set(&cfg, " daemon.socket = /run/a.sock ", &diag), 0);
	assert_string_equal(cfg.daemon.socket, "/run/a.sock");
	assert_int_equal(config_set(&cfg, "metrics.reference_version=", &diag), 0);
	assert_int_equal(config_set(&cfg, "settle.strict=true", &diag), 0);
	assert_true(cfg.settle.strict);

	assert_int_equal(config_set(&cfg, "limits.max_clients", &diag), -EINVAL);
	assert_string_equal(diag.error, "--set: expected section.key=value, not \"limits.max_clients\"");
	assert_int_equal(config_set(&cfg, "max_clients=3", &diag), -EINVAL);
	assert_string_equal(diag.error, "--set: expected section.key=value, not \"max_clients=3\"");
	/* Unknown keys on the command line are always errors, strict or not. */
	assert_int_equal(config_set(&cfg, "limits.max_client=3", &diag), -EINVAL);
	assert_string_equal(diag.error, "--set: unknown key \"limits.max_client\"");
	assert_int_equal(config_set(&cfg, "limits.max_clients=x", &diag), -EINVAL);
	assert_int_equal(cfg.limits.max_clients, 12);
	assert_int_equal(config_set(&cfg, ".=", &diag), -EINVAL);
}

static void test_validate(void **state)
{
	struct config_diag diag = { 0 };
	struct xgm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "xenstore.reconnect_min_ms=6000", &diag), 0);
	assert_int_equal(config_validate(&cfg, &diag), -EINVAL);
	assert_string_equal(diag.error, "configuration: xenstore.reconnect_min_ms (6000) is above "
					"xenstore.reconnect_max_ms (5000)");
	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "settle.quiet_ms=3000", &diag), 0);
	assert_int_equal(config_validate(&cfg, &diag), -EINVAL);
}

static void test_load(void **state)
{
	char path[] = "/tmp/test-config-XXXXXX";
	struct config_diag diag = { .strict = true };
	struct xgm_config cfg;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("[limits]\nmax_clients = 9\n[settle]\nstrict = bogus\n", f);
	fclose(f);

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, path, &diag), -EINVAL);
	/* Messages name the file as given, with the line. */
	assert_true(strncmp(diag.error, path, strlen(path)) == 0);
	assert_string_equal(diag.error + strlen(path), ":4: settle.strict must be true or false, not \"bogus\"");
	assert_int_equal(cfg.limits.max_clients, 256);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[limits]\nmax_clients = 9\n", f);
	fclose(f);
	assert_int_equal(config_load(&cfg, path, &diag), 0);
	assert_int_equal(cfg.limits.max_clients, 9);

	/* A file past the size limit is refused before parsing. */
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i <= CONFIG_FILE_MAX / 16; i++)
		fputs("# padding line.\n", f);
	fclose(f);
	assert_int_equal(config_load(&cfg, path, &diag), -EINVAL);
	assert_non_null(strstr(diag.error, "larger than"));

	unlink(path);
	assert_int_equal(config_load(&cfg, path, &diag), -ENOENT);
	assert_non_null(strstr(diag.error, "cannot open"));
}

/* Every key formats as the file spells it, and parses back to the same value. */
static void test_format(void **state)
{
	struct xgm_config cfg, back;
	struct config_key_info info;
	char buf[CONFIG_SOCKET_MAX], small[3];
	size_t n = 0;

	config_init(&cfg);
	parse_ok(&cfg, S("[daemon]\nsocket_mode = 0600\nlog_level = debug\n[settle]\nstrict = yes\n"
			 "[metrics]\nreference_version = 8.2.1\n"));
	assert_true(config_key_at(0, &info));
	assert_string_equal(info.section, "daemon");
	assert_string_equal(info.name, "socket");
	config_init(&back);
	for (; config_key_at(n, &info); n++) {
		char line[256];

		assert_int_equal(config_format(&cfg, n, buf, sizeof(buf)), 0);
		snprintf(line, sizeof(line), "[%s]\n%s = \"%s\"\n", info.section, info.name, buf);
		parse_ok(&back, line, strlen(line));
		if (!strcmp(info.name, "socket_mode"))
			assert_string_equal(buf, "0600");
		if (!strcmp(info.name, "log_level"))
			assert_string_equal(buf, "debug");
		if (!strcmp(info.name, "strict"))
			assert_string_equal(buf, "true");
		if (!strcmp(info.name, "reference_version"))
			assert_string_equal(buf, "8.2.1");
		if (!strcmp(info.name, "listen"))
			assert_string_equal(buf, "");
	}
	assert_memory_equal(&back, &cfg, sizeof(cfg));
	assert_int_equal(n, 25);
	assert_int_equal(config_format(&cfg, n, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(config_format(&cfg, 0, small, sizeof(small)), -ENOSPC);
}

struct kept_log {
	int n;
	char keys[512];
};

static void record_kept(void *arg, const char *key, const char *value)
{
	struct kept_log *log = arg;
	size_t len = strlen(log->keys);

	log->n++;
	snprintf(log->keys + len, sizeof(log->keys) - len, "%s=%s ", key, value);
}

/* A reload keeps exactly the restart-only keys, and says which it kept. */
static void test_keep_restart_keys(void **state)
{
	struct xgm_config running, next;
	struct config_key_info info;
	struct kept_log log = { 0 };
	int restart_only = 0;

	/* The same path, but one with stale bytes after its NUL: not a change. */
	config_init(&running);
	parse_ok(&running, S("[daemon]\nsocket = /run/a-longer-path/xgmd.sock\n"));
	parse_ok(&running, S("[daemon]\nsocket = /x.sock\n"));
	config_init(&next);
	parse_ok(&next, S("[daemon]\nsocket = /x.sock\n"));
	assert_memory_not_equal(next.daemon.socket, running.daemon.socket, sizeof(next.daemon.socket));
	config_keep_restart_keys(&next, &running, record_kept, &log);
	assert_int_equal(log.n, 0);

	parse_ok(&next, S("[daemon]\nsocket = /y.sock\nsocket_mode = 0600\nsocket_group = adm\n"
			  "log_level = debug\n[metrics]\nreference_version = 9.0\n"
			  "[xenstore]\nliveness_ms = 50\nreread_all = true\n"
			  "[prometheus]\nlisten = :9101\n"));
	config_keep_restart_keys(&next, &running, record_kept, &log);
	assert_string_equal(log.keys, "daemon.socket=/x.sock daemon.socket_mode=0660 "
			    "daemon.socket_group= xenstore.liveness_ms=1000 xenstore.reread_all=false "
			    "prometheus.listen= ");
	assert_string_equal(next.daemon.socket, running.daemon.socket);
	assert_int_equal(next.daemon.socket_mode, 0660);
	assert_string_equal(next.daemon.socket_group, "");
	assert_int_equal(next.xenstore.liveness_ms, 1000);
	assert_false(next.xenstore.reread_all);
	assert_string_equal(next.prometheus.listen, "");
	/* What a reload may change, changed. */
	assert_int_equal(next.daemon.log_level, 7);
	assert_string_equal(next.metrics.reference_version, "9.0");
	for (size_t i = 0; config_key_at(i, &info); i++)
		restart_only += info.restart;
	assert_int_equal(restart_only, 11);
	/* No callback: kept all the same. */
	parse_ok(&next, S("[xenstore]\nwatch_connections = 1\n"));
	config_keep_restart_keys(&next, &running, NULL, NULL);
	assert_int_equal(next.xenstore.watch_connections, 4);
}

/* Any bytes at all: an answer, never a crash. */
static void test_byte_soup(void **state)
{
	static const char seed[] = "[daemon]\nsocket = /x\n[limits]\nmax_clients = 5\n";
	char text[sizeof(seed)];

	for (size_t pos = 0; pos < sizeof(seed) - 1; pos++) {
		for (int b = 0; b < 256; b++) {
			struct config_diag diag = { .strict = (b & 1) };
			struct xgm_config cfg;
			int r;

			memcpy(text, seed, sizeof(seed));
			text[pos] = (char)b;
			config_init(&cfg);
			r = config_parse(&cfg, "t.conf", text, sizeof(seed) - 1, &diag);
			assert_true(r == 0 || (r == -EINVAL && diag.error[0]));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_keep_restart_keys),
		cmocka_unit_test(test_byte_soup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

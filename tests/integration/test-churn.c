/*
 * Domain churn against the real xenstored: domains created, written to by
 * their agent and destroyed one after another, first with the toolstack
 * removing each home, then leaving each home behind. Every domain that was
 * new is gone, `list` ends with dom0 alone, and xgmd holds no more fds than
 * before. It prints xgmd's RSS (docs/robustness.md): $XGM_CHURN_DOMAINS
 * domains per mode (default 200; the figure there is for 2000).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"

#define TIMEOUT_MS 8000
#define FIRST_DOMID 10

static struct fixture f = { .log_level = "notice" };
static unsigned int per_mode = 200;

static int setup(void **state)
{
	const char *n = getenv("XGM_CHURN_DOMAINS");

	if (n && atoi(n) > 0 && atoi(n) <= 2000)
		per_mode = (unsigned int)atoi(n);
	fixture_start(&f, (const char *const[]){ "settle.quiet_ms=10", NULL }, SUBSCRIBE_ALL);
	return 0;
}

static int teardown(void **state)
{
	return fixture_stop(&f);
}

static unsigned int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void wait_event(const char *event, unsigned int domid)
{
	yajl_val v = client_wait_event(&f.sub, event, domid, TIMEOUT_MS);

	assert_non_null(v);
	yajl_tree_free(v);
}

/* One domain's life: new, its agent writes (events queue for it), destroyed. */
static void churn(unsigned int first, unsigned int n, bool remove_home)
{
	for (unsigned int domid = first; domid < first + n; domid++) {
		char path[64];

		assert_true(fixture_new_domain(&f, domid, "churn"));
		assert_int_equal(sandbox_test_guest(f.dir, domid, "data/meminfo_free", "1024"), 0);
		assert_int_equal(sandbox_test_guest(f.dir, domid, "attr/PVAddons/MajorVersion", "9"), 0);
		assert_int_equal(sandbox_domain_destroy(f.dir, domid), 0);
		if (remove_home) {
			snprintf(path, sizeof(path), "/local/domain/%u", domid);
			assert_true(xs_rm(f.xs, XBT_NULL, path));
		}
		wait_event("domain.gone", domid);
	}
}

static void run_mode(const char *what, unsigned int first, bool remove_home)
{
	unsigned int listed[1];
	unsigned int warmup = per_mode / 10 ? per_mode / 10 : 1, fds;
	long long new_before = client_stat(&f.ctl, "engine", "domains_new");
	long long gone_before = client_stat(&f.ctl, "engine", "domains_gone");
	long rss_warm, rss_end;
	struct timespec t0, t1;

	churn(first, warmup, remove_home);
	fds = count_fds(f.xgmd.pid);
	rss_warm = xgmd_rss_kib(&f.xgmd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	churn(first + warmup, per_mode - warmup, remove_home);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rss_end = xgmd_rss_kib(&f.xgmd);
	printf("churn, homes %s: %u domains; xgmd RSS %ld KiB after %u, %ld KiB after all "
	       "(%+.1f %%); %u fds; %.1f domains/s\n", what, per_mode, rss_warm, warmup, rss_end,
	       100.0 * (double)(rss_end - rss_warm) / (double)rss_warm, fds,
	       (per_mode - warmup) / ((double)(t1.tv_sec - t0.tv_sec) +
				      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9));
	/* Every domain that was new is gone, dom0 is alone, no fd leaked. */
	assert_int_equal(client_stat(&f.ctl, "engine", "domains_new") - new_before, per_mode);
	assert_int_equal(client_stat(&f.ctl, "engine", "domains_gone") - gone_before, per_mode);
	assert_int_equal(client_stat(&f.ctl, "engine", "domains"), 1);
	assert_int_equal(client_list_domids(&f.ctl, listed, 1), 1);
	assert_int_equal(listed[0], 0);
	assert_int_equal(count_fds(f.xgmd.pid), fds);
}

static void test_churn_homes_removed(void **state)
{
	run_mode("removed", FIRST_DOMID, true);
}

static void test_churn_homes_left(void **state)
{
	run_mode("left behind", FIRST_DOMID + per_mode, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_churn_homes_removed),
		cmocka_unit_test(test_churn_homes_left),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

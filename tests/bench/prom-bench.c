/*
 * prom-bench: what a Prometheus scrape of xgmd costs, against the sandbox's
 * real xenstored. For each domain count it grows the sandbox to that many
 * domains (each with an agent's usual keys), waits until xgmd exports them
 * all, then measures xgmd's CPU per scrape (from /proc) and how long a
 * socket ping waits when it arrives right behind a scrape, against an idle
 * ping. It reports figures and asserts none (docs/prometheus.md).
 *
 *   prom-bench [--smoke] [DOMAINS...]     (default: 100 1000 3000)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <yajl/yajl_tree.h>

#include "http-client.h"
#include "procstat.h"
#include "sandbox.h"
#include "xgmd-test.h"
#include "util/time.h"

#define MAX_COUNTS 8
#define SAMPLES 25
#define SCRAPE_TIMEOUT_MS 30000
#define READY_TIMEOUT_MS 600000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v and returns its median; *max gets the largest. */
static double median(double *v, size_t n, double *max)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*max = v[n - 1];
	return v[n / 2];
}

/* Domain domid as the toolstack creates it, with what a Linux agent writes. */
static int add_domain(const char *dir, struct xs_handle *xs, unsigned int domid)
{
	static const char *const keys[][2] = {
		{ "data/os_distro", "debian" }, { "data/os_name", "Debian GNU/Linux 12 (bookworm)" },
		{ "data/os_majorver", "12" }, { "data/os_minorver", "4" },
		{ "attr/PVAddons/MajorVersion", "9" }, { "attr/PVAddons/MinorVersion", "3" },
		{ "attr/PVAddons/MicroVersion", "1" }, { "attr/PVAddons/BuildVersion", "100" },
		{ "data/meminfo_total", "4194304" }, { "data/meminfo_free", "1048576" },
		{ "attr/vif/0/ipv4/0", "192.0.2.1" }, { "attr/vif/0/ipv6/0", "2001:db8::1" },
	};
	char name[32], path[128];
	int r;

	snprintf(name, sizeof(name), "vm%u", domid);
	r = sandbox_domain_create(dir, xs, domid, name, true);
	for (size_t i = 0; r == 0 && i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, keys[i][0]);
		if (!xs_write(xs, XBT_NULL, path, keys[i][1], strlen(keys[i][1])))
			r = -errno;
	}
	return r;
}

/* How many times needle occurs in text. */
static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Scrapes until every one of n domains shows its tools: true, or false at the deadline. */
static bool wait_exported(unsigned int port, unsigned int n)
{
	for (double deadline = monotonic_ms_exact() + READY_TIMEOUT_MS; monotonic_ms_exact() < deadline;) {
		char *body;
		bool done = http_request(port, "GET", "/metrics", NULL, SCRAPE_TIMEOUT_MS, &body) == 200 &&
			    count(body, "tools_version=\"9.3.1.100\"") == n;

		free(body);
		if (done)
			return true;
		/* Polling a fact while xgmd adopts the domains. */
		nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000000 }, NULL);
	}
	return false;
}

static double ping_ms(struct client *c)
{
	double t0 = monotonic_ms_exact();
	yajl_val v = client_call(c, "{\"cmd\":\"ping\",\"id\":1}");

	if (!v)
		return -1;
	yajl_tree_free(v);
	return monotonic_ms_exact() - t0;
}

struct figures {
	unsigned int domains;
	size_t bytes;
	double cpu_ms, wall_ms;
	double idle_p50, idle_max, busy_p50, busy_max;
};

static int measure(const struct xgmd *x, unsigned int port, struct client *c, unsigned int samples,
		   struct figures *f)
{
	double wall[SAMPLES], idle[SAMPLES], busy[SAMPLES], ignored;
	struct proc_usage u0, u1;
	char *body;

	if (proc_usage(x->pid, &u0) < 0)
		return -ESRCH;
	for (unsigned int i = 0; i < samples; i++) {
		double t0 = monotonic_ms_exact();

		if (http_request(port, "GET", "/metrics", NULL, SCRAPE_TIMEOUT_MS, &body) != 200)
			return -EIO;
		wall[i] = monotonic_ms_exact() - t0;
		f->bytes = strlen(body);
		free(body);
	}
	if (proc_usage(x->pid, &u1) < 0)
		return -ESRCH;
	f->cpu_ms = (double)(u1.cpu_ns - u0.cpu_ns) / 1e6 / samples;
	f->wall_ms = median(wall, samples, &ignored);

	for (unsigned int i = 0; i < samples; i++) {
		if ((idle[i] = ping_ms(c)) < 0)
			return -EIO;
	}
	/* The request first, the ping right behind it: the ping waits for the render. */
	for (unsigned int i = 0; i < samples; i++) {
		int fd = http_send(port, "GET", "/metrics", NULL);

		if (fd < 0 || (busy[i] = ping_ms(c)) < 0 ||
		    http_receive(fd, SCRAPE_TIMEOUT_MS, &body) != 200)
			return -EIO;
		free(body);
	}
	f->idle_p50 = median(idle, samples, &f->idle_max);
	f->busy_p50 = median(busy, samples, &f->busy_max);
	return 0;
}

int main(int argc, char **argv)
{
	static struct client c;
	unsigned int counts[MAX_COUNTS] = { 100, 1000, 3000 }, n_counts = 3, samples = SAMPLES;
	unsigned int have = 0, port;
	struct figures fig[MAX_COUNTS] = { 0 };
	struct sandbox_options sb;
	struct rlimit nofile;
	struct xs_handle *xs = NULL;
	struct xgmd x = { 0 };
	char dir[PATH_MAX], listen[64];
	const char *sets[] = { "settle.quiet_ms=50", listen, NULL };
	int r = 1, argi = 1;
	yajl_val hello;

	if (argi < argc && !strcmp(argv[argi], "--smoke")) {
		counts[0] = 10;
		n_counts = 1;
		samples = 3;
		argi++;
	}
	if (argi < argc)
		n_counts = 0;
	for (; argi < argc && n_counts < MAX_COUNTS; argi++) {
		counts[n_counts] = (unsigned int)strtoul(argv[argi], NULL, 10);
		if (counts[n_counts] == 0 || counts[n_counts] >= 32000 ||
		    (n_counts && counts[n_counts] <= counts[n_counts - 1])) {
			fprintf(stderr, "prom-bench: domain counts must rise, from 1 to 31999\n");
			return 2;
		}
		n_counts++;
	}
	/* Every ring is two descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	snprintf(dir, sizeof(dir), "/tmp/prom-bench.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	sandbox_default_options(&sb);
	sb.die_with_parent = true;
	if (sandbox_start(dir, &sb) < 0 || !(xs = sandbox_connect(dir)))
		goto out;
	port = http_free_port();
	snprintf(listen, sizeof(listen), "prometheus.listen=127.0.0.1:%u", port);
	xgmd_start_logging(&x, dir, "xgmd", sets, "notice");
	hello = client_connect(&c, x.socket);
	if (!hello)
		goto out;
	yajl_tree_free(hello);
	printf("prom-bench: on %s, %u samples per figure\n",
	       sb.flavour == SANDBOX_OCAML ? "oxenstored" : "the C xenstored", samples);
	for (unsigned int k = 0; k < n_counts; k++) {
		double t0 = monotonic_ms_exact();

		for (; have < counts[k]; have++) {
			if (add_domain(dir, xs, have + 1) < 0) {
				fprintf(stderr, "prom-bench: cannot create domain %u\n", have + 1);
				goto out;
			}
		}
		if (!wait_exported(port, counts[k])) {
			fprintf(stderr, "prom-bench: xgmd did not export %u domains in time\n", counts[k]);
			goto out;
		}
		fig[k].domains = counts[k];
		if (measure(&x, port, &c, samples, &fig[k]) < 0) {
			fprintf(stderr, "prom-bench: a scrape or a ping failed at %u domains\n", counts[k]);
			goto out;
		}
		printf("prom-bench: %u domains ready in %.1f s\n", counts[k], (monotonic_ms_exact() - t0) / 1e3);
	}
	printf("\n%8s %12s %14s %14s %18s %22s\n", "domains", "bytes", "CPU ms/scrape",
	       "wall ms/scrape", "ping idle p50/max", "ping behind scrape p50/max");
	for (unsigned int k = 0; k < n_counts; k++)
		printf("%8u %12zu %14.2f %14.2f %8.3f/%-9.3f %10.3f/%-11.3f\n", fig[k].domains,
		       fig[k].bytes, fig[k].cpu_ms, fig[k].wall_ms, fig[k].idle_p50, fig[k].idle_max,
		       fig[k].busy_p50, fig[k].busy_max);
	r = 0;
out:
	client_close(&c);
	if (x.pid > 0 && xgmd_stop(&x) < 0)
		r = 1;
	if (xs)
		xs_close(xs);
	sandbox_stop(dir);
	return r;
}

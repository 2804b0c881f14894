/*
 * The guest storm of issue 10 against the real xenstored: one guest writes
 * data/meminfo_free and data/updated alternately as fast as its ring
 * allows (20,000 writes), while its neighbours write once each and wait for
 * their event. It asserts what the publication limit promises in counts
 * (the storming domain's events stay within the bucket's bound, its final
 * value is published, every neighbour's change is published) and prints the
 * times for docs/robustness.md: the storm's events, the delay of its final
 * value, and the neighbours' write-to-event latency at rest and under it.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "guest.h"
#include "sandbox.h"
#include "sandbox-test.h"
#include "xgmd-test.h"
#include "util/time.h"

#define TIMEOUT_MS 10000
#define STORM_DOMID 60
#define STORM_WRITES 20000
#define NEIGHBOURS 40
#define FIRST_NEIGHBOUR 61
#define MAX_SAMPLES 4096
/* Each neighbour probes at most once per PROBE_GAP_MS * NEIGHBOURS: within its own limit. */
#define PROBE_GAP_MS 25
#define REST_ROUNDS 3
#define BURST 5
#define RATE 1

/* At info: debug would log every one of the storm's writes. */
static struct fixture f = { .log_level = "info" };
static struct guest *neighbour[NEIGHBOURS];

/* What the subscriber saw of the storming domain, as it reads everything. */
static struct {
	long long events;
	long long last_free;
	double last_at;
} storm;

static long long free_kib(yajl_val ev)
{
	return json_int(json_get(ev, "data", "memory"), "free_kib", NULL);
}

/* Reads events until domid publishes free_kib == value; notes the storm's on the way. */
static bool wait_value(unsigned int domid, long long value, double *at)
{
	double deadline = monotonic_ms_exact() + TIMEOUT_MS;

	while (monotonic_ms_exact() < deadline) {
		yajl_val v = client_next(&f.sub, (int)(deadline - monotonic_ms_exact()) + 1);
		const char *type;
		long long id;
		bool hit = false;

		if (!v)
			return false;
		type = json_str(v, "type", NULL);
		id = json_int(v, "domain", "id");
		if (type && strcmp(type, "event") == 0) {
			if (id == STORM_DOMID) {
				storm.events++;
				storm.last_free = free_kib(v);
				storm.last_at = monotonic_ms_exact();
			}
			hit = id == (long long)domid && free_kib(v) == value;
		}
		yajl_tree_free(v);
		if (hit) {
			*at = monotonic_ms_exact();
			return true;
		}
	}
	return false;
}

static void kib_text(char *buf, size_t size, long long kib)
{
	snprintf(buf, size, "%lld", kib);
}

/* One neighbour's latency: from its first write, and from xenstored's answer to its last. */
struct sample {
	double write_to_event;
	double written_to_event;
};

static void probe(unsigned int i, long long value, struct sample *s)
{
	char text[32];
	double t0, written, at = 0;

	kib_text(text, sizeof(text), value);
	t0 = monotonic_ms_exact();
	assert_int_equal(guest_write(neighbour[i], 0, "data/meminfo_free", text, strlen(text)), 0);
	assert_int_equal(guest_write(neighbour[i], 0, "data/updated", "1", 1), 0);
	written = monotonic_ms_exact();
	assert_true(wait_value(FIRST_NEIGHBOUR + i, value, &at));
	s->write_to_event = at - t0;
	s->written_to_event = at - written;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile pct (1..100) of one field over n > 0 samples. */
static double percentile(const struct sample *s, size_t n, size_t field, unsigned int pct)
{
	static double v[MAX_SAMPLES];

	for (size_t i = 0; i < n; i++)
		memcpy(&v[i], (const char *)&s[i] + field, sizeof(double));
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(n * pct + 99) / 100 - 1];
}

static void print_latency(const char *what, const struct sample *s, size_t n)
{
	size_t a = offsetof(struct sample, write_to_event), b = offsetof(struct sample, written_to_event);

	printf("neighbours %s (%zu samples): write to event p50 %.2f ms, p99 %.2f ms; "
	       "xenstored's answer to event p50 %.2f ms, p99 %.2f ms\n", what, n,
	       percentile(s, n, a, 50), percentile(s, n, a, 99),
	       percentile(s, n, b, 50), percentile(s, n, b, 99));
}

/* The storming guest, in a child: 20,000 writes, then the time of the last one on fd. */
static void storm_child(int fd)
{
	struct guest *g = guest_open(f.dir, STORM_DOMID);
	double last;
	char text[32];

	if (!g)
		_exit(2);
	for (int i = 0; i < STORM_WRITES / 2; i++) {
		kib_text(text, sizeof(text), 100000 + i);
		if (guest_write(g, 0, "data/meminfo_free", text, strlen(text)) < 0 ||
		    guest_write(g, 0, "data/updated", text, strlen(text)) < 0)
			_exit(3);
	}
	last = monotonic_ms_exact();
	guest_close(g);
	if (write(fd, &last, sizeof(last)) != sizeof(last))
		_exit(4);
	_exit(0);
}

static int setup(void **state)
{
	/* The defaults under test: a burst of 5, then 1 a second. */
	fixture_start(&f, NULL, SUBSCRIBE_ALL);
	assert_true(fixture_new_domain(&f, STORM_DOMID, "storm"));
	for (unsigned int i = 0; i < NEIGHBOURS; i++) {
		assert_true(fixture_new_domain(&f, FIRST_NEIGHBOUR + i, "neighbour"));
		neighbour[i] = guest_open(f.dir, FIRST_NEIGHBOUR + i);
		assert_non_null(neighbour[i]);
	}
	return 0;
}

static int teardown(void **state)
{
	int r = 0;

	for (unsigned int i = 0; i < NEIGHBOURS; i++)
		guest_close(neighbour[i]);
	r |= fixture_stop(&f);
	return r;
}


static void test_storm(void **state)
{
	static struct sample rest[MAX_SAMPLES], stormy[MAX_SAMPLES];
	size_t n_rest = 0, n_storm = 0;
	long long value = 1000, events_before, final = 100000 + STORM_WRITES / 2 - 1;
	double t_start, t_last = 0, t_final = 0, next_probe;
	int fds[2], status;
	pid_t child;
	yajl_val v;

	/* At rest: the neighbours in turn, as under the storm below. */
	next_probe = monotonic_ms_exact();
	for (unsigned int k = 0; k < REST_ROUNDS * NEIGHBOURS; k++) {
		while (monotonic_ms_exact() < next_probe)
			usleep(1000);
		next_probe += PROBE_GAP_MS;
		probe(k % NEIGHBOURS, value++, &rest[n_rest++]);
	}

	storm.events = 0;
	events_before = client_stat(&f.ctl, "engine", "events_published");
	assert_int_equal(pipe(fds), 0);
	t_start = monotonic_ms_exact();
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		storm_child(fds[1]);
	close(fds[1]);

	/* Under the storm: the neighbours in turn, a probe every PROBE_GAP_MS. */
	next_probe = monotonic_ms_exact();
	for (unsigned int i = 0; waitpid(child, &status, WNOHANG) == 0; i = (i + 1) % NEIGHBOURS) {
		while (monotonic_ms_exact() < next_probe)
			usleep(1000);
		next_probe += PROBE_GAP_MS;
		if (n_storm < MAX_SAMPLES)
			probe(i, value++, &stormy[n_storm++]);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read(fds[0], &t_last, sizeof(t_last)), sizeof(t_last));
	close(fds[0]);

	/* Its final value is published. */
	if (storm.last_free != final)
		assert_true(wait_value(STORM_DOMID, final, &t_final));
	else
		t_final = storm.last_at;

	/*
	 * The bucket's bound, in counts: the burst, one a second over the time
	 * the storm was seen (rounded up), and the final one.
	 */
	{
		long long seen_s = (long long)(t_final - t_start + 999) / 1000;
		long long bound = BURST + RATE * seen_s + 1;

		printf("storm: %d writes in %.3f s; %lld events for the storming domain "
		       "(bound %lld); final value %.0f ms after its last write\n",
		       STORM_WRITES, (t_last - t_start) / 1000, storm.events, bound,
		       t_final - t_last);
		assert_true(storm.events >= 1);
		assert_true(storm.events <= bound);
	}
	print_latency("at rest", rest, n_rest);
	print_latency("under the storm", stormy, n_storm);
	printf("events published during the storm, all domains: %lld\n",
	       client_stat(&f.ctl, "engine", "events_published") - events_before);
	assert_true(n_storm >= 1);

	/* It was held and merged, and says so; nothing is held once it is quiet. */
	assert_true(client_stat(&f.ctl, "engine", "batches_merged") > 0);
	v = client_call(&f.sub, "{\"cmd\":\"get\",\"id\":3,\"domain\":60}");
	assert_true(json_int(v, "batches_merged", NULL) > 0);
	assert_int_equal(json_bool(v, "rate_limited", NULL), 0);
	assert_int_equal(json_int(json_get(v, "data", "memory"), "free_kib", NULL), final);
	yajl_tree_free(v);
	assert_int_equal(client_stat(&f.ctl, "engine", "rate_limited_domains"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

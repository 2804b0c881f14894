/*
 * The benchmark's guest agents: what they write, in which order and at
 * which pace, over each domain's own ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest.h"
#include "workload.h"

/* data/meminfo_free values are marks; they start high enough to look like KiB. */
#define MARK_BASE 1000000ULL

struct workload {
	char *dir;
	unsigned int n_domains;
	struct guest **guests;		/* index domid - 1 */
	uint64_t *cycles;		/* agent cycles per domain */
	struct marks *marks;
	unsigned int next_domain;	/* round-robin position */
	_Atomic uint64_t writes_done;
	uint64_t *write_ns;		/* while workload_run runs: each write's time */
	size_t n_write_ns, cap_write_ns;
};

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int marks_init(struct marks *m, unsigned int n_domains, uint64_t cap)
{
	*m = (struct marks){ .base = MARK_BASE, .cap = cap, .next = MARK_BASE,
			     .n_domains = n_domains };
	m->written_ns = calloc(cap, sizeof(*m->written_ns));
	m->last_written = calloc(n_domains, sizeof(*m->last_written));
	m->last_seen = calloc(n_domains, sizeof(*m->last_seen));
	if (!m->written_ns || !m->last_written || !m->last_seen) {
		marks_free(m);
		return -ENOMEM;
	}
	return 0;
}

void marks_free(struct marks *m)
{
	free(m->written_ns);
	free((void *)m->last_written);
	free((void *)m->last_seen);
	*m = (struct marks){ 0 };
}

unsigned int marks_unseen(const struct marks *m)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < m->n_domains; i++)
		n += atomic_load(&m->last_seen[i]) != atomic_load(&m->last_written[i]);
	return n;
}

bool marks_all_seen(const struct marks *m)
{
	return marks_unseen(m) == 0;
}

static int open_guests(struct workload *w)
{
	for (unsigned int i = 0; i < w->n_domains; i++) {
		w->guests[i] = guest_open(w->dir, i + 1);
		if (!w->guests[i]) {
			int r = -errno;

			fprintf(stderr, "xgm-bench: the ring of domain %u: %s\n", i + 1,
				strerror(errno));
			return r;
		}
	}
	return 0;
}

static void close_guests(struct workload *w)
{
	for (unsigned int i = 0; i < w->n_domains; i++) {
		guest_close(w->guests[i]);
		w->guests[i] = NULL;
	}
}

struct workload *workload_new(const char *dir, unsigned int n_domains, struct marks *m)
{
	struct workload *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->n_domains = n_domains;
	w->marks = m;
	w->dir = strdup(dir);
	w->guests = calloc(n_domains, sizeof(*w->guests));
	w->cycles = calloc(n_domains, sizeof(*w->cycles));
	if (!w->dir || !w->guests || !w->cycles || open_guests(w) < 0) {
		workload_free(w);
		return NULL;
	}
	return w;
}

void workload_free(struct workload *w)
{
	if (!w)
		return;
	if (w->guests)
		close_guests(w);
	free(w->guests);
	free(w->cycles);
	free(w->dir);
	free(w);
}

int workload_reopen(struct workload *w)
{
	close_guests(w);
	return open_guests(w);
}

uint64_t workload_writes_done(const struct workload *w)
{
	return atomic_load(&w->writes_done);
}

static int put(struct workload *w, unsigned int idx, const char *path, const char *value)
{
	uint64_t t0 = monotonic_ns();
	int r = guest_write(w->guests[idx], 0, path, value, strlen(value));

	if (w->n_write_ns < w->cap_write_ns)
		w->write_ns[w->n_write_ns++] = monotonic_ns() - t0;
	atomic_fetch_add(&w->writes_done, 1);
	if (r < 0)
		fprintf(stderr, "xgm-bench: domain %u writing %s: %s\n", idx + 1, path,
			strerror(-r));
	return r;
}

/* The next mark for domain idx, with its write time taken just before the write. */
static int put_mark(struct workload *w, unsigned int idx)
{
	struct marks *m = w->marks;
	uint64_t v = m->next++;
	char value[32];
	int r;

	if (v - m->base >= m->cap) {
		fprintf(stderr, "xgm-bench: more marks than the %" PRIu64 " planned\n", m->cap);
		return -ENOSPC;
	}
	snprintf(value, sizeof(value), "%" PRIu64, v);
	m->written_ns[v - m->base] = monotonic_ns();
	atomic_store(&m->last_written[idx], v);
	r = put(w, idx, "data/meminfo_free", value);
	return r;
}

/* Key i of a domain's first cycle, as xe-guest-utilities writes them. */
static void first_cycle_key(unsigned int domid, unsigned int i, char *path, size_t psize,
			    char *value, size_t vsize)
{
	static const char *const fixed[][2] = {
		{ "attr/PVAddons/MajorVersion", "7" },
		{ "attr/PVAddons/MinorVersion", "20" },
		{ "attr/PVAddons/MicroVersion", "0" },
		{ "attr/PVAddons/BuildVersion", "9" },
		{ "attr/PVAddons/Installed", "1" },
		{ "data/os_name", "Debian GNU/Linux 12 (bookworm)" },
		{ "data/os_uname", "6.1.0-18-amd64" },
		{ "data/os_distro", "debian" },
		{ "data/os_majorver", "12" },
		{ "data/os_minorver", "5" },
		{ "attr/vif/0/ipv6/0", "fe80::216:3eff:fe5d:1a2b" },
		{ "attr/vif/0/ipv6/1", "2001:db8::1a2b" },
		{ "data/meminfo_total", "4194304" },
		{ "control/feature-balloon", "1" },
		{ "control/feature-shutdown", "1" },
		{ "control/feature-poweroff", "1" },
		{ "control/feature-reboot", "1" },
		{ "control/feature-suspend", "1" },
	};
	static const char *const volume_keys[] = {
		"size", "free", "filesystem", "mount_points/0", "name",
	};
	const size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t n_volume = sizeof(volume_keys) / sizeof(volume_keys[0]);

	if (i == 0) {
		snprintf(path, psize, "attr/vif/0/ipv4/0");
		snprintf(value, vsize, "10.%u.%u.1", domid / 256, domid % 256);
	} else if (i - 1 < n_fixed) {
		snprintf(path, psize, "%s", fixed[i - 1][0]);
		snprintf(value, vsize, "%s", fixed[i - 1][1]);
	} else {
		size_t j = i - 1 - n_fixed;

		snprintf(path, psize, "data/volumes/%zu/%s", j / n_volume, volume_keys[j % n_volume]);
		snprintf(value, vsize, "%zu", 1000000 + j);
	}
}

static int populate_one(struct workload *w, unsigned int idx, unsigned int keys)
{
	char path[64], value[64];
	int r = 0;

	/* meminfo_free and data/updated are two of the keys. */
	for (unsigned int i = 0; i + 2 < keys && r == 0; i++) {
		first_cycle_key(idx + 1, i, path, sizeof(path), value, sizeof(value));
		r = put(w, idx, path, value);
	}
	if (r == 0)
		r = put_mark(w, idx);
	if (r == 0)
		r = put(w, idx, "data/updated", "0");
	return r;
}

int workload_populate(struct workload *w, unsigned int keys)
{
	int r = 0;

	for (unsigned int idx = 0; idx < w->n_domains && r == 0; idx++)
		r = populate_one(w, idx, keys);
	return r;
}

int workload_renew(struct workload *w, unsigned int first, unsigned int n, unsigned int keys)
{
	int r = 0;

	for (unsigned int idx = first - 1; idx < first - 1 + n && idx < w->n_domains && r == 0;
	     idx++) {
		guest_close(w->guests[idx]);
		w->guests[idx] = guest_open(w->dir, idx + 1);
		r = w->guests[idx] ? populate_one(w, idx, keys) : -errno;
	}
	return r;
}

static void pace(uint64_t start_ns, uint64_t done, double rate)
{
	uint64_t due;
	struct timespec ts;

	if (rate <= 0)
		return;
	due = start_ns + (uint64_t)((double)done / rate * 1e9);
	ts.tv_sec = (time_t)(due / 1000000000ULL);
	ts.tv_nsec = (long)(due % 1000000000ULL);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* One agent cycle of domain idx; counts into res. */
static int agent_cycle(struct workload *w, unsigned int idx, struct workload_result *res)
{
	uint64_t cycle = ++w->cycles[idx];
	char value[32];
	int r;

	r = put_mark(w, idx);
	if (r == 0)
		r = put(w, idx, "data/meminfo_total", "4194304");
	res->writes += 2;
	res->changed += 1;
	if (r == 0 && cycle % 4 == 0) {
		snprintf(value, sizeof(value), "10.%u.%u.%u", (idx + 1) / 256, (idx + 1) % 256,
			 cycle % 8 == 0 ? 1 : 2);
		r = put(w, idx, "attr/vif/0/ipv4/0", value);
		res->writes++;
		res->changed++;
	}
	if (r == 0) {
		snprintf(value, sizeof(value), "%" PRIu64, cycle);
		r = put(w, idx, "data/updated", value);
		res->writes++;
		res->changed++;
	}
	return r;
}

int workload_run(struct workload *w, enum workload_kind kind, uint64_t writes, double rate,
		 struct workload_result *res)
{
	uint64_t start = monotonic_ns();
	int r = 0;

	*res = (struct workload_result){ 0 };
	/* An agent cycle can end past writes by up to three. */
	w->write_ns = malloc((writes + 4) * sizeof(*w->write_ns));
	w->cap_write_ns = w->write_ns ? writes + 4 : 0;
	w->n_write_ns = 0;
	while (res->writes < writes && r == 0) {
		unsigned int idx = w->next_domain;

		w->next_domain = (w->next_domain + 1) % w->n_domains;
		pace(start, res->writes, rate);
		if (kind == WORKLOAD_AGENT) {
			r = agent_cycle(w, idx, res);
		} else {
			r = put_mark(w, idx);
			res->writes++;
			res->changed++;
		}
	}
	res->seconds = (double)(monotonic_ns() - start) / 1e9;
	spread_of(w->write_ns, w->n_write_ns, &res->write_time);
	free(w->write_ns);
	w->write_ns = NULL;
	w->cap_write_ns = w->n_write_ns = 0;
	return r;
}

/*
 * The guests of the benchmark: N sandbox domains whose agents write over
 * their own rings as real agents do, paced or as a storm. Every value of
 * data/meminfo_free is unique and its write time is kept, so that whoever
 * sees it in an event can tell how long it took.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "spread.h"

/*
 * The write times of data/meminfo_free values, shared by the writing and
 * the listening threads. Value v (base <= v < base + cap) was written at
 * written_ns[v - base]; per domain (index domid - 1) the last value written
 * and the last value seen in an event.
 */
struct marks {
	uint64_t base;
	uint64_t cap;
	uint64_t next;			/* the next value to write */
	uint64_t *written_ns;		/* CLOCK_MONOTONIC, before the write */
	unsigned int n_domains;
	_Atomic uint64_t *last_written;
	_Atomic uint64_t *last_seen;
};

int marks_init(struct marks *m, unsigned int n_domains, uint64_t cap);
void marks_free(struct marks *m);
/* Whether every domain's last written value has been seen. */
bool marks_all_seen(const struct marks *m);
/* How many domains still wait for their last value. */
unsigned int marks_unseen(const struct marks *m);

struct workload;

/* Takes the rings of domains 1..n_domains in the sandbox dir. NULL + message on error. */
struct workload *workload_new(const char *dir, unsigned int n_domains, struct marks *m);
void workload_free(struct workload *w);
/* After a xenstored restart: the rings are new. */
int workload_reopen(struct workload *w);
/* The same for n domains from first on, destroyed and created again; then their first cycle. */
int workload_renew(struct workload *w, unsigned int first, unsigned int n, unsigned int keys);
/* Every write done so far over every ring; any thread may ask. */
uint64_t workload_writes_done(const struct workload *w);

/*
 * Every domain's agent writes its first cycle: keys keys in all (OS,
 * tools versions, addresses, memory, features, volumes to make up the
 * number), data/meminfo_free with a fresh mark. Returns 0 or a negative errno.
 */
int workload_populate(struct workload *w, unsigned int keys);

enum workload_kind {
	/*
	 * Agent cycles, one domain after another: meminfo_free changes,
	 * meminfo_total is rewritten unchanged (as xen-guest-agent does), an
	 * address flips every fourth cycle, then data/updated is kicked.
	 */
	WORKLOAD_AGENT,
	/*
	 * data/meminfo_free alone, changed every time, round-robin over every
	 * domain: memory changes that Windows agents publish without a kick;
	 * unpaced, a storm.
	 */
	WORKLOAD_MEMORY,
};

struct workload_result {
	uint64_t writes;
	uint64_t changed;	/* writes that changed a value */
	double seconds;
	struct spread write_time;	/* each write, from the request to xenstored's answer */
};

/* About writes writes, at rate writes per second (0: as fast as xenstored answers). */
int workload_run(struct workload *w, enum workload_kind kind, uint64_t writes, double rate,
		 struct workload_result *res);

uint64_t monotonic_ns(void);

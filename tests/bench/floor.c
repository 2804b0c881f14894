/*
 * xgm-bench-floor: the least any correct xenstore monitor must do, for the
 * benchmark to measure xgmd against (docs/benchmarks.md, "the floor").
 *
 * One libxenstore connection. Every domain listed under /local/domain is
 * adopted as xgmd adopts it: the subtrees xgmd watches (domain_subtrees),
 * under one token per domain, and every node below them read once. It
 * watches @introduceDomain (adopt what is new) and @releaseDomain (forget
 * what is gone). On each watch event it reads the key the event names, one
 * xs_read, and nothing else: no settling, no metrics, no JSON, no output.
 *
 * What it read reaches the benchmark through the board (floor-board.h):
 * its request counters, each data/meminfo_free value with its time, and
 * "ready" once the first domains are read and every watch's first event
 * (each registration fires one at once) is taken.
 *
 * usage: xgm-bench-floor BOARD [--split]
 * with XENSTORED_PATH set. --split reads on a second connection that has no
 * watches, as xgmd does: libxenstore then hands no reply through its
 * reader thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "domain/domain.h"
#include "floor-board.h"

/* Domids the hypervisor hands out are below DOMID_FIRST_RESERVED. */
#define FLOOR_DOMIDS 0x7ff0

#define TOKEN_INTRODUCE "introduce"
#define TOKEN_RELEASE "release"

struct floor {
	struct xs_handle *watch;	/* holds every watch */
	struct xs_handle *req;		/* reads: watch itself, or a second handle */
	struct floor_board *board;
	bool known[FLOOR_DOMIDS];
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A data/meminfo_free value goes on the board, for the benchmark to see. */
static void post(struct floor *f, const char *path, const char *value)
{
	static const char suffix[] = "/data/meminfo_free";
	size_t len = strlen(path), slen = sizeof(suffix) - 1;
	unsigned int domid;
	char *end;
	uint64_t v;

	if (len <= slen || strcmp(path + len - slen, suffix) != 0 ||
	    sscanf(path, "/local/domain/%u/", &domid) != 1 || domid < 1 ||
	    domid > f->board->n_domains)
		return;
	v = strtoull(value, &end, 10);
	if (end == value)
		return;
	atomic_store(&f->board->slots[domid - 1].seen_ns, monotonic_ns());
	atomic_store(&f->board->slots[domid - 1].value, v);
}

/* One xs_read; a node gone meanwhile is not an error (the event said so). */
static char *read_key(struct floor *f, const char *path)
{
	unsigned int len;
	char *v = xs_read(f->req, XBT_NULL, path, &len);

	atomic_fetch_add(&f->board->reads, 1);
	if (v)
		post(f, path, v);
	else if (errno != ENOENT)
		atomic_fetch_add(&f->board->failed, 1);
	return v;
}

/* Reads every node of the subtree at path: what a monitor must know at adoption. */
static void read_tree(struct floor *f, const char *path, unsigned int depth)
{
	char **names;
	unsigned int n;

	free(read_key(f, path));
	if (depth > 16)		/* a guest can nest deeper; the floor need not follow */
		return;
	names = xs_directory(f->req, XBT_NULL, path, &n);
	atomic_fetch_add(&f->board->directories, 1);
	for (unsigned int i = 0; names && i < n; i++) {
		char child[1024];

		if (snprintf(child, sizeof(child), "%s/%s", path, names[i]) < (int)sizeof(child))
			read_tree(f, child, depth + 1);
	}
	free(names);
}

static int watch_domain(struct floor *f, unsigned int domid, bool on)
{
	char path[128], token[32];

	snprintf(token, sizeof(token), "d%u", domid);
	for (size_t i = 0; i < domain_subtree_count; i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, domain_subtrees[i]);
		if (on ? !xs_watch(f->watch, path, token) : !xs_unwatch(f->watch, path, token)) {
			atomic_fetch_add(&f->board->failed, 1);
			return -errno;
		}
		atomic_fetch_add(&f->board->watches, 1);
	}
	return 0;
}

static void adopt(struct floor *f, unsigned int domid)
{
	char path[128];

	if (watch_domain(f, domid, true) < 0)
		return;
	f->known[domid] = true;
	for (size_t i = 0; i < domain_subtree_count; i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, domain_subtrees[i]);
		read_tree(f, path, 0);
	}
}

/* Adopts every listed domain not known yet (at start, and on @introduceDomain). */
static int adopt_listed(struct floor *f)
{
	unsigned int n;
	char **names = xs_directory(f->req, XBT_NULL, "/local/domain", &n);

	atomic_fetch_add(&f->board->directories, 1);
	if (!names)
		return -errno;
	for (unsigned int i = 0; i < n; i++) {
		char *end;
		unsigned long domid = strtoul(names[i], &end, 10);

		if (*end == '\0' && end != names[i] && domid < FLOOR_DOMIDS && !f->known[domid])
			adopt(f, (unsigned int)domid);
	}
	free(names);
	return 0;
}

/* @releaseDomain names no domain: ask about each known one. */
static void forget_released(struct floor *f)
{
	for (unsigned int domid = 1; domid < FLOOR_DOMIDS; domid++) {
		if (!f->known[domid] || xs_is_domain_introduced(f->req, domid))
			continue;
		watch_domain(f, domid, false);
		f->known[domid] = false;
	}
}

static struct floor_board *map_board(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct floor_board hdr, *b;

	if (fd < 0 || pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    hdr.magic != FLOOR_BOARD_MAGIC) {
		fprintf(stderr, "xgm-bench-floor: %s is not a board\n", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	b = mmap(NULL, floor_board_size(hdr.n_domains), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return b == MAP_FAILED ? NULL : b;
}

int main(int argc, char **argv)
{
	static struct floor f;
	bool split = argc == 3 && strcmp(argv[2], "--split") == 0;

	if (argc < 2 || argc > 3 || (argc == 3 && !split)) {
		fprintf(stderr, "usage: xgm-bench-floor BOARD [--split]\n");
		return 2;
	}
	f.board = map_board(argv[1]);
	f.watch = xs_open(0);
	f.req = split ? xs_open(0) : f.watch;
	if (!f.board || !f.watch || !f.req) {
		fprintf(stderr, "xgm-bench-floor: cannot connect to xenstored: %s\n", strerror(errno));
		return 1;
	}
	/* Watch first, then list: a domain introduced in between is not missed. */
	if (!xs_watch(f.watch, "@introduceDomain", TOKEN_INTRODUCE) ||
	    !xs_watch(f.watch, "@releaseDomain", TOKEN_RELEASE) || adopt_listed(&f) < 0) {
		fprintf(stderr, "xgm-bench-floor: %s\n", strerror(errno));
		return 1;
	}
	atomic_fetch_add(&f.board->watches, 2);
	/* Until SIGTERM, whose default action ends it: there is nothing to clean up. */
	for (;;) {
		unsigned int n;
		char **ev = xs_read_watch(f.watch, &n);

		if (!ev) {
			fprintf(stderr, "xgm-bench-floor: lost xenstored: %s\n", strerror(errno));
			return 1;
		}
		atomic_fetch_add(&f.board->watch_events, 1);
		if (strcmp(ev[XS_WATCH_TOKEN], TOKEN_INTRODUCE) == 0)
			adopt_listed(&f);
		else if (strcmp(ev[XS_WATCH_TOKEN], TOKEN_RELEASE) == 0)
			forget_released(&f);
		else
			free(read_key(&f, ev[XS_WATCH_PATH]));
		free(ev);
		/* Every watch answers once at once: ready when those answers are read too. */
		if (!atomic_load(&f.board->ready) &&
		    atomic_load(&f.board->watch_events) >= atomic_load(&f.board->watches))
			atomic_store(&f.board->ready, 1);
	}
}

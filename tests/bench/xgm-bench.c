/*
 * xgm-bench: what xgmd costs and how fast it answers, against the sandbox's
 * real xenstored, side by side with a Python monitor a dom0 admin would
 * write and with the toolstack's "re-read everything" strategy, all in one
 * run on one machine (docs/benchmarks.md). It prints a table and, with
 * --json, writes the same figures for programs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "listener.h"
#include "procstat.h"
#include "sandbox.h"
#include "workload.h"
#include "xgmd-test.h"

#define MAX_PHASES 8
#define MAX_SUBJECTS 4
#define MAX_FANOUT 4

#define MAX_EXTRA_SETS 8

struct options {
	unsigned int domains;
	unsigned int keys;
	uint64_t agent_writes;
	double agent_rate;		/* writes per second */
	uint64_t memory_writes;
	double memory_rate;
	uint64_t storm_writes;
	unsigned int fanout[MAX_FANOUT];	/* subscriber counts, the first is the base */
	size_t n_fanout;
	bool baseline;			/* run the Python monitor too */
	const char *python;
	const char *monitor;		/* pyxs-monitor.py */
	const char *json;
	bool keep;
	bool xgmd_only;			/* the first subject alone */
	const char *sets[MAX_EXTRA_SETS + 1];	/* --set, for every xgmd; NULL-terminated */
	size_t n_sets;
};

/* xenstore requests, as xgmd's stats (or the baseline's) count them. */
struct requests {
	uint64_t reads, directories, watches, other, watch_events;
};

struct phase {
	char name[32];
	unsigned int subscribers;
	struct workload_result load;
	uint64_t cpu_ns;		/* the subject's */
	uint64_t xenstored_ns;
	struct requests req;
	uint64_t events;		/* received, per subscriber */
	uint64_t lost;
	size_t samples;
	double p50_ms, p99_ms, max_ms;
	double drain_s;			/* from the last write to the last mark seen */
	unsigned int incomplete;	/* domains whose last mark never came */
	uint64_t invalid;		/* lines that were not JSON */
};

struct subject {
	const char *name;
	const char *settle;		/* what its settling is, for the report */
	double quiet_ms;		/* the settle time a latency includes */
	bool is_xgmd;
	const char *const *sets;	/* xgmd's --set options */
	/* What the run measured. */
	double start_s;
	uint64_t start_cpu_ns, start_xenstored_ns;	/* during the start */
	double restart_s;		/* < 0: not measured */
	uint64_t start_rss_kib;		/* once every domain is adopted */
	uint64_t rss_kib, hwm_kib;	/* at the end, and the peak */
	struct phase phases[MAX_PHASES];
	size_t n_phases;
	/* While it runs. */
	pid_t pid;
	struct xgmd xgmd;
	struct client *ctl;
};

struct bench {
	struct options opt;
	struct sandbox_options sb;
	char dir[PATH_MAX];
	struct marks marks;
	struct workload *load;
	struct listener *listener;
	double create_s, populate_s;
	double floor_us, floor_xenstored_us;	/* one dom0 read, round trip and xenstored's CPU */
	struct subject subjects[MAX_SUBJECTS];
	size_t n_subjects;
};

static const char *const sets_min[] = {
	"settle.quiet_ms=0", "settle.max_wait_ms=1",
	"xenstore.liveness_ms=50", "xenstore.reconnect_min_ms=1", NULL,
};
static const char *const sets_reread[] = {
	"settle.quiet_ms=0", "settle.max_wait_ms=1", "xenstore.reread_all=true", NULL,
};

static double seconds_since(uint64_t t0)
{
	return (double)(monotonic_ns() - t0) / 1e9;
}

static void sleep_ms(unsigned int ms)
{
	usleep(ms * 1000);
}

/* ---- the sandbox and its domains ---- */

static int create_domains(struct bench *b)
{
	struct xs_handle *xs = sandbox_connect(b->dir);
	int r = xs ? 0 : -ECONNREFUSED;

	for (unsigned int domid = 1; domid <= b->opt.domains && r == 0; domid++) {
		char name[32];

		snprintf(name, sizeof(name), "bench%u", domid);
		r = sandbox_domain_create(b->dir, xs, domid, name, true);
	}
	if (xs)
		xs_close(xs);
	return r;
}

static pid_t xenstored_pid(struct bench *b)
{
	return (pid_t)sandbox_pid(b->dir);
}

/*
 * What one request costs xenstored at this many domains, measured with a
 * plain dom0 client: every request of a subject pays at least this, and the
 * C xenstored visits every connection (each domain's ring is one) on each
 * pass of its loop, so it grows with the number of domains.
 */
static int measure_floor(struct bench *b)
{
	enum { READS = 4000 };
	struct xs_handle *xs = sandbox_connect(b->dir);
	struct proc_usage x0, x1;
	uint64_t t0;
	int r = 0;

	if (!xs)
		return -ECONNREFUSED;
	if (proc_usage(xenstored_pid(b), &x0) < 0)
		r = -ESRCH;
	t0 = monotonic_ns();
	for (int i = 0; i < READS && r == 0; i++) {
		unsigned int len;
		char *v = xs_read(xs, XBT_NULL, "/local/domain/1/data/os_distro", &len);

		if (!v)
			r = -errno;
		free(v);
	}
	b->floor_us = (double)(monotonic_ns() - t0) / 1e3 / READS;
	if (r == 0 && proc_usage(xenstored_pid(b), &x1) < 0)
		r = -ESRCH;
	b->floor_xenstored_us = (double)(x1.cpu_ns - x0.cpu_ns) / 1e3 / READS;
	xs_close(xs);
	return r;
}

/* ---- subjects: xgmd, or the baseline monitor ---- */

static int subscribe(struct bench *b, struct subject *s, bool measure)
{
	/* The measured subscriber's snapshot tells it every domain's current value. */
	const char *line = measure ? "{\"cmd\":\"subscribe\",\"id\":1,\"snapshot\":true}" :
				     "{\"cmd\":\"subscribe\",\"id\":1,\"snapshot\":false}";
	struct client c;
	int r = client_dial(&c, s->xgmd.socket);

	if (r == 0)
		r = client_send(&c, line);
	if (r < 0) {
		fprintf(stderr, "xgm-bench: subscribing to %s: %s\n", s->xgmd.socket, strerror(-r));
		client_close(&c);
		return r;
	}
	/* The listener reads the socket from here on. */
	return listener_add(b->listener, client_release_fd(&c), measure);
}

static long long stat_of(yajl_val reply, const char *key)
{
	return json_int(json_get(reply, "engine", NULL), key, NULL);
}

/* From a stats reply's "engine" counters; the baseline has no "other". */
static void requests_from(yajl_val stats, struct requests *req)
{
	long long other = stat_of(stats, "xenstore_other_requests");

	*req = (struct requests){
		.reads = (uint64_t)stat_of(stats, "xenstore_reads"),
		.directories = (uint64_t)stat_of(stats, "xenstore_directories"),
		.watches = (uint64_t)stat_of(stats, "xenstore_watches"),
		.other = other > 0 ? (uint64_t)other : 0,
		.watch_events = (uint64_t)stat_of(stats, "xenstore_watch_events"),
	};
}

static int xgmd_requests(struct subject *s, struct requests *req)
{
	yajl_val v = client_call(s->ctl, "{\"cmd\":\"stats\",\"id\":2}");

	if (!v || json_int(v, "engine", "xenstore_reads") < 0) {
		fprintf(stderr, "xgm-bench: no stats from xgmd\n");
		if (v)
			yajl_tree_free(v);
		return -EPROTO;
	}
	requests_from(v, req);
	yajl_tree_free(v);
	return 0;
}

/* The baseline prints its counters on SIGUSR1, in the shape of xgmd's stats. */
static int baseline_requests(struct bench *b, struct subject *s, struct requests *req)
{
	struct listener_counts before, now;
	char line[4096], err[128];
	yajl_val v;

	listener_counts(b->listener, &before);
	kill(s->pid, SIGUSR1);
	for (int i = 0; i < 5000; i++) {
		listener_counts(b->listener, &now);
		if (now.stats > before.stats)
			break;
		sleep_ms(1);
	}
	if (now.stats == before.stats || !listener_stats_line(b->listener, line, sizeof(line)) ||
	    !(v = yajl_tree_parse(line, err, sizeof(err)))) {
		fprintf(stderr, "xgm-bench: no counters from the baseline monitor\n");
		return -EPROTO;
	}
	requests_from(v, req);
	yajl_tree_free(v);
	return 0;
}

static int subject_requests(struct bench *b, struct subject *s, struct requests *req)
{
	return s->is_xgmd ? xgmd_requests(s, req) : baseline_requests(b, s, req);
}

/* xgmd has adopted every domain when its stats say so. */
static int start_xgmd(struct bench *b, struct subject *s)
{
	uint64_t t0 = monotonic_ns();
	yajl_val v;

	const char *sets[32];
	size_t n_sets = 0;

	for (const char *const *p = s->sets; p && *p && n_sets < 32 - MAX_EXTRA_SETS - 1; p++)
		sets[n_sets++] = *p;
	for (size_t i = 0; i < b->opt.n_sets; i++)
		sets[n_sets++] = b->opt.sets[i];
	sets[n_sets] = NULL;
	xgmd_start_logging(&s->xgmd, b->dir, s->name, sets, "notice");
	s->pid = s->xgmd.pid;
	s->ctl = malloc(sizeof(*s->ctl));
	if (!s->ctl)
		return -ENOMEM;
	/* The hello can wait behind a slice of the first pass. */
	v = client_connect(s->ctl, s->xgmd.socket);
	while (!v && s->ctl->fd >= 0 && seconds_since(t0) < 120)
		v = client_next(s->ctl, 1000);
	if (!v) {
		fprintf(stderr, "xgm-bench: no hello from %s\n", s->xgmd.socket);
		return -EPROTO;
	}
	yajl_tree_free(v);
	while (seconds_since(t0) < 120) {
		long long n, pending;

		/* The first pass is done when nothing is pending and every domain is known. */
		v = client_call(s->ctl, "{\"cmd\":\"stats\",\"id\":1}");
		n = stat_of(v, "domains");
		pending = stat_of(v, "resync_pending");
		if (v)
			yajl_tree_free(v);
		if (pending == 0 && n >= (long long)b->opt.domains) {
			s->start_s = seconds_since(t0);
			return subscribe(b, s, true);
		}
		sleep_ms(1);
	}
	fprintf(stderr, "xgm-bench: %s did not adopt %u domains in 120 s\n", s->name,
		b->opt.domains);
	return -ETIMEDOUT;
}

static int start_baseline(struct bench *b, struct subject *s)
{
	uint64_t t0 = monotonic_ns();
	char xs_path[PATH_MAX + 16];
	struct listener_counts c;
	int pipefd[2], r;

	snprintf(xs_path, sizeof(xs_path), "%s/socket", b->dir);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pipefd[1], STDOUT_FILENO);
		setenv("XENSTORED_PATH", xs_path, 1);
		execl(b->opt.python, b->opt.python, b->opt.monitor, (char *)NULL);
		fprintf(stderr, "xgm-bench: exec %s: %s\n", b->opt.python, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	r = listener_add(b->listener, pipefd[0], true);
	if (r < 0)
		return r;
	while (seconds_since(t0) < 600) {
		listener_counts(b->listener, &c);
		if (c.ready > 0) {
			s->start_s = seconds_since(t0);
			return 0;
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			fprintf(stderr, "xgm-bench: the baseline monitor exited during start-up\n");
			return -ECHILD;
		}
		sleep_ms(5);
	}
	return -ETIMEDOUT;
}

static int stop_subject(struct bench *b, struct subject *s)
{
	int r = 0;

	listener_drop_all(b->listener);
	if (s->is_xgmd) {
		if (s->ctl) {
			client_close(s->ctl);
			free(s->ctl);
			s->ctl = NULL;
		}
		r = xgmd_stop(&s->xgmd);
	} else if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
	return r;
}

/* ---- phases ---- */

/* Waits until no event has come for quiet_ms (the subject is idle). */
static void wait_quiet(struct bench *b, unsigned int quiet_ms, double limit_s)
{
	uint64_t t0 = monotonic_ns(), last_change = t0;
	struct listener_counts prev, now;

	listener_counts(b->listener, &prev);
	while (seconds_since(t0) < limit_s && seconds_since(last_change) * 1000 < quiet_ms) {
		sleep_ms(5);
		listener_counts(b->listener, &now);
		if (now.events != prev.events || now.bytes != prev.bytes)
			last_change = monotonic_ns();
		prev = now;
	}
}

/* Waits until pid uses under 2% of a CPU over 100 ms: its backlog is worked off. */
static void wait_idle(pid_t pid, double limit_s)
{
	uint64_t t0 = monotonic_ns();
	struct proc_usage u0, u1;

	if (proc_usage(pid, &u0) < 0)
		return;
	while (seconds_since(t0) < limit_s) {
		sleep_ms(100);
		if (proc_usage(pid, &u1) < 0 || u1.cpu_ns - u0.cpu_ns < 2000000)
			return;
		u0 = u1;
	}
}

/*
 * Waits until xgmd holds no batch back for the publication limit: a held
 * batch is read when its token comes, and those reads belong to the phase
 * whose writes made it, not to the next one.
 */
static int wait_released(struct subject *s, double limit_s)
{
	uint64_t t0 = monotonic_ns();

	while (s->is_xgmd && seconds_since(t0) < limit_s) {
		yajl_val v = client_call(s->ctl, "{\"cmd\":\"stats\",\"id\":3}");
		long long held = v ? json_int(v, "engine", "rate_limited_domains") : -1;

		if (v)
			yajl_tree_free(v);
		if (held < 0) {
			fprintf(stderr, "xgm-bench: no stats from xgmd\n");
			return -EPROTO;
		}
		if (held == 0)
			return 0;
		sleep_ms(20);
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void latency(struct bench *b, struct phase *p)
{
	uint64_t *s;
	size_t n = listener_take_samples(b->listener, &s);

	p->samples = n;
	if (n > 0) {
		qsort(s, n, sizeof(*s), cmp_u64);
		p->p50_ms = (double)s[n / 2] / 1e6;
		p->p99_ms = (double)s[n * 99 / 100 < n ? n * 99 / 100 : n - 1] / 1e6;
		p->max_ms = (double)s[n - 1] / 1e6;
	}
	free(s);
}

/*
 * What must hold for xgmd whatever the machine's speed: every last value
 * reached the subscriber (live, or in the snapshot after "lost"), as JSON,
 * and xgmd read no more than one key per write. A failure is a bug, not a
 * slow run.
 */
static int check_phase(const struct subject *s, const struct phase *p)
{
	int r = 0;

	if (!s->is_xgmd)	/* the baseline is measured, not judged */
		return 0;
	if (p->incomplete) {
		fprintf(stderr, "xgm-bench: %s %s: %u domains' last values never came\n",
			s->name, p->name, p->incomplete);
		r = -EPROTO;
	}
	/* A subscriber that falls behind gets "lost" and a snapshot, as documented: not a failure. */
	if (p->invalid) {
		fprintf(stderr, "xgm-bench: %s %s: %" PRIu64 " lines not JSON\n",
			s->name, p->name, p->invalid);
		r = -EPROTO;
	}
	if (s->is_xgmd && s->sets != sets_reread && p->req.reads > p->load.writes) {
		fprintf(stderr, "xgm-bench: %s %s: %" PRIu64 " reads for %" PRIu64 " writes\n",
			s->name, p->name, p->req.reads, p->load.writes);
		r = -EPROTO;
	}
	return r;
}

static int run_phase(struct bench *b, struct subject *s, const char *name,
		     enum workload_kind kind, uint64_t writes, double rate,
		     unsigned int subscribers)
{
	struct phase *p = &s->phases[s->n_phases];
	struct proc_usage su0, su1, xu0, xu1;
	struct requests r0, r1;
	struct listener_counts c0, c1;
	uint64_t *discard, t_end;
	int r;

	if (s->n_phases == MAX_PHASES)
		return -ENOSPC;
	*p = (struct phase){ .subscribers = subscribers };
	snprintf(p->name, sizeof(p->name), "%s", name);
	wait_quiet(b, 300, 600);
	free((listener_take_samples(b->listener, &discard), discard));
	r = subject_requests(b, s, &r0);
	if (r < 0)
		return r;
	listener_counts(b->listener, &c0);
	if (proc_usage(s->pid, &su0) < 0 || proc_usage(xenstored_pid(b), &xu0) < 0)
		return -ESRCH;

	r = workload_run(b->load, kind, writes, rate, &p->load);
	if (r < 0)
		return r;
	t_end = monotonic_ns();
	/* Everything written is seen, or the subject gave up on some (a bound, not a hang). */
	while (!marks_all_seen(&b->marks) && seconds_since(t_end) < 60 + (double)writes / 100)
		sleep_ms(1);
	p->drain_s = seconds_since(t_end);
	p->incomplete = marks_unseen(&b->marks);
	r = wait_released(s, 60 + (double)writes / 100);
	if (r < 0)
		return r;
	/* The last value can be out before the work is done (stale events still queued). */
	wait_quiet(b, 200, 600);
	wait_idle(s->pid, 600);

	if (proc_usage(s->pid, &su1) < 0 || proc_usage(xenstored_pid(b), &xu1) < 0)
		return -ESRCH;
	listener_counts(b->listener, &c1);
	r = subject_requests(b, s, &r1);
	if (r < 0)
		return r;
	p->cpu_ns = su1.cpu_ns - su0.cpu_ns;
	p->xenstored_ns = xu1.cpu_ns - xu0.cpu_ns;
	p->req = (struct requests){
		.reads = r1.reads - r0.reads,
		.directories = r1.directories - r0.directories,
		.watches = r1.watches - r0.watches,
		.other = r1.other - r0.other,
		.watch_events = r1.watch_events - r0.watch_events,
	};
	p->events = (c1.events - c0.events) / subscribers;
	p->lost = c1.lost - c0.lost;
	p->invalid = c1.invalid - c0.invalid;
	latency(b, p);
	s->n_phases++;

	printf("  %-9s %-8s %4u subs %7" PRIu64 " writes %7.0f/s  cpu %7.2f ms/1k  "
	       "xenstored %7.2f ms/1k  ratio %5.2f  reads/write %.2f  "
	       "latency p50 %7.2f p99 %7.2f ms%s\n",
	       s->name, p->name, subscribers, p->load.writes,
	       (double)p->load.writes / p->load.seconds,
	       (double)p->cpu_ns / 1e6 / (double)p->load.writes * 1000,
	       (double)p->xenstored_ns / 1e6 / (double)p->load.writes * 1000,
	       (double)p->cpu_ns / (double)p->xenstored_ns,
	       (double)p->req.reads / (double)p->load.writes,
	       p->p50_ms, p->p99_ms,
	       p->incomplete ? " (some marks never came)" : "");
	fflush(stdout);
	return check_phase(s, p);
}

/*
 * xgmd is paused while xenstored restarts empty and the toolstack and the
 * agents write every domain anew, each with a new mark: what is timed from
 * the moment xgmd continues is its own resynchronisation (noticing the dead
 * connection, reconnecting, re-listing, re-reading), not the toolstack's.
 */
static int restart_resync(struct bench *b, struct subject *s)
{
	uint64_t t0;
	int r;

	kill(s->pid, SIGSTOP);
	r = sandbox_stop(b->dir);
	if (r == 0)
		r = sandbox_start(b->dir, &b->sb);
	if (r == 0)
		r = create_domains(b);
	if (r == 0)
		r = workload_reopen(b->load);
	if (r == 0)
		r = workload_populate(b->load, b->opt.keys);
	t0 = monotonic_ns();
	kill(s->pid, SIGCONT);
	if (r < 0)
		return r;
	while (!marks_all_seen(&b->marks) && seconds_since(t0) < 120)
		sleep_ms(1);
	if (!marks_all_seen(&b->marks)) {
		fprintf(stderr, "xgm-bench: %u domains not resynchronised after 120 s\n",
			marks_unseen(&b->marks));
		return -ETIMEDOUT;
	}
	s->restart_s = seconds_since(t0);
	printf("  %-9s resynchronised %u domains after a xenstored restart in %.3f s\n",
	       s->name, b->opt.domains, s->restart_s);
	return 0;
}

static int measure_memory(struct subject *s)
{
	struct proc_usage u;
	int r = proc_usage(s->pid, &u);

	if (r == 0) {
		s->rss_kib = u.rss_kib;
		s->hwm_kib = u.hwm_kib;
	}
	return r;
}

/* Everything measured on one subject, from its start to its stop. */
static int run_subject(struct bench *b, struct subject *s, bool full)
{
	const struct options *o = &b->opt;
	struct proc_usage su, xu0, xu1;
	int r;

	s->restart_s = -1;
	if (proc_usage(xenstored_pid(b), &xu0) < 0)
		return -ESRCH;
	r = s->is_xgmd ? start_xgmd(b, s) : start_baseline(b, s);
	if (r < 0)
		goto out;
	if (proc_usage(s->pid, &su) < 0 || proc_usage(xenstored_pid(b), &xu1) < 0) {
		r = -ESRCH;
		goto out;
	}
	s->start_cpu_ns = su.cpu_ns;
	s->start_xenstored_ns = xu1.cpu_ns - xu0.cpu_ns;
	wait_quiet(b, 500, 600);
	r = measure_memory(s);
	s->start_rss_kib = s->rss_kib;
	printf("  %-9s adopted %u domains in %.3f s (cpu %.3f s, xenstored %.3f s); "
	       "resident %" PRIu64 " KiB\n", s->name, o->domains, s->start_s,
	       (double)s->start_cpu_ns / 1e9, (double)s->start_xenstored_ns / 1e9, s->rss_kib);
	if (r == 0)
		r = run_phase(b, s, "agent", WORKLOAD_AGENT, o->agent_writes, o->agent_rate, 1);
	if (r == 0)
		r = run_phase(b, s, "memory", WORKLOAD_MEMORY, o->memory_writes, o->memory_rate, 1);
	if (r == 0)
		r = run_phase(b, s, "storm", WORKLOAD_MEMORY, o->storm_writes, 0, 1);
	/* Fan-out: the same agent phase with more subscribers on the same xgmd. */
	for (size_t i = 1; full && i < o->n_fanout && r == 0; i++) {
		unsigned int have = o->fanout[i - 1];

		for (unsigned int k = have; k < o->fanout[i] && r == 0; k++)
			r = subscribe(b, s, false);
		if (r == 0)
			r = run_phase(b, s, "fanout", WORKLOAD_AGENT, o->agent_writes,
				      o->agent_rate, o->fanout[i]);
	}
	if (r == 0 && full)
		r = restart_resync(b, s);
	if (r == 0)
		r = measure_memory(s);
	if (r == 0)
		printf("  %-9s resident %" PRIu64 " KiB at the end, %" PRIu64 " KiB at the peak\n",
		       s->name, s->rss_kib, s->hwm_kib);
out:
	if (stop_subject(b, s) < 0 && r == 0)
		r = -EPROTO;	/* xgmd did not exit cleanly */
	return r;
}

/* ---- the report ---- */

static void gen_str(yajl_gen g, const char *k, const char *v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void gen_num(yajl_gen g, const char *k, double v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_double(g, v);
}

static void gen_int(yajl_gen g, const char *k, uint64_t v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_integer(g, (long long)v);
}

static void gen_key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static double per_1k(uint64_t ns, uint64_t writes)
{
	return writes ? (double)ns / 1e6 / (double)writes * 1000 : 0;
}

static void gen_phase(yajl_gen g, const struct subject *s, const struct phase *p)
{
	yajl_gen_map_open(g);
	gen_str(g, "phase", p->name);
	gen_int(g, "subscribers", p->subscribers);
	gen_int(g, "writes", p->load.writes);
	gen_int(g, "changed_writes", p->load.changed);
	gen_num(g, "seconds", p->load.seconds);
	gen_num(g, "writes_per_second", (double)p->load.writes / p->load.seconds);
	gen_num(g, "cpu_ms_per_1k_writes", per_1k(p->cpu_ns, p->load.writes));
	gen_num(g, "xenstored_cpu_ms_per_1k_writes", per_1k(p->xenstored_ns, p->load.writes));
	gen_num(g, "cpu_ratio_to_xenstored", (double)p->cpu_ns / (double)p->xenstored_ns);
	gen_key(g, "xenstore_requests");
	yajl_gen_map_open(g);
	gen_int(g, "reads", p->req.reads);
	gen_int(g, "directories", p->req.directories);
	gen_int(g, "watches", p->req.watches);
	gen_int(g, "other", p->req.other);
	gen_int(g, "watch_events", p->req.watch_events);
	yajl_gen_map_close(g);
	gen_num(g, "requests_per_write",
		(double)(p->req.reads + p->req.directories + p->req.watches + p->req.other) /
		(double)p->load.writes);
	gen_num(g, "reads_per_write", (double)p->req.reads / (double)p->load.writes);
	gen_num(g, "reads_per_changed_write", (double)p->req.reads / (double)p->load.changed);
	gen_int(g, "events_per_subscriber", p->events);
	gen_int(g, "lost_notices", p->lost);
	gen_key(g, "latency_ms");
	yajl_gen_map_open(g);
	gen_int(g, "samples", p->samples);
	gen_num(g, "settle", s->quiet_ms);
	gen_num(g, "p50", p->p50_ms);
	gen_num(g, "p99", p->p99_ms);
	gen_num(g, "max", p->max_ms);
	/* Only unkicked changes wait for the settle time. */
	if (strcmp(p->name, "memory") == 0)
		gen_num(g, "p99_over_settle", p->p99_ms - s->quiet_ms);
	yajl_gen_map_close(g);
	gen_num(g, "drain_seconds", p->drain_s);
	gen_int(g, "domains_incomplete", p->incomplete);
	yajl_gen_map_close(g);
}

static void gen_machine(yajl_gen g)
{
	struct utsname u;
	char line[256], model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	uname(&u);
	gen_key(g, "machine");
	yajl_gen_map_open(g);
	gen_str(g, "cpu", model);
	gen_int(g, "cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	gen_str(g, "kernel", u.release);
	yajl_gen_map_close(g);
}

static int write_json(const struct bench *b)
{
	const struct options *o = &b->opt;
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *text;
	size_t len;
	FILE *f;

	if (!g)
		return -ENOMEM;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	gen_machine(g);
	gen_key(g, "workload");
	yajl_gen_map_open(g);
	gen_str(g, "xenstored", sandbox_flavour_name(b->sb.flavour));
	gen_int(g, "domains", o->domains);
	gen_int(g, "keys_per_domain", o->keys);
	gen_int(g, "agent_writes", o->agent_writes);
	gen_num(g, "agent_rate", o->agent_rate);
	gen_int(g, "memory_writes", o->memory_writes);
	gen_num(g, "memory_rate", o->memory_rate);
	gen_int(g, "storm_writes", o->storm_writes);
	gen_num(g, "create_seconds", b->create_s);
	gen_num(g, "populate_seconds", b->populate_s);
	gen_num(g, "dom0_read_us", b->floor_us);
	gen_num(g, "dom0_read_xenstored_cpu_us", b->floor_xenstored_us);
	yajl_gen_map_close(g);
	gen_key(g, "subjects");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < b->n_subjects; i++) {
		const struct subject *s = &b->subjects[i];

		yajl_gen_map_open(g);
		gen_str(g, "name", s->name);
		gen_str(g, "settle", s->settle);
		gen_num(g, "start_resync_seconds", s->start_s);
		gen_num(g, "start_cpu_seconds", (double)s->start_cpu_ns / 1e9);
		gen_num(g, "start_xenstored_cpu_seconds", (double)s->start_xenstored_ns / 1e9);
		if (s->restart_s >= 0)
			gen_num(g, "restart_resync_seconds", s->restart_s);
		gen_int(g, "start_rss_kib", s->start_rss_kib);
		gen_int(g, "end_rss_kib", s->rss_kib);
		gen_int(g, "peak_rss_kib", s->hwm_kib);
		gen_key(g, "phases");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < s->n_phases; k++)
			gen_phase(g, s, &s->phases[k]);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	f = fopen(o->json, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "xgm-bench: writing %s: %s\n", o->json, strerror(errno));
		yajl_gen_free(g);
		return -EIO;
	}
	yajl_gen_free(g);
	return 0;
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xgm-bench [OPTIONS]\n"
		"Measures xgmd against a private sandbox's real xenstored, beside a\n"
		"python3-pyxs monitor and a re-read-everything xgmd (docs/benchmarks.md).\n\n"
		"  --domains N        domains (default 1000)\n"
		"  --keys N           keys each agent writes first (default 50)\n"
		"  --agent-writes N   writes of agent cycles per phase (default 4 per domain)\n"
		"  --agent-rate R     their pace, writes per second (default 1000)\n"
		"  --memory-writes N  unkicked memory changes (default 2 per domain)\n"
		"  --memory-rate R    their pace (default 500/s, slower below 250 domains so\n"
		"                     that each settles alone)\n"
		"  --storm-writes N   memory changes as fast as xenstored takes them (default 10 per domain)\n"
		"  --fanout A,B,...   subscriber counts to compare (default 1,10,100)\n"
		"  --no-baseline      skip the Python monitor\n"
		"  --python PATH      the python3 that has pyxs (default /usr/bin/python3)\n"
		"  --json FILE        also write the figures as JSON\n"
		"  --keep             keep the sandbox directory and the logs\n"
		"  --set KEY=VALUE    an xgmd setting for every xgmd subject (repeatable)\n"
		"  --xgmd-only        only the first subject (xgmd at its minimum settling)\n"
		"  --smoke            a tiny run that only checks everything works\n");
}

static int parse_fanout(struct options *o, const char *arg)
{
	char *end;

	o->n_fanout = 0;
	do {
		unsigned long n = strtoul(arg, &end, 10);

		if (end == arg || n == 0 || n > 200 || o->n_fanout == MAX_FANOUT ||
		    (o->n_fanout ? n <= o->fanout[o->n_fanout - 1] : n != 1))
			return -EINVAL;
		o->fanout[o->n_fanout++] = (unsigned int)n;
		arg = end + 1;
	} while (*end == ',');
	return *end ? -EINVAL : 0;
}

static int parse_options(struct options *o, int argc, char **argv)
{
	enum { O_DOMAINS = 256, O_KEYS, O_AGENT_WRITES, O_AGENT_RATE, O_MEMORY_WRITES, O_MEMORY_RATE, O_STORM, O_FANOUT,
	       O_NO_BASELINE, O_PYTHON, O_JSON, O_KEEP, O_SMOKE, O_HELP,
	       O_SET, O_XGMD_ONLY };
	static const struct option longopts[] = {
		{ "domains", required_argument, NULL, O_DOMAINS },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "agent-writes", required_argument, NULL, O_AGENT_WRITES },
		{ "agent-rate", required_argument, NULL, O_AGENT_RATE },
		{ "memory-writes", required_argument, NULL, O_MEMORY_WRITES },
		{ "memory-rate", required_argument, NULL, O_MEMORY_RATE },
		{ "storm-writes", required_argument, NULL, O_STORM },
		{ "fanout", required_argument, NULL, O_FANOUT },
		{ "no-baseline", no_argument, NULL, O_NO_BASELINE },
		{ "python", required_argument, NULL, O_PYTHON },
		{ "json", required_argument, NULL, O_JSON },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "smoke", no_argument, NULL, O_SMOKE },
		{ "set", required_argument, NULL, O_SET },
		{ "xgmd-only", no_argument, NULL, O_XGMD_ONLY },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	uint64_t agent = 0, memory = 0, storm = 0;
	int c;

	*o = (struct options){ .domains = 1000, .keys = 50, .agent_rate = 1000,
			       .fanout = { 1, 10, 100 }, .n_fanout = 3, .baseline = true,
			       .python = "/usr/bin/python3", .monitor = XGM_BENCH_MONITOR };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_DOMAINS:
			o->domains = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case O_KEYS:
			o->keys = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case O_AGENT_WRITES:
			agent = strtoull(optarg, NULL, 10);
			break;
		case O_AGENT_RATE:
			o->agent_rate = strtod(optarg, NULL);
			break;
		case O_MEMORY_WRITES:
			memory = strtoull(optarg, NULL, 10);
			break;
		case O_MEMORY_RATE:
			o->memory_rate = strtod(optarg, NULL);
			break;
		case O_STORM:
			storm = strtoull(optarg, NULL, 10);
			break;
		case O_FANOUT:
			if (parse_fanout(o, optarg) < 0) {
				fprintf(stderr, "xgm-bench: --fanout wants increasing counts, 1 first, up to 200\n");
				return -EINVAL;
			}
			break;
		case O_NO_BASELINE:
			o->baseline = false;
			break;
		case O_PYTHON:
			o->python = optarg;
			break;
		case O_JSON:
			o->json = optarg;
			break;
		case O_KEEP:
			o->keep = true;
			break;
		case O_SET:
			if (o->n_sets == MAX_EXTRA_SETS || !strchr(optarg, '=')) {
				fprintf(stderr, "xgm-bench: --set KEY=VALUE, at most %d\n", MAX_EXTRA_SETS);
				return -EINVAL;
			}
			o->sets[o->n_sets++] = optarg;
			break;
		case O_XGMD_ONLY:
			o->xgmd_only = true;
			break;
		case O_SMOKE:
			o->domains = 5;
			o->keys = 20;
			o->agent_rate = 500;
			agent = 40;
			storm = 40;
			o->fanout[1] = 3;
			o->n_fanout = 2;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc || o->domains < 1 || o->domains > 30000 || o->keys < 20 ||
	    o->keys > 500 || o->agent_rate <= 0) {
		fprintf(stderr, "xgm-bench: domains 1-30000, keys 20-500, a positive rate\n");
		return -EINVAL;
	}
	o->agent_writes = agent ? agent : 4ULL * o->domains;
	o->memory_writes = memory ? memory : 2ULL * o->domains;
	/* A domain written again within the settle time would coalesce. */
	if (o->memory_rate <= 0)
		o->memory_rate = o->domains * 2.0 < 500 ? o->domains * 2.0 : 500;
	o->storm_writes = storm ? storm : 10ULL * o->domains;
	return 0;
}

static void add_subject(struct bench *b, const char *name, const char *settle, double quiet_ms,
			bool is_xgmd, const char *const *sets)
{
	b->subjects[b->n_subjects++] = (struct subject){
		.name = name, .settle = settle, .quiet_ms = quiet_ms, .is_xgmd = is_xgmd,
		.sets = sets, .restart_s = -1,
	};
}

static int setup(struct bench *b)
{
	const struct options *o = &b->opt;
	/* Marks: populate twice (start and restart), every phase, with room to spare. */
	uint64_t marks = 2ULL * o->domains + (o->agent_writes / 2 + 1) * (o->n_fanout + 4) +
			 (o->memory_writes + o->storm_writes) * 4 + 1024;
	struct rlimit nofile;
	uint64_t t0;
	int r;

	/* Every ring is two descriptors, every subscriber one. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	snprintf(b->dir, sizeof(b->dir), "/tmp/xgm-bench.XXXXXX");
	if (!mkdtemp(b->dir))
		return -errno;
	sandbox_default_options(&b->sb);
	b->sb.die_with_parent = true;
	r = sandbox_start(b->dir, &b->sb);
	if (r < 0)
		return r;
	t0 = monotonic_ns();
	r = create_domains(b);
	if (r < 0)
		return r;
	b->create_s = seconds_since(t0);
	r = marks_init(&b->marks, o->domains, marks);
	if (r < 0)
		return r;
	b->load = workload_new(b->dir, o->domains, &b->marks);
	b->listener = listener_new(&b->marks);
	if (!b->load || !b->listener)
		return -ENOMEM;
	t0 = monotonic_ns();
	r = workload_populate(b->load, o->keys);
	b->populate_s = seconds_since(t0);
	printf("xgm-bench: on %s\n", b->sb.flavour == SANDBOX_OCAML ? "oxenstored" : "the C xenstored");
	printf("xgm-bench: %u domains created in %.2f s; their agents wrote %u keys each in %.2f s\n",
	       o->domains, b->create_s, o->keys, b->populate_s);
	if (r == 0)
		r = measure_floor(b);
	printf("xgm-bench: one dom0 read takes %.1f us, %.1f us of xenstored's CPU\n",
	       b->floor_us, b->floor_xenstored_us);
	return r;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	int r;

	if (parse_options(&b.opt, argc, argv) < 0)
		return 2;
	if (b.opt.baseline && access(b.opt.python, X_OK) != 0) {
		fprintf(stderr, "xgm-bench: %s is missing: no baseline (--no-baseline to skip it)\n",
			b.opt.python);
		return 2;
	}
	add_subject(&b, "xgmd", "quiet 0 ms, max 1 ms", 0, true, sets_min);
	if (!b.opt.xgmd_only) {
		add_subject(&b, "xgmd-def", "defaults: quiet 250 ms, max 2000 ms", 250, true, NULL);
		add_subject(&b, "reread", "re-read all; quiet 0 ms, max 1 ms", 0, true, sets_reread);
		if (b.opt.baseline)
			add_subject(&b, "pyxs", "none", 0, false, NULL);
	}

	r = setup(&b);
	for (size_t i = 0; i < b.n_subjects && r == 0; i++)
		r = run_subject(&b, &b.subjects[i], i == 0);
	if (r == 0 && b.opt.json)
		r = write_json(&b);

	listener_free(b.listener);
	workload_free(b.load);
	marks_free(&b.marks);
	if (b.dir[0]) {
		sandbox_stop(b.dir);
		if (b.opt.keep) {
			printf("xgm-bench: the sandbox and the logs are in %s\n", b.dir);
		} else {
			char cmd[PATH_MAX + 16];

			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b.dir);
			if (system(cmd) != 0)
				fprintf(stderr, "xgm-bench: could not remove %s\n", b.dir);
		}
	}
	if (r < 0) {
		fprintf(stderr, "xgm-bench: failed: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

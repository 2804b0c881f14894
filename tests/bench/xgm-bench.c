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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "backlog.h"
#include "floor-board.h"
#include "listener.h"
#include "pinger.h"
#include "procstat.h"
#include "sandbox.h"
#include "spread.h"
#include "workload.h"
#include "xgmd-test.h"

#define MAX_PHASES 8
#define MAX_SUBJECTS 5
#define MAX_FANOUT 4

#define MAX_EXTRA_SETS 8

/* The pinger's pace: often enough for a p99 in seconds, rarely enough to cost xgmd little. */
#define PING_INTERVAL_MS 5
/* How often the unread watch events are sampled during a storm. */
#define BACKLOG_INTERVAL_MS 10
/* Bounds of a start or a resync at 1000 domains on a busy machine: only a hang ends them. */
#define START_LIMIT_S 600

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
	bool floor;			/* run the floor client (floor.c) too */
	bool floor_split;		/* the floor reads on a second connection */
	const char *python;
	const char *monitor;		/* pyxs-monitor.py */
	const char *floor_path;		/* xgm-bench-floor */
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
	struct spread latency;		/* from a guest's write to its value out */
	struct spread ping;		/* a ping's round trip meanwhile (storms) */
	uint64_t ping_unanswered;
	struct backlog_result unread;	/* watch events not taken yet (storms) */
	double drain_s;			/* from the last write to the last mark seen */
	unsigned int incomplete;	/* domains whose last mark never came */
	uint64_t invalid;		/* lines that were not JSON */
};

/* Stretches of time in which xgmd's loop has more than guest writes to do. */
enum window {
	W_ADOPT,	/* from the start to every domain adopted */
	W_RELEASE,	/* a burst of domains destroyed, until xgmd has forgotten them */
	W_INTRODUCE,	/* the same domains created again, until xgmd has adopted them */
	W_RESYNC,	/* after a xenstored restart, until every new value is out */
	N_WINDOWS,
};

static const char *const window_names[N_WINDOWS] = {
	[W_ADOPT] = "adopt", [W_RELEASE] = "release", [W_INTRODUCE] = "introduce",
	[W_RESYNC] = "resync",
};

struct window_result {
	bool measured;
	double seconds;
	unsigned int domains;		/* adopted, released, introduced or resynchronised */
	struct spread ping;		/* xgmd subjects only */
	uint64_t ping_unanswered;
};

struct subject {
	const char *name;
	const char *settle;		/* what its settling is, for the report */
	double quiet_ms;		/* the settle time a latency includes */
	bool is_xgmd;
	bool is_floor;
	const char *const *sets;	/* xgmd's --set options */
	/* What the run measured. */
	struct window_result windows[N_WINDOWS];
	uint64_t start_cpu_ns, start_xenstored_ns;	/* during the start */
	uint64_t start_rss_kib;		/* once every domain is adopted */
	uint64_t rss_kib, hwm_kib;	/* at the end, and the peak */
	struct phase phases[MAX_PHASES];
	size_t n_phases;
	/* While it runs. */
	pid_t pid;
	struct xgmd xgmd;
	struct client *ctl;
	struct floor_board *board;	/* the floor's, mapped */
	long long domains_known;	/* xgmd's stats once it has adopted every domain */
};

struct bench {
	struct options opt;
	struct sandbox_options sb;
	char dir[PATH_MAX];
	struct marks marks;
	struct workload *load;
	struct listener *listener;
	double create_s, populate_s;
	double dom0_read_us, dom0_read_xenstored_us;	/* one dom0 read, round trip and xenstored's CPU */
	struct subject subjects[MAX_SUBJECTS];
	size_t n_subjects;
	double loadavg_start;
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
static int measure_dom0_read(struct bench *b)
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
	b->dom0_read_us = (double)(monotonic_ns() - t0) / 1e3 / READS;
	if (r == 0 && proc_usage(xenstored_pid(b), &x1) < 0)
		r = -ESRCH;
	b->dom0_read_xenstored_us = (double)(x1.cpu_ns - x0.cpu_ns) / 1e3 / READS;
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

/* The floor counts its own on its board. */
static int floor_requests(struct subject *s, struct requests *req)
{
	const struct floor_board *fb = s->board;

	*req = (struct requests){
		.reads = atomic_load(&fb->reads),
		.directories = atomic_load(&fb->directories),
		.watches = atomic_load(&fb->watches),
		.watch_events = atomic_load(&fb->watch_events),
	};
	return 0;
}

static int subject_requests(struct bench *b, struct subject *s, struct requests *req)
{
	if (s->is_floor)
		return floor_requests(s, req);
	return s->is_xgmd ? xgmd_requests(s, req) : baseline_requests(b, s, req);
}

/* Stops a pinger whose samples are not wanted; the caller frees what it returns. */
static uint64_t *samples_of_stopped(struct pinger *p)
{
	uint64_t *samples, unanswered;

	pinger_stop(p, &samples, &unanswered);
	return samples;
}

static void print_window(const struct subject *s, enum window w, const char *what)
{
	const struct window_result *res = &s->windows[w];

	printf("  %-9s %s: %u domains in %.3f s; ping p50 %.2f p99 %.2f max %.2f ms "
	       "(%zu, %" PRIu64 " unanswered)\n", s->name, what, res->domains, res->seconds,
	       res->ping.p50_ms, res->ping.p99_ms, res->ping.max_ms, res->ping.n,
	       res->ping_unanswered);
	fflush(stdout);
}

/* Ends a window's pinger and keeps what it measured. */
static void end_window(struct subject *s, enum window w, struct pinger *p, double seconds,
		       unsigned int domains)
{
	struct window_result *res = &s->windows[w];
	uint64_t *samples;
	size_t n = pinger_stop(p, &samples, &res->ping_unanswered);

	res->measured = true;
	res->seconds = seconds;
	res->domains = domains;
	spread_of(samples, n, &res->ping);
	free(samples);
}

/* How many domains xgmd knows once nothing is left to adopt; -EAGAIN before, -EPROTO. */
static long long xgmd_domains_settled(struct subject *s)
{
	yajl_val v = client_call(s->ctl, "{\"cmd\":\"stats\",\"id\":1}");
	long long n = stat_of(v, "domains"), pending = stat_of(v, "resync_pending");

	/*
	 * Its loop can be busy for longer than a client waits (a burst of
	 * releases at 1000 domains): ask again. The late reply is taken by the
	 * next call, one answer behind, which only delays the end by one call.
	 */
	if (!v && !s->ctl->eof && kill(s->pid, 0) == 0)
		return -EAGAIN;
	if (v)
		yajl_tree_free(v);
	if (n < 0 || pending < 0) {
		fprintf(stderr, "xgm-bench: no stats from xgmd\n");
		return -EPROTO;
	}
	return pending == 0 ? n : -EAGAIN;
}

/* xgmd has adopted every domain when its stats say so. */
static int start_xgmd(struct bench *b, struct subject *s)
{
	uint64_t t0 = monotonic_ns();
	struct pinger *pinger;
	long long n;
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
	pinger = pinger_start(s->xgmd.socket, PING_INTERVAL_MS);
	s->ctl = malloc(sizeof(*s->ctl));
	if (!s->ctl || !pinger) {
		free(samples_of_stopped(pinger));
		return -ENOMEM;
	}
	/* The hello can wait behind a slice of the first pass. */
	v = client_connect(s->ctl, s->xgmd.socket);
	while (!v && s->ctl->fd >= 0 && seconds_since(t0) < START_LIMIT_S)
		v = client_next(s->ctl, 1000);
	if (!v) {
		fprintf(stderr, "xgm-bench: no hello from %s\n", s->xgmd.socket);
		free(samples_of_stopped(pinger));
		return -EPROTO;
	}
	yajl_tree_free(v);
	/* The first pass is done when nothing is pending and every domain is known. */
	while (((n = xgmd_domains_settled(s)) == -EAGAIN || (n >= 0 && n < b->opt.domains)) &&
	       seconds_since(t0) < START_LIMIT_S)
		sleep_ms(1);
	if (n >= b->opt.domains) {
		s->domains_known = n;	/* dom0's home counts too */
		end_window(s, W_ADOPT, pinger, seconds_since(t0), b->opt.domains);
		return subscribe(b, s, true);
	}
	free(samples_of_stopped(pinger));
	fprintf(stderr, "xgm-bench: %s did not adopt %u domains in %d s\n", s->name,
		b->opt.domains, START_LIMIT_S);
	return n == -EPROTO ? -EPROTO : -ETIMEDOUT;
}

/* A client of the sandbox's xenstored as dom0, its stdout on out_fd (-1: ours). */
static pid_t spawn_client(struct bench *b, char *const argv[], int out_fd)
{
	char xs_path[PATH_MAX + 16];
	pid_t pid;

	snprintf(xs_path, sizeof(xs_path), "%s/socket", b->dir);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (out_fd >= 0)
			dup2(out_fd, STDOUT_FILENO);
		setenv("XENSTORED_PATH", xs_path, 1);
		execv(argv[0], argv);
		fprintf(stderr, "xgm-bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid < 0 ? -errno : pid;
}

/* The child exited during its start-up: say so. */
static bool exited_early(struct subject *s)
{
	if (waitpid(s->pid, NULL, WNOHANG) != s->pid)
		return false;
	s->pid = 0;
	fprintf(stderr, "xgm-bench: %s exited during start-up\n", s->name);
	return true;
}

/* Waits until ready says the child subject has adopted every domain; it may not exit meanwhile. */
static int wait_started(struct bench *b, struct subject *s, uint64_t t0,
			bool (*ready)(struct bench *b, struct subject *s))
{
	while (seconds_since(t0) < START_LIMIT_S) {
		if (ready(b, s)) {
			s->windows[W_ADOPT] = (struct window_result){
				.measured = true, .seconds = seconds_since(t0),
				.domains = b->opt.domains };
			return 0;
		}
		if (exited_early(s))
			return -ECHILD;
		sleep_ms(1);
	}
	return -ETIMEDOUT;
}

/* The baseline says "ready" once it has read every domain. */
static bool baseline_ready(struct bench *b, struct subject *s)
{
	struct listener_counts c;

	(void)s;
	listener_counts(b->listener, &c);
	return c.ready > 0;
}

/* The floor has adopted every domain when its board says so and it has read each last value. */
static bool floor_ready(struct bench *b, struct subject *s)
{
	return atomic_load(&s->board->ready) && marks_all_seen(&b->marks);
}

static int start_baseline(struct bench *b, struct subject *s)
{
	uint64_t t0 = monotonic_ns();
	char *argv[] = { (char *)b->opt.python, (char *)b->opt.monitor, NULL };
	int pipefd[2], r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	s->pid = spawn_client(b, argv, pipefd[1]);
	close(pipefd[1]);
	if (s->pid < 0) {
		close(pipefd[0]);
		return s->pid;
	}
	r = listener_add(b->listener, pipefd[0], true);
	if (r < 0)
		return r;
	return wait_started(b, s, t0, baseline_ready);
}

/* The floor's board, a file in the sandbox directory, mapped shared. */
static struct floor_board *board_new(struct bench *b, char *path, size_t size)
{
	size_t len = floor_board_size(b->opt.domains);
	struct floor_board *fb;
	int fd;

	snprintf(path, size, "%s/floor.board", b->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0) {
		fprintf(stderr, "xgm-bench: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	fb = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (fb == MAP_FAILED)
		return NULL;
	fb->magic = FLOOR_BOARD_MAGIC;
	fb->n_domains = b->opt.domains;
	return fb;
}

static int start_floor(struct bench *b, struct subject *s)
{
	uint64_t t0 = monotonic_ns();
	char path[PATH_MAX + 16];
	char *argv[] = { (char *)b->opt.floor_path, path, b->opt.floor_split ? "--split" : NULL,
			 NULL };

	s->board = board_new(b, path, sizeof(path));
	if (!s->board)
		return -EIO;
	s->pid = spawn_client(b, argv, -1);
	if (s->pid < 0)
		return s->pid;
	listener_watch_board(b->listener, s->board);
	return wait_started(b, s, t0, floor_ready);
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
	if (s->board) {
		listener_watch_board(b->listener, NULL);
		munmap(s->board, floor_board_size(s->board->n_domains));
		s->board = NULL;
	}
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

static void latency(struct bench *b, struct phase *p)
{
	uint64_t *s;
	size_t n = listener_take_samples(b->listener, &s);

	spread_of(s, n, &p->latency);
	free(s);
}

/* ---- what a storm is measured with besides: pings, and the events not yet taken ---- */

struct probes {
	struct pinger *pinger;
	struct backlog *backlog;
	struct client *stats;		/* the backlog's own connection to xgmd */
};

static int64_t xgmd_events_taken(void *ctx)
{
	yajl_val v = client_call(ctx, "{\"cmd\":\"stats\",\"id\":4}");
	long long n = v ? json_int(v, "engine", "xenstore_watch_events") : -1;

	if (v)
		yajl_tree_free(v);
	return n;
}

static int64_t floor_events_taken(void *ctx)
{
	const struct floor_board *fb = ctx;

	return (int64_t)atomic_load(&fb->watch_events);
}

static int probes_start(struct bench *b, struct subject *s, struct probes *pr)
{
	*pr = (struct probes){ 0 };
	if (s->is_floor) {
		pr->backlog = backlog_start(b->load, floor_events_taken, s->board,
					    BACKLOG_INTERVAL_MS);
		return pr->backlog ? 0 : -ENOMEM;
	}
	if (!s->is_xgmd)
		return 0;	/* the baseline counts its own only when asked with a signal */
	pr->stats = malloc(sizeof(*pr->stats));
	if (!pr->stats || !client_open(pr->stats, s->xgmd.socket))
		return -EPROTO;
	pr->backlog = backlog_start(b->load, xgmd_events_taken, pr->stats, BACKLOG_INTERVAL_MS);
	pr->pinger = pinger_start(s->xgmd.socket, PING_INTERVAL_MS);
	return pr->backlog && pr->pinger ? 0 : -ENOMEM;
}

static void probes_stop(struct probes *pr, struct phase *p)
{
	uint64_t *samples;
	size_t n = pinger_stop(pr->pinger, &samples, &p->ping_unanswered);

	spread_of(samples, n, &p->ping);
	free(samples);
	backlog_stop(pr->backlog, &p->unread);
	if (pr->stats) {
		client_close(pr->stats);
		free(pr->stats);
	}
	*pr = (struct probes){ 0 };
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

	if (!s->is_xgmd && !s->is_floor)	/* the baseline is measured, not judged */
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
	if (s->sets != sets_reread && p->req.reads > p->load.writes) {
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
	struct probes probes = { 0 };
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

	/* A storm (unpaced) is also measured from outside while it runs: they cost xgmd a little. */
	if (rate <= 0)
		r = probes_start(b, s, &probes);
	if (r == 0)
		r = workload_run(b->load, kind, writes, rate, &p->load);
	t_end = monotonic_ns();
	/* Everything written is seen, or the subject gave up on some (a bound, not a hang). */
	while (r == 0 && !marks_all_seen(&b->marks) &&
	       seconds_since(t_end) < 60 + (double)writes / 100)
		sleep_ms(1);
	/*
	 * The floor reads once per event, so it can be far behind its last
	 * value: wait until it takes no event for 300 ms. (Not until one event
	 * per write: the C xenstored merges an event into an identical one
	 * still queued.)
	 */
	for (uint64_t taken = 0, since = monotonic_ns(); r == 0 && s->is_floor &&
	     seconds_since(since) < 0.3 && seconds_since(t_end) < 60 + (double)writes / 100;
	     sleep_ms(1)) {
		if (atomic_load(&s->board->watch_events) != taken) {
			taken = atomic_load(&s->board->watch_events);
			since = monotonic_ns();
		}
	}
	probes_stop(&probes, p);
	if (r < 0)
		return r;
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
	       p->latency.p50_ms, p->latency.p99_ms,
	       p->incomplete ? " (some marks never came)" : "");
	if (rate <= 0)
		printf("  %-9s %-8s guest write p50 %.3f p99 %.3f max %.3f ms; unread watch events "
		       "mean %.0f peak %" PRIu64 "; ping p50 %.2f p99 %.2f max %.2f ms (%zu, %" PRIu64
		       " unanswered)\n", s->name, p->name, p->load.write_time.p50_ms,
		       p->load.write_time.p99_ms, p->load.write_time.max_ms, p->unread.mean,
		       p->unread.peak, p->ping.p50_ms, p->ping.p99_ms, p->ping.max_ms, p->ping.n,
		       p->ping_unanswered);
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
	struct pinger *pinger;
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
	pinger = pinger_start(s->xgmd.socket, PING_INTERVAL_MS);
	while (r == 0 && !marks_all_seen(&b->marks) && seconds_since(t0) < START_LIMIT_S)
		sleep_ms(1);
	if (r == 0 && !marks_all_seen(&b->marks)) {
		fprintf(stderr, "xgm-bench: %u domains not resynchronised after %d s\n",
			marks_unseen(&b->marks), START_LIMIT_S);
		r = -ETIMEDOUT;
	}
	if (r < 0) {
		free(samples_of_stopped(pinger));
		return r;
	}
	end_window(s, W_RESYNC, pinger, seconds_since(t0), b->opt.domains);
	print_window(s, W_RESYNC, "resynchronised after a xenstored restart");
	return 0;
}

/*
 * A burst of releases: the last tenth of the domains (100 at 1000)
 * destroyed one after another as a toolstack does (the hypervisor says so,
 * then the home is removed), timed until xgmd has forgotten them. Then the
 * same domains are created again and their agents write their first cycle,
 * timed until xgmd has adopted them and every value is out. A client pings
 * xgmd throughout.
 */
static int release_burst(struct bench *b, struct subject *s)
{
	unsigned int k = b->opt.domains >= 1000 ? 100 : (b->opt.domains + 9) / 10;
	unsigned int first = b->opt.domains - k + 1;
	struct xs_handle *xs = sandbox_connect(b->dir);
	struct pinger *pinger = pinger_start(s->xgmd.socket, PING_INTERVAL_MS);
	uint64_t t0 = monotonic_ns();
	long long n = -EAGAIN;
	int r = xs ? 0 : -ECONNREFUSED;

	for (unsigned int domid = first; domid <= b->opt.domains && r == 0; domid++) {
		char path[64];

		r = sandbox_domain_destroy(b->dir, domid);
		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		xs_rm(xs, XBT_NULL, path);	/* oxenstored has removed it already */
	}
	while (r == 0 && (n = xgmd_domains_settled(s)) != s->domains_known - k && n != -EPROTO &&
	       seconds_since(t0) < 300)
		sleep_ms(1);
	if (r == 0 && n != s->domains_known - k)
		r = n == -EPROTO ? -EPROTO : -ETIMEDOUT;
	if (r < 0)
		goto fail;
	end_window(s, W_RELEASE, pinger, seconds_since(t0), k);
	print_window(s, W_RELEASE, "forgot the domains of a burst of releases");

	pinger = pinger_start(s->xgmd.socket, PING_INTERVAL_MS);
	t0 = monotonic_ns();
	for (unsigned int domid = first; domid <= b->opt.domains && r == 0; domid++) {
		char name[32];

		snprintf(name, sizeof(name), "bench%u", domid);
		r = sandbox_domain_create(b->dir, xs, domid, name, true);
	}
	if (r == 0)
		r = workload_renew(b->load, first, k, b->opt.keys);
	while (r == 0 && (!marks_all_seen(&b->marks) ||
			  (n = xgmd_domains_settled(s)) != s->domains_known) &&
	       n != -EPROTO && seconds_since(t0) < 300)
		sleep_ms(1);
	if (r == 0 && (n != s->domains_known || !marks_all_seen(&b->marks)))
		r = n == -EPROTO ? -EPROTO : -ETIMEDOUT;
	if (r < 0)
		goto fail;
	end_window(s, W_INTRODUCE, pinger, seconds_since(t0), k);
	print_window(s, W_INTRODUCE, "adopted them again, created anew with their first cycle");
	xs_close(xs);
	return 0;
fail:
	fprintf(stderr, "xgm-bench: the burst of %u releases: %s\n", k, strerror(-r));
	free(samples_of_stopped(pinger));
	if (xs)
		xs_close(xs);
	return r;
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

	memset(s->windows, 0, sizeof(s->windows));
	if (proc_usage(xenstored_pid(b), &xu0) < 0)
		return -ESRCH;
	r = s->is_floor ? start_floor(b, s) : s->is_xgmd ? start_xgmd(b, s) : start_baseline(b, s);
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
	       "resident %" PRIu64 " KiB\n", s->name, o->domains, s->windows[W_ADOPT].seconds,
	       (double)s->start_cpu_ns / 1e9, (double)s->start_xenstored_ns / 1e9, s->rss_kib);
	if (s->is_xgmd)
		print_window(s, W_ADOPT, "was pinged while it adopted");
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
	if (r == 0 && full)
		r = release_burst(b, s);
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

static void gen_spread(yajl_gen g, const char *k, const struct spread *sp,
		       const uint64_t *unanswered)
{
	gen_key(g, k);
	yajl_gen_map_open(g);
	gen_int(g, "samples", sp->n);
	gen_num(g, "p50", sp->p50_ms);
	gen_num(g, "p99", sp->p99_ms);
	gen_num(g, "max", sp->max_ms);
	if (unanswered)
		gen_int(g, "unanswered", *unanswered);
	yajl_gen_map_close(g);
}

/* The floor's CPU per write in the phase of this name; 0 when it has none. */
static double floor_cpu_per_write(const struct bench *b, const char *phase)
{
	for (size_t i = 0; i < b->n_subjects; i++) {
		const struct subject *f = &b->subjects[i];

		for (size_t k = 0; f->is_floor && k < f->n_phases; k++)
			if (strcmp(f->phases[k].name, phase) == 0 && f->phases[k].load.writes)
				return (double)f->phases[k].cpu_ns / (double)f->phases[k].load.writes;
	}
	return 0;
}

static void gen_phase(yajl_gen g, const struct subject *s, const struct phase *p,
		      double floor_cpu_per_write)
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
	gen_int(g, "samples", p->latency.n);
	gen_num(g, "settle", s->quiet_ms);
	gen_num(g, "p50", p->latency.p50_ms);
	gen_num(g, "p99", p->latency.p99_ms);
	gen_num(g, "max", p->latency.max_ms);
	/* Only unkicked changes wait for the settle time. */
	if (strcmp(p->name, "memory") == 0)
		gen_num(g, "p99_over_settle", p->latency.p99_ms - s->quiet_ms);
	yajl_gen_map_close(g);
	if (floor_cpu_per_write > 0)
		gen_num(g, "cpu_ratio_to_floor",
			(double)p->cpu_ns / (double)p->load.writes / floor_cpu_per_write);
	gen_spread(g, "guest_write_ms", &p->load.write_time, NULL);
	if (p->ping.n)
		gen_spread(g, "ping_ms", &p->ping, &p->ping_unanswered);
	if (p->unread.samples) {
		gen_key(g, "unread_watch_events");
		yajl_gen_map_open(g);
		gen_int(g, "samples", p->unread.samples);
		gen_num(g, "mean", p->unread.mean);
		gen_int(g, "peak", p->unread.peak);
		yajl_gen_map_close(g);
	}
	gen_num(g, "drain_seconds", p->drain_s);
	gen_int(g, "domains_incomplete", p->incomplete);
	yajl_gen_map_close(g);
}

/* The 1-minute load average: other work on the machine, which a run's ratios depend on. */
static double loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void gen_machine(yajl_gen g, const struct bench *b)
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
	gen_num(g, "loadavg_at_start", b->loadavg_start);
	gen_num(g, "loadavg_at_end", loadavg());
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
	gen_machine(g, b);
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
	gen_num(g, "dom0_read_us", b->dom0_read_us);
	gen_num(g, "dom0_read_xenstored_cpu_us", b->dom0_read_xenstored_us);
	yajl_gen_map_close(g);
	gen_key(g, "subjects");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < b->n_subjects; i++) {
		const struct subject *s = &b->subjects[i];

		yajl_gen_map_open(g);
		gen_str(g, "name", s->name);
		gen_str(g, "settle", s->settle);
		gen_str(g, "kind", s->is_floor ? "floor" : s->is_xgmd ? "xgmd" : "monitor");
		gen_num(g, "start_resync_seconds", s->windows[W_ADOPT].seconds);
		gen_num(g, "start_cpu_seconds", (double)s->start_cpu_ns / 1e9);
		gen_num(g, "start_xenstored_cpu_seconds", (double)s->start_xenstored_ns / 1e9);
		if (s->windows[W_RESYNC].measured)
			gen_num(g, "restart_resync_seconds", s->windows[W_RESYNC].seconds);
		gen_key(g, "windows");
		yajl_gen_map_open(g);
		for (int w = 0; w < N_WINDOWS; w++) {
			const struct window_result *res = &s->windows[w];

			if (!res->measured)
				continue;
			gen_key(g, window_names[w]);
			yajl_gen_map_open(g);
			gen_num(g, "seconds", res->seconds);
			gen_int(g, "domains", res->domains);
			if (res->ping.n)
				gen_spread(g, "ping_ms", &res->ping, &res->ping_unanswered);
			yajl_gen_map_close(g);
		}
		yajl_gen_map_close(g);
		gen_int(g, "start_rss_kib", s->start_rss_kib);
		gen_int(g, "end_rss_kib", s->rss_kib);
		gen_int(g, "peak_rss_kib", s->hwm_kib);
		gen_key(g, "phases");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < s->n_phases; k++)
			gen_phase(g, s, &s->phases[k],
				  s->is_floor ? 0 : floor_cpu_per_write(b, s->phases[k].name));
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
		"  --no-floor         skip the floor client (xgm-bench-floor)\n"
		"  --floor-split      the floor reads on a second connection, as xgmd does\n"
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
	       O_SET, O_XGMD_ONLY, O_NO_FLOOR, O_FLOOR_SPLIT };
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
		{ "no-floor", no_argument, NULL, O_NO_FLOOR },
		{ "floor-split", no_argument, NULL, O_FLOOR_SPLIT },
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
			       .python = "/usr/bin/python3", .monitor = XGM_BENCH_MONITOR,
			       .floor = true, .floor_path = XGM_BENCH_FLOOR };
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
		case O_NO_FLOOR:
			o->floor = false;
			break;
		case O_FLOOR_SPLIT:
			o->floor_split = true;
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

static struct subject *add_subject(struct bench *b, const char *name, const char *settle,
				   double quiet_ms, bool is_xgmd, const char *const *sets)
{
	struct subject *s = &b->subjects[b->n_subjects++];

	*s = (struct subject){
		.name = name, .settle = settle, .quiet_ms = quiet_ms, .is_xgmd = is_xgmd,
		.sets = sets,
	};
	return s;
}

static int setup(struct bench *b)
{
	const struct options *o = &b->opt;
	/* Marks: populate three times (start, restart, the released domains), every phase. */
	uint64_t marks = 3ULL * o->domains + (o->agent_writes / 2 + 1) * (o->n_fanout + 5) +
			 (o->memory_writes + o->storm_writes) * 5 + 1024;
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
		r = measure_dom0_read(b);
	printf("xgm-bench: one dom0 read takes %.1f us, %.1f us of xenstored's CPU\n",
	       b->dom0_read_us, b->dom0_read_xenstored_us);
	return r;
}

static const struct subject *first_xgmd(const struct bench *b)
{
	for (size_t i = 0; i < b->n_subjects; i++)
		if (b->subjects[i].is_xgmd)
			return &b->subjects[i];
	return NULL;
}

/* Each xgmd's CPU per write over the floor's, phase by phase: the figure issue #11 aims at. */
static void print_floor_ratios(const struct bench *b)
{
	for (size_t i = 0; i < b->n_subjects; i++) {
		const struct subject *s = &b->subjects[i];

		for (size_t k = 0; s->is_xgmd && k < s->n_phases; k++) {
			const struct phase *p = &s->phases[k];
			double f = floor_cpu_per_write(b, p->name);

			if (f > 0 && p->subscribers == 1)
				printf("xgm-bench: %-9s %-7s %6.1f us per write, %.2f x the floor's %.1f\n",
				       s->name, p->name, (double)p->cpu_ns / 1e3 / (double)p->load.writes,
				       (double)p->cpu_ns / (double)p->load.writes / f, f / 1e3);
		}
	}
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
	/* The floor first: xgmd's figures are read against it. */
	if (b.opt.floor)
		add_subject(&b, "floor", "none", 0, false, NULL)->is_floor = true;
	add_subject(&b, "xgmd", "quiet 0 ms, max 1 ms", 0, true, sets_min);
	if (!b.opt.xgmd_only) {
		add_subject(&b, "xgmd-def", "defaults: quiet 250 ms, max 2000 ms", 250, true, NULL);
		add_subject(&b, "reread", "re-read all; quiet 0 ms, max 1 ms", 0, true, sets_reread);
		if (b.opt.baseline)
			add_subject(&b, "pyxs", "none", 0, false, NULL);
	}

	b.loadavg_start = loadavg();
	r = setup(&b);
	/* The first xgmd gets the fan-out, the restart and the releases. */
	for (size_t i = 0; i < b.n_subjects && r == 0; i++)
		r = run_subject(&b, &b.subjects[i], &b.subjects[i] == first_xgmd(&b));
	if (r == 0)
		print_floor_ratios(&b);
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

/*
 * Control of one sandbox directory: xenstored's life cycle under the
 * hypervisor shim, and the hypervisor's and toolstack's parts in a domain's
 * life (exist, be introduced, shut down, die, be released).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "sandbox.h"
#include "sandbox-paths.h"

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define POLL_INTERVAL_MS 10

#define sandbox_error(...) fprintf(stderr, "xen-sandbox: " __VA_ARGS__)

static const char *const flavour_names[] = {
	[SANDBOX_C] = "c",
	[SANDBOX_OCAML] = "ocaml",
};

const char *sandbox_flavour_name(enum sandbox_flavour flavour)
{
	return flavour_names[flavour];
}

int sandbox_flavour_parse(const char *name, enum sandbox_flavour *flavour)
{
	for (size_t i = 0; i < sizeof(flavour_names) / sizeof(flavour_names[0]); i++) {
		if (strcmp(name, flavour_names[i]) == 0) {
			*flavour = (enum sandbox_flavour)i;
			return 0;
		}
	}
	return -EINVAL;
}

void sandbox_set_flavour(struct sandbox_options *opts, enum sandbox_flavour flavour)
{
	opts->flavour = flavour;
	opts->xenstored = flavour == SANDBOX_OCAML ? SANDBOX_OXENSTORED_PATH : SANDBOX_XENSTORED_PATH;
}

void sandbox_default_options(struct sandbox_options *opts)
{
	enum sandbox_flavour flavour = SANDBOX_C;
	const char *env;

	/*
	 * The variable's name when the sandbox was part of xgm. Ignoring it
	 * would run the C daemon for someone who asked for oxenstored.
	 */
	if (getenv("XGM_XENSTORED_FLAVOUR")) {
		sandbox_error("XGM_XENSTORED_FLAVOUR is now XEN_SANDBOX_FLAVOUR\n");
		exit(2);
	}
	if ((env = getenv("XEN_SANDBOX_FLAVOUR")) && *env &&
	    sandbox_flavour_parse(env, &flavour) < 0) {
		sandbox_error("XEN_SANDBOX_FLAVOUR=%s: not a xenstored (c or ocaml)\n", env);
		exit(2);
	}
	sandbox_set_flavour(opts, flavour);
	opts->shim = SANDBOX_FAKEHYP_PATH;
	opts->trace = false;
	opts->die_with_parent = false;
	if ((env = getenv("XEN_SANDBOX_XENSTORED")) && *env)
		opts->xenstored = env;
	if ((env = getenv("XEN_SANDBOX_SHIM")) && *env)
		opts->shim = env;
}

int sandbox_file(char *buf, size_t size, const char *dir, const char *name)
{
	if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd, r = sandbox_file(path, sizeof(path), dir, name);

	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		r = -EIO;
	close(fd);
	return r;
}

/* The live process whose pid file is name in dir, or a negative errno. */
static int pidfile_pid(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	long pid;
	int fd, r = sandbox_file(path, sizeof(path), dir, name);

	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid <= 0 || pid > INT_MAX)
		return -ESRCH;
	/* Reap it if it is our child that exited, so kill(0) tells the truth. */
	waitpid((pid_t)pid, NULL, WNOHANG);
	if (kill((pid_t)pid, 0) < 0)
		return -ESRCH;
	return (int)pid;
}

int sandbox_pid(const char *dir)
{
	return pidfile_pid(dir, SANDBOX_PIDFILE);
}

/* Every socket path in the directory must fit in sun_path. */
static int check_dir_length(const char *dir)
{
	static const char *const longest[] = {
		SANDBOX_SOCKET, SANDBOX_EVTCHN, "guest-65535", "guest-65535.sock",
	};
	struct sockaddr_un addr;
	size_t max = 0;

	for (size_t i = 0; i < sizeof(longest) / sizeof(longest[0]); i++)
		if (strlen(longest[i]) > max)
			max = strlen(longest[i]);
	if (strlen(dir) + 1 + max >= sizeof(addr.sun_path)) {
		sandbox_error("sandbox directory '%s' is too long for a UNIX socket path "
			      "(at most %zu bytes)\n", dir, sizeof(addr.sun_path) - 2 - max);
		return -ENAMETOOLONG;
	}
	return 0;
}

static void print_log_tail(const char *dir)
{
	char path[PATH_MAX], buf[2048];
	ssize_t n;
	int fd;

	if (sandbox_file(path, sizeof(path), dir, SANDBOX_LOG) < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "--- %s ---\n%s\n", path, buf);
	}
}

/*
 * oxenstored takes its paths from a config file only. Debian's defaults
 * (/etc/xen/oxenstored.conf) otherwise: the real quotas and permissions.
 */
static int write_oxenstored_conf(const char *dir, const struct sandbox_options *opts)
{
	char text[4 * PATH_MAX + 256];
	int n;

	n = snprintf(text, sizeof(text),
		     "pid-file = %s/%s\n"
		     "xenstored-kva = %s/%s\n"
		     "xenstored-port = %s/%s\n"
		     "xenstored-log-file = %s/%s\n"
		     "access-log-file = %s/%s\n"
		     "access-log-read-ops = true\n"
		     "access-log-special-ops = true\n",
		     dir, SANDBOX_PIDFILE, dir, SANDBOX_XSD_KVA, dir, SANDBOX_XSD_PORT,
		     dir, SANDBOX_OXENSTORED_LOG, dir, SANDBOX_TRACE);
	if (n >= (int)sizeof(text))
		return -ENAMETOOLONG;
	return write_file(dir, SANDBOX_OXENSTORED_CONF, text, (size_t)n);
}

static void exec_xenstored(const char *dir, const struct sandbox_options *opts)
{
	char log[PATH_MAX], pidfile[PATH_MAX], trace[PATH_MAX], sock[PATH_MAX], conf[PATH_MAX];
	char *argv[8];
	int argc = 0, fd;

	sandbox_file(log, sizeof(log), dir, SANDBOX_LOG);
	sandbox_file(pidfile, sizeof(pidfile), dir, SANDBOX_PIDFILE);
	sandbox_file(trace, sizeof(trace), dir, SANDBOX_TRACE);
	sandbox_file(sock, sizeof(sock), dir, SANDBOX_SOCKET);
	sandbox_file(conf, sizeof(conf), dir, SANDBOX_OXENSTORED_CONF);

	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	/* Its own session: a ^C meant for the caller must not kill it. */
	setsid();
	if (opts->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	setenv("LD_PRELOAD", opts->shim, 1);
	setenv("XEN_SANDBOX_DIR", dir, 1);
	setenv("XENSTORED_PATH", sock, 1);
	setenv("XENSTORED_RUNDIR", dir, 1);
	if (chdir(dir) < 0)
		_exit(127);

	argv[argc++] = (char *)(opts->flavour == SANDBOX_OCAML ? "oxenstored" : "xenstored");
	argv[argc++] = (char *)"--no-fork";
	if (opts->flavour == SANDBOX_OCAML) {
		argv[argc++] = (char *)"--config-file";
		argv[argc++] = conf;
		/* Its access log is the trace; its own log goes to SANDBOX_LOG. */
		if (!opts->trace)
			argv[argc++] = (char *)"--no-access-log";
	} else {
		argv[argc++] = (char *)"--pid-file";
		argv[argc++] = pidfile;
		if (opts->trace) {
			argv[argc++] = (char *)"--trace-file";
			argv[argc++] = trace;
		}
	}
	argv[argc] = NULL;
	execv(opts->xenstored, argv);
	fprintf(stderr, "exec %s: %s\n", opts->xenstored, strerror(errno));
	_exit(127);
}

struct xs_handle *sandbox_connect(const char *dir)
{
	char sock[PATH_MAX];
	struct xs_handle *xs;

	if (sandbox_file(sock, sizeof(sock), dir, SANDBOX_SOCKET) < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	/* libxenstore takes the socket from the environment only. */
	setenv("XENSTORED_PATH", sock, 1);
	xs = xs_open(0);
	if (!xs)
		sandbox_error("cannot connect to xenstored at %s: %s\n", sock, strerror(errno));
	return xs;
}

/* What xen-init-dom0 writes on a real host. */
static int init_dom0(struct xs_handle *xs)
{
	if (!xs_write(xs, XBT_NULL, "/local/domain/0/domid", "0", 1) ||
	    !xs_write(xs, XBT_NULL, "/local/domain/0/name", "Domain-0", 8))
		return -errno;
	return 0;
}

int sandbox_start(const char *dir, const struct sandbox_options *opts)
{
	char path[PATH_MAX], page[SANDBOX_PAGE_SIZE] = { 0 };
	struct domtable *table = NULL;
	struct xs_handle *xs = NULL;
	pid_t child;
	int r, waited;

	r = check_dir_length(dir);
	if (r < 0)
		return r;
	if (access(opts->xenstored, X_OK) < 0) {
		sandbox_error("%s: %s: the sandbox needs Debian's %s "
			      "(apt-get install xen-utils-4.17)\n", opts->xenstored, strerror(errno),
			      opts->flavour == SANDBOX_OCAML ? "oxenstored" : "C xenstored");
		return -ENOENT;
	}
	if (access(opts->shim, R_OK) < 0) {
		sandbox_error("%s: %s: build the project first (the hypervisor shim)\n",
			      opts->shim, strerror(errno));
		return -ENOENT;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		sandbox_error("mkdir %s: %s\n", dir, strerror(errno));
		return r;
	}
	if ((r = sandbox_pid(dir)) > 0) {
		sandbox_error("a sandbox is already running in %s (xenstored pid %d)\n", dir, r);
		return -EBUSY;
	}

	/* A fresh hypervisor: only dom0 exists, its event channel is port 1. */
	table = malloc(sizeof(*table));
	if (!table)
		return -ENOMEM;
	domtable_parse(table, "");
	r = sandbox_file(path, sizeof(path), dir, SANDBOX_DOMAINS);
	if (r == 0)
		r = domtable_save(table, path);
	free(table);
	/* oxenstored parses the whole file as a number: no newline. */
	if (r == 0)
		r = write_file(dir, SANDBOX_XSD_PORT, "1", 1);
	if (r == 0 && opts->flavour == SANDBOX_OCAML)
		r = write_oxenstored_conf(dir, opts);
	if (r == 0)
		r = write_file(dir, SANDBOX_XSD_KVA, page, sizeof(page));
	if (r < 0) {
		sandbox_error("cannot prepare %s: %s\n", dir, strerror(-r));
		return r;
	}
	sandbox_file(path, sizeof(path), dir, SANDBOX_SOCKET);
	unlink(path);
	sandbox_file(path, sizeof(path), dir, SANDBOX_PIDFILE);
	unlink(path);

	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0)
		exec_xenstored(dir, opts);

	/* Ready when it answers a request on its socket. */
	for (waited = 0; waited < START_TIMEOUT_MS; waited += POLL_INTERVAL_MS) {
		int status;

		if (waitpid(child, &status, WNOHANG) == child) {
			sandbox_error("xenstored exited during start-up\n");
			print_log_tail(dir);
			return -ECHILD;
		}
		sandbox_file(path, sizeof(path), dir, SANDBOX_SOCKET);
		if (access(path, F_OK) == 0) {
			setenv("XENSTORED_PATH", path, 1);
			xs = xs_open(0);
			if (xs)
				break;
		}
		sandbox_sleep_ms(POLL_INTERVAL_MS);
	}
	if (!xs) {
		sandbox_error("xenstored did not answer within %d ms\n", START_TIMEOUT_MS);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		print_log_tail(dir);
		return -ETIMEDOUT;
	}
	r = init_dom0(xs);
	xs_close(xs);
	if (r < 0)
		sandbox_error("cannot write dom0's home: %s\n", strerror(-r));
	return r;
}

/* SIGTERM, then SIGKILL if it lingers: until its pid file names no live process. */
static void stop_process(const char *dir, const char *pidfile, int pid)
{
	kill(pid, SIGTERM);
	for (int waited = 0; waited < STOP_TIMEOUT_MS; waited += POLL_INTERVAL_MS) {
		if (pidfile_pid(dir, pidfile) < 0)
			return;
		sandbox_sleep_ms(POLL_INTERVAL_MS);
	}
	kill(pid, SIGKILL);
	while (pidfile_pid(dir, pidfile) > 0)
		sandbox_sleep_ms(POLL_INTERVAL_MS);
}

static void stop_guest_sockets(const char *dir)
{
	char pattern[PATH_MAX];
	glob_t g;

	if (sandbox_file(pattern, sizeof(pattern), dir, "guest-*.sock.pid") < 0 ||
	    glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		unsigned int domid;

		if (sscanf(strrchr(g.gl_pathv[i], '/') + 1, SANDBOX_GUEST_RELAY_PID_FMT, &domid) == 1)
			sandbox_guest_socket_stop(dir, domid);
	}
	globfree(&g);
}

int sandbox_stop(const char *dir)
{
	int pid = sandbox_pid(dir);

	if (pid < 0) {
		sandbox_error("no sandbox is running in %s\n", dir);
		return pid;
	}
	stop_guest_sockets(dir);
	stop_process(dir, SANDBOX_PIDFILE, pid);
	return 0;
}

/* ---- guest sockets ---- */

int sandbox_guest_socket_start(const char *dir, unsigned int domid, char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char name[64], pidname[64], log[PATH_MAX], pidbuf[32], domid_str[16], xs_pid_str[16];
	int xs_pid = sandbox_pid(dir), fd, log_fd, r;
	pid_t child;

	if (xs_pid < 0) {
		sandbox_error("no sandbox is running in %s\n", dir);
		return xs_pid;
	}
	snprintf(name, sizeof(name), SANDBOX_GUEST_SOCKET_FMT, domid);
	snprintf(pidname, sizeof(pidname), SANDBOX_GUEST_RELAY_PID_FMT, domid);
	if ((r = sandbox_file(addr.sun_path, sizeof(addr.sun_path), dir, name)) < 0)
		return r;
	if (path)
		snprintf(path, PATH_MAX, "%s", addr.sun_path);
	if (pidfile_pid(dir, pidname) > 0)
		return 0;
	snprintf(name, sizeof(name), SANDBOX_GUEST_RELAY_LOG_FMT, domid);
	sandbox_file(log, sizeof(log), dir, name);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(addr.sun_path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		sandbox_error("guest socket %s: %s\n", addr.sun_path, strerror(errno));
		close(fd);
		return r;
	}
	snprintf(domid_str, sizeof(domid_str), "%u", domid);
	snprintf(xs_pid_str, sizeof(xs_pid_str), "%d", xs_pid);
	/* A fresh program, not a fork running on: the caller may have threads. */
	child = fork();
	if (child < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (child == 0) {
		log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (log_fd >= 0) {
			dup2(log_fd, STDOUT_FILENO);
			dup2(log_fd, STDERR_FILENO);
		}
		/* The listening socket is fd 3 (without close-on-exec). */
		if (dup2(fd, 3) < 0 || fcntl(3, F_SETFD, 0) < 0)
			_exit(127);
		setsid();
		execl(SANDBOX_GUEST_RELAY_PATH, "xen-sandbox-guest-relay", dir, domid_str, xs_pid_str, (char *)NULL);
		_exit(127);
	}
	close(fd);
	snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)child);
	return write_file(dir, pidname, pidbuf, strlen(pidbuf));
}

int sandbox_guest_socket_stop(const char *dir, unsigned int domid)
{
	char name[64], path[PATH_MAX];
	int pid;

	snprintf(name, sizeof(name), SANDBOX_GUEST_RELAY_PID_FMT, domid);
	pid = pidfile_pid(dir, name);
	if (pid > 0)
		stop_process(dir, name, pid);
	if (sandbox_file(path, sizeof(path), dir, name) == 0)
		unlink(path);
	snprintf(name, sizeof(name), SANDBOX_GUEST_SOCKET_FMT, domid);
	if (sandbox_file(path, sizeof(path), dir, name) == 0)
		unlink(path);
	return 0;
}

/* ---- the hypervisor's part ---- */

/* Load, change and save the domain table under its lock. */
typedef int domtable_edit_fn(struct domtable *table, unsigned int domid, void *arg);

static int domtable_edit(const char *dir, unsigned int domid, domtable_edit_fn *edit,
			 void *arg)
{
	char path[PATH_MAX], lock[PATH_MAX];
	struct domtable *table;
	int fd, r;

	if ((r = sandbox_file(path, sizeof(path), dir, SANDBOX_DOMAINS)) < 0 ||
	    (r = sandbox_file(lock, sizeof(lock), dir, SANDBOX_DOMAINS_LOCK)) < 0)
		return r;
	table = malloc(sizeof(*table));
	if (!table)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		r = -errno;
		goto out;
	}
	r = domtable_load(table, path);
	if (r == 0)
		r = edit(table, domid, arg);
	if (r == 0)
		r = domtable_save(table, path);
out:
	if (fd >= 0)
		close(fd);
	free(table);
	return r;
}

static int edit_add(struct domtable *table, unsigned int domid, void *arg)
{
	if (domtable_find(table, domid))
		return -EEXIST;
	return domtable_set(table, domid, DOMSTATE_RUNNING);
}

static int edit_state(struct domtable *table, unsigned int domid, void *arg)
{
	struct domtable_entry *e = domtable_find(table, domid);

	if (!e)
		return -ESRCH;
	e->state = *(enum domstate *)arg;
	return 0;
}

static int edit_remove(struct domtable *table, unsigned int domid, void *arg)
{
	return domtable_remove(table, domid) ? 0 : -ESRCH;
}

/* VIRQ_DOM_EXC: xenstored rescans every domain's state. */
static int raise_dom_exc(const char *dir)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, r = 0;

	if (sandbox_file(addr.sun_path, sizeof(addr.sun_path), dir, SANDBOX_EVTCHN) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, SANDBOX_KICK_VIRQ, strlen(SANDBOX_KICK_VIRQ), 0,
		   (struct sockaddr *)&addr, sizeof(addr)) < 0)
		r = -errno;
	close(fd);
	return r;
}

int sandbox_domain_set_state(const char *dir, unsigned int domid, enum domstate state)
{
	int r = domtable_edit(dir, domid, edit_state, &state);

	if (r < 0) {
		sandbox_error("domain %u: %s\n", domid, r == -ESRCH ? "no such domain" : strerror(-r));
		return r;
	}
	return raise_dom_exc(dir);
}

int sandbox_domain_destroy(const char *dir, unsigned int domid)
{
	int r;

	if (domid == 0) {
		sandbox_error("dom0 cannot be destroyed\n");
		return -EINVAL;
	}
	r = domtable_edit(dir, domid, edit_remove, NULL);
	if (r < 0) {
		sandbox_error("domain %u: %s\n", domid, r == -ESRCH ? "no such domain" : strerror(-r));
		return r;
	}
	sandbox_guest_socket_stop(dir, domid);
	return raise_dom_exc(dir);
}

/* ---- the toolstack's part ---- */

/* Subtrees of the domain home the guest may write, as xenopsd creates them. */
static const char *const guest_writable[] = {
	"device", "device/vbd", "device/9pfs", "device/vif", "feature", "error",
	"drivers", "control", "attr", "xenserver/attr", "data", "messages",
	"vm-data", "hvmloader", "rrd",
};

static int write_home(struct xs_handle *xs, xs_transaction_t t, unsigned int domid,
		      const char *name)
{
	struct xs_permissions ro[2] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = domid, .perms = XS_PERM_READ },
	};
	struct xs_permissions rw[1] = { { .id = domid, .perms = XS_PERM_NONE } };
	char home[64], path[128], uuid[40], vm[64], domid_str[16];

	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	/* A stable, recognisable uuid per domid. */
	snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012x", domid);
	snprintf(vm, sizeof(vm), "/vm/%s", uuid);
	snprintf(domid_str, sizeof(domid_str), "%u", domid);

#define W(p, v) do { if (!xs_write(xs, t, (p), (v), strlen(v))) return -errno; } while (0)
	if (!xs_rm(xs, t, home) && errno != ENOENT)
		return -errno;
	W(home, "");
	if (!xs_set_permissions(xs, t, home, ro, 2))
		return -errno;
	snprintf(path, sizeof(path), "%s/name", home);
	W(path, name);
	snprintf(path, sizeof(path), "%s/domid", home);
	W(path, domid_str);
	snprintf(path, sizeof(path), "%s/vm", home);
	W(path, vm);
	snprintf(path, sizeof(path), "%s/uuid", vm);
	W(path, uuid);
	snprintf(path, sizeof(path), "%s/name", vm);
	W(path, name);
	for (size_t i = 0; i < sizeof(guest_writable) / sizeof(guest_writable[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", home, guest_writable[i]);
		W(path, "");
		if (!xs_set_permissions(xs, t, path, rw, 1))
			return -errno;
	}
#undef W
	return 0;
}

static int create_ring(const char *dir, unsigned int domid)
{
	char name[32], page[SANDBOX_PAGE_SIZE] = { 0 };

	snprintf(name, sizeof(name), SANDBOX_RING_FMT, domid);
	/* A zeroed page: a reused domid starts with a fresh ring. */
	return write_file(dir, name, page, sizeof(page));
}

int sandbox_domain_create(const char *dir, struct xs_handle *xs, unsigned int domid,
			  const char *name, bool introduce)
{
	int r;

	if (domid == 0 || domid >= 0x7ff0) {
		sandbox_error("domid %u is not a guest domid (1..32751)\n", domid);
		return -EINVAL;
	}
	r = create_ring(dir, domid);
	if (r == 0)
		r = domtable_edit(dir, domid, edit_add, NULL);
	if (r < 0) {
		sandbox_error("domain %u: %s\n", domid,
			      r == -EEXIST ? "already exists" : strerror(-r));
		return r;
	}
	/* As libxl: the home is complete before the domain is introduced. */
	for (;;) {
		xs_transaction_t t = xs_transaction_start(xs);

		if (t == XBT_NULL)
			return -errno;
		r = write_home(xs, t, domid, name);
		if (r < 0) {
			xs_transaction_end(xs, t, true);
			sandbox_error("domain %u: writing its home: %s\n", domid, strerror(-r));
			return r;
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN)
			return -errno;
	}
	return introduce ? sandbox_domain_introduce(dir, xs, domid) : 0;
}

int sandbox_domain_introduce(const char *dir, struct xs_handle *xs, unsigned int domid)
{
	/* The mfn is only compared on re-introduction; port 1 is the guest's end. */
	if (!xs_introduce_domain(xs, domid, domid, 1)) {
		int r = -errno;

		sandbox_error("introduce domain %u: %s\n", domid, strerror(errno));
		return r;
	}
	return 0;
}

int sandbox_domain_release(struct xs_handle *xs, unsigned int domid)
{
	if (!xs_release_domain(xs, domid)) {
		int r = -errno;

		sandbox_error("release domain %u: %s\n", domid, strerror(errno));
		return r;
	}
	return 0;
}

/*
 * LD_PRELOAD shim that stands in for the hypervisor under an unmodified
 * xenstored 4.17, the C one or oxenstored: libxenctrl domain info and ring
 * mappings, libxenevtchn event channels, libxengnttab ring mappings and the
 * /proc/xen/xsd_* files, all backed by files and one datagram socket in the
 * sandbox directory ($XEN_SANDBOX_DIR). For oxenstored it also moves its
 * compiled-in run directory into the sandbox and lets it raise its fd limit.
 *
 * Everything above these interfaces (the node database, permissions, quotas,
 * watches, transactions, domain introduction and release) is the real daemon.
 */
#define _GNU_SOURCE
/* Without this, <fcntl.h> renames open() to open64() and we replace only one. */
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* xc_map_foreign_range, which oxenstored still uses, is in the compat API. */
#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "domtable.h"
#include "sandbox-paths.h"

/* The shim exports only the symbols it replaces. */
#define SHIM __attribute__((visibility("default")))

static const char *sandbox_dir(void)
{
	const char *dir = getenv("XEN_SANDBOX_DIR");

	if (!dir || !*dir) {
		fprintf(stderr, "fakehyp: XEN_SANDBOX_DIR is not set\n");
		abort();
	}
	return dir;
}

static void sandbox_path(char *buf, size_t size, const char *name)
{
	if (snprintf(buf, size, "%s/%s", sandbox_dir(), name) >= (int)size) {
		fprintf(stderr, "fakehyp: sandbox path too long\n");
		abort();
	}
}

/* ---- paths: /proc/xen/xsd_* and oxenstored's run directory ---- */

/*
 * oxenstored has its run directory compiled in (its socket, and the database
 * it dumps on SIGTERM) and no option to move it: every sandbox would share
 * one socket. The C daemon takes $XENSTORED_RUNDIR and never uses this.
 */
#define OXENSTORED_RUNDIR "/var/run/xenstored"

/*
 * The path xenstored asked for, or the sandbox's file that stands for it,
 * written to buf.
 */
static const char *sandbox_redirect(const char *path, char *buf, size_t size)
{
	size_t n = strlen(OXENSTORED_RUNDIR);

	if (!path)
		return path;
	if (strcmp(path, "/proc/xen/xsd_port") == 0) {
		sandbox_path(buf, size, SANDBOX_XSD_PORT);
		return buf;
	}
	if (strcmp(path, "/proc/xen/xsd_kva") == 0) {
		sandbox_path(buf, size, SANDBOX_XSD_KVA);
		return buf;
	}
	if (strncmp(path, OXENSTORED_RUNDIR, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
		if (snprintf(buf, size, "%s%s", sandbox_dir(), path + n) >= (int)size) {
			fprintf(stderr, "fakehyp: sandbox path too long\n");
			abort();
		}
		return buf;
	}
	return path;
}

/* The libc function this shim stands in front of. */
#define REAL(name) ({							\
	static typeof(&name) real_##name;				\
	if (!real_##name)						\
		real_##name = (typeof(&name))dlsym(RTLD_NEXT, #name);	\
	real_##name;							\
})

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

/* open() and open64(), redirected alike: variadic, so each is a function of its own. */
#define SHIM_OPEN(fn)								\
	SHIM int fn(const char *path, int flags, ...)				\
	{									\
		char buf[PATH_MAX];						\
		va_list ap;							\
		mode_t mode;							\
										\
		va_start(ap, flags);						\
		mode = open_mode(flags, ap);					\
		va_end(ap);							\
		return REAL(fn)(sandbox_redirect(path, buf, sizeof(buf)), flags, mode); \
	}
SHIM_OPEN(open)
SHIM_OPEN(open64)

/* What oxenstored does to its run directory, through OCaml's Unix module. */
#define REDIRECT(name, ...)						\
	({ char buf_[PATH_MAX];						\
	   REAL(name)(sandbox_redirect(path, buf_, sizeof(buf_)), ##__VA_ARGS__); })

SHIM int access(const char *path, int mode) { return REDIRECT(access, mode); }
SHIM int chmod(const char *path, mode_t mode) { return REDIRECT(chmod, mode); }
SHIM int mkdir(const char *path, mode_t mode) { return REDIRECT(mkdir, mode); }
SHIM int unlink(const char *path) { return REDIRECT(unlink); }
SHIM DIR *opendir(const char *path) { return REDIRECT(opendir); }
SHIM int stat64(const char *path, struct stat64 *st) { return REDIRECT(stat64, st); }
SHIM int lstat64(const char *path, struct stat64 *st) { return REDIRECT(lstat64, st); }

SHIM int rename(const char *from, const char *to)
{
	char from_buf[PATH_MAX], to_buf[PATH_MAX];

	return REAL(rename)(sandbox_redirect(from, from_buf, sizeof(from_buf)),
			    sandbox_redirect(to, to_buf, sizeof(to_buf)));
}

SHIM int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
	struct sockaddr_un moved = { .sun_family = AF_UNIX };
	char buf[PATH_MAX];
	const char *path;

	if (addr->sa_family != AF_UNIX || len <= offsetof(struct sockaddr_un, sun_path) ||
	    un->sun_path[0] == '\0')
		return REAL(bind)(fd, addr, len);
	path = sandbox_redirect(un->sun_path, buf, sizeof(buf));
	if (path == un->sun_path)
		return REAL(bind)(fd, addr, len);
	if (strlen(path) >= sizeof(moved.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(moved.sun_path, path);
	return REAL(bind)(fd, (struct sockaddr *)&moved, sizeof(moved));
}

/*
 * oxenstored raises RLIMIT_NOFILE to fs.nr_open at start and exits on
 * EPERM, which is what a process without CAP_SYS_RESOURCE gets, root in a
 * container included. A sandbox serves a few hundred connections at most:
 * give it what the hard limit allows.
 */
SHIM int setrlimit(__rlimit_resource_t resource, const struct rlimit *rl)
{
	struct rlimit clamped;

	if (REAL(setrlimit)(resource, rl) == 0)
		return 0;
	if (errno != EPERM || resource != RLIMIT_NOFILE)
		return -1;
	if (getrlimit(resource, &clamped) < 0)
		return -1;
	clamped.rlim_cur = clamped.rlim_max;
	return REAL(setrlimit)(resource, &clamped);
}

/* ---- libxenctrl: domain info from the sandbox's domain table, ring pages ---- */

static int xc_dummy;

SHIM xc_interface *xc_interface_open(xentoollog_logger *logger,
				     xentoollog_logger *dombuild_logger,
				     unsigned open_flags)
{
	return (xc_interface *)&xc_dummy;
}

SHIM int xc_interface_close(xc_interface *xch)
{
	return 0;
}

/* Calls fn for each domain from first_domid on, at most max; returns how many. */
static int for_each_domain(uint32_t first_domid, unsigned int max,
			   void (*fn)(const struct domtable_entry *e, void *info, unsigned int n),
			   void *info)
{
	char path[PATH_MAX];
	struct domtable table;
	unsigned int n = 0;

	sandbox_path(path, sizeof(path), SANDBOX_DOMAINS);
	if (domtable_load(&table, path) < 0)
		return -1;
	for (size_t i = 0; i < table.count && n < max; i++) {
		if (table.entries[i].domid < first_domid)
			continue;
		fn(&table.entries[i], info, n++);
	}
	return (int)n;
}

/* The C xenstored's view. */
static void fill_dominfo(const struct domtable_entry *e, void *info, unsigned int n)
{
	xc_dominfo_t *d = &((xc_dominfo_t *)info)[n];

	memset(d, 0, sizeof(*d));
	d->domid = e->domid;
	d->running = e->state == DOMSTATE_RUNNING;
	d->shutdown = e->state == DOMSTATE_SHUTDOWN;
	d->crashed = e->state == DOMSTATE_CRASHED;
	d->dying = e->state == DOMSTATE_DYING;
	d->xenstore = e->domid == 0;
}

SHIM int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
			   unsigned int max_doms, xc_dominfo_t *info)
{
	return for_each_domain(first_domid, max_doms, fill_dominfo, info);
}

/* oxenstored's view: the raw domctl flags, a crash being a shutdown with its code. */
static void fill_domaininfo(const struct domtable_entry *e, void *info, unsigned int n)
{
	xc_domaininfo_t *d = &((xc_domaininfo_t *)info)[n];

	memset(d, 0, sizeof(*d));
	d->domain = (domid_t)e->domid;
	switch (e->state) {
	case DOMSTATE_RUNNING:
		d->flags = XEN_DOMINF_running;
		break;
	case DOMSTATE_SHUTDOWN:
		d->flags = XEN_DOMINF_shutdown | (SHUTDOWN_poweroff << XEN_DOMINF_shutdownshift);
		break;
	case DOMSTATE_CRASHED:
		d->flags = XEN_DOMINF_shutdown | (SHUTDOWN_crash << XEN_DOMINF_shutdownshift);
		break;
	case DOMSTATE_DYING:
		d->flags = XEN_DOMINF_dying;
		break;
	}
	if (e->domid == 0)
		d->flags |= XEN_DOMINF_xs_domain;
}

SHIM int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
			       unsigned int max_domains, xc_domaininfo_t *info)
{
	return for_each_domain(first_domain, max_domains, fill_domaininfo, info);
}

/* libxenctrl keeps its last error in the handle, which here is a dummy. */
SHIM const xc_error *xc_get_last_error(xc_interface *handle)
{
	static const xc_error none = { .code = XC_ERROR_NONE };

	return &none;
}

/*
 * A domain's ring page: a file in the sandbox. As on Xen, a domain that
 * does not exist has no page to map.
 */
static void *map_ring(uint32_t domid, int prot)
{
	char path[PATH_MAX], name[64];
	struct domtable table;
	void *page;
	int fd;

	sandbox_path(path, sizeof(path), SANDBOX_DOMAINS);
	if (domtable_load(&table, path) < 0)
		return NULL;
	if (!domtable_find(&table, domid)) {
		errno = ESRCH;
		return NULL;
	}
	snprintf(name, sizeof(name), SANDBOX_RING_FMT, domid);
	sandbox_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	page = mmap(NULL, SANDBOX_PAGE_SIZE, prot, MAP_SHARED, fd, 0);
	close(fd);
	return page == MAP_FAILED ? NULL : page;
}

/* oxenstored maps a guest's ring by its mfn, which the sandbox ignores. */
SHIM void *xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
				unsigned long mfn)
{
	if (size != SANDBOX_PAGE_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	return map_ring(dom, prot);
}

/* ---- libxenevtchn: one datagram socket carries every notification ---- */

#define MAX_PORTS 4096

struct xenevtchn_handle {
	int fd;
	/* Local port -> domid bound to it, or -1; the VIRQ has its own port. */
	int port_domid[MAX_PORTS];
	evtchn_port_t next_port;
	evtchn_port_t virq_port;
	/* Xen's pending bits: a kick is never lost, however many come. */
	bool pending[MAX_PORTS];
	unsigned int n_pending;
	evtchn_port_t next_pending;	/* where the round-robin scan resumes */
	struct sockaddr_un self;
};

static struct xenevtchn_handle *evtchn_alloc(int fd)
{
	struct xenevtchn_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fd = fd;
	for (int i = 0; i < MAX_PORTS; i++)
		h->port_domid[i] = -1;
	h->next_port = 1;
	return h;
}

SHIM xenevtchn_handle *xenevtchn_open(xentoollog_logger *logger,
				      unsigned open_flags)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct xenevtchn_handle *h;
	int fd;

	if (strlen(sandbox_dir()) + 1 + strlen(SANDBOX_EVTCHN) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	sandbox_path(addr.sun_path, sizeof(addr.sun_path), SANDBOX_EVTCHN);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	unlink(addr.sun_path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	h = evtchn_alloc(fd);
	if (!h)
		goto fail;
	h->self = addr;
	return h;
fail:
	close(fd);
	return NULL;
}

/* Only used by live update, which the sandbox does not do. */
SHIM xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger,
					int fd, unsigned open_flags)
{
	return evtchn_alloc(fd);
}

SHIM int xenevtchn_close(xenevtchn_handle *h)
{
	if (h) {
		close(h->fd);
		free(h);
	}
	return 0;
}

SHIM int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->fd;
}

static xenevtchn_port_or_error_t evtchn_new_port(xenevtchn_handle *h, int domid)
{
	for (evtchn_port_t p = 1; p < MAX_PORTS; p++) {
		evtchn_port_t port = (h->next_port + p - 1) % MAX_PORTS;

		if (port == 0 || port == h->virq_port || h->port_domid[port] != -1)
			continue;
		h->port_domid[port] = domid;
		h->next_port = port + 1;
		return port;
	}
	errno = ENOSPC;
	return -1;
}

SHIM xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t domid,
			   evtchn_port_t remote_port)
{
	return evtchn_new_port(h, (int)domid);
}

SHIM xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *h,
						   unsigned int virq)
{
	xenevtchn_port_or_error_t port = evtchn_new_port(h, -1);

	if (port > 0)
		h->virq_port = port;
	return port;
}

SHIM int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	if (port >= MAX_PORTS) {
		errno = EINVAL;
		return -1;
	}
	h->port_domid[port] = -1;
	if (h->pending[port]) {
		h->pending[port] = false;
		h->n_pending--;
	}
	return 0;
}

/* xenstored -> guest: wake a sandbox guest client waiting on its ring. */
SHIM int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char name[64];

	if (port >= MAX_PORTS || h->port_domid[port] < 0)
		return 0;
	snprintf(name, sizeof(name), SANDBOX_GUEST_FMT, h->port_domid[port]);
	if (strlen(sandbox_dir()) + 1 + strlen(name) >= sizeof(addr.sun_path))
		return 0;
	sandbox_path(addr.sun_path, sizeof(addr.sun_path), name);
	/* Nobody listening is normal: guests poll their ring too. */
	sendto(h->fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&addr, sizeof(addr));
	return 0;
}

static void mark_pending(xenevtchn_handle *h, const char *msg)
{
	unsigned int domid;
	evtchn_port_t port = 0;

	if (strcmp(msg, SANDBOX_KICK_VIRQ) == 0) {
		port = h->virq_port;
	} else if (sscanf(msg, SANDBOX_KICK_DOM_FMT, &domid) == 1) {
		for (evtchn_port_t p = 1; p < MAX_PORTS && !port; p++)
			if (h->port_domid[p] == (int)domid)
				port = p;
	}
	/* An unknown or stale kick (or SANDBOX_KICK_AGAIN) sets nothing. */
	if (port && !h->pending[port]) {
		h->pending[port] = true;
		h->n_pending++;
	}
}

/*
 * Called by xenstored when the fd is readable, for one port at a time. A
 * datagram names who kicked: "virq" (the sandbox marked a domain shut
 * down, crashed or dying) or "dom N" (guest N wrote to its ring). Every
 * queued datagram is turned into a pending bit at once: the socket's queue
 * is bounded and kicks beyond it are dropped, while Xen loses none, and
 * oxenstored reads a guest's ring only when its port is pending. While
 * bits remain, a datagram to ourselves keeps the fd readable.
 */
SHIM xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	char msg[32];
	ssize_t n;

	while ((n = recv(h->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) >= 0) {
		msg[n] = '\0';
		mark_pending(h, msg);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	if (h->n_pending == 0)
		return 0;	/* port 0 is never bound, so it does nothing */
	for (evtchn_port_t i = 0; i < MAX_PORTS; i++) {
		evtchn_port_t port = (h->next_pending + i) % MAX_PORTS;

		if (!h->pending[port])
			continue;
		h->pending[port] = false;
		h->n_pending--;
		h->next_pending = port + 1;
		if (h->n_pending > 0)
			sendto(h->fd, SANDBOX_KICK_AGAIN, strlen(SANDBOX_KICK_AGAIN), MSG_DONTWAIT,
			       (struct sockaddr *)&h->self, sizeof(h->self));
		return port;
	}
	return 0;
}

SHIM int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	return 0;
}

/* ---- libxengnttab: a domain's ring page is a file in the sandbox ---- */

static int xgt_dummy;

SHIM xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				      unsigned open_flags)
{
	return (xengnttab_handle *)&xgt_dummy;
}

SHIM int xengnttab_close(xengnttab_handle *xgt)
{
	return 0;
}

SHIM int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

SHIM void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
				   uint32_t ref, int prot)
{
	return map_ring(domid, prot);
}

SHIM int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
			 uint32_t count)
{
	return munmap(start_address, (size_t)count * SANDBOX_PAGE_SIZE);
}

/*
 * LD_PRELOAD shim that stands in for the hypervisor under an unmodified
 * xenstored 4.17: libxenctrl domain info, libxenevtchn event channels,
 * libxengnttab ring mappings and the /proc/xen/xsd_* files, all backed by
 * files and one datagram socket in the sandbox directory ($XGM_SANDBOX_DIR).
 *
 * Everything above these interfaces (the node database, permissions, quotas,
 * watches, transactions, domain introduction and release) is the real daemon.
 */
#define _GNU_SOURCE
/* Without this, <fcntl.h> renames open() to open64() and we replace only one. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "domtable.h"
#include "sandbox-paths.h"

/* The shim exports only the symbols it replaces. */
#define SHIM __attribute__((visibility("default")))

static const char *sandbox_dir(void)
{
	const char *dir = getenv("XGM_SANDBOX_DIR");

	if (!dir || !*dir) {
		fprintf(stderr, "fakehyp: XGM_SANDBOX_DIR is not set\n");
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

/* ---- /proc/xen/xsd_port and /proc/xen/xsd_kva ---- */

typedef int open_fn(const char *, int, ...);

static int open_redirected(open_fn **real, const char *real_name,
			   const char *path, int flags, mode_t mode)
{
	char redirected[PATH_MAX];

	if (!*real)
		*real = (open_fn *)dlsym(RTLD_NEXT, real_name);

	if (strcmp(path, "/proc/xen/xsd_port") == 0) {
		sandbox_path(redirected, sizeof(redirected), SANDBOX_XSD_PORT);
		path = redirected;
	} else if (strcmp(path, "/proc/xen/xsd_kva") == 0) {
		sandbox_path(redirected, sizeof(redirected), SANDBOX_XSD_KVA);
		path = redirected;
	}
	return (*real)(path, flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

SHIM int open(const char *path, int flags, ...)
{
	static open_fn *real;
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_redirected(&real, "open", path, flags, mode);
}

SHIM int open64(const char *path, int flags, ...)
{
	static open_fn *real;
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_redirected(&real, "open64", path, flags, mode);
}

/* ---- libxenctrl: domain info from the sandbox's domain table ---- */

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

SHIM int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
			   unsigned int max_doms, xc_dominfo_t *info)
{
	char path[PATH_MAX];
	struct domtable table;
	unsigned int n = 0;

	sandbox_path(path, sizeof(path), SANDBOX_DOMAINS);
	if (domtable_load(&table, path) < 0)
		return -1;

	for (size_t i = 0; i < table.count && n < max_doms; i++) {
		const struct domtable_entry *e = &table.entries[i];

		if (e->domid < first_domid)
			continue;
		memset(&info[n], 0, sizeof(info[n]));
		info[n].domid = e->domid;
		info[n].running = e->state == DOMSTATE_RUNNING;
		info[n].shutdown = e->state == DOMSTATE_SHUTDOWN;
		info[n].crashed = e->state == DOMSTATE_CRASHED;
		info[n].dying = e->state == DOMSTATE_DYING;
		info[n].xenstore = e->domid == 0;
		n++;
	}
	return (int)n;
}

/* ---- libxenevtchn: one datagram socket carries every notification ---- */

#define MAX_PORTS 4096

struct xenevtchn_handle {
	int fd;
	/* Local port -> domid bound to it, or -1; the VIRQ has its own port. */
	int port_domid[MAX_PORTS];
	evtchn_port_t next_port;
	evtchn_port_t virq_port;
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

/*
 * Called by xenstored only when the fd is readable. A datagram names who
 * kicked: "virq" (the sandbox marked a domain shut down, crashed or dying) or
 * "dom N" (guest N wrote to its ring).
 */
SHIM xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	char msg[32];
	ssize_t n = recv(h->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	unsigned int domid;

	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	msg[n] = '\0';
	if (strcmp(msg, SANDBOX_KICK_VIRQ) == 0)
		return h->virq_port;
	if (sscanf(msg, SANDBOX_KICK_DOM_FMT, &domid) == 1) {
		for (evtchn_port_t p = 1; p < MAX_PORTS; p++)
			if (h->port_domid[p] == (int)domid)
				return p;
	}
	/* Unknown or stale kick: port 0 is never bound, so it does nothing. */
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
	char path[PATH_MAX], name[64];
	struct domtable table;
	void *page;
	int fd;

	/* As on Xen, a domain that does not exist has no page to map. */
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

SHIM int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
			 uint32_t count)
{
	return munmap(start_address, (size_t)count * SANDBOX_PAGE_SIZE);
}

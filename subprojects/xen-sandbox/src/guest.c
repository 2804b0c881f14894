/*
 * A sandbox guest's xenstore ring client: frames requests onto the ring page
 * that xenstored mapped for the domain, kicks the fake event channel, and
 * waits for the reply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "guest.h"
#include "ring.h"
#include "sandbox-paths.h"

/*
 * Longer than oxenstored's ring scan (ring-scan-interval, 20 s): a guest
 * whose write fires a watch whose watcher is behind is not read again
 * until then (docs/sandbox.md), and that is a stall to measure, not a hang.
 */
#define GUEST_TIMEOUT_MS 30000
#define KICK_RETRIES 1000	/* of 1 ms each, while xenstored's kick queue is full */
#define GUEST_REKICK_POLLS 20	/* kick again after this many quiet polls (100 ms) */

struct guest {
	unsigned int domid;
	int ring_fd;		/* holds the flock */
	int kick_fd;		/* bound to guest-<domid>, sends to evtchn */
	struct sockaddr_un evtchn;
	struct sockaddr_un self;
	struct xenstore_domain_interface *intf;
	uint32_t next_req_id;
	unsigned int quiet_polls;	/* GUEST_POLL_MS waits without a notification */
};

static int bind_path(struct sockaddr_un *addr, const char *dir, const char *name)
{
	addr->sun_family = AF_UNIX;
	if (snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%s", dir, name) >=
	    (int)sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

struct guest *guest_open(const char *dir, unsigned int domid)
{
	struct guest *g = calloc(1, sizeof(*g));
	char path[PATH_MAX], name[64];
	int r;

	if (!g)
		return NULL;
	g->domid = domid;
	g->ring_fd = g->kick_fd = -1;

	snprintf(name, sizeof(name), SANDBOX_RING_FMT, domid);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	g->ring_fd = open(path, O_RDWR | O_CLOEXEC);
	if (g->ring_fd < 0 || flock(g->ring_fd, LOCK_EX) < 0)
		goto fail;
	g->intf = mmap(NULL, SANDBOX_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       g->ring_fd, 0);
	if (g->intf == MAP_FAILED) {
		g->intf = NULL;
		goto fail;
	}

	snprintf(name, sizeof(name), SANDBOX_GUEST_FMT, (int)domid);
	r = bind_path(&g->self, dir, name);
	if (r == 0)
		r = bind_path(&g->evtchn, dir, SANDBOX_EVTCHN);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	g->kick_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->kick_fd < 0)
		goto fail;
	unlink(g->self.sun_path);
	if (bind(g->kick_fd, (struct sockaddr *)&g->self, sizeof(g->self)) < 0)
		goto fail;

	/* A client killed mid-reply leaves bytes behind: they are not ours. */
	__atomic_store_n(&g->intf->rsp_cons,
			 __atomic_load_n(&g->intf->rsp_prod, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	return g;
fail:
	r = errno;
	guest_close(g);
	errno = r;
	return NULL;
}

void guest_close(struct guest *g)
{
	if (!g)
		return;
	if (g->kick_fd >= 0) {
		unlink(g->self.sun_path);
		close(g->kick_fd);
	}
	if (g->intf)
		munmap(g->intf, SANDBOX_PAGE_SIZE);
	if (g->ring_fd >= 0)
		close(g->ring_fd);	/* drops the flock */
	free(g);
}

static void kick(struct guest *g)
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), SANDBOX_KICK_DOM_FMT, g->domid);

	/*
	 * The shim turns queued kicks into pending bits whenever xenstored
	 * looks, so a full queue is brief; but a kick dropped there would be
	 * lost for good (oxenstored reads a ring only when kicked), so wait
	 * for room rather than drop it. Xen's event channels never lose one.
	 */
	for (int tries = 0; tries < KICK_RETRIES; tries++) {
		if (sendto(g->kick_fd, msg, (size_t)n, MSG_DONTWAIT,
			   (struct sockaddr *)&g->evtchn, sizeof(g->evtchn)) >= 0 ||
		    errno != EAGAIN)
			return;
		sandbox_sleep_ms(1);
	}
}

ssize_t guest_send(struct guest *g, const void *data, size_t len)
{
	XENSTORE_RING_IDX cons = __atomic_load_n(&g->intf->req_cons, __ATOMIC_ACQUIRE);
	XENSTORE_RING_IDX prod = g->intf->req_prod;
	size_t n;

	if (ring_space(cons, prod) < 0)
		return -EPROTO;
	n = ring_put(g->intf->req, cons, &prod, data, len);
	if (n > 0) {
		__atomic_store_n(&g->intf->req_prod, prod, __ATOMIC_RELEASE);
		kick(g);
	}
	return (ssize_t)n;
}

ssize_t guest_recv(struct guest *g, void *data, size_t len)
{
	XENSTORE_RING_IDX prod = __atomic_load_n(&g->intf->rsp_prod, __ATOMIC_ACQUIRE);
	XENSTORE_RING_IDX cons = g->intf->rsp_cons;
	size_t n;

	if (prod - cons > XENSTORE_RING_SIZE)
		return -EPROTO;
	n = ring_get(g->intf->rsp, &cons, prod, data, len);
	if (n > 0) {
		__atomic_store_n(&g->intf->rsp_cons, cons, __ATOMIC_RELEASE);
		kick(g);
	}
	return (ssize_t)n;
}

int guest_notify_fd(const struct guest *g)
{
	return g->kick_fd;
}

void guest_quiet_poll(struct guest *g)
{
	/*
	 * A datagram can still be lost on a loaded machine, where Xen loses
	 * no event, and oxenstored reads a ring only when kicked (or every
	 * 20 s): kick again while nothing happens.
	 */
	if (++g->quiet_polls % GUEST_REKICK_POLLS == 0)
		kick(g);
}

void guest_drain_notifications(struct guest *g)
{
	char drain[16];

	g->quiet_polls = 0;
	while (recv(g->kick_fd, drain, sizeof(drain), MSG_DONTWAIT) >= 0)
		;
}

/* Sleeps until xenstored notifies us or a short poll interval passes. */
static int wait_for_xenstored(struct guest *g, long deadline)
{
	struct pollfd pfd = { .fd = g->kick_fd, .events = POLLIN };

	if (sandbox_now_ms() > deadline)
		return -ETIMEDOUT;
	/* Notifications can predate our bind, so never sleep long on them. */
	if (poll(&pfd, 1, GUEST_POLL_MS) > 0)
		guest_drain_notifications(g);
	else
		guest_quiet_poll(g);
	return 0;
}

/*
 * Moves len bytes through the ring, one way: out is sent, or in is filled
 * (the other is NULL), waiting for xenstored whenever the ring is full or
 * empty.
 */
static int transfer_all(struct guest *g, const char *out, char *in, size_t len, long deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = out ? guest_send(g, out + done, len - done) :
				  guest_recv(g, in + done, len - done);
		int r;

		if (n < 0)
			return (int)n;
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		r = wait_for_xenstored(g, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

static int send_all(struct guest *g, const void *data, size_t len, long deadline)
{
	return transfer_all(g, data, NULL, len, deadline);
}

static int recv_all(struct guest *g, void *data, size_t len, long deadline)
{
	return transfer_all(g, NULL, data, len, deadline);
}

static int errno_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(name, xsd_errors[i].errstring) == 0)
			return xsd_errors[i].errnum;
	return EINVAL;	/* what libxenstore does with a name it does not know */
}

int guest_request(struct guest *g, enum xsd_sockmsg_type type, uint32_t tx_id,
		  const void *payload, size_t len, char **reply, size_t *reply_len)
{
	long deadline = sandbox_now_ms() + GUEST_TIMEOUT_MS;
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = g->next_req_id++, .tx_id = tx_id,
		.len = (uint32_t)len,
	};
	char *body = NULL;
	int r;

	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	r = send_all(g, &hdr, sizeof(hdr), deadline);
	if (r == 0)
		r = send_all(g, payload, len, deadline);
	while (r == 0) {
		r = recv_all(g, &hdr, sizeof(hdr), deadline);
		if (r < 0)
			break;
		if (hdr.len > XENSTORE_PAYLOAD_MAX) {
			r = -EPROTO;
			break;
		}
		free(body);
		body = malloc(hdr.len + 1);
		if (!body) {
			r = -ENOMEM;
			break;
		}
		r = recv_all(g, body, hdr.len, deadline);
		if (r < 0)
			break;
		body[hdr.len] = '\0';
		if (hdr.type == XS_WATCH_EVENT)
			continue;
		if (hdr.type == XS_ERROR) {
			r = -errno_from_name(body);
			break;
		}
		if (hdr.type != type) {
			r = -EPROTO;
			break;
		}
		if (reply) {
			*reply = body;
			body = NULL;
		}
		if (reply_len)
			*reply_len = hdr.len;
		break;
	}
	free(body);
	return r;
}

/* Builds "path\0" followed by extra bytes. */
static char *path_payload(const char *path, const void *extra, size_t extra_len,
			  size_t *len)
{
	size_t plen = strlen(path) + 1;
	char *buf = malloc(plen + extra_len);

	if (!buf)
		return NULL;
	memcpy(buf, path, plen);
	if (extra_len)
		memcpy(buf + plen, extra, extra_len);
	*len = plen + extra_len;
	return buf;
}

int guest_read(struct guest *g, uint32_t tx_id, const char *path,
	       char **value, size_t *len)
{
	return guest_request(g, XS_READ, tx_id, path, strlen(path) + 1, value, len);
}

int guest_write(struct guest *g, uint32_t tx_id, const char *path,
		const void *value, size_t len)
{
	size_t total;
	char *buf = path_payload(path, value, len, &total);
	int r;

	if (!buf)
		return -ENOMEM;
	r = guest_request(g, XS_WRITE, tx_id, buf, total, NULL, NULL);
	free(buf);
	return r;
}

int guest_rm(struct guest *g, uint32_t tx_id, const char *path)
{
	return guest_request(g, XS_RM, tx_id, path, strlen(path) + 1, NULL, NULL);
}

int guest_transaction_start(struct guest *g, uint32_t *tx_id)
{
	char *reply = NULL;
	int r = guest_request(g, XS_TRANSACTION_START, 0, "", 1, &reply, NULL);

	if (r == 0) {
		char *end;
		unsigned long id = strtoul(reply, &end, 10);

		if (end == reply || id == 0 || id > UINT32_MAX)
			r = -EPROTO;
		else
			*tx_id = (uint32_t)id;
	}
	free(reply);
	return r;
}

int guest_transaction_end(struct guest *g, uint32_t tx_id, int commit)
{
	return guest_request(g, XS_TRANSACTION_END, tx_id, commit ? "T" : "F", 2,
			     NULL, NULL);
}

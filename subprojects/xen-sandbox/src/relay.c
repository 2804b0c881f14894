/*
 * The guest socket relay (relay.h): whole messages from the client onto
 * the ring, whole messages from the ring back to the client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"
#include "relay.h"

/* Our own request on the ring: no client's libxenstore counts this high. */
#define RESET_REQ_ID UINT32_MAX
#define IDLE_CHECK_MS 1000

/* One message on its way, in either direction. */
struct frame {
	union {
		struct xsd_sockmsg hdr;
		char bytes[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	};
	size_t have;		/* bytes of it read so far */
	size_t sent;		/* bytes of it passed on so far */
};

static volatile sig_atomic_t stopping;

static void on_sigterm(int sig)
{
	stopping = 1;
}

static size_t frame_size(const struct frame *f)
{
	return f->have < sizeof(f->hdr) ? sizeof(f->hdr) : sizeof(f->hdr) + f->hdr.len;
}

static bool frame_complete(const struct frame *f)
{
	return f->have >= sizeof(f->hdr) && f->have == frame_size(f);
}

/* Bytes still to read for the frame; 0 when complete, -1 for an oversize one. */
static ssize_t frame_wanted(const struct frame *f)
{
	if (f->have >= sizeof(f->hdr) && f->hdr.len > XENSTORE_PAYLOAD_MAX)
		return -1;
	return (ssize_t)(frame_size(f) - f->have);
}

/* Reads what the ring holds of the next message (nothing past it). */
static int ring_read(struct guest *g, struct frame *f)
{
	for (;;) {
		ssize_t want = frame_wanted(f), n;

		if (want < 0)
			return -EPROTO;
		if (want == 0)
			return 0;
		n = guest_recv(g, f->bytes + f->have, (size_t)want);
		if (n <= 0)
			return (int)n;
		f->have += (size_t)n;
	}
}

/* Puts what fits of a complete frame on the ring; true once all of it is there. */
static int ring_write(struct guest *g, struct frame *f)
{
	while (f->sent < f->have) {
		ssize_t n = guest_send(g, f->bytes + f->sent, f->have - f->sent);

		if (n <= 0)
			return (int)n;
		f->sent += (size_t)n;
	}
	return 1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void wait_ring(struct guest *g, int client_fd)
{
	struct pollfd pfd[2] = {
		{ .fd = guest_notify_fd(g), .events = POLLIN },
		{ .fd = client_fd, .events = POLLIN },
	};

	if (poll(pfd, client_fd >= 0 ? 2 : 1, GUEST_POLL_MS) > 0 && pfd[0].revents)
		guest_drain_notifications(g);
	else if (!pfd[0].revents)
		guest_quiet_poll(g);
}

/*
 * After the client: finish the message it was sending, reset the ring
 * connection's watches, and drop every reply and event up to the answer,
 * starting from the part of one that in already holds.
 */
static int reset_ring(struct guest *g, struct frame *out, struct frame *in)
{
	int r;

	while (out->have > 0 && (r = ring_write(g, out)) <= 0) {
		if (r < 0 || stopping)
			return r;
		wait_ring(g, -1);
	}
	*out = (struct frame){ .hdr = { .type = XS_RESET_WATCHES, .req_id = RESET_REQ_ID } };
	out->have = sizeof(out->hdr);
	while ((r = ring_write(g, out)) <= 0) {
		if (r < 0 || stopping)
			return r;
		wait_ring(g, -1);
	}
	for (;;) {
		r = ring_read(g, in);
		if (r < 0)
			return r;
		if (frame_complete(in)) {
			if (in->hdr.req_id == RESET_REQ_ID && in->hdr.type != XS_WATCH_EVENT)
				return 0;
			in->have = 0;
			continue;
		}
		if (stopping)
			return -EINTR;
		wait_ring(g, -1);
	}
}

/* One client, until it leaves. */
static int serve_client(struct guest *g, int fd)
{
	struct frame out = { .have = 0 }, in = { .have = 0 };
	bool client_open = true;
	int r = 0;

	while (client_open && !stopping) {
		bool moved = false;
		ssize_t want;

		/* Client -> ring: read one whole message, then pass it on. */
		if (!frame_complete(&out)) {
			want = frame_wanted(&out);
			if (want < 0)
				break;	/* an oversize message: the client is broken */
			if (want > 0) {
				ssize_t n = recv(fd, out.bytes + out.have, (size_t)want, MSG_DONTWAIT);

				if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
					client_open = false;
				if (n > 0) {
					out.have += (size_t)n;
					moved = true;
				}
			}
		}
		if (frame_complete(&out)) {
			r = ring_write(g, &out);
			if (r < 0)
				break;
			if (r > 0) {
				out.have = out.sent = 0;
				moved = true;
			}
		}
		/* Ring -> client: whole messages. */
		r = ring_read(g, &in);
		if (r < 0)
			break;
		if (frame_complete(&in)) {
			if (write_all(fd, in.bytes, in.have) < 0)
				client_open = false;
			in.have = 0;
			moved = true;
		}
		if (!moved)
			wait_ring(g, fd);
	}
	if (out.have > 0 && !frame_complete(&out))
		out.have = 0;	/* half a message never reached the ring */
	return r < 0 ? r : reset_ring(g, &out, &in);
}

int relay_serve(const char *dir, unsigned int domid, int listen_fd, int xenstored_pid)
{
	struct sigaction sa = { .sa_handler = on_sigterm };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
		struct guest *g;
		int fd, r;

		if (kill(xenstored_pid, 0) < 0)
			return 0;	/* the sandbox is gone, and so is our job */
		if (poll(&pfd, 1, IDLE_CHECK_MS) <= 0)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		g = guest_open(dir, domid);
		if (!g) {
			close(fd);	/* the domain's ring is gone: refuse by closing */
			continue;
		}
		r = serve_client(g, fd);
		guest_close(g);
		close(fd);
		if (r == -EPROTO)
			return r;
	}
	return 0;
}

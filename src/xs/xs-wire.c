/* Oversize directory listings read off the wire (see xs-wire.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "xs/xs-wire.h"

long xs_wire_directory_request(const char *path, uint32_t req_id, char *buf, size_t size)
{
	struct xsd_sockmsg hdr = { .type = XS_DIRECTORY, .req_id = req_id, .tx_id = 0 };
	size_t len = strlen(path) + 1;

	if (len > XENSTORE_PAYLOAD_MAX || sizeof(hdr) + len > size)
		return -ENAMETOOLONG;
	hdr.len = (uint32_t)len;
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), path, len);
	return (long)(sizeof(hdr) + len);
}

char **xs_wire_split_names(const char *payload, size_t len, unsigned int *num, int *err)
{
	unsigned int n = 0;
	char **names, *copy;

	if (len && payload[len - 1] != '\0') {
		*err = -EPROTO;
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		n += payload[i] == '\0';
	names = malloc((n + 1) * sizeof(*names) + len);
	if (!names) {
		*err = -ENOMEM;
		return NULL;
	}
	copy = (char *)(names + n + 1);
	memcpy(copy, payload, len);
	for (unsigned int i = 0; i < n; i++) {
		names[i] = copy;
		copy += strlen(copy) + 1;
	}
	names[n] = NULL;
	*num = n;
	return names;
}

/* All of len bytes, or -errno (-ETIMEDOUT past the socket's timeout, -EPROTO at EOF). */
static int recv_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n == 0)
			return -EPROTO;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		got += (size_t)n;
	}
	return 0;
}

/* A connected socket to socket_path with send and receive timeouts, or -errno. */
static int connect_with_timeout(const char *socket_path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int fd, r;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* An error answer's payload ("ENOENT\0") as a negative errno, by xs_wire.h's own table. */
static int answer_errno(const char *payload, size_t len)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (len == strlen(xsd_errors[i].errstring) + 1 &&
		    !memcmp(payload, xsd_errors[i].errstring, len))
			return -xsd_errors[i].errnum;
	return -EIO;
}

char **xs_wire_directory(const char *socket_path, const char *path, int timeout_ms,
			 unsigned int *num, int *err)
{
	char request[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg hdr;
	char **names = NULL, *payload = NULL;
	long len = xs_wire_directory_request(path, 1, request, sizeof(request));
	int fd = -1, r;

	if (len < 0) {
		r = (int)len;
		goto out;
	}
	fd = connect_with_timeout(socket_path, timeout_ms);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	if (send(fd, request, (size_t)len, MSG_NOSIGNAL) != len) {
		r = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	r = recv_all(fd, &hdr, sizeof(hdr));
	if (r < 0)
		goto out;
	/* A private connection with no watch: the only message is the answer. */
	if (hdr.req_id != 1 || (hdr.type != XS_DIRECTORY && hdr.type != XS_ERROR)) {
		r = -EPROTO;
		goto out;
	}
	if (hdr.len > XS_WIRE_LISTING_MAX) {
		r = -EMSGSIZE;
		goto out;
	}
	payload = malloc(hdr.len ? hdr.len : 1);
	if (!payload) {
		r = -ENOMEM;
		goto out;
	}
	r = recv_all(fd, payload, hdr.len);
	if (r < 0)
		goto out;
	if (hdr.type == XS_ERROR)
		r = answer_errno(payload, hdr.len);
	else
		names = xs_wire_split_names(payload, hdr.len, num, &r);
out:
	if (fd >= 0)
		close(fd);
	free(payload);
	if (!names)
		*err = r;
	return names;
}

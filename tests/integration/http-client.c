/* The test HTTP client (see http-client.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http-client.h"
#include "util/time.h"

unsigned int http_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned int port = 0;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int http_send(unsigned int port, const char *method, const char *target, const char *accept)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[1024];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

	if (fd < 0)
		return -1;
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s%s%s\r\n", method,
		     target, accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

int http_receive(int fd, int timeout_ms, char **body)
{
	size_t len = 0, cap = 1 << 16, blen;
	char *buf = malloc(cap), *sep, *out;
	long long deadline = monotonic_ms() + timeout_ms;
	int status = -1;

	*body = NULL;
	if (!buf)
		goto out;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - monotonic_ms();
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			goto out;
		if (len + 4096 > cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				goto out;
			buf = bigger;
			cap *= 2;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		len += (size_t)got;
	}
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		status = -1;
		goto out;
	}
	*sep = '\0';
	blen = len - (size_t)(sep + 4 - buf);
	out = malloc(blen + 1 + (size_t)(sep - buf) + 1);
	if (!out) {
		status = -1;
		goto out;
	}
	memcpy(out, sep + 4, blen + 1);
	strcpy(out + blen + 1, buf);
	*body = out;
out:
	close(fd);
	free(buf);
	return status;
}

int http_request(unsigned int port, const char *method, const char *target, const char *accept,
		 int timeout_ms, char **body)
{
	int fd = http_send(port, method, target, accept);

	*body = NULL;
	return fd < 0 ? -1 : http_receive(fd, timeout_ms, body);
}

const char *http_headers(const char *body)
{
	return body + strlen(body) + 1;
}

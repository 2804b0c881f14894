/*
 * A minimal HTTP/1.0 client for tests and benchmarks on loopback: one
 * request per connection, the whole response read until the server
 * closes, with a time bound.
 */
#pragma once

/* A loopback TCP port nobody listens on now (0 on error). */
unsigned int http_free_port(void);

/* Connects to 127.0.0.1:port and sends the request; the fd, or -1. accept may be NULL. */
int http_send(unsigned int port, const char *method, const char *target, const char *accept);

/*
 * Reads the response on fd (closed here) for at most timeout_ms: its
 * status, or -1. *body (malloc'ed, the caller frees; NULL on -1) holds the
 * body, NUL-terminated, and after that NUL the header lines (see
 * http_headers()).
 */
int http_receive(int fd, int timeout_ms, char **body);

/* http_send() then http_receive(). */
int http_request(unsigned int port, const char *method, const char *target, const char *accept,
		 int timeout_ms, char **body);

/* The response's header lines, kept after the body's NUL. */
const char *http_headers(const char *body);

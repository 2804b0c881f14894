/*
 * Requests on a worker's handle. libxenstore reports a dead socket and an
 * answer with the same errno values, so a failure is classified here, once,
 * for every caller.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "xs/xs-req.h"
#include "xs/xs-wire.h"

/* How long reading an oversize listing off the wire may take: a worker waits, not the loop. */
#define WIRE_TIMEOUT_MS 2000

void xs_req_counts_add(struct xs_req_counts *to, const struct xs_req_counts *from)
{
	to->reads += from->reads;
	to->directories += from->directories;
	to->watches += from->watches;
	to->other_requests += from->other_requests;
	to->request_handle_resets += from->request_handle_resets;
	to->oversize_listings += from->oversize_listings;
}

int xs_req_open(struct xs_req *req)
{
	if (req->h)
		return 0;
	req->h = xs_open(0);
	return req->h ? 0 : -ENOTCONN;
}

void xs_req_close(struct xs_req *req)
{
	if (req->h)
		xs_close(req->h);
	req->h = NULL;
}

/* Transport errors, as opposed to answers from xenstored. */
static bool is_transport_error(int err)
{
	return err == EBADF || err == EPIPE || err == ECONNRESET || err == EINVAL ||
	       err == EIO || err == ENOTCONN;
}

static bool handle_answers(struct xs_req *req, struct xs_handle *h)
{
	char *path = xs_get_domain_path(h, 0);

	req->counts->other_requests++;
	free(path);
	return path != NULL;
}

/*
 * Opens a new request handle. True when it gets answers: xenstored is
 * alive and broke only the old one, in answer to its request: oxenstored
 * sends a listing larger than one message, which libxenstore cannot read
 * (a guest can make one in its own home). The watches are on other handles
 * and lose nothing.
 */
static bool reset_handle(struct xs_req *req)
{
	xs_req_close(req);
	if (xs_req_open(req) < 0 || !handle_answers(req, req->h))
		return false;
	req->counts->request_handle_resets++;
	return true;
}

/* A request on h failed with err: an answer, or what became of the connection. */
static int request_failed(struct xs_req *req, struct xs_handle *h, int err)
{
	/*
	 * libxenstore fails the request in flight with EINVAL when the socket
	 * closes, and xenstored answers EINVAL to a bad path (which we do not
	 * send: every path we use came from xenstored). A round trip on the
	 * same handle tells the two apart.
	 */
	if (!is_transport_error(err) && err != E2BIG)
		return -err;
	if (err == EINVAL && handle_answers(req, h))
		return -EINVAL;
	if (h == req->h && reset_handle(req))
		return -EMSGSIZE;
	return -ENOTCONN;
}

char *xs_req_read(struct xs_req *req, const char *path, unsigned int *len, int *err)
{
	char *value;

	req->counts->reads++;
	value = xs_read(req->h, XBT_NULL, path, len);
	if (!value)
		*err = request_failed(req, req->h, errno);
	return value;
}

/*
 * The listing of path broke the handle: oxenstored sent it in one oversize
 * packet. Ask again on a private socket connection and read it whole.
 * Through /dev/xen/xenbus (no socket), or when that fails too, the answer
 * stays -EMSGSIZE: never an error the caller could take for an answer
 * about path.
 */
static char **read_oversize(struct xs_req *req, const char *path, unsigned int *num, int *err)
{
	char **names = xs_wire_directory(xs_daemon_socket(), path, WIRE_TIMEOUT_MS, num, err);

	if (names) {
		req->counts->oversize_listings++;
		return names;
	}
	*err = -EMSGSIZE;
	return NULL;
}

char **xs_req_directory(struct xs_req *req, const char *path, unsigned int *num, int *err)
{
	char **names;

	req->counts->directories++;
	names = xs_directory(req->h, XBT_NULL, path, num);
	if (!names)
		*err = request_failed(req, req->h, errno);
	if (!names && *err == -EMSGSIZE)
		names = read_oversize(req, path, num, err);
	return names;
}

int xs_req_is_introduced(struct xs_req *req, unsigned int domid)
{
	bool introduced;

	req->counts->other_requests++;
	errno = 0;
	introduced = xs_is_domain_introduced(req->h, domid);
	if (!introduced && errno)
		return request_failed(req, req->h, errno);
	return introduced;
}

int xs_req_probe(struct xs_req *req)
{
	return handle_answers(req, req->h) ? 0 : -ENOTCONN;
}

int xs_req_watch(struct xs_req *req, struct xs_handle *watch_h, const char *path,
		 const char *token)
{
	req->counts->watches++;
	if (!xs_watch(watch_h, path, token))
		return errno == EEXIST ? 0 : request_failed(req, watch_h, errno);
	return 0;
}

int xs_req_unwatch(struct xs_req *req, struct xs_handle *watch_h, const char *path,
		   const char *token)
{
	req->counts->other_requests++;
	if (!xs_unwatch(watch_h, path, token))
		return errno == ENOENT ? 0 : request_failed(req, watch_h, errno);
	return 0;
}

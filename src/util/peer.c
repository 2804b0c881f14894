/* peer_gone(): one non-blocking poll() (see peer.h). */
#define _GNU_SOURCE
#include <poll.h>

#include "util/peer.h"

bool peer_gone(int fd, bool shut_wr_counts)
{
	short gone = POLLHUP | POLLERR | (shut_wr_counts ? POLLRDHUP : 0);
	struct pollfd pfd = { .fd = fd, .events = shut_wr_counts ? POLLRDHUP : 0 };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & gone);
}

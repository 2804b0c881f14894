/*
 * Whether the peer of a connected stream socket has gone, asked of the
 * kernel without reading: the loop learns it late, at the next read or
 * write, and both the event socket's accept path and a scrape in progress
 * want to stop spending on a party that left.
 */
#pragma once

#include <stdbool.h>

/*
 * True when the peer closed fd altogether (POLLHUP) or the socket failed
 * (POLLERR); with shut_wr_counts, also when the peer only shut its sending
 * side (POLLRDHUP): over TCP a closed peer looks like that until we write.
 */
bool peer_gone(int fd, bool shut_wr_counts);

/*
 * A client that pings xgmd continuously from a thread of its own, for the
 * latency of its socket while something else keeps xgmd busy (adopting
 * domains, releases, a storm, a resync): one "ping" round trip, then a
 * pause, again and again.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pinger;

/*
 * Connects to socket (again and again until xgmd answers its hello) and
 * pings every interval_ms. NULL on ENOMEM or when the thread cannot start.
 */
struct pinger *pinger_start(const char *socket, unsigned int interval_ms);
/*
 * Stops it and hands over the round trips measured (ns; the caller frees
 * *samples) and how many pings went unanswered (xgmd closed the connection,
 * or 30 s passed: such a ping is among the samples as 30 s, a lower bound).
 * NULL is a pinger that never started: nothing.
 */
size_t pinger_stop(struct pinger *p, uint64_t **samples, uint64_t *unanswered);

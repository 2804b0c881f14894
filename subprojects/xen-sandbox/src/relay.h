/*
 * The guest socket: a UNIX socket that relays the xenstore wire protocol
 * over one domain's ring, so that any unmodified libxenstore program run
 * with XENSTORED_PATH=<dir>/guest-N.sock talks to xenstored as domain N,
 * with its permissions, quotas and relative paths.
 *
 * One client at a time holds the ring (the next waits in the listen
 * queue). When a client leaves, the relay finishes the message it was
 * sending, then resets the ring connection's watches (XS_RESET_WATCHES)
 * and drops whatever was still owed to it, so the next client starts clean.
 */
#pragma once

/*
 * Serves listen_fd (bound and listening) for domain domid of sandbox dir
 * until the sandbox's xenstored (xenstored_pid) exits or SIGTERM comes.
 * Returns 0, or a negative errno on an error of its own.
 */
int relay_serve(const char *dir, unsigned int domid, int listen_fd, int xenstored_pid);

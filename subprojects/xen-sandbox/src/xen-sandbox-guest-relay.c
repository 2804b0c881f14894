/*
 * xen-sandbox-guest-relay DIR DOMID XENSTORED_PID: the guest socket of one domain
 * (relay.h), serving the listening socket it is given as fd 3. Started and
 * stopped by the sandbox (sandbox_guest_socket_start), not by hand.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

#define LISTEN_FD 3

int main(int argc, char **argv)
{
	char *end;
	unsigned long domid, pid;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: xen-sandbox-guest-relay DIR DOMID XENSTORED_PID (listening socket on fd 3)\n");
		return 2;
	}
	domid = strtoul(argv[2], &end, 10);
	if (*end || domid > 0xffff)
		return 2;
	pid = strtoul(argv[3], &end, 10);
	if (*end || pid == 0 || pid > 0x7fffffff)
		return 2;
	r = relay_serve(argv[1], (unsigned int)domid, LISTEN_FD, (int)pid);
	if (r < 0)
		fprintf(stderr, "xen-sandbox-guest-relay: domain %lu: %s\n", domid, strerror(-r));
	return r < 0;
}

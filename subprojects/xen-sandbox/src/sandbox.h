/*
 * Control of one sandbox: start and stop the real xenstored under the
 * hypervisor shim in a private directory, and play the hypervisor and the
 * toolstack for its domains. Errors are printed to stderr and returned as
 * negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <xenstore.h>

#include "domtable.h"

/* Which of Debian's two xenstoreds the sandbox runs. */
enum sandbox_flavour {
	SANDBOX_C,		/* xenstored, the C daemon */
	SANDBOX_OCAML,		/* oxenstored: Debian's default, XenServer's and XCP-ng's */
};

/* "c" or "ocaml", as $XEN_SANDBOX_FLAVOUR and xen-sandbox --xenstored spell them. */
const char *sandbox_flavour_name(enum sandbox_flavour flavour);
int sandbox_flavour_parse(const char *name, enum sandbox_flavour *flavour);

struct sandbox_options {
	enum sandbox_flavour flavour;
	const char *xenstored;	/* the daemon binary, of that flavour */
	const char *shim;	/* libxen-sandbox-fakehyp.so */
	bool trace;		/* xenstored -T <dir>/xenstored.trace */
	bool die_with_parent;	/* for tests: xenstored ends when its starter does */
};

/*
 * Defaults from the build, overridden by $XEN_SANDBOX_FLAVOUR (c, the
 * default, or ocaml), $XEN_SANDBOX_XENSTORED (the binary) and $XEN_SANDBOX_SHIM.
 * Exits with a message on a flavour it does not know: a test must never
 * run on a daemon other than the one it was asked for.
 */
void sandbox_default_options(struct sandbox_options *opts);
/* Sets the flavour and that flavour's binary from the build. */
void sandbox_set_flavour(struct sandbox_options *opts, enum sandbox_flavour flavour);

int sandbox_file(char *buf, size_t size, const char *dir, const char *name);

int sandbox_start(const char *dir, const struct sandbox_options *opts);
int sandbox_stop(const char *dir);
/* xenstored's pid, or a negative errno when it is not running. */
int sandbox_pid(const char *dir);

/* A libxenstore connection to the sandbox as dom0 (NULL + message on error). */
struct xs_handle *sandbox_connect(const char *dir);

/*
 * As the toolstack: the domain comes to exist for the hypervisor, gets its
 * home under /local/domain/<domid> written the way libxl does, and, when
 * introduce is set, is introduced (firing @introduceDomain).
 */
int sandbox_domain_create(const char *dir, struct xs_handle *xs, unsigned int domid,
			  const char *name, bool introduce);
int sandbox_domain_introduce(const char *dir, struct xs_handle *xs, unsigned int domid);
/* XS_RELEASE, firing @releaseDomain, as a toolstack does after destroying. */
int sandbox_domain_release(struct xs_handle *xs, unsigned int domid);
/*
 * The domain's guest socket, <dir>/guest-N.sock (relay.h): any libxenstore
 * program with XENSTORED_PATH set to it talks to xenstored as domain N.
 * Starting it again is harmless; it stops with the domain's destruction,
 * the sandbox, or xenstored. path (PATH_MAX) receives its path; may be NULL.
 */
int sandbox_guest_socket_start(const char *dir, unsigned int domid, char *path);
int sandbox_guest_socket_stop(const char *dir, unsigned int domid);

/* As the hypervisor: change the state and raise VIRQ_DOM_EXC. */
int sandbox_domain_set_state(const char *dir, unsigned int domid, enum domstate state);
/* As the hypervisor: the domain no longer exists; raise VIRQ_DOM_EXC. */
int sandbox_domain_destroy(const char *dir, unsigned int domid);

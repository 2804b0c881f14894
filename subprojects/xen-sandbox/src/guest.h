/*
 * A sandbox guest's side of its xenstore ring: what the guest kernel's
 * xenbus driver does on a real host, so requests reach xenstored as that
 * domain and meet the real permission and quota checks.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xen/io/xs_wire.h>

/*
 * A notification can be missed (it may predate the client), so a client
 * waiting for xenstored also looks at its ring this often.
 */
#define GUEST_POLL_MS 5

struct guest;

/* Takes the ring of domid in sandbox dir (one client per ring at a time). NULL + errno. */
struct guest *guest_open(const char *dir, unsigned int domid);
void guest_close(struct guest *g);

/*
 * Sends one request and waits for its reply (watch events in between are
 * discarded). On success *reply is a malloc'ed, NUL-terminated copy of the
 * payload that the caller frees. Returns 0, or the negative errno that
 * xenstored answered (-EACCES, -ENOENT, ...), or -ETIMEDOUT, -EPROTO.
 */
int guest_request(struct guest *g, enum xsd_sockmsg_type type, uint32_t tx_id,
		  const void *payload, size_t len, char **reply, size_t *reply_len);

/*
 * The ring's bytes as they are, for a client that frames messages itself
 * (the guest socket relay). Neither blocks: each copies what fits, or what
 * is there, kicks xenstored when it moved anything, and returns the count
 * (0: nothing now), or -EPROTO when the ring's indexes are corrupt.
 */
ssize_t guest_send(struct guest *g, const void *data, size_t len);
ssize_t guest_recv(struct guest *g, void *data, size_t len);
/*
 * Readable when xenstored notified the guest; then drain it. After a wait
 * of GUEST_POLL_MS without one, call guest_quiet_poll(), which kicks
 * xenstored again now and then, in case a kick was lost.
 */
int guest_notify_fd(const struct guest *g);
void guest_drain_notifications(struct guest *g);
void guest_quiet_poll(struct guest *g);

int guest_read(struct guest *g, uint32_t tx_id, const char *path,
	       char **value, size_t *len);
int guest_write(struct guest *g, uint32_t tx_id, const char *path,
		const void *value, size_t len);
int guest_rm(struct guest *g, uint32_t tx_id, const char *path);
int guest_transaction_start(struct guest *g, uint32_t *tx_id);
int guest_transaction_end(struct guest *g, uint32_t tx_id, int commit);

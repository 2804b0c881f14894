/*
 * One domain's state machine: which of its keys are dirty, when its batch
 * settles, what it holds (a bounded keyset) and what it last published.
 * It takes inputs (watch events, read results, time) and returns decisions
 * and changes; the engine does the I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/ratelimit.h"
#include "domain/settle.h"
#include "metrics/keyset.h"

/*
 *   DISCOVERED --take dirty--> READING --batch done--> IDLE
 *                               ^   |                   |
 *                               |   +--batch done,      |
 *                               |      written meanwhile|
 *              take dirty       |   v                   |
 *                   +------- SETTLING <----write--------+
 *
 * A batch is read by a worker while the loop goes on (src/engine/): writes
 * that come meanwhile open the next batch, which settles after it.
 * A domain that is released or whose home is removed has no state of its
 * own: the engine publishes domain.gone and frees it in the same call.
 */
enum domain_state {
	DOMAIN_DISCOVERED,	/* seen in /local/domain, not read yet */
	DOMAIN_IDLE,		/* up to date with xenstore */
	DOMAIN_SETTLING,	/* writes seen, batch not read yet */
	DOMAIN_READING,		/* a batch (or a whole read) is being read */
};

/* The subtrees under the domain home that agents write and we track. */
extern const char *const domain_subtrees[];
extern const size_t domain_subtree_count;

/* Beyond this many distinct dirty paths a batch re-reads every subtree. */
#define DOMAIN_MAX_DIRTY 256

struct domain_config {
	struct settle_config settle;
	struct keyset_limits limits;
	struct ratelimit_config publish;
};

struct domain {
	unsigned int domid;
	uint32_t incarnation;		/* tells a reused domid's watches apart */
	enum domain_state state;
	char *name;			/* the toolstack's name, or NULL */
	char *uuid;			/* from the toolstack's vm path, or NULL */

	struct keyset *keys;
	struct settle settle;
	struct ratelimit publish;	/* admits its settled batches for reading */
	char *dirty[DOMAIN_MAX_DIRTY];	/* relative paths to re-read */
	size_t n_dirty;
	bool rescan;			/* re-read every subtree, not the dirty paths */
	uint64_t last_write_ms;		/* monotonic time of the last agent write */
	int64_t last_write_wall;	/* the same, in seconds since the epoch; 0: none */
	unsigned int initial_events;	/* watch registrations not yet answered */
};

struct domain *domain_new(unsigned int domid, uint32_t incarnation,
			  const struct domain_config *cfg);
void domain_free(struct domain *d);

const char *domain_state_name(enum domain_state state);

/* The toolstack's identity; takes ownership of name and uuid (either may be NULL). */
void domain_set_identity(struct domain *d, char *name, char *uuid);

/*
 * A watch event on relpath (relative to the domain home; "" for the home
 * itself). Returns when the batch must be read (see settle_deadline()).
 */
uint64_t domain_on_write(struct domain *d, const char *relpath, uint64_t now_ms,
			 int64_t now_wall, const struct settle_config *cfg);

/* When the open batch must be read, or SETTLE_NEVER. */
uint64_t domain_deadline(const struct domain *d, const struct settle_config *cfg);

/*
 * The batch is being read: hands over the dirty paths (the caller frees
 * each and the array), and starts the next batch's settling afresh.
 */
char **domain_take_dirty(struct domain *d, size_t *n, bool *rescan);
/* The batch was read: IDLE, or SETTLING if written meanwhile. */
void domain_batch_done(struct domain *d);


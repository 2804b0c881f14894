/*
 * Which domains exist: the rules that turn xenstore's answers into
 * adoptions and departures, with no I/O. The engine feeds it what xenstore
 * said (a connection, a listing of /local/domain, whether a domid is
 * introduced, @introduceDomain and @releaseDomain) and asks it for work
 * (list, sync a domid, check a domid) and for the domains to forget.
 *
 * A domain is adopted only once xenstored says it is introduced: a home
 * without an introduced domain is one the toolstack is still building,
 * which its own @introduceDomain brings, or one a dead domain left behind,
 * which must never pass for a live domain ("awaiting"). An
 * @introduceDomain names no domain, so it asks the newly listed domids;
 * the awaiting ones are asked again only when an introduction matched none
 * of them, so that leftover homes cost nothing per introduction.
 *
 * Work is handed out one item per domid at a time, each stamped with the
 * connection's epoch: an answer that arrives after a loss, or for a domid
 * that has since left the listing, changes nothing. Listings are
 * coalesced: what arrives while one is in flight is asked once more after.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Domain ids at and above DOMID_FIRST_RESERVED are not domains. */
#define LC_DOMID_LIMIT 0x7ff0U
#define LC_WORDS ((LC_DOMID_LIMIT + 63) / 64)

struct lc_set {
	uint64_t w[LC_WORDS];
};

/* Why /local/domain is listed, which decides what the listing queues. */
enum lc_listing {
	LC_LIST_CONNECT = 1,	/* every listed domid: adopt, or re-watch and re-read */
	LC_LIST_INTRODUCE = 2,	/* the newly listed domids that are not tracked */
	LC_LIST_RELEASE = 4,	/* check every tracked domain: did it die? */
};

enum lc_work_kind {
	LC_WORK_LIST,		/* list /local/domain */
	LC_WORK_SYNC,		/* domid: introduced? if so watch and read it whole */
	LC_WORK_CHECK,		/* domid: is it still introduced? */
};

struct lc_work {
	enum lc_work_kind kind;
	unsigned int domid;		/* SYNC, CHECK */
	unsigned int why;		/* LIST: enum lc_listing bits */
	uint64_t epoch;
};

/* What a SYNC's answer means for the domain. */
enum lc_outcome {
	LC_NOTHING,		/* stale or failed: nothing to apply, nothing to announce */
	LC_ADOPTED,		/* new: apply what was read, announce it */
	LC_RESYNCED,		/* known: apply what was read, publish what changed */
	LC_DIED,		/* known, no longer introduced: forget it, announce it */
};

struct lifecycle {
	struct lc_set listed;		/* /local/domain, as last listed */
	struct lc_set tracked;		/* adopted and announced */
	struct lc_set awaiting;		/* listed, asked, not introduced */
	struct lc_set to_sync, to_check;
	struct lc_set busy;		/* work handed out, not answered */
	struct lc_set to_forget;	/* output: tracked domains that are gone */
	size_t n_to_sync, n_to_check, n_busy, n_tracked;
	unsigned int introduce_unmatched;	/* @introduceDomain events no adoption answered yet */
	unsigned int listing_wanted;	/* enum lc_listing bits */
	bool listing_busy;
	bool listing_connect;		/* the one in flight is a connection's */
	bool connected;
	bool connect_pass;		/* the syncs queued came with a connection */
	uint64_t epoch;
	unsigned int sync_cursor, check_cursor;
};

void lc_init(struct lifecycle *lc);

bool lc_set_get(const struct lc_set *s, unsigned int domid);
void lc_set_put(struct lc_set *s, unsigned int domid, bool on);

/* ---- inputs ---- */
void lc_connected(struct lifecycle *lc);
/* Every answer outstanding is void; the next connection lists everything. */
void lc_lost(struct lifecycle *lc);
void lc_introduce_event(struct lifecycle *lc);
void lc_release_event(struct lifecycle *lc);
/* A listing answered: listed is NULL when it failed (the next event lists again). */
void lc_listing_done(struct lifecycle *lc, const struct lc_work *w, const struct lc_set *listed);
/* A SYNC answered: 1 introduced and read, 0 not introduced, or a negative errno. */
enum lc_outcome lc_sync_done(struct lifecycle *lc, const struct lc_work *w, int result);
/* A CHECK answered: 1, 0 or a negative errno. True when the domain died. */
bool lc_check_done(struct lifecycle *lc, const struct lc_work *w, int introduced);
/* The engine forgot domid on its own evidence (its home is gone). */
void lc_forgotten(struct lifecycle *lc, unsigned int domid);

/* ---- outputs ---- */
/* The listing wanted, if any and none is in flight. */
bool lc_next_listing(struct lifecycle *lc, struct lc_work *w);
/*
 * The next domid's work: syncs first, then checks, round robin. A domid
 * for which skip() is true (the engine is busy with it) is left queued.
 * False when there is none.
 */
bool lc_next_work(struct lifecycle *lc, struct lc_work *w,
		  bool (*skip)(void *ctx, unsigned int domid), void *ctx);
/* A tracked domain to forget and announce gone; it is no longer tracked. */
bool lc_next_forget(struct lifecycle *lc, unsigned int *domid);

/* Syncs and checks queued or to be answered (1 before the connection's listing). */
size_t lc_pending(const struct lifecycle *lc);
/* True once, when a connection's pass has finished. */
bool lc_take_synchronised(struct lifecycle *lc);

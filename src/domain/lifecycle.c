/*
 * The domain lifecycle rules (lifecycle.h): sets of domids in, work and
 * departures out.
 */
#include <string.h>

#include "domain/lifecycle.h"

bool lc_set_get(const struct lc_set *s, unsigned int domid)
{
	return s->w[domid / 64] & (UINT64_C(1) << (domid % 64));
}

void lc_set_put(struct lc_set *s, unsigned int domid, bool on)
{
	if (on)
		s->w[domid / 64] |= UINT64_C(1) << (domid % 64);
	else
		s->w[domid / 64] &= ~(UINT64_C(1) << (domid % 64));
}

/* The first member at or after from, or LC_DOMID_LIMIT. */
static unsigned int next_member(const struct lc_set *s, unsigned int from)
{
	for (unsigned int i = from / 64; i < LC_WORDS && from < LC_DOMID_LIMIT; i++) {
		uint64_t word = s->w[i];

		if (i == from / 64)
			word &= ~UINT64_C(0) << (from % 64);
		if (word) {
			unsigned int domid = i * 64 + (unsigned int)__builtin_ctzll(word);

			return domid < LC_DOMID_LIMIT ? domid : LC_DOMID_LIMIT;
		}
	}
	return LC_DOMID_LIMIT;
}

/* Puts domid in or out of s, keeping *count. */
static void member(struct lc_set *s, size_t *count, unsigned int domid, bool on)
{
	if (lc_set_get(s, domid) == on)
		return;
	lc_set_put(s, domid, on);
	if (on)
		(*count)++;
	else
		(*count)--;
}

void lc_init(struct lifecycle *lc)
{
	memset(lc, 0, sizeof(*lc));
}

/* No work is out: what was handed out is void from now on. */
static void new_epoch(struct lifecycle *lc)
{
	lc->epoch++;
	memset(&lc->to_sync, 0, sizeof(lc->to_sync));
	memset(&lc->to_check, 0, sizeof(lc->to_check));
	memset(&lc->busy, 0, sizeof(lc->busy));
	lc->n_to_sync = lc->n_to_check = lc->n_busy = 0;
	lc->listing_busy = false;
	lc->listing_connect = false;
	lc->listing_wanted = 0;
	lc->introduce_unmatched = 0;
	lc->connect_pass = false;
}

void lc_connected(struct lifecycle *lc)
{
	new_epoch(lc);
	lc->connected = true;
	/* The connection's pass asks every listed domid, awaiting ones included. */
	lc->listing_wanted = LC_LIST_CONNECT;
	lc->connect_pass = true;
}

void lc_lost(struct lifecycle *lc)
{
	new_epoch(lc);
	lc->connected = false;
}

void lc_introduce_event(struct lifecycle *lc)
{
	lc->introduce_unmatched++;
	lc->listing_wanted |= LC_LIST_INTRODUCE;
}

void lc_release_event(struct lifecycle *lc)
{
	lc->listing_wanted |= LC_LIST_RELEASE;
}

/* Out of the tracked set, into the departures. */
static void depart(struct lifecycle *lc, unsigned int domid)
{
	member(&lc->tracked, &lc->n_tracked, domid, false);
	lc_set_put(&lc->to_forget, domid, true);
}

/*
 * Once every domid an @introduceDomain queued has answered: if some
 * introduction was not answered by an adoption, the domain introduced is
 * one listed earlier (its home was written before another listing, or a
 * reused domid over a leftover home), so every awaiting domid is asked once.
 */
static void answer_introductions(struct lifecycle *lc)
{
	if (lc->n_to_sync > 0 || lc->n_busy > 0 || lc->listing_busy || lc->introduce_unmatched == 0)
		return;
	lc->introduce_unmatched = 0;
	for (unsigned int d = next_member(&lc->awaiting, 0); d < LC_DOMID_LIMIT;
	     d = next_member(&lc->awaiting, d + 1))
		member(&lc->to_sync, &lc->n_to_sync, d, true);
}

void lc_listing_done(struct lifecycle *lc, const struct lc_work *w, const struct lc_set *listed)
{
	if (w->epoch != lc->epoch)
		return;
	lc->listing_busy = false;
	lc->listing_connect = false;
	if (!listed)
		return;
	for (unsigned int domid = 0; domid < LC_DOMID_LIMIT; domid++) {
		bool tracked = lc_set_get(&lc->tracked, domid);

		if (!lc_set_get(listed, domid)) {
			/* Gone from the listing: whatever was asked of it is moot. */
			lc_set_put(&lc->awaiting, domid, false);
			member(&lc->to_sync, &lc->n_to_sync, domid, false);
			member(&lc->to_check, &lc->n_to_check, domid, false);
			if (tracked)
				depart(lc, domid);
			continue;
		}
		if ((w->why & LC_LIST_CONNECT) ||
		    ((w->why & LC_LIST_INTRODUCE) && !tracked && !lc_set_get(&lc->awaiting, domid)))
			member(&lc->to_sync, &lc->n_to_sync, domid, true);
		/* A domain whose sync is queued is asked by it: no check on top. */
		if ((w->why & LC_LIST_RELEASE) && tracked && !lc_set_get(&lc->to_sync, domid))
			member(&lc->to_check, &lc->n_to_check, domid, true);
	}
	lc->listed = *listed;
	answer_introductions(lc);
}

/* The answer to w, if it is still wanted: clears its domid's busy mark. */
static bool answer_current(struct lifecycle *lc, const struct lc_work *w)
{
	if (w->epoch != lc->epoch || !lc_set_get(&lc->busy, w->domid))
		return false;
	member(&lc->busy, &lc->n_busy, w->domid, false);
	return true;
}

enum lc_outcome lc_sync_done(struct lifecycle *lc, const struct lc_work *w, int result)
{
	unsigned int domid = w->domid;
	enum lc_outcome out = LC_NOTHING;

	if (!answer_current(lc, w))
		return LC_NOTHING;
	/* Left the listing while it was asked: it is gone, whatever the answer says. */
	if (!lc_set_get(&lc->listed, domid) || result < 0)
		goto done;
	if (lc_set_get(&lc->tracked, domid)) {
		if (result) {
			out = LC_RESYNCED;
		} else {
			member(&lc->tracked, &lc->n_tracked, domid, false);
			out = LC_DIED;
		}
		goto done;
	}
	lc_set_put(&lc->awaiting, domid, !result);
	if (result) {
		member(&lc->tracked, &lc->n_tracked, domid, true);
		if (lc->introduce_unmatched > 0)
			lc->introduce_unmatched--;
		out = LC_ADOPTED;
	}
done:
	answer_introductions(lc);
	return out;
}

bool lc_check_done(struct lifecycle *lc, const struct lc_work *w, int introduced)
{
	if (!answer_current(lc, w) || introduced != 0 || !lc_set_get(&lc->tracked, w->domid))
		return false;
	member(&lc->tracked, &lc->n_tracked, w->domid, false);
	return true;
}

void lc_forgotten(struct lifecycle *lc, unsigned int domid)
{
	member(&lc->tracked, &lc->n_tracked, domid, false);
	member(&lc->to_sync, &lc->n_to_sync, domid, false);
	member(&lc->to_check, &lc->n_to_check, domid, false);
	lc_set_put(&lc->to_forget, domid, false);
}

/* The next member of queue from *cursor on, round robin, that is not busy or skipped. */
static bool take(struct lifecycle *lc, struct lc_set *queue, size_t *count, unsigned int *cursor,
		 bool (*skip)(void *ctx, unsigned int domid), void *ctx, unsigned int *domid)
{
	unsigned int start = *cursor < LC_DOMID_LIMIT ? *cursor : 0;

	if (*count == 0)
		return false;
	for (int round = 0; round < 2; round++) {
		unsigned int from = round == 0 ? start : 0, end = round == 0 ? LC_DOMID_LIMIT : start;

		for (unsigned int d = next_member(queue, from); d < end; d = next_member(queue, d + 1)) {
			if (lc_set_get(&lc->busy, d) || (skip && skip(ctx, d)))
				continue;
			member(queue, count, d, false);
			member(&lc->busy, &lc->n_busy, d, true);
			*cursor = d + 1;
			*domid = d;
			return true;
		}
	}
	return false;
}

bool lc_next_listing(struct lifecycle *lc, struct lc_work *w)
{
	if (!lc->connected || !lc->listing_wanted || lc->listing_busy)
		return false;
	*w = (struct lc_work){ .kind = LC_WORK_LIST, .why = lc->listing_wanted, .epoch = lc->epoch };
	lc->listing_wanted = 0;
	lc->listing_busy = true;
	lc->listing_connect = w->why & LC_LIST_CONNECT;
	return true;
}

bool lc_next_work(struct lifecycle *lc, struct lc_work *w,
		  bool (*skip)(void *ctx, unsigned int domid), void *ctx)
{
	/* Not before the connection's listing has said what to sync. */
	if (!lc->connected || lc->listing_connect || (lc->listing_wanted & LC_LIST_CONNECT))
		return false;
	*w = (struct lc_work){ .epoch = lc->epoch };
	w->kind = LC_WORK_SYNC;
	if (take(lc, &lc->to_sync, &lc->n_to_sync, &lc->sync_cursor, skip, ctx, &w->domid))
		return true;
	w->kind = LC_WORK_CHECK;
	return take(lc, &lc->to_check, &lc->n_to_check, &lc->check_cursor, skip, ctx, &w->domid);
}

bool lc_next_forget(struct lifecycle *lc, unsigned int *domid)
{
	unsigned int d = next_member(&lc->to_forget, 0);

	if (d >= LC_DOMID_LIMIT)
		return false;
	lc_set_put(&lc->to_forget, d, false);
	*domid = d;
	return true;
}

size_t lc_pending(const struct lifecycle *lc)
{
	/* A connection's listing not yet answered: the pass has not said how long it is. */
	bool unlisted = lc->listing_connect || (lc->listing_wanted & LC_LIST_CONNECT);

	return lc->n_to_sync + lc->n_to_check + lc->n_busy + unlisted;
}

bool lc_take_synchronised(struct lifecycle *lc)
{
	if (!lc->connect_pass || lc->listing_busy || (lc->listing_wanted & LC_LIST_CONNECT) ||
	    lc->n_to_sync > 0 || lc->n_busy > 0)
		return false;
	lc->connect_pass = false;
	return true;
}

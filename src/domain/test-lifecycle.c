/*
 * Unit tests of the domain lifecycle: xenstore's answers in, work and
 * departures out, with no xenstore.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domain/lifecycle.h"

static struct lifecycle *lc_new(void)
{
	struct lifecycle *lc = malloc(sizeof(*lc));

	assert_non_null(lc);
	lc_init(lc);
	return lc;
}

static struct lc_set listing(const unsigned int *domids, size_t n)
{
	struct lc_set s;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < n; i++)
		lc_set_put(&s, domids[i], true);
	return s;
}
#define LISTING(...) listing((const unsigned int[]){ __VA_ARGS__ }, \
			     sizeof((unsigned int[]){ __VA_ARGS__ }) / sizeof(unsigned int))

/* Takes the listing the lifecycle wants, checking why. */
static struct lc_work take_listing(struct lifecycle *lc, unsigned int why)
{
	struct lc_work w;

	assert_true(lc_next_listing(lc, &w));
	assert_int_equal(w.kind, LC_WORK_LIST);
	assert_int_equal(w.why, why);
	return w;
}

static struct lc_work take_work(struct lifecycle *lc, enum lc_work_kind kind, unsigned int domid)
{
	struct lc_work w;

	assert_true(lc_next_work(lc, &w, NULL, NULL));
	assert_int_equal(w.kind, kind);
	assert_int_equal(w.domid, domid);
	return w;
}

static void assert_no_work(struct lifecycle *lc)
{
	struct lc_work w;

	assert_false(lc_next_listing(lc, &w));
	assert_false(lc_next_work(lc, &w, NULL, NULL));
}

/* Connected with domains listed and every one of them adopted. */
static struct lifecycle *connected_with(const struct lc_set *listed)
{
	struct lifecycle *lc = lc_new();
	struct lc_work w;

	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	lc_listing_done(lc, &w, listed);
	while (lc_next_work(lc, &w, NULL, NULL)) {
		assert_int_equal(w.kind, LC_WORK_SYNC);
		assert_int_equal(lc_sync_done(lc, &w, 1), LC_ADOPTED);
	}
	assert_true(lc_take_synchronised(lc));
	return lc;
}

static void test_connect_adopts_what_is_introduced(void **state)
{
	struct lifecycle *lc = lc_new();
	struct lc_set listed = LISTING(0, 3, 7);
	struct lc_work w, w0, w3, w7;

	/* Nothing before the connection, and no syncs before its listing. */
	assert_no_work(lc);
	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	assert_false(lc_next_work(lc, &w0, NULL, NULL));
	lc_listing_done(lc, &w, &listed);
	assert_int_equal(lc_pending(lc), 3);
	w0 = take_work(lc, LC_WORK_SYNC, 0);
	w3 = take_work(lc, LC_WORK_SYNC, 3);
	w7 = take_work(lc, LC_WORK_SYNC, 7);
	assert_false(lc_take_synchronised(lc));
	assert_int_equal(lc_sync_done(lc, &w0, 1), LC_ADOPTED);
	/* A home without an introduced domain: awaiting, never adopted. */
	assert_int_equal(lc_sync_done(lc, &w3, 0), LC_NOTHING);
	assert_true(lc_set_get(&lc->awaiting, 3));
	assert_int_equal(lc_sync_done(lc, &w7, 1), LC_ADOPTED);
	assert_true(lc_take_synchronised(lc));
	assert_false(lc_take_synchronised(lc));
	assert_int_equal(lc->n_tracked, 2);
	assert_no_work(lc);
	free(lc);
}

static void test_release_checks_and_forgets(void **state)
{
	struct lc_set listed = LISTING(1, 2, 3);
	struct lifecycle *lc = connected_with(&listed);
	struct lc_set after = LISTING(1, 3);
	struct lc_work w, c1, c3;
	unsigned int domid;

	lc_release_event(lc);
	w = take_listing(lc, LC_LIST_RELEASE);
	lc_listing_done(lc, &w, &after);
	/* 2 left the listing: gone at once, announced. */
	assert_true(lc_next_forget(lc, &domid));
	assert_int_equal(domid, 2);
	assert_false(lc_next_forget(lc, &domid));
	/* The others are asked, one request each. */
	c1 = take_work(lc, LC_WORK_CHECK, 1);
	c3 = take_work(lc, LC_WORK_CHECK, 3);
	assert_false(lc_check_done(lc, &c1, 1));
	/* 3 died but its home is still there (the toolstack removes it later). */
	assert_true(lc_check_done(lc, &c3, 0));
	assert_false(lc_set_get(&lc->tracked, 3));
	assert_int_equal(lc->n_tracked, 1);
	/* An error is no death. */
	lc_release_event(lc);
	w = take_listing(lc, LC_LIST_RELEASE);
	lc_listing_done(lc, &w, &after);
	c1 = take_work(lc, LC_WORK_CHECK, 1);
	assert_false(lc_check_done(lc, &c1, -EIO));
	assert_true(lc_set_get(&lc->tracked, 1));
	free(lc);
}

static void test_listings_coalesce(void **state)
{
	struct lc_set listed = LISTING(1);
	struct lifecycle *lc = connected_with(&listed);
	struct lc_set more = LISTING(1, 4, 5);
	struct lc_work w, w4, w5;

	/* 100 releases and an introduction while one listing is in flight... */
	lc_release_event(lc);
	w = take_listing(lc, LC_LIST_RELEASE);
	for (int i = 0; i < 100; i++)
		lc_release_event(lc);
	lc_introduce_event(lc);
	assert_false(lc_next_listing(lc, &w4));
	lc_listing_done(lc, &w, &listed);
	/* ...make one more listing, for both reasons. */
	w = take_listing(lc, LC_LIST_RELEASE | LC_LIST_INTRODUCE);
	assert_false(lc_next_listing(lc, &w4));
	lc_listing_done(lc, &w, &more);
	/* The new domains first, then the one check of 1 both listings asked for. */
	w4 = take_work(lc, LC_WORK_SYNC, 4);
	w5 = take_work(lc, LC_WORK_SYNC, 5);
	assert_int_equal(lc_sync_done(lc, &w4, 1), LC_ADOPTED);
	assert_int_equal(lc_sync_done(lc, &w5, 1), LC_ADOPTED);
	w = take_work(lc, LC_WORK_CHECK, 1);
	assert_false(lc_check_done(lc, &w, 1));
	assert_no_work(lc);
	free(lc);
}

/* A domain released while its sync is in flight is not adopted by its late answer. */
static void test_release_during_pass(void **state)
{
	struct lifecycle *lc = lc_new();
	struct lc_set listed = LISTING(1, 2), after = LISTING(1);
	struct lc_work w, w1, w2;
	unsigned int domid;

	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	lc_listing_done(lc, &w, &listed);
	w1 = take_work(lc, LC_WORK_SYNC, 1);
	w2 = take_work(lc, LC_WORK_SYNC, 2);
	lc_release_event(lc);
	w = take_listing(lc, LC_LIST_RELEASE);
	lc_listing_done(lc, &w, &after);
	assert_false(lc_next_forget(lc, &domid));	/* 2 was never announced */
	assert_int_equal(lc_sync_done(lc, &w2, 1), LC_NOTHING);
	assert_int_equal(lc_sync_done(lc, &w1, 1), LC_ADOPTED);
	assert_false(lc_set_get(&lc->tracked, 2));
	assert_true(lc_take_synchronised(lc));
	free(lc);
}

/*
 * An @introduceDomain whose listing raced the toolstack: the home was
 * listed (and found not introduced) before the introduction. Once the
 * newly listed domids are asked and none matched, the awaiting ones are
 * asked again, once.
 */
static void test_listing_races_introduce(void **state)
{
	struct lc_set listed = LISTING(1);
	struct lifecycle *lc = connected_with(&listed);
	struct lc_set with9 = LISTING(1, 9);
	struct lc_work w, w9;

	/* The toolstack writes 9's home: a release listing sees it, not introduced yet. */
	lc_introduce_event(lc);		/* an unrelated introduction, of a domain already gone */
	w = take_listing(lc, LC_LIST_INTRODUCE);
	lc_listing_done(lc, &w, &with9);
	w9 = take_work(lc, LC_WORK_SYNC, 9);
	assert_int_equal(lc_sync_done(lc, &w9, 0), LC_NOTHING);
	/* The introduction matched nothing: 9 is asked again. */
	w9 = take_work(lc, LC_WORK_SYNC, 9);
	assert_int_equal(lc_sync_done(lc, &w9, 0), LC_NOTHING);
	assert_no_work(lc);
	/* Now 9 is introduced: its own event lists nothing new, so awaiting is asked. */
	lc_introduce_event(lc);
	w = take_listing(lc, LC_LIST_INTRODUCE);
	lc_listing_done(lc, &w, &with9);
	w9 = take_work(lc, LC_WORK_SYNC, 9);
	assert_int_equal(lc_sync_done(lc, &w9, 1), LC_ADOPTED);
	assert_no_work(lc);
	/* A leftover home costs nothing per later introduction once matched. */
	assert_int_equal(lc->introduce_unmatched, 0);
	free(lc);
}

/* A domid reused after its home left the listing is a new domain. */
static void test_domid_reuse(void **state)
{
	struct lc_set listed = LISTING(4);
	struct lifecycle *lc = connected_with(&listed);
	struct lc_set none = LISTING(0);
	struct lc_work w;
	unsigned int domid;

	lc_release_event(lc);
	w = take_listing(lc, LC_LIST_RELEASE);
	lc_listing_done(lc, &w, &none);
	assert_true(lc_next_forget(lc, &domid));
	assert_int_equal(domid, 4);
	lc_introduce_event(lc);
	w = take_listing(lc, LC_LIST_INTRODUCE);
	lc_listing_done(lc, &w, &listed);
	w = take_work(lc, LC_WORK_SYNC, 4);
	assert_int_equal(lc_sync_done(lc, &w, 1), LC_ADOPTED);
	free(lc);
}

/* After a loss every answer outstanding is void, and the next connection resyncs all. */
static void test_lost_voids_answers(void **state)
{
	struct lc_set listed = LISTING(2, 6);
	struct lifecycle *lc = connected_with(&listed);
	struct lc_work w, c2;

	lc_release_event(lc);
	w = take_listing(lc, LC_LIST_RELEASE);
	lc_listing_done(lc, &w, &listed);
	c2 = take_work(lc, LC_WORK_CHECK, 2);
	lc_lost(lc);
	assert_no_work(lc);
	assert_false(lc_check_done(lc, &c2, 0));	/* stale: 2 stays */
	assert_true(lc_set_get(&lc->tracked, 2));
	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	lc_listing_done(lc, &w, &listed);
	w = take_work(lc, LC_WORK_SYNC, 2);
	assert_int_equal(lc_sync_done(lc, &w, 1), LC_RESYNCED);
	w = take_work(lc, LC_WORK_SYNC, 6);
	/* Died while the connection was down. */
	assert_int_equal(lc_sync_done(lc, &w, 0), LC_DIED);
	assert_int_equal(lc->n_tracked, 1);
	assert_true(lc_take_synchronised(lc));
	free(lc);
}

static bool skip_odd(void *ctx, unsigned int domid)
{
	return domid % 2;
}

/* A domid the engine is busy with stays queued; the others go round robin. */
static void test_busy_domains_wait(void **state)
{
	struct lifecycle *lc = lc_new();
	struct lc_set listed = LISTING(1, 2, 3, 4);
	struct lc_work w;

	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	lc_listing_done(lc, &w, &listed);
	assert_true(lc_next_work(lc, &w, skip_odd, NULL));
	assert_int_equal(w.domid, 2);
	assert_int_equal(lc_sync_done(lc, &w, 1), LC_ADOPTED);
	assert_true(lc_next_work(lc, &w, skip_odd, NULL));
	assert_int_equal(w.domid, 4);
	assert_int_equal(lc_sync_done(lc, &w, 1), LC_ADOPTED);
	assert_false(lc_next_work(lc, &w, skip_odd, NULL));
	assert_int_equal(lc_pending(lc), 2);
	w = take_work(lc, LC_WORK_SYNC, 1);
	/* One work item per domid at a time. */
	lc_set_put(&lc->to_sync, 1, true);
	lc->n_to_sync++;
	assert_true(lc_next_work(lc, &w, NULL, NULL));
	assert_int_equal(w.domid, 3);
	free(lc);
}

/* Failed answers change nothing; a failed connection listing leaves no pass done. */
static void test_failures(void **state)
{
	struct lifecycle *lc = lc_new();
	struct lc_set listed = LISTING(8);
	struct lc_work w;

	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	lc_listing_done(lc, &w, NULL);
	assert_int_equal(lc_pending(lc), 0);
	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	lc_listing_done(lc, &w, &listed);
	w = take_work(lc, LC_WORK_SYNC, 8);
	assert_int_equal(lc_sync_done(lc, &w, -ENOMEM), LC_NOTHING);
	assert_false(lc_set_get(&lc->tracked, 8));
	assert_false(lc_set_get(&lc->awaiting, 8));
	/* The highest domid works like any. */
	listed = LISTING(LC_DOMID_LIMIT - 1);
	lc_connected(lc);
	w = take_listing(lc, LC_LIST_CONNECT);
	lc_listing_done(lc, &w, &listed);
	w = take_work(lc, LC_WORK_SYNC, LC_DOMID_LIMIT - 1);
	assert_int_equal(lc_sync_done(lc, &w, 1), LC_ADOPTED);
	free(lc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_adopts_what_is_introduced),
		cmocka_unit_test(test_release_checks_and_forgets),
		cmocka_unit_test(test_listings_coalesce),
		cmocka_unit_test(test_release_during_pass),
		cmocka_unit_test(test_listing_races_introduce),
		cmocka_unit_test(test_domid_reuse),
		cmocka_unit_test(test_lost_voids_answers),
		cmocka_unit_test(test_busy_domains_wait),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

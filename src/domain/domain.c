/*
 * One domain's state machine: dirty-path tracking and settling between
 * watch events and the engine's reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain.h"

const char *const domain_subtrees[] = {
	"attr", "data", "control", "drivers", "feature", "xenserver/attr",
};
const size_t domain_subtree_count = sizeof(domain_subtrees) / sizeof(domain_subtrees[0]);

static const char *const state_names[] = {
	[DOMAIN_DISCOVERED] = "discovered",
	[DOMAIN_IDLE] = "idle",
	[DOMAIN_SETTLING] = "settling",
	[DOMAIN_READING] = "reading",
};

const char *domain_state_name(enum domain_state state)
{
	return state_names[state];
}

struct domain *domain_new(unsigned int domid, uint32_t incarnation,
			  const struct domain_config *cfg)
{
	struct domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->domid = domid;
	d->incarnation = incarnation;
	d->state = DOMAIN_DISCOVERED;
	d->keys = keyset_new(&cfg->limits);
	if (!d->keys) {
		free(d);
		return NULL;
	}
	return d;
}

static void clear_dirty(struct domain *d)
{
	for (size_t i = 0; i < d->n_dirty; i++)
		free(d->dirty[i]);
	d->n_dirty = 0;
	d->rescan = false;
}

void domain_free(struct domain *d)
{
	if (!d)
		return;
	clear_dirty(d);
	keyset_free(d->keys);
	free(d->name);
	free(d->uuid);
	free(d);
}

void domain_set_identity(struct domain *d, char *name, char *uuid)
{
	free(d->name);
	free(d->uuid);
	d->name = name;
	d->uuid = uuid;
}

static bool is_subtree_root(const char *relpath)
{
	for (size_t i = 0; i < domain_subtree_count; i++)
		if (strcmp(relpath, domain_subtrees[i]) == 0)
			return true;
	return false;
}

static void mark_dirty(struct domain *d, const char *relpath)
{
	char *copy;

	if (d->rescan)
		return;
	/* A subtree root event means anything below may have changed (an rm). */
	if (relpath[0] == '\0' || is_subtree_root(relpath)) {
		d->rescan = true;
		return;
	}
	for (size_t i = 0; i < d->n_dirty; i++)
		if (strcmp(d->dirty[i], relpath) == 0)
			return;
	copy = d->n_dirty < DOMAIN_MAX_DIRTY ? strdup(relpath) : NULL;
	if (!copy) {
		/* Too many (or no memory): re-reading everything is bounded too. */
		clear_dirty(d);
		d->rescan = true;
		return;
	}
	d->dirty[d->n_dirty++] = copy;
}

uint64_t domain_on_write(struct domain *d, const char *relpath, uint64_t now_ms,
			 int64_t now_wall, const struct settle_config *cfg)
{
	/* Each watch registration answers once at once with its own path. */
	if (d->initial_events > 0 && is_subtree_root(relpath)) {
		d->initial_events--;
		return domain_deadline(d, cfg);
	}
	mark_dirty(d, relpath);
	d->last_write_ms = now_ms;
	d->last_write_wall = now_wall;
	settle_write(&d->settle, now_ms, strcmp(relpath, "data/updated") == 0);
	if (d->state == DOMAIN_IDLE)
		d->state = DOMAIN_SETTLING;
	return domain_deadline(d, cfg);
}

uint64_t domain_deadline(const struct domain *d, const struct settle_config *cfg)
{
	/* While a batch is read, writes settle into the next one. */
	bool open = d->state == DOMAIN_SETTLING ||
		(d->state == DOMAIN_READING && (d->n_dirty > 0 || d->rescan));

	if (!open)
		return SETTLE_NEVER;
	return settle_deadline(&d->settle, cfg);
}

char **domain_take_dirty(struct domain *d, size_t *n, bool *rescan)
{
	char **paths = NULL;

	*rescan = d->rescan;
	*n = 0;
	if (!d->rescan && d->n_dirty > 0) {
		paths = malloc(d->n_dirty * sizeof(*paths));
		if (!paths) {
			*rescan = true;
		} else {
			memcpy(paths, d->dirty, d->n_dirty * sizeof(*paths));
			*n = d->n_dirty;
			d->n_dirty = 0;
		}
	}
	clear_dirty(d);
	/* What is written from now on opens the next batch. */
	settle_reset(&d->settle);
	d->publish.held = false;	/* whatever was held is being read */
	d->state = DOMAIN_READING;
	return paths;
}

void domain_batch_done(struct domain *d)
{
	d->state = d->n_dirty > 0 || d->rescan ? DOMAIN_SETTLING : DOMAIN_IDLE;
}

/*
 * Settling: when a domain's batch of agent writes is complete enough to
 * read. Pure decisions over times in milliseconds; the caller owns timers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct settle_config {
	uint32_t quiet_ms;	/* close after this long with no write */
	uint32_t max_wait_ms;	/* ... or this long after the first write */
	bool strict;		/* the proposal: close only when data/updated is written */
};

struct settle {
	bool open;
	bool kicked;		/* data/updated was written in this batch */
	uint64_t first_ms;
	uint64_t last_ms;
};

#define SETTLE_NEVER UINT64_MAX

/* A write to one of the domain's keys; kick when it was data/updated. */
void settle_write(struct settle *s, uint64_t now_ms, bool kick);

/*
 * When the open batch must close: a time in ms (at or before now: close
 * now), or SETTLE_NEVER (no batch, or a strict batch with no kick yet).
 */
uint64_t settle_deadline(const struct settle *s, const struct settle_config *cfg);

/* The batch was read: start afresh. */
void settle_reset(struct settle *s);

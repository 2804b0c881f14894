/*
 * A domain's publication limit: a token bucket that admits a settled batch
 * for reading (and so for publishing) at most `burst` times at once, then
 * `per_s` times a second. A batch that is not admitted stays open and
 * merges with whatever the guest writes next, so the latest state is read
 * when the next token comes: never later than one interval after the guest
 * goes quiet. Pure: times in monotonic milliseconds, the caller owns timers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The limit's warning is logged at most this often per domain. */
#define RATELIMIT_WARN_INTERVAL_MS 60000

struct ratelimit_config {
	uint32_t burst;		/* batches admitted at once after a quiet spell (>= 1) */
	uint32_t per_s;		/* then this many a second; 0: no limit */
};

struct ratelimit {
	bool started;
	bool held;		/* a batch is waiting for a token */
	uint64_t milli;		/* tokens, in thousandths */
	uint64_t at_ms;		/* when milli was last brought up to date */
	uint64_t merged;	/* batches that waited and merged into a later one */
	bool warned;
	uint64_t warned_ms;
};

/*
 * A batch wants to be read at now_ms. True: read it (a token is taken).
 * False: it is held and counted as merged; ask again at ratelimit_next().
 */
bool ratelimit_admit(struct ratelimit *rl, const struct ratelimit_config *cfg, uint64_t now_ms);

/* When the next token is there (now_ms or later). */
uint64_t ratelimit_next(const struct ratelimit *rl, const struct ratelimit_config *cfg,
			uint64_t now_ms);

/* Whether a batch is held back by the limit now. */
bool ratelimit_held(const struct ratelimit *rl);

/*
 * Whether to log that the limit holds this domain back: true at most once
 * per RATELIMIT_WARN_INTERVAL_MS, and only while a batch is held.
 */
bool ratelimit_warn_due(struct ratelimit *rl, uint64_t now_ms);

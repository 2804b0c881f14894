/*
 * The publication token bucket, in integer thousandths of a token so that
 * any rate refills exactly, whatever the clock's granularity.
 */
#include "domain/ratelimit.h"

/* Tokens as of now_ms, without taking any. */
static uint64_t tokens_at(const struct ratelimit *rl, const struct ratelimit_config *cfg,
			  uint64_t now_ms)
{
	uint64_t full = (uint64_t)cfg->burst * 1000, milli;

	if (!rl->started)
		return full;
	milli = rl->milli + (now_ms > rl->at_ms ? now_ms - rl->at_ms : 0) * cfg->per_s;
	return milli < full ? milli : full;
}

bool ratelimit_admit(struct ratelimit *rl, const struct ratelimit_config *cfg, uint64_t now_ms)
{
	if (cfg->per_s == 0) {
		rl->held = false;
		return true;
	}
	rl->milli = tokens_at(rl, cfg, now_ms);
	rl->at_ms = now_ms;
	rl->started = true;
	if (rl->milli >= 1000) {
		rl->milli -= 1000;
		rl->held = false;
		return true;
	}
	rl->held = true;
	rl->merged++;
	return false;
}

uint64_t ratelimit_next(const struct ratelimit *rl, const struct ratelimit_config *cfg,
			uint64_t now_ms)
{
	uint64_t milli;

	if (cfg->per_s == 0)
		return now_ms;
	milli = tokens_at(rl, cfg, now_ms);
	if (milli >= 1000)
		return now_ms;
	/* Rounded up: a timer at the rounded-down time would find 0.999 tokens. */
	return now_ms + (1000 - milli + cfg->per_s - 1) / cfg->per_s;
}

bool ratelimit_held(const struct ratelimit *rl)
{
	return rl->held;
}

bool ratelimit_warn_due(struct ratelimit *rl, uint64_t now_ms)
{
	if (!rl->held || (rl->warned && now_ms - rl->warned_ms < RATELIMIT_WARN_INTERVAL_MS))
		return false;
	rl->warned = true;
	rl->warned_ms = now_ms;
	return true;
}

/*
 * Settling decisions: a batch closes after a quiet period or a maximum wait,
 * whichever comes first, or at once when the agent writes data/updated.
 */
#include "domain/settle.h"

void settle_write(struct settle *s, uint64_t now_ms, bool kick)
{
	if (!s->open) {
		s->open = true;
		s->first_ms = now_ms;
	}
	s->last_ms = now_ms;
	s->kicked |= kick;
}

uint64_t settle_deadline(const struct settle *s, const struct settle_config *cfg)
{
	uint64_t quiet, cap;

	if (!s->open)
		return SETTLE_NEVER;
	if (s->kicked)
		return s->last_ms;
	if (cfg->strict)
		return SETTLE_NEVER;
	quiet = s->last_ms + cfg->quiet_ms;
	cap = s->first_ms + cfg->max_wait_ms;
	return quiet < cap ? quiet : cap;
}

void settle_reset(struct settle *s)
{
	*s = (struct settle){ 0 };
}

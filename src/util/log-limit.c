/*
 * One line per interval, counting the lines held back in between.
 */
#include "util/log-limit.h"

bool log_limit_pass(struct log_limit *rl, int64_t now_ms, uint64_t *suppressed)
{
	if (rl->started && now_ms < rl->next_ms) {
		rl->suppressed++;
		return false;
	}
	rl->started = true;
	rl->next_ms = now_ms + rl->interval_ms;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

/*
 * Rate limiting for log lines that an untrusted party can trigger at will
 * (a client flooding the socket): at most one line per interval, and the
 * next line says how many were held back. Pure: the caller passes the time.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct log_limit {
	int64_t interval_ms;
	int64_t next_ms;	/* the earliest time the next line may go out */
	uint64_t suppressed;	/* lines held back since the last one that went out */
	bool started;
};

#define LOG_LIMIT_INIT(ms) { .interval_ms = (ms) }

/*
 * True when a line may be logged at now_ms; *suppressed is then set to the
 * number of lines held back before it (and the count restarts). False, and
 * one more held back, otherwise.
 */
bool log_limit_pass(struct log_limit *rl, int64_t now_ms, uint64_t *suppressed);

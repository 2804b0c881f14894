/*
 * What a running process has cost so far, read from /proc: CPU time with
 * nanosecond resolution (summed over its threads, since libxenstore runs a
 * reader thread) and resident memory.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct proc_usage {
	uint64_t cpu_ns;	/* user + system, every live thread */
	uint64_t rss_kib;	/* VmRSS */
	uint64_t hwm_kib;	/* VmHWM: the peak of VmRSS */
};

/* 0, or a negative errno (-ESRCH when pid is gone). */
int proc_usage(pid_t pid, struct proc_usage *u);

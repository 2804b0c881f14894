/*
 * The floor client's board: a file the benchmark creates and both map
 * shared. The floor (floor.c) counts its xenstore requests here and leaves
 * each data/meminfo_free value it read, with when it read it, so that the
 * benchmark can tell it has caught up without the floor printing anything:
 * a store to shared memory costs nanoseconds, a line on a pipe a system call.
 */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FLOOR_BOARD_MAGIC 0x786d2d666c6f6f72ULL	/* "xm-floor" */

struct floor_slot {
	/* seen_ns is stored before value: a reader that sees value sees its time or a later one. */
	_Atomic uint64_t seen_ns;	/* CLOCK_MONOTONIC */
	_Atomic uint64_t value;		/* the last data/meminfo_free read, as a number */
};

struct floor_board {
	uint64_t magic;
	uint32_t n_domains;		/* slots: domids 1..n_domains */
	_Atomic uint32_t ready;		/* 1 once the first domains and their watches' first events are read */
	_Atomic uint64_t reads, directories, watches, watch_events, failed;
	struct floor_slot slots[];	/* index domid - 1 */
};

static inline size_t floor_board_size(uint32_t n_domains)
{
	return sizeof(struct floor_board) + (size_t)n_domains * sizeof(struct floor_slot);
}

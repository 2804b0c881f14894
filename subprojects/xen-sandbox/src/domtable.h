/*
 * The sandbox's domain table: which domains "exist" for the fake hypervisor
 * and in what state, as a small text file ("<domid> <state>" per line) that
 * the control tool rewrites atomically and the shim inside xenstored reads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMTABLE_MAX 4096

enum domstate {
	DOMSTATE_RUNNING,
	DOMSTATE_SHUTDOWN,
	DOMSTATE_CRASHED,
	DOMSTATE_DYING,
};

struct domtable_entry {
	uint32_t domid;
	enum domstate state;
};

/* Sorted by domid; dom0 is always present. */
struct domtable {
	size_t count;
	struct domtable_entry entries[DOMTABLE_MAX];
};

const char *domstate_name(enum domstate state);
int domstate_parse(const char *name, enum domstate *state);

/* Parses text into table; -EINVAL on a malformed line, -ENOSPC when full. */
int domtable_parse(struct domtable *table, const char *text);
/* Formats table into buf; returns the length or -ENOSPC. */
int domtable_format(const struct domtable *table, char *buf, size_t size);

struct domtable_entry *domtable_find(struct domtable *table, uint32_t domid);
/* Adds or updates; -ENOSPC when full. */
int domtable_set(struct domtable *table, uint32_t domid, enum domstate state);
/* Returns true when the domain was there. dom0 cannot be removed. */
bool domtable_remove(struct domtable *table, uint32_t domid);

/* File I/O: a missing file is a table with only dom0. Negative errno on error. */
int domtable_load(struct domtable *table, const char *path);
int domtable_save(const struct domtable *table, const char *path);

/*
 * Evaluating a scenario's field conditions (struct scn_cond, a bound
 * scn_match) against a parsed JSON object, and rendering JSON compactly
 * for reports. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

#include "scenario.h"

/* The value at a dotted path ("data.memory.free_kib"), or NULL. */
yajl_val scn_json_at(yajl_val root, const char *dotted);

/*
 * Whether root satisfies c. got receives what the field held, compact
 * JSON or "(absent)", cut to size, for the report of a mismatch.
 */
bool scn_match_eval(const struct scn_cond *c, yajl_val root, char *got, size_t size);

/* Compact JSON of v into buf (cut to size with "..."); returns buf. */
char *scn_json_render(yajl_val v, char *buf, size_t size);

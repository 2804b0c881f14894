/*
 * Evaluating a scenario's field conditions (struct scn_cond, a bound
 * scn_match) against a JSON message as xgmd sent it, and rendering parts of
 * one compactly for reports. Pure.
 *
 * Both read the text itself with yajl's event parser rather than a
 * yajl_tree: a tree cuts a string at an escaped NUL (\u0000), which guest
 * values may hold, while the event parser gives every byte.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

/*
 * Whether the JSON object text[0..len) satisfies c. got receives what the
 * field held, compact JSON or "(absent)", cut to size, for the report of a
 * mismatch.
 */
bool scn_match_eval(const struct scn_cond *c, const char *text, size_t len, char *got, size_t size);

/*
 * The value at a dotted path ("data", "data.memory"; "" for the whole text)
 * as compact JSON, strings whole (a NUL as \u0000), cut to size with "...";
 * "(absent)" when there is none. Returns buf.
 */
char *scn_json_render_at(const char *text, size_t len, const char *dotted, char *buf, size_t size);

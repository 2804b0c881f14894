/*
 * What every fuzz harness checks of the bytes xgmd would send: one line
 * of valid UTF-8 that parses as JSON. A violation aborts, which libFuzzer
 * reports as a crash with the input that caused it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "json/jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Aborts unless w holds exactly one valid JSON value on one line. A writer
 * that ran out of memory holds nothing to check; any other writer error is
 * a bug of ours, and aborts too.
 */
void fuzz_check_json(const struct jsonw *w);

/*
 * What every fuzz harness checks of the bytes xgmd would send: one line
 * of valid UTF-8 that parses as JSON. A violation aborts, which libFuzzer
 * reports as a crash with the input that caused it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless g holds exactly one valid JSON value on one line. */
void fuzz_check_json(yajl_gen g);

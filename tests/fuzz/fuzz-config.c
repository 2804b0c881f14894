/*
 * The configuration parser on any file, strict and lenient: never a crash
 * or a leak, and a refused file leaves the configuration untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz.h"

static void ignore(void *arg, const char *msg)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int strict = 0; strict < 2; strict++) {
		struct config_diag diag = { .strict = strict, .warn = ignore };
		struct xgm_config cfg, before;
		int r;

		config_init(&cfg);
		before = cfg;
		r = config_parse(&cfg, "fuzz.conf", (const char *)data, size, &diag);
		if (r != 0 && memcmp(&cfg, &before, sizeof(cfg)) != 0)
			abort();
		if (r != 0 && diag.error[0] == '\0')
			abort();
		if (r == 0)
			config_validate(&cfg, &diag);
	}
	return 0;
}

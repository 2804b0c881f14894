/*
 * Prints xgmd's configuration table, one key a line, for
 * test-conf-page.py to hold xgmd.conf(5) against:
 *   SECTION <tab> KEY <tab> BUILT-IN DEFAULT <tab> reload|restart
 */
#include <stdio.h>

#include "config/config.h"

int main(void)
{
	struct xgm_config cfg;
	struct config_key_info info;
	char value[CONFIG_SOCKET_MAX];

	config_init(&cfg);
	for (size_t i = 0; config_key_at(i, &info); i++) {
		if (config_format(&cfg, i, value, sizeof(value)) < 0) {
			fprintf(stderr, "config-keys: cannot format %s.%s\n", info.section, info.name);
			return 1;
		}
		printf("%s\t%s\t%s\t%s\n", info.section, info.name, value,
		       info.restart ? "restart" : "reload");
	}
	return fflush(stdout) ? 1 : 0;
}

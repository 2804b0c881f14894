/*
 * Logging to stderr with journald's "<N>" priority prefixes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

static enum log_level current = LOG_LEVEL_INFO;

static const struct {
	const char *name;
	enum log_level level;
} levels[] = {
	{ "err", LOG_LEVEL_ERR },
	{ "warning", LOG_LEVEL_WARNING },
	{ "notice", LOG_LEVEL_NOTICE },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
};

int log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(name, levels[i].name) == 0) {
			*level = levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (levels[i].level == level)
			return levels[i].name;
	}
	return NULL;
}

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static int tty = -1;
	char line[1024];
	va_list ap;

	if (level > current)
		return;
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines from a crash or a fork never interleave. */
	if (tty)
		dprintf(STDERR_FILENO, "xgmd: %s\n", line);
	else
		dprintf(STDERR_FILENO, "<%d>%s\n", (int)level, line);
}

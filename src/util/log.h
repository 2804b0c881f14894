/*
 * Logging to stderr, one line per message: with a "<N>" syslog priority
 * prefix for journald when stderr is not a terminal, plain otherwise. Owns
 * the levels' names, which the configuration and the options use too.
 */
#pragma once

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* The level names, for messages and usage texts (test-log holds it to the table in log.c). */
#define LOG_LEVEL_NAMES "err, warning, notice, info or debug"

/* Parses one of LOG_LEVEL_NAMES; -EINVAL otherwise. */
int log_level_parse(const char *name, enum log_level *level);
/* The name of a level ("info"); NULL for a value that is none. */
const char *log_level_name(enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

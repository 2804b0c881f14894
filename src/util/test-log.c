/*
 * Unit tests of util/log's level names: the one list that the configuration,
 * xgmd's options and their messages use, both ways.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/log.h"

static void test_names_round_trip(void **state)
{
	static const struct {
		const char *name;
		enum log_level level;
	} cases[] = {
		{ "err", LOG_LEVEL_ERR },
		{ "warning", LOG_LEVEL_WARNING },
		{ "notice", LOG_LEVEL_NOTICE },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	enum log_level level;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(log_level_parse(cases[i].name, &level), 0);
		assert_int_equal(level, cases[i].level);
		assert_string_equal(log_level_name(cases[i].level), cases[i].name);
	}
	/* syslog priorities xgmd has no name for, and junk. */
	assert_null(log_level_name((enum log_level)2));
	assert_null(log_level_name((enum log_level)-1));
	assert_null(log_level_name((enum log_level)8));
	level = LOG_LEVEL_INFO;
	assert_int_equal(log_level_parse("INFO", &level), -EINVAL);
	assert_int_equal(log_level_parse("", &level), -EINVAL);
	assert_int_equal(log_level_parse("warn", &level), -EINVAL);
	assert_int_equal(level, LOG_LEVEL_INFO);
}

/* LOG_LEVEL_NAMES, which messages print, lists exactly the names parsed, in order. */
static void test_names_text(void **state)
{
	char text[128] = "";
	size_t n = 0;
	const char *names[8];

	for (int level = 0; level < 8; level++) {
		const char *name = log_level_name((enum log_level)level);

		if (name)
			names[n++] = name;
	}
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(text);

		snprintf(text + used, sizeof(text) - used, "%s%s",
			 i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	}
	assert_string_equal(text, LOG_LEVEL_NAMES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_names_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

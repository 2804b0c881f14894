/* Unit tests of command parsing: every command, every error class, hostile lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "protocol/command.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void parse_ok(const char *line, size_t len, struct command *cmd)
{
	struct command_error err = { 0 };
	int r = command_parse(line, len, cmd, &err);

	if (r)
		fail_msg("%.*s: %d %s", (int)len, line, r, err.desc);
}

/* Parses a line that must fail with cls; returns the id it could still read. */
static struct command_id parse_fail(const char *line, size_t len, enum command_error_class cls)
{
	struct command_error err = { 0 };
	struct command cmd;
	struct command_id id;
	int r = command_parse(line, len, &cmd, &err);

	if (r != -EINVAL)
		fail_msg("%.*s: expected -EINVAL, got %d", (int)len, line, r);
	if (err.cls != cls)
		fail_msg("%.*s: expected %s, got %s (%s)", (int)len, line,
			 command_error_class_name(cls), command_error_class_name(err.cls), err.desc);
	assert_true(strlen(err.desc) > 0);
	/* A failed parse never leaves a filter behind. */
	assert_null(cmd.filter.domains);
	id = cmd.id;
	if (id.type == COMMAND_ID_STRING)
		id.text = NULL;	/* released below; tests only look at type and num */
	command_release(&cmd);
	return id;
}

static void test_ping(void **state)
{
	struct command cmd;

	parse_ok(S("{\"cmd\":\"ping\"}"), &cmd);
	assert_int_equal(cmd.kind, COMMAND_PING);
	assert_int_equal(cmd.id.type, COMMAND_ID_NULL);
	command_release(&cmd);

	parse_ok(S(" { \"id\" : 42 , \"cmd\" : \"ping\" } "), &cmd);
	assert_int_equal(cmd.id.type, COMMAND_ID_INT);
	assert_int_equal(cmd.id.num, 42);
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"ping\",\"id\":null}"), &cmd);
	assert_int_equal(cmd.id.type, COMMAND_ID_NULL);
	command_release(&cmd);
}

static void test_ids(void **state)
{
	struct command cmd;

	/* The id is kept as written, escapes and all, to be echoed byte for byte. */
	parse_ok(S("{\"cmd\":\"ping\",\"id\":\"abc \\u00e9\\n\"}"), &cmd);
	assert_int_equal(cmd.id.type, COMMAND_ID_STRING);
	assert_string_equal(cmd.id.text, "\"abc \\u00e9\\n\"");
	assert_int_equal(cmd.id.len, strlen(cmd.id.text));
	command_release(&cmd);

	/* A lone surrogate is valid JSON text; yajl alone would make it "?". */
	parse_ok(S("{\"cmd\":\"ping\",\"id\":\"\\ud800\"}"), &cmd);
	assert_int_equal(cmd.id.type, COMMAND_ID_STRING);
	assert_string_equal(cmd.id.text, "\"\\ud800\"");
	command_release(&cmd);

	/* Whitespace around it is not part of it; commas, colons and braces inside are. */
	parse_ok(S("{\"cmd\" : \"ping\" ,\n\"id\"\t:  \"a,\\\"}:{\" \r}"), &cmd);
	assert_string_equal(cmd.id.text, "\"a,\\\"}:{\"");
	command_release(&cmd);
	parse_ok(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":[1,2],\"events\":[]},\"id\":-0}"), &cmd);
	assert_int_equal(cmd.id.type, COMMAND_ID_INT);
	assert_int_equal(cmd.id.num, 0);
	assert_string_equal(cmd.id.text, "-0");
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"ping\",\"id\":-9223372036854775807}"), &cmd);
	assert_int_equal(cmd.id.type, COMMAND_ID_INT);
	assert_true(cmd.id.num == -INT64_MAX);
	assert_string_equal(cmd.id.text, "-9223372036854775807");
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"ping\",\"id\":\"\"}"), &cmd);
	assert_int_equal(cmd.id.type, COMMAND_ID_STRING);
	assert_string_equal(cmd.id.text, "\"\"");
	assert_int_equal(cmd.id.len, 2);
	command_release(&cmd);
}

static void test_subscribe(void **state)
{
	struct command cmd;

	parse_ok(S("{\"cmd\":\"subscribe\",\"id\":1,\"filter\":{\"domains\":[5,3,5,0],"
		   "\"events\":[\"domain.metrics\",\"domain.gone\"]},\"snapshot\":false}"), &cmd);
	assert_int_equal(cmd.kind, COMMAND_SUBSCRIBE);
	assert_false(cmd.snapshot);
	assert_false(cmd.filter.all_domains);
	assert_int_equal(cmd.filter.n_domains, 3);
	assert_int_equal(cmd.filter.domains[0], 0);
	assert_int_equal(cmd.filter.domains[1], 3);
	assert_int_equal(cmd.filter.domains[2], 5);
	assert_int_equal(cmd.filter.events, XGM_EVENT_DOMAIN_METRICS | XGM_EVENT_DOMAIN_GONE);
	assert_true(command_filter_match(&cmd.filter, 5, XGM_EVENT_DOMAIN_METRICS));
	assert_false(command_filter_match(&cmd.filter, 5, XGM_EVENT_DOMAIN_NEW));
	assert_false(command_filter_match(&cmd.filter, 4, XGM_EVENT_DOMAIN_METRICS));
	assert_true(command_filter_match_domain(&cmd.filter, 0));
	assert_false(command_filter_match_domain(&cmd.filter, 7));
	command_release(&cmd);

	/* Absent filter fields select everything; snapshot defaults to true. */
	parse_ok(S("{\"cmd\":\"subscribe\"}"), &cmd);
	assert_true(cmd.snapshot);
	assert_true(cmd.filter.all_domains);
	assert_int_equal(cmd.filter.events, XGM_EVENT_ALL);
	assert_true(command_filter_match(&cmd.filter, 32000, XGM_EVENT_DOMAIN_NEW));
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"subscribe\",\"filter\":{\"events\":[\"domain.new\"]},\"snapshot\":true}"), &cmd);
	assert_true(cmd.filter.all_domains);
	assert_int_equal(cmd.filter.events, XGM_EVENT_DOMAIN_NEW);
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"subscribe\",\"filter\":null}"), &cmd);
	assert_true(cmd.filter.all_domains);
	command_release(&cmd);

	/* Empty lists mean what they say: nothing. */
	parse_ok(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":[],\"events\":[]}}"), &cmd);
	assert_false(cmd.filter.all_domains);
	assert_int_equal(cmd.filter.n_domains, 0);
	assert_false(command_filter_match_domain(&cmd.filter, 0));
	assert_false(command_filter_match(&cmd.filter, 0, XGM_EVENT_DOMAIN_NEW));
	command_release(&cmd);
}

static void test_filter_move(void **state)
{
	struct command cmd;
	struct command_filter kept = { .all_domains = true, .events = XGM_EVENT_ALL };

	parse_ok(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":[7]}}"), &cmd);
	command_filter_move(&kept, &cmd.filter);
	assert_null(cmd.filter.domains);
	assert_true(cmd.filter.all_domains);
	command_release(&cmd);
	assert_true(command_filter_match_domain(&kept, 7));
	assert_false(command_filter_match_domain(&kept, 8));
	parse_ok(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":[8]}}"), &cmd);
	command_filter_move(&kept, &cmd.filter);	/* frees the old list */
	command_release(&cmd);
	assert_true(command_filter_match_domain(&kept, 8));
	command_filter_release(&kept);
	assert_true(command_filter_match_domain(&kept, 1));
}

static void test_other_commands(void **state)
{
	struct command cmd;

	parse_ok(S("{\"cmd\":\"get\",\"id\":2,\"domain\":5}"), &cmd);
	assert_int_equal(cmd.kind, COMMAND_GET);
	assert_int_equal(cmd.domid, 5);
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"get\",\"domain\":32751}"), &cmd);
	assert_int_equal(cmd.domid, XGM_DOMID_MAX);
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"list\"}"), &cmd);
	assert_int_equal(cmd.kind, COMMAND_LIST);
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"stats\",\"id\":\"s\"}"), &cmd);
	assert_int_equal(cmd.kind, COMMAND_STATS);
	command_release(&cmd);

	parse_ok(S("{\"cmd\":\"unsubscribe\"}"), &cmd);
	assert_int_equal(cmd.kind, COMMAND_UNSUBSCRIBE);
	command_release(&cmd);
}

static void test_parse_errors(void **state)
{
	parse_fail(S(""), COMMAND_ERROR_PARSE);
	parse_fail(S("{"), COMMAND_ERROR_PARSE);
	parse_fail(S("{\"cmd\":\"ping\"} {}"), COMMAND_ERROR_PARSE);
	parse_fail(S("{\"cmd\":\"ping\",}"), COMMAND_ERROR_PARSE);
	parse_fail(S("{'cmd':'ping'}"), COMMAND_ERROR_PARSE);
	parse_fail(S("nul"), COMMAND_ERROR_PARSE);
	/* Embedded NUL, raw or escaped, never reaches yajl's C strings. */
	parse_fail(S("{\"cmd\":\"ping\"}\0"), COMMAND_ERROR_PARSE);
	parse_fail(S("{\"cmd\":\"pi\0ng\"}"), COMMAND_ERROR_PARSE);
	parse_fail(S("{\"cmd\":\"ping\",\"id\":\"a\\u0000b\"}"), COMMAND_ERROR_PARSE);
	/* An escaped backslash before "u0000" is not an escape of it. */
	{
		struct command cmd;

		parse_ok(S("{\"cmd\":\"ping\",\"id\":\"a\\\\u0000b\"}"), &cmd);
		assert_string_equal(cmd.id.text, "\"a\\\\u0000b\"");
		command_release(&cmd);
	}
	/* Invalid UTF-8 inside strings and outside them. */
	parse_fail(S("{\"cmd\":\"ping\",\"id\":\"\xff\"}"), COMMAND_ERROR_PARSE);
	parse_fail(S("{\"cmd\":\"p\xc0\xafng\"}"), COMMAND_ERROR_PARSE);
	parse_fail(S("\xef\xbb\xbf{\"cmd\":\"ping\"}"), COMMAND_ERROR_PARSE);
	parse_fail(S("{\"cmd\":\"ping\"/*x*/}"), COMMAND_ERROR_PARSE);
	parse_fail(S("// {\"cmd\":\"ping\"}"), COMMAND_ERROR_PARSE);
}

static void test_deep_nesting(void **state)
{
	size_t depth = 10000, len = 2 * depth + 32;
	char *line = malloc(len);
	size_t n = 0;

	assert_non_null(line);
	n += (size_t)sprintf(line, "{\"cmd\":\"ping\",\"x\":");
	for (size_t i = 0; i < depth; i++)
		line[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		line[n++] = ']';
	line[n++] = '}';
	parse_fail(line, n, COMMAND_ERROR_PARSE);
	/* Unbalanced, and brackets inside strings do not count. */
	parse_fail(line, 20 + depth, COMMAND_ERROR_PARSE);
	free(line);

	{
		struct command cmd;

		parse_ok(S("{\"cmd\":\"ping\",\"id\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}"), &cmd);
		command_release(&cmd);
	}
	/* Exactly at the limit parses (then fails on the unknown key). */
	{
		char ok[128];
		int k = sprintf(ok, "{\"cmd\":\"ping\",\"x\":");

		for (int i = 1; i < COMMAND_MAX_DEPTH; i++)
			ok[k++] = '[';
		for (int i = 1; i < COMMAND_MAX_DEPTH; i++)
			ok[k++] = ']';
		ok[k++] = '}';
		parse_fail(ok, (size_t)k, COMMAND_ERROR_INVALID_ARGUMENT);
	}
}

static void test_invalid_commands(void **state)
{
	struct command_id id;

	parse_fail(S("[]"), COMMAND_ERROR_INVALID_COMMAND);
	parse_fail(S("\"x\""), COMMAND_ERROR_INVALID_COMMAND);
	parse_fail(S("5"), COMMAND_ERROR_INVALID_COMMAND);
	parse_fail(S("null"), COMMAND_ERROR_INVALID_COMMAND);
	parse_fail(S("{}"), COMMAND_ERROR_INVALID_COMMAND);
	id = parse_fail(S("{\"cmd\":5,\"id\":7}"), COMMAND_ERROR_INVALID_COMMAND);
	assert_int_equal(id.type, COMMAND_ID_INT);
	assert_int_equal(id.num, 7);
	parse_fail(S("{\"cmd\":null}"), COMMAND_ERROR_INVALID_COMMAND);
	parse_fail(S("{\"cmd\":[\"ping\"]}"), COMMAND_ERROR_INVALID_COMMAND);
	/* Duplicate keys: which one would win is not something to guess. */
	id = parse_fail(S("{\"id\":3,\"cmd\":\"ping\",\"cmd\":\"list\"}"), COMMAND_ERROR_INVALID_COMMAND);
	assert_int_equal(id.num, 3);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":[1],\"domains\":[2]}}"),
		   COMMAND_ERROR_INVALID_COMMAND);
	parse_fail(S("{\"cmd\":\"ping\",\"id\":1,\"id\":2}"), COMMAND_ERROR_INVALID_COMMAND);
}

/* A line of thousands of distinct keys, or of one duplicate among them, as a client may send. */
static char *many_keys(size_t n, bool duplicate, size_t *len)
{
	size_t size = 32 + n * 16, off = 0;
	char *line = malloc(size);

	assert_non_null(line);
	off += (size_t)snprintf(line + off, size - off, "{\"cmd\":\"ping\"");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(line + off, size - off, ",\"k%zu\":0",
					duplicate && i == n - 1 ? n / 2 : i);
	off += (size_t)snprintf(line + off, size - off, "}");
	*len = off;
	return line;
}

static void test_many_keys(void **state)
{
	size_t len;
	char *line;

	/* Every key is checked: a duplicate far apart from its twin is still found. */
	line = many_keys(6610, true, &len);
	assert_true(len < 65536);
	parse_fail(line, len, COMMAND_ERROR_INVALID_COMMAND);
	free(line);
	/* Distinct keys pass the check and then fail as unknown keys of ping. */
	line = many_keys(6610, false, &len);
	parse_fail(line, len, COMMAND_ERROR_INVALID_ARGUMENT);
	free(line);
}

static void test_unknown_command(void **state)
{
	struct command_id id;

	id = parse_fail(S("{\"cmd\":\"reboot\",\"id\":9}"), COMMAND_ERROR_UNKNOWN_COMMAND);
	assert_int_equal(id.num, 9);
	parse_fail(S("{\"cmd\":\"\"}"), COMMAND_ERROR_UNKNOWN_COMMAND);
	parse_fail(S("{\"cmd\":\"PING\"}"), COMMAND_ERROR_UNKNOWN_COMMAND);
	parse_fail(S("{\"cmd\":\"\xc3\xa9\"}"), COMMAND_ERROR_UNKNOWN_COMMAND);
}

static void test_invalid_arguments(void **state)
{
	struct command_id id;

	/* Ids that cannot be echoed exactly are refused, and the error carries null. */
	id = parse_fail(S("{\"cmd\":\"ping\",\"id\":1e400}"), COMMAND_ERROR_INVALID_ARGUMENT);
	assert_int_equal(id.type, COMMAND_ID_NULL);
	parse_fail(S("{\"cmd\":\"ping\",\"id\":1.5}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"ping\",\"id\":99999999999999999999}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"ping\",\"id\":true}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"ping\",\"id\":{}}"), COMMAND_ERROR_INVALID_ARGUMENT);

	id = parse_fail(S("{\"cmd\":\"get\",\"id\":\"q\"}"), COMMAND_ERROR_INVALID_ARGUMENT);
	assert_int_equal(id.type, COMMAND_ID_STRING);
	parse_fail(S("{\"cmd\":\"get\",\"domain\":-1}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"get\",\"domain\":32752}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"get\",\"domain\":4294967301}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"get\",\"domain\":1e400}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"get\",\"domain\":5.0}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"get\",\"domain\":\"5\"}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"get\",\"domain\":null}"), COMMAND_ERROR_INVALID_ARGUMENT);

	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":[]}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":5}}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":[1,-2]}}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"domains\":[\"web01\"]}}"),
		   COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"events\":\"domain.new\"}}"),
		   COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"events\":[\"domain.nope\"]}}"),
		   COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"events\":[1]}}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"filter\":{\"domain\":[1]}}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"snapshot\":1}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"subscribe\",\"snapshot\":\"yes\"}"), COMMAND_ERROR_INVALID_ARGUMENT);
	/* Unknown keys are refused, so a typo never silently widens a filter. */
	parse_fail(S("{\"cmd\":\"subscribe\",\"filters\":{}}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"ping\",\"domain\":1}"), COMMAND_ERROR_INVALID_ARGUMENT);
	parse_fail(S("{\"cmd\":\"list\",\"snapshot\":true}"), COMMAND_ERROR_INVALID_ARGUMENT);
}

static void test_error_class_names(void **state)
{
	assert_string_equal(command_error_class_name(COMMAND_ERROR_PARSE), "ParseError");
	assert_string_equal(command_error_class_name(COMMAND_ERROR_INVALID_COMMAND), "InvalidCommand");
	assert_string_equal(command_error_class_name(COMMAND_ERROR_UNKNOWN_COMMAND), "UnknownCommand");
	assert_string_equal(command_error_class_name(COMMAND_ERROR_INVALID_ARGUMENT), "InvalidArgument");
	assert_string_equal(command_error_class_name(COMMAND_ERROR_NOT_FOUND), "NotFound");
	assert_string_equal(command_error_class_name(COMMAND_ERROR_LINE_TOO_LONG), "LineTooLong");
	assert_string_equal(command_error_class_name(COMMAND_ERROR_TOO_MANY_CLIENTS), "TooManyClients");
	assert_string_equal(command_error_class_name(COMMAND_ERROR_INTERNAL), "InternalError");
	assert_string_equal(command_error_class_name((enum command_error_class)99), "InternalError");
}

static void test_event_names(void **state)
{
	for (unsigned int bit = 1; bit & XGM_EVENT_ALL; bit <<= 1) {
		const char *name = xgm_event_name((enum xgm_event)bit);

		assert_non_null(name);
		assert_int_equal(xgm_event_from_name(name, strlen(name)), bit);
	}
	assert_int_equal(xgm_event_from_name(S("domain")), 0);
	assert_int_equal(xgm_event_from_name(S("domain.newer")), 0);
}

/* Every byte value in every position of a few lines: no crash, no leak, a clear answer. */
static void test_byte_soup(void **state)
{
	static const char *const seeds[] = {
		"{\"cmd\":\"subscribe\",\"id\":1,\"filter\":{\"domains\":[5],\"events\":[\"domain.metrics\"]}}",
		"{\"cmd\":\"get\",\"id\":\"x\",\"domain\":5}",
	};

	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t len = strlen(seeds[s]);
		char *line = malloc(len);

		assert_non_null(line);
		for (size_t pos = 0; pos < len; pos++) {
			for (int b = 0; b < 256; b++) {
				struct command_error err = { 0 };
				struct command cmd;
				int r;

				memcpy(line, seeds[s], len);
				line[pos] = (char)b;
				r = command_parse(line, len, &cmd, &err);
				assert_true(r == 0 || r == -EINVAL);
				if (r)
					assert_true(err.desc[0] != '\0');
				command_release(&cmd);
			}
		}
		free(line);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_subscribe),
		cmocka_unit_test(test_filter_move),
		cmocka_unit_test(test_other_commands),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_invalid_commands),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_invalid_arguments),
		cmocka_unit_test(test_error_class_names),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_byte_soup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

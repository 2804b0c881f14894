/* Unit tests of expectation conditions against JSON text: paths, operators, arrays, literals, NULs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "match.h"

static const char event[] =
	"{\"type\":\"event\",\"seq\":12,\"event\":\"domain.metrics\","
	"\"domain\":{\"id\":5,\"name\":\"web01\"},\"changed\":[\"memory\",\"live\"],"
	"\"data\":{\"memory\":{\"free_kib\":1523112},\"live\":true,\"last_updated\":null,"
	"\"os_version\":{\"name\":\"caf\\ufffd\",\"minor\":\"04\"},\"networks\":{\"0/ip\":\"10.0.0.5\"},"
	"\"other\":{\"feature-poweroff\":\"\",\"flag\":\"true\"}}}";

/* What xgmd sends for guest values with NUL bytes (jsonw: an escaped \u0000), in a value and in a key. */
static const char nul_event[] =
	"{\"type\":\"event\",\"data\":{\"os_version\":{\"uname\":\"6.1\\u0000evil\",\"build\":\"\\u0000\","
	"\"name\":\"a\\\\u0000b\"},\"disks\":{\"0\\u0000x/size\":\"1\"},"
	"\"names\":[\"x\\u0000y\",\"z\"]}}";

static const char *message = event;	/* what eval() evaluates against */

/* Parses one condition as an expectation would and evaluates it. */
static bool eval(const char *cond, char *got, size_t size)
{
	static const struct scn_iters none;
	char text[256], err[SCN_ERROR_MAX];
	struct scenario scn;
	struct scn_cond c;
	bool ok;

	snprintf(text, sizeof(text), "expect domain.metrics 5 within 1 %s\n", cond);
	assert_int_equal(scenario_parse("t.scn", text, strlen(text), &scn, err), 0);
	assert_int_equal(scn_match_bind(&scn.steps.steps[0].matches[0], &none, &c, err), 0);
	ok = scn_match_eval(&c, message, strlen(message), got, size);
	scn_cond_free(&c);
	scenario_free(&scn);
	return ok;
}

static bool holds(const char *cond)
{
	char got[128];

	return eval(cond, got, sizeof(got));
}

static void test_paths_and_equality(void **state)
{
	assert_true(holds("domain.name=web01"));
	assert_true(holds("seq=12"));
	assert_true(holds("data.memory.free_kib=1523112"));
	assert_true(holds("data.networks.0/ip=10.0.0.5"));
	assert_true(holds("data.os_version.name=caf\\xef\\xbf\\xbd"));
	assert_true(holds("data.os_version.minor=04"));
	assert_false(holds("data.os_version.minor=4"));
	assert_true(holds("data.other.feature-poweroff=\"\""));
	assert_false(holds("domain.name=web02"));
	assert_false(holds("domain.nope=web01"));
	assert_true(holds("domain.name!=web02"));
	assert_false(holds("domain.nope!=web02"));
}

static void test_arrays_contain(void **state)
{
	assert_true(holds("changed=memory"));
	assert_true(holds("changed=live"));
	assert_false(holds("changed=networks"));
	assert_true(holds("changed!=networks"));
	assert_false(holds("changed!=memory"));
}

static void test_literals(void **state)
{
	assert_true(holds("data.live=true"));
	assert_false(holds("data.live=\"true\""));
	assert_false(holds("data.other.flag=true"));
	assert_true(holds("data.other.flag=\"true\""));
	assert_true(holds("data.last_updated=null"));
	assert_false(holds("data.live=false"));
}

static void test_presence_regex_numbers(void **state)
{
	char got[128];

	assert_true(holds("data.memory=*"));
	assert_true(holds("data.last_updated=*"));
	assert_true(holds("!data.disks"));
	assert_false(holds("!data.memory"));
	assert_true(holds("domain.name~^web[0-9]+$"));
	assert_true(holds("seq~^1"));
	assert_false(holds("data.live~true"));
	assert_true(holds("seq>=12"));
	assert_false(holds("seq>12"));
	assert_true(holds("data.memory.free_kib<2000000"));
	assert_false(holds("domain.name>=1"));

	/* What a failed condition reports. */
	assert_false(eval("data.memory=5", got, sizeof(got)));
	assert_string_equal(got, "{\"free_kib\":1523112}");
	assert_false(eval("data.disks=5", got, sizeof(got)));
	assert_string_equal(got, "(absent)");
	assert_false(eval("changed=networks", got, 8));
	assert_string_equal(got, "[\"me...");
}

static void test_nul_bytes(void **state)
{
	char got[128];

	message = nul_event;
	/* Every byte compares, those after a NUL too. */
	assert_true(holds("data.os_version.uname=6.1\\0evil"));
	assert_false(holds("data.os_version.uname=6.1"));
	assert_false(holds("data.os_version.uname=6.1\\0evi"));
	assert_true(holds("data.os_version.uname!=6.1"));
	assert_true(holds("data.os_version.build=\\0"));
	assert_false(holds("data.os_version.build=\"\""));
	/* A backslash and "u0000" written by the guest is not a NUL. */
	assert_true(holds("data.os_version.name=a\\\\u0000b"));
	assert_false(holds("data.os_version.name=a\\0b"));
	/* A regex sees past the NUL. */
	assert_true(holds("data.os_version.uname~evil$"));
	assert_false(holds("data.os_version.uname~^6\\.1$"));
	/* Array elements too. */
	assert_true(holds("data.names=x\\0y"));
	assert_false(holds("data.names=x"));
	/* A key with a NUL is not the key cut there. */
	assert_true(holds("!data.disks.0"));
	/* What a report shows: the value whole, as JSON. */
	assert_false(eval("data.os_version.uname=6.1", got, sizeof(got)));
	assert_string_equal(got, "\"6.1\\u0000evil\"");
	message = event;
}

static void test_render_at(void **state)
{
	char buf[64];

	assert_string_equal(scn_json_render_at(nul_event, strlen(nul_event), "data.disks", buf, sizeof(buf)),
			    "{\"0\\u0000x/size\":\"1\"}");
	assert_string_equal(scn_json_render_at(event, strlen(event), "changed", buf, sizeof(buf)),
			    "[\"memory\",\"live\"]");
	assert_string_equal(scn_json_render_at(event, strlen(event), "seq", buf, sizeof(buf)), "12");
	assert_string_equal(scn_json_render_at(event, strlen(event), "data.nope", buf, sizeof(buf)),
			    "(absent)");
	/* Not the first match of a segment at another depth. */
	assert_string_equal(scn_json_render_at(event, strlen(event), "id", buf, sizeof(buf)), "(absent)");
	assert_string_equal(scn_json_render_at("[1]", 3, "", buf, sizeof(buf)), "[1]");
	assert_string_equal(scn_json_render_at(event, strlen(event), "", buf, 8), "{\"ty...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_and_equality),
		cmocka_unit_test(test_arrays_contain),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_presence_regex_numbers),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_render_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

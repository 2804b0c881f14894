/* Unit tests of expectation conditions against parsed JSON: paths, operators, arrays, literals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "match.h"

static const char event[] =
	"{\"type\":\"event\",\"seq\":12,\"event\":\"domain.metrics\","
	"\"domain\":{\"id\":5,\"name\":\"web01\"},\"changed\":[\"memory\",\"live\"],"
	"\"data\":{\"memory\":{\"free_kib\":1523112},\"live\":true,\"last_updated\":null,"
	"\"os_version\":{\"name\":\"caf\\ufffd\",\"minor\":\"04\"},\"networks\":{\"0/ip\":\"10.0.0.5\"},"
	"\"other\":{\"feature-poweroff\":\"\",\"flag\":\"true\"}}}";

static yajl_val root;

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
	ok = scn_match_eval(&c, root, got, size);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_and_equality),
		cmocka_unit_test(test_arrays_contain),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_presence_regex_numbers),
	};
	char err[128];
	int r;

	root = yajl_tree_parse(event, err, sizeof(err));
	if (!root)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	yajl_tree_free(root);
	return r;
}

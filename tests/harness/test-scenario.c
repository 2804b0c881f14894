/* Unit tests of the scenario parser: every step, value escapes, blocks, and the errors with their lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scenario.h"

static struct scenario scn;
static char err[SCN_ERROR_MAX];

static int parse(const char *text)
{
	return scenario_parse("t.scn", text, strlen(text), &scn, err);
}

static const struct scn_step *only(void)
{
	assert_int_equal(scn.steps.n, 1);
	return &scn.steps.steps[0];
}

/* The error names the line and says what is wrong. */
static void assert_error(const char *text, const char *where, const char *what)
{
	assert_int_equal(parse(text), -22);
	assert_non_null(strstr(err, where));
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not say \"%s\"", err, what);
	assert_int_equal(scn.steps.n, 0);
}

static void test_empty_and_comments(void **state)
{
	assert_int_equal(parse("# nothing\n\n   # still nothing\n"), 0);
	assert_int_equal(scn.steps.n, 0);
	assert_true(scn.timescale == 1.0);
	assert_int_equal(scn.seed, 1);
	scenario_free(&scn);
}

static void test_domain_steps(void **state)
{
	static const enum scn_kind kinds[] = { SCN_CREATE, SCN_CREATE, SCN_RELEASE, SCN_SHUTDOWN,
					       SCN_CRASH, SCN_DYING, SCN_DESTROY };

	assert_int_equal(parse("create 5 web01\ncreate 6   # no name\nrelease 5\nshutdown 5\n"
			       "crash 6\ndying 6\ndestroy 6\n"), 0);
	assert_int_equal(scn.steps.n, 7);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(scn.steps.steps[i].kind, kinds[i]);
		assert_int_equal(scn.steps.steps[i].line, i + 1);
	}
	assert_string_equal(scn.steps.steps[0].name, "web01");
	assert_int_equal(scn.steps.steps[6].kind, SCN_DESTROY);
	assert_null(scn.steps.steps[1].name);
	assert_int_equal(scn.steps.steps[6].domid, 6);
	scenario_free(&scn);
}

static void test_xenstored_restart(void **state)
{
	assert_int_equal(parse("xenstored-stop\nafter 1 xenstored-start\n"), 0);
	assert_int_equal(scn.steps.n, 3);
	assert_int_equal(scn.steps.steps[0].kind, SCN_XENSTORED_STOP);
	assert_int_equal(scn.steps.steps[2].kind, SCN_XENSTORED_START);
	scenario_free(&scn);
	assert_error("xenstored-stop now\n", "t.scn:1:", "wrong number of arguments");
}

static void test_timing(void **state)
{
	assert_int_equal(parse("at 1.250\nafter 0.2 guest 5 data/updated 1\nat 3 note cycle 2\n"), 0);
	assert_int_equal(scn.steps.n, 5);
	assert_int_equal(scn.steps.steps[0].kind, SCN_AT);
	assert_true(scn.steps.steps[0].seconds == 1.25);
	assert_int_equal(scn.steps.steps[1].kind, SCN_AFTER);
	assert_true(scn.steps.steps[1].seconds == 0.2);
	assert_int_equal(scn.steps.steps[2].kind, SCN_GUEST);
	assert_int_equal(scn.steps.steps[2].line, 2);
	assert_string_equal(scn.steps.steps[4].name, "cycle 2");
	scenario_free(&scn);

	/* A note is prose: the rest of the line as written. */
	assert_int_equal(parse("note the vendor's \"boot\" script  \n"), 0);
	assert_string_equal(only()->name, "the vendor's \"boot\" script");
	scenario_free(&scn);
}

static void test_writes(void **state)
{
	const struct scn_step *s;

	assert_int_equal(parse("write 5 /vm/x/name \"my vm\"\nguest 5 data/os_name 'Debian 12.5'\n"
			       "rm 5 attr/vif\nguest-rm 5 data/volumes fails\n"
			       "guest 5 data/big fill(2049,'x') fails\n"), 0);
	assert_int_equal(scn.steps.n, 5);
	s = &scn.steps.steps[0];
	assert_int_equal(s->kind, SCN_WRITE);
	assert_string_equal(s->path.data, "/vm/x/name");
	assert_string_equal(s->value.data, "my vm");
	assert_false(s->fails);
	assert_string_equal(scn.steps.steps[1].value.data, "Debian 12.5");
	assert_int_equal(scn.steps.steps[2].kind, SCN_RM);
	assert_null(scn.steps.steps[2].value.data);
	assert_true(scn.steps.steps[3].fails);
	s = &scn.steps.steps[4];
	assert_int_equal(s->value.len, 2049);
	assert_int_equal(s->value.data[2048], 'x');
	assert_true(s->fails);
	scenario_free(&scn);
}

static void test_escapes(void **state)
{
	const struct scn_step *s;

	assert_int_equal(parse("guest 5 data/v a\\x00b\\0c\\n\\\\\\xff\\\"\\$i\\ d\n"), 0);
	s = only();
	assert_int_equal(s->value.len, 13);
	assert_memory_equal(s->value.data, "a\0b\0c\n\\\xff\"$i d", 13);
	assert_int_equal(s->value.n_slots, 0);
	scenario_free(&scn);

	/* Quotes group anywhere in a word, and an empty value is two quotes. */
	assert_int_equal(parse("guest 5 data/v pre\"fix with\"' spaces'\nguest 5 data/e \"\"\n"), 0);
	assert_string_equal(scn.steps.steps[0].value.data, "prefix with spaces");
	assert_int_equal(scn.steps.steps[1].value.len, 0);
	assert_non_null(scn.steps.steps[1].value.data);
	scenario_free(&scn);

	/* A '#' inside a word or quotes is a value, not a comment. */
	assert_int_equal(parse("guest 5 data/v a#b \"#c\" fails # comment\n"), -22);
	scenario_free(&scn);
	assert_int_equal(parse("guest 5 data/v a#b # comment\n"), 0);
	assert_string_equal(only()->value.data, "a#b");
	scenario_free(&scn);
}

static void test_fill(void **state)
{
	assert_int_equal(parse("write 5 data/v fill(4095,\"ab\")\nwrite 5 data/w fill(0,x)\n"
			       "write 5 data/z fill(3,'\\x00')\n"), 0);
	assert_int_equal(scn.steps.steps[0].value.len, 4095);
	assert_memory_equal(scn.steps.steps[0].value.data, "abab", 4);
	assert_int_equal(scn.steps.steps[0].value.data[4094], 'a');
	assert_int_equal(scn.steps.steps[1].value.len, 0);
	assert_memory_equal(scn.steps.steps[2].value.data, "\0\0\0", 3);
	scenario_free(&scn);

	assert_error("write 5 data/v fill(99999999,x)\n", "t.scn:1:", "fill");
	assert_error("\nwrite 5 data/v fill(3,'')\n", "t.scn:2:", "pattern is empty");
	assert_error("write 5 data/v fill(3)\n", "t.scn:1:", "fill(N,PATTERN)");
}

/* One repeat's iteration k, as the runner passes it to the steps of its body. */
static const struct scn_iters *iter(unsigned long k)
{
	static struct scn_iters it;

	it = (struct scn_iters){ .v = { k }, .name = { 'i' }, .n = 1 };
	return &it;
}

static void test_repeat_and_iteration(void **state)
{
	const struct scn_step *r;
	char *v;
	size_t len;

	assert_int_equal(parse("repeat 3 {\n  guest 7 data/junk/k$i v$i-\\$i\n  after 0.01\n}\n"
			       "repeat 1000 { guest 7 data/x/$i 1 }\n"), 0);
	assert_int_equal(scn.steps.n, 2);
	r = &scn.steps.steps[0];
	assert_int_equal(r->kind, SCN_REPEAT);
	assert_int_equal(r->count, 3);
	assert_int_equal(r->body.n, 2);
	assert_int_equal(r->body.steps[0].line, 2);
	assert_int_equal(r->var, 'i');
	assert_int_equal(scn_text_expand(&r->body.steps[0].path, iter(42), &v, &len), 0);
	assert_string_equal(v, "data/junk/k42");
	free(v);
	assert_int_equal(scn_text_expand(&r->body.steps[0].value, iter(7), &v, &len), 0);
	assert_string_equal(v, "v7-$i");
	assert_int_equal(len, 5);
	free(v);
	assert_int_equal(scn.steps.steps[1].count, 1000);
	assert_int_equal(scn.steps.steps[1].body.n, 1);
	scenario_free(&scn);

	assert_error("guest 7 data/k$i 1\n", "t.scn:1:", "$i outside a repeat");
	assert_error("repeat 2 {\nguest 7 a b\n", "t.scn:1:", "never closed");
	assert_error("}\n", "t.scn:1:", "without an open block");
	assert_error("repeat 0 {\n}\n", "t.scn:1:", "count");
	assert_error("repeat 2 {\n}\n", "t.scn:2:", "empty block");
	assert_error("repeat 2 {\nat 3\n}\n", "t.scn:2:", "use after D");
	/* "$" and a lowercase letter is a variable; other dollars are bytes. */
	assert_error("repeat 2 { guest 7 data/k$j 1 }\n", "t.scn:1:", "no enclosing repeat is named j");
	assert_error("guest 7 data/k$x 1\n", "t.scn:1:", "$x outside a repeat");
	assert_error("repeat 2 { guest 7 data/k fill(3,$i) }\n", "t.scn:1:", "not substituted");
	assert_int_equal(parse("guest 7 data/k $1$I$\n"), 0);
	assert_string_equal(only()->value.data, "$1$I$");
	scenario_free(&scn);
}

static void test_nested_repeats(void **state)
{
	const struct scn_step *outer, *inner, *w;
	struct scn_iters it = { .v = { 3, 41 }, .name = { 'j', 'i' }, .n = 2 };
	char *v;
	size_t len;

	assert_int_equal(parse("repeat 10 as j {\n"
			       "  repeat 100 { guest 7 data/junk/$j/k$i $i.$j }\n"
			       "  after 1\n"
			       "}\n"), 0);
	outer = only();
	assert_int_equal(outer->var, 'j');
	assert_int_equal(outer->count, 10);
	inner = &outer->body.steps[0];
	assert_int_equal(inner->kind, SCN_REPEAT);
	assert_int_equal(inner->var, 'i');
	w = &inner->body.steps[0];
	assert_int_equal(w->path.n_slots, 2);
	assert_int_equal(w->path.slots[0].depth, 0);
	assert_int_equal(w->path.slots[1].depth, 1);
	assert_int_equal(scn_text_expand(&w->path, &it, &v, &len), 0);
	assert_string_equal(v, "data/junk/3/k41");
	free(v);
	assert_int_equal(scn_text_expand(&w->value, &it, &v, &len), 0);
	assert_string_equal(v, "41.3");
	assert_int_equal(len, 4);
	free(v);
	/* Fewer iterations than the step's repeats: refused, not read past. */
	it.n = 1;
	assert_int_equal(scn_text_expand(&w->path, &it, &v, &len), -EINVAL);
	scenario_free(&scn);

	/* Two repeats of the same name: the innermost wins, as for two plain repeats. */
	assert_int_equal(parse("repeat 2 { repeat 3 { guest 7 k$i 1 } }\n"), 0);
	assert_int_equal(only()->body.steps[0].body.steps[0].path.slots[0].depth, 1);
	scenario_free(&scn);

	assert_error("repeat 2 as {\n}\n", "t.scn:1:", "one lowercase letter");
	assert_error("repeat 2 as jj { guest 7 a 1 }\n", "t.scn:1:", "one lowercase letter");
	assert_error("repeat 2 as J { guest 7 a 1 }\n", "t.scn:1:", "one lowercase letter");
	assert_error("repeat 2 as j guest 7 a 1\n", "t.scn:1:", "expected {");
}

static void test_variables_in_expectations(void **state)
{
	const struct scn_step *e;
	struct scn_iters it = { .v = { 2, 5 }, .name = { 'c', 'i' }, .n = 2 };
	struct scn_cond c;
	char why[SCN_ERROR_MAX];

	assert_int_equal(parse("repeat 3 as c {\n"
			       "  repeat 6 { guest 5 attr/vif/$c/ipv4/$i 10.0.$c.$i }\n"
			       "  expect domain.metrics 5 within 1 data.networks.$c/ip=10.0.$c.0 "
			       "data.networks.$c/ipv4/5~^10\\.0\\.$c\\. seq>=$c\n"
			       "}\n"), 0);
	e = &only()->body.steps[1];
	assert_int_equal(e->kind, SCN_EXPECT);
	assert_int_equal(e->n_matches, 3);
	assert_int_equal(e->matches[0].field.n_slots, 1);

	assert_int_equal(scn_match_bind(&e->matches[0], &it, &c, why), 0);
	assert_string_equal(c.field, "data.networks.2/ip");
	assert_string_equal(c.value, "10.0.2.0");
	assert_int_equal(c.value_len, 8);
	assert_string_equal(c.source, "data.networks.$c/ip=10.0.$c.0");
	scn_cond_free(&c);

	assert_int_equal(scn_match_bind(&e->matches[1], &it, &c, why), 0);
	assert_int_equal(c.op, SCN_OP_MATCH);
	assert_string_equal(c.field, "data.networks.2/ipv4/5");
	assert_int_equal(regexec(&c.re, "10.0.2.5", 0, NULL, 0), 0);
	assert_int_equal(regexec(&c.re, "10.0.3.5", 0, NULL, 0), REG_NOMATCH);
	scn_cond_free(&c);

	assert_int_equal(scn_match_bind(&e->matches[2], &it, &c, why), 0);
	assert_true(c.number == 2);
	scn_cond_free(&c);

	scenario_free(&scn);

	/* Checked once at parse time with every iteration 0. */
	assert_error("repeat 2 {\nexpect domain.new 5 within 1 a~($i\n}\n", "t.scn:2:", "regular expression");
	assert_error("repeat 2 {\nexpect domain.new 5 within 1 seq>=x$i\n}\n", "t.scn:2:", "number");
	assert_error("expect domain.new 5 within 1 data.$i=1\n", "t.scn:1:", "$i outside a repeat");
	assert_error("repeat 2 { expect-get 5 data.x=$k }\n", "t.scn:1:", "no enclosing repeat is named k");

	/* Literals stay literals only when written out. */
	assert_int_equal(parse("repeat 2 { expect-stats ok=true x=true$i }\n"), 0);
	assert_true(only()->body.steps[0].matches[0].literal);
	assert_false(only()->body.steps[0].matches[1].literal);
	scenario_free(&scn);
}

static void test_shuffle(void **state)
{
	assert_int_equal(parse("seed 42\nshuffle {\n guest 5 data/a 1\n guest 5 data/b 2\n}\n"), 0);
	assert_int_equal(scn.seed, 42);
	assert_int_equal(only()->kind, SCN_SHUFFLE);
	assert_int_equal(only()->body.n, 2);
	scenario_free(&scn);
	assert_error("shuffle {\nguest 5 a 1\nafter 1\n}\n", "t.scn:3:", "shuffle");
	assert_error("shuffle {\ntx-begin 5\ntx-end 5\n}\n", "t.scn:2:", "shuffle");
}

static void test_on_flavour(void **state)
{
	assert_int_equal(parse("on ocaml {\n guest 5 data/a fill(2049,x) fails\n expect-none 5 for 1\n}\n"
			       "on c { guest 5 data/a fill(2016,x) fails }\n"), 0);
	assert_int_equal(scn.steps.n, 2);
	assert_int_equal(scn.steps.steps[0].kind, SCN_ON);
	assert_string_equal(scn.steps.steps[0].name, "ocaml");
	assert_int_equal(scn.steps.steps[0].body.n, 2);
	assert_string_equal(scn.steps.steps[1].name, "c");
	assert_true(scn.steps.steps[1].body.steps[0].fails);
	scenario_free(&scn);
	/* Its body sees the enclosing repeat's variable; at T stays out of blocks. */
	assert_int_equal(parse("repeat 2 { on c { guest 5 data/k$i 1 } }\n"), 0);
	scenario_free(&scn);
	assert_error("on c {\nat 1 guest 5 a 1\n}\n", "t.scn:2:", "block");
	assert_error("on c guest 5 a 1\n", "t.scn:1:", "{");
}

static void test_transactions(void **state)
{
	assert_int_equal(parse("tx-begin 5\nguest-rm 5 attr/vif/0/ipv4\nguest 5 attr/vif/0/ipv4/0 10.0.0.2\n"
			       "tx-end 5\ntx-begin 5\ntx-end 5 abort\n"), 0);
	assert_int_equal(scn.steps.n, 6);
	assert_false(scn.steps.steps[3].abort);
	assert_true(scn.steps.steps[5].abort);
	scenario_free(&scn);
	assert_error("tx-end 5\n", "t.scn:1:", "without tx-begin");
	assert_error("tx-begin 5\ntx-begin 5\n", "t.scn:2:", "already open");
	assert_error("guest 5 a 1\ntx-begin 5\n", "t.scn:2:", "never ended");
	assert_error("tx-begin 5\nrepeat 2 {\ntx-end 5\n}\n", "t.scn:3:", "without tx-begin");
	assert_error("tx-end 5 commit\n", "t.scn:1:", "abort");
}

/* A condition outside any repeat, bound as the runner binds it (scn_cond_free it). */
static struct scn_cond bound(const struct scn_match *m)
{
	static const struct scn_iters none;
	struct scn_cond c;
	char why[SCN_ERROR_MAX];

	assert_int_equal(scn_match_bind(m, &none, &c, why), 0);
	return c;
}

static void test_expectations(void **state)
{
	const struct scn_step *s;
	struct scn_cond c;

	assert_int_equal(parse("expect domain.metrics 5 within 1.5 data.pv_drivers_up_to_date=true "
			       "changed=os_version data.os_version.name=\"Debian GNU/Linux 12\" "
			       "data.memory=* !data.disks data.networks.0/ip~^10\\.0\\. seq>=3 "
			       "data.other.feature-balloon!=0\n"), 0);
	s = only();
	assert_int_equal(s->kind, SCN_EXPECT);
	assert_string_equal(s->name, "domain.metrics");
	assert_int_equal(s->domid, 5);
	assert_true(s->seconds == 1.5);
	assert_int_equal(s->n_matches, 8);
	assert_string_equal(s->matches[0].field.data, "data.pv_drivers_up_to_date");
	assert_int_equal(s->matches[0].op, SCN_OP_EQ);
	assert_string_equal(s->matches[0].value.data, "true");
	assert_true(s->matches[0].literal);
	assert_false(s->matches[1].literal);
	assert_string_equal(s->matches[2].value.data, "Debian GNU/Linux 12");
	assert_int_equal(s->matches[3].op, SCN_OP_PRESENT);
	assert_int_equal(s->matches[4].op, SCN_OP_ABSENT);
	assert_string_equal(s->matches[4].field.data, "data.disks");
	assert_int_equal(s->matches[5].op, SCN_OP_MATCH);
	c = bound(&s->matches[5]);
	assert_string_equal(c.field, "data.networks.0/ip");
	assert_int_equal(regexec(&c.re, "10.0.0.2", 0, NULL, 0), 0);
	assert_int_equal(regexec(&c.re, "10x0y1.2", 0, NULL, 0), REG_NOMATCH);
	scn_cond_free(&c);
	assert_int_equal(s->matches[6].op, SCN_OP_GE);
	c = bound(&s->matches[6]);
	assert_true(c.number == 3);
	scn_cond_free(&c);
	assert_int_equal(s->matches[7].op, SCN_OP_NE);
	assert_string_equal(s->matches[7].source, "data.other.feature-balloon!=0");
	scenario_free(&scn);

	/* In a regex, \xNN is a byte and the other backslashes are the regex's. */
	assert_int_equal(parse("expect domain.new 5 within 1 a~^\\xef\\xbf\\xbd\\(x\\)$\n"), 0);
	c = bound(&only()->matches[0]);
	assert_int_equal(regexec(&c.re, "\xef\xbf\xbd(x)", 0, NULL, 0), 0);
	assert_int_equal(regexec(&c.re, "\xef\xbf\xbdx", 0, NULL, 0), REG_NOMATCH);
	scn_cond_free(&c);
	scenario_free(&scn);

	/* A quoted star and a quoted literal are strings. */
	assert_int_equal(parse("wait-for domain.gone 5 within 2 a=\"*\" b=\"true\"\n"), 0);
	assert_int_equal(only()->kind, SCN_WAIT_FOR);
	assert_int_equal(only()->matches[0].op, SCN_OP_EQ);
	assert_string_equal(only()->matches[0].value.data, "*");
	assert_false(only()->matches[1].literal);
	scenario_free(&scn);

	assert_int_equal(parse("expect-none 5 for 3\nexpect-get 5 state=idle data.memory.free_kib=1024\n"
			       "expect-stats domains>=2 events_published<100\n"), 0);
	assert_int_equal(scn.steps.steps[0].kind, SCN_EXPECT_NONE);
	assert_true(scn.steps.steps[0].seconds == 3);
	assert_int_equal(scn.steps.steps[1].n_matches, 2);
	assert_int_equal(scn.steps.steps[2].matches[1].op, SCN_OP_LT);
	scenario_free(&scn);

	assert_error("expect domain.bogus 5 within 1\n", "t.scn:1:", "not an event");
	assert_error("expect domain.new 5 in 1\n", "t.scn:1:", "within");
	assert_error("expect domain.new 5 within -1\n", "t.scn:1:", "seconds");
	assert_error("expect domain.new 5 within 1 data.x~(\n", "t.scn:1:", "regular expression");
	assert_error("expect domain.new 5 within 1 seq>=many\n", "t.scn:1:", "number");
	assert_error("expect domain.new 5 within 1 =3\n", "t.scn:1:", "FIELD=VALUE");
	assert_error("expect domain.new 5 within 1 a..b=3\n", "t.scn:1:", "FIELD=VALUE");
	assert_error("expect-none 5 within 3\n", "t.scn:1:", "for");
	assert_error("expect-get 5\n", "t.scn:1:", "arguments");
}

static void test_directives(void **state)
{
	assert_int_equal(parse("timescale 0.05\nconfig settle.strict=true\nconfig settle.quiet_ms=500\n"), 0);
	assert_true(scn.timescale == 0.05);
	assert_int_equal(scn.n_settings, 2);
	assert_string_equal(scn.settings[0].key, "settle.strict");
	assert_string_equal(scn.settings[0].value, "true");
	assert_int_equal(scn.settings[1].line, 3);
	scenario_free(&scn);

	assert_true(scn_setting_is_duration("settle.quiet_ms"));
	assert_true(scn_setting_is_duration("metrics.live_timeout_s"));
	assert_false(scn_setting_is_duration("settle.strict"));
	assert_false(scn_setting_is_duration("xenstore.liveness_ms"));

	assert_error("timescale 0\n", "t.scn:1:", "timescale");
	assert_error("config strict\n", "t.scn:1:", "section.key=value");
	assert_error("repeat 2 {\ntimescale 2\n}\n", "t.scn:2:", "top level");
}

static void test_errors(void **state)
{
	assert_error("create 0\n", "t.scn:1:", "not a guest domid");
	assert_error("create 99999\n", "t.scn:1:", "not a guest domid");
	assert_error("\n\nfrobnicate 5\n", "t.scn:3:", "unknown step \"frobnicate\"");
	assert_error("guest 5 data/x\n", "t.scn:1:", "wrong number of arguments");
	assert_error("guest 5 data/x 1 maybe\n", "t.scn:1:", "only \"fails\"");
	assert_error("guest 5 data/x \"open\n", "t.scn:1:", "unterminated");
	assert_error("guest 5 data/x a\\q\n", "t.scn:1:", "unknown escape");
	assert_error("guest 5 data/x a\\x4\n", "t.scn:1:", "two hex digits");
	assert_error("guest 5 \"\" 1\n", "t.scn:1:", "path is empty");
	assert_error("at\n", "t.scn:1:", "how many seconds");
	assert_error("at 1 after 2 note x\n", "t.scn:1:", "one time per line");
	assert_int_equal(scenario_parse("t.scn", "note a\0b", 8, &scn, err), -22);
	assert_non_null(strstr(err, "NUL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_domain_steps),
		cmocka_unit_test(test_xenstored_restart),
		cmocka_unit_test(test_timing),
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_repeat_and_iteration),
		cmocka_unit_test(test_nested_repeats),
		cmocka_unit_test(test_variables_in_expectations),
		cmocka_unit_test(test_shuffle),
		cmocka_unit_test(test_on_flavour),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_expectations),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

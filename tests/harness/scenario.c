/*
 * Parser of the scenario language (docs/scenarios.md): splits each line
 * into shell-like tokens, decodes values into exact bytes, and builds the
 * tree of steps, rejecting anything ambiguous with its line number.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "xgm/protocol.h"

#define MAX_TOKENS 128

struct parser {
	const char *name;
	const char *text;
	size_t len;
	size_t pos;
	unsigned int line;
	char *error;		/* SCN_ERROR_MAX bytes */
	struct scenario *scn;
};

/* Where a line sits: what its steps may do, and which repeat variables they see. */
struct ctx {
	unsigned int depth;
	bool in_shuffle;
	char vars[SCN_NEST_MAX];	/* the enclosing repeats' variables, outermost first */
	unsigned int n_vars;
};

static const char *const kind_names[] = {
	[SCN_AT] = "at", [SCN_AFTER] = "after", [SCN_NOTE] = "note",
	[SCN_CREATE] = "create", [SCN_RELEASE] = "release",
	[SCN_SHUTDOWN] = "shutdown", [SCN_CRASH] = "crash", [SCN_DYING] = "dying",
	[SCN_DESTROY] = "destroy", [SCN_XENSTORED_STOP] = "xenstored-stop",
	[SCN_XENSTORED_START] = "xenstored-start", [SCN_WRITE] = "write", [SCN_GUEST] = "guest",
	[SCN_RM] = "rm", [SCN_GUEST_RM] = "guest-rm", [SCN_TX_BEGIN] = "tx-begin",
	[SCN_TX_END] = "tx-end", [SCN_REPEAT] = "repeat", [SCN_SHUFFLE] = "shuffle",
	[SCN_ON] = "on",
	[SCN_EXPECT] = "expect", [SCN_WAIT_FOR] = "wait-for",
	[SCN_EXPECT_NONE] = "expect-none", [SCN_EXPECT_GET] = "expect-get",
	[SCN_EXPECT_STATS] = "expect-stats",
};

const char *scn_kind_name(enum scn_kind kind)
{
	if ((size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) && kind_names[kind])
		return kind_names[kind];
	return "?";
}

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	int n = snprintf(p->error, SCN_ERROR_MAX, "%s:%u: ", p->name, p->line);
	va_list ap;

	if (n < 0 || n >= SCN_ERROR_MAX)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(p->error + n, SCN_ERROR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int oom(struct parser *p)
{
	fail(p, "out of memory");
	return -ENOMEM;
}

static void text_free(struct scn_text *t)
{
	free(t->data);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static void match_free(struct scn_match *m)
{
	text_free(&m->field);
	text_free(&m->value);
	free(m->source);
}

void scn_cond_free(struct scn_cond *c)
{
	free(c->field);
	free(c->value);
	if (c->op == SCN_OP_MATCH)
		regfree(&c->re);
	memset(c, 0, sizeof(*c));
}

static void block_free(struct scn_block *b);

static void step_free(struct scn_step *s)
{
	free(s->name);
	text_free(&s->path);
	text_free(&s->value);
	block_free(&s->body);
	for (size_t i = 0; i < s->n_matches; i++)
		match_free(&s->matches[i]);
	free(s->matches);
	memset(s, 0, sizeof(*s));
}

static void block_free(struct scn_block *b)
{
	for (size_t i = 0; i < b->n; i++)
		step_free(&b->steps[i]);
	free(b->steps);
	b->steps = NULL;
	b->n = 0;
}

void scenario_free(struct scenario *s)
{
	block_free(&s->steps);
	for (size_t i = 0; i < s->n_settings; i++) {
		free(s->settings[i].key);
		free(s->settings[i].value);
	}
	free(s->settings);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

/* Takes ownership of *step (cleared) on success and on failure alike. */
static int block_push(struct parser *p, struct scn_block *b, struct scn_step *step)
{
	struct scn_step *grown = realloc(b->steps, (b->n + 1) * sizeof(*grown));

	if (!grown) {
		step_free(step);
		return oom(p);
	}
	b->steps = grown;
	b->steps[b->n++] = *step;
	memset(step, 0, sizeof(*step));
	return 0;
}

/* A growable byte buffer for decoding. */
struct buf {
	char *data;
	size_t len, cap;
	struct scn_slot *slots;
	size_t n_slots;
};

static int buf_put(struct buf *b, const void *bytes, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *grown;

		while (b->len + n + 1 > cap)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return -ENOMEM;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int buf_slot(struct buf *b, unsigned int depth)
{
	struct scn_slot *grown = realloc(b->slots, (b->n_slots + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	b->slots = grown;
	b->slots[b->n_slots++] = (struct scn_slot){ .at = b->len, .depth = depth };
	return 0;
}

/* Moves b's bytes and slots into t (an empty value when b is empty). */
static int buf_to_text(struct buf *b, struct scn_text *t)
{
	if (!b->data && buf_put(b, "", 0) < 0)
		return -ENOMEM;
	*t = (struct scn_text){ .data = b->data, .len = b->len, .slots = b->slots,
				.n_slots = b->n_slots };
	memset(b, 0, sizeof(*b));
	return 0;
}

static void buf_free(struct buf *b)
{
	free(b->data);
	free(b->slots);
	memset(b, 0, sizeof(*b));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether the words so far are "note" or "at|after T note": the rest of the line is prose. */
static bool is_note(char **tok, size_t n)
{
	return strcmp(tok[n - 1], "note") == 0 &&
	       (n == 1 || (n == 3 && (!strcmp(tok[0], "at") || !strcmp(tok[0], "after"))));
}

/* A note's text: the rest of the line as written (apostrophes and all), one word. */
static int note_text(struct parser *p, const char *s, size_t n, char **tok, size_t *ntok)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	if (memchr(s, '\0', n))
		return fail(p, "a NUL byte in the scenario text");
	tok[*ntok] = strndup(s, n);
	if (!tok[*ntok])
		return oom(p);
	(*ntok)++;
	return 0;
}

/*
 * Splits a line into raw tokens: whitespace separates them except inside
 * quotes or after a backslash, and '#' at the start of a token begins a
 * comment. Quotes and escapes stay in the token for decode() to interpret.
 */
static int tokenize(struct parser *p, const char *s, size_t n, char **tok, size_t *ntok)
{
	size_t i = 0;

	*ntok = 0;
	for (;;) {
		size_t start;
		char quote = 0;

		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i == n || s[i] == '#')
			return 0;
		start = i;
		while (i < n) {
			char c = s[i];

			if (c == '\0')
				return fail(p, "a NUL byte in the scenario text (write it as \\0)");
			if (c == '\\' && i + 1 < n) {
				i += 2;
				continue;
			}
			if (quote) {
				if (c == quote)
					quote = 0;
			} else if (isspace((unsigned char)c)) {
				break;
			} else if (c == '"' || c == '\'') {
				quote = c;
			}
			i++;
		}
		if (quote)
			return fail(p, "unterminated %c quote", quote);
		if (*ntok == MAX_TOKENS)
			return fail(p, "more than %d words on one line", MAX_TOKENS);
		tok[*ntok] = strndup(s + start, i - start);
		if (!tok[*ntok])
			return oom(p);
		(*ntok)++;
		if (is_note(tok, *ntok))
			return note_text(p, s + i, n - i, tok, ntok);
	}
}

/*
 * A reference to a repeat variable: "$" and a lowercase letter, which the
 * innermost enclosing repeat of that name binds. vars is NULL where
 * nothing is substituted.
 */
static int var_slot(struct parser *p, const struct ctx *vars, char name, struct buf *out)
{
	if (!vars)
		return fail(p, "$%c is not substituted here (write \\$%c for the two characters)",
			    name, name);
	for (unsigned int d = vars->n_vars; d-- > 0;)
		if (vars->vars[d] == name)
			return buf_slot(out, d) < 0 ? oom(p) : 0;
	if (vars->n_vars == 0)
		return fail(p, "$%c outside a repeat block (write \\$%c for the two characters)",
			    name, name);
	return fail(p, "$%c: no enclosing repeat is named %c (repeat N as %c { ... }; "
		    "write \\$%c for the two characters)", name, name, name, name);
}

/*
 * Decodes the raw bytes s[0..n): quotes group and vanish, escapes give any
 * byte (with keep_backslash only \xNN: a regular expression has its own),
 * and "$i" ("$" and a lowercase letter) marks where a repeat's iteration
 * number goes.
 */
static int decode_quoted(struct parser *p, const char *s, size_t n, const struct ctx *vars,
			 bool keep_backslash, struct buf *out)
{
	char quote = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i], byte;
		int hi, lo;

		if (quote && c == quote) {
			quote = 0;
			continue;
		}
		if (!quote && (c == '"' || c == '\'')) {
			quote = c;
			continue;
		}
		if (c == '$' && i + 1 < n && islower((unsigned char)s[i + 1])) {
			int r = var_slot(p, vars, s[++i], out);

			if (r < 0)
				return r;
			continue;
		}
		if (c != '\\' || (keep_backslash && !(i + 1 < n && s[i + 1] == 'x'))) {
			if (c == '\\' && i + 1 < n && buf_put(out, &s[i++], 1) < 0)
				return oom(p);
			c = s[i];
			if (buf_put(out, &c, 1) < 0)
				return oom(p);
			continue;
		}
		if (++i == n)
			return fail(p, "a backslash at the end of a value");
		switch (s[i]) {
		case 'n': byte = '\n'; break;
		case 't': byte = '\t'; break;
		case 'r': byte = '\r'; break;
		case '0': byte = '\0'; break;
		case 'x':
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return fail(p, "\\x needs two hex digits");
			byte = (char)(hi << 4 | lo);
			i += 2;
			break;
		case '\\': case '"': case '\'': case '$': case '#': case ' ':
			byte = s[i];
			break;
		default:
			return fail(p, "unknown escape \\%c (known: \\\\ \\\" \\' \\n \\t \\r \\0 \\xNN \\$ \\# \"\\ \")",
				    s[i]);
		}
		if (buf_put(out, &byte, 1) < 0)
			return oom(p);
	}
	return 0;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static int decode_into(struct parser *p, const char *s, size_t n, const struct ctx *vars,
		       struct buf *out)
{
	return decode_quoted(p, s, n, vars, false, out);
}

/* fill(N,PATTERN): PATTERN repeated and cut to exactly N bytes. */
static int decode_fill(struct parser *p, const char *tok, struct buf *out)
{
	size_t n = strlen(tok);
	const char *comma = strchr(tok, ',');
	struct buf pat = { 0 };
	unsigned long count;
	char num[32];
	int r;

	if (n < 7 || tok[n - 1] != ')' || !comma || (size_t)(comma - tok) - 5 >= sizeof(num))
		return fail(p, "expected fill(N,PATTERN), got %s", tok);
	memcpy(num, tok + 5, (size_t)(comma - tok) - 5);
	num[comma - tok - 5] = '\0';
	if (!parse_ulong(num, SCN_FILL_MAX, &count))
		return fail(p, "fill: %s is not a length from 0 to %d", num, SCN_FILL_MAX);
	r = decode_into(p, comma + 1, (size_t)(tok + n - 1 - (comma + 1)), NULL, &pat);
	if (r < 0)
		goto out;
	if (pat.len == 0) {
		r = fail(p, "fill: the pattern is empty");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		if (buf_put(out, &pat.data[i % pat.len], 1) < 0) {
			r = oom(p);
			goto out;
		}
	}
	if (count == 0 && buf_put(out, "", 0) < 0)
		r = oom(p);
out:
	buf_free(&pat);
	return r;
}

/* A whole token as a value or a path. */
static int decode_text(struct parser *p, const char *tok, const struct ctx *vars, struct scn_text *out)
{
	struct buf b = { 0 };
	int r;

	if (strncmp(tok, "fill(", 5) == 0)
		r = decode_fill(p, tok, &b);
	else
		r = decode_into(p, tok, strlen(tok), vars, &b);
	if (r == 0 && buf_to_text(&b, out) < 0)
		r = oom(p);
	buf_free(&b);
	return r;
}

int scn_text_expand(const struct scn_text *t, const struct scn_iters *it, char **out, size_t *len)
{
	/* Each number takes at most 20 digits (an unsigned long of 64 bits). */
	size_t total = t->len + t->n_slots * 20, at = 0, o = 0;
	char *s;

	for (size_t k = 0; k < t->n_slots; k++)
		if (!it || t->slots[k].depth >= it->n)
			return -EINVAL;
	s = malloc(total + 1);
	if (!s)
		return -ENOMEM;
	for (size_t k = 0; k <= t->n_slots; k++) {
		size_t end = k < t->n_slots ? t->slots[k].at : t->len;

		memcpy(s + o, t->data + at, end - at);
		o += end - at;
		at = end;
		if (k < t->n_slots)
			o += (size_t)sprintf(s + o, "%lu", it->v[t->slots[k].depth]);
	}
	s[o] = '\0';
	*out = s;
	*len = o;
	return 0;
}

static int parse_domid(struct parser *p, const char *tok, unsigned int *domid)
{
	unsigned long v;

	if (!parse_ulong(tok, XGM_DOMID_MAX, &v) || v == 0)
		return fail(p, "%s is not a guest domid (1 to %u)", tok, XGM_DOMID_MAX);
	*domid = (unsigned int)v;
	return 0;
}

static int parse_seconds(struct parser *p, const char *tok, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(tok, &end);
	if (errno || end == tok || *end || !isfinite(v) || v < 0 || v > SCN_SECONDS_MAX ||
	    !(isdigit((unsigned char)tok[0]) || tok[0] == '.'))
		return fail(p, "%s is not a number of seconds from 0 to %.0f", tok, SCN_SECONDS_MAX);
	*out = v;
	return 0;
}

static bool is_field_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '/' || c == '.' ||
	       c == '@' || c == ':';
}

/* The length of the field at the start of s: field characters and "$X" variables. */
static size_t field_len(const char *s)
{
	size_t n = 0;

	for (;;) {
		if (is_field_char(s[n]))
			n++;
		else if (s[n] == '$' && islower((unsigned char)s[n + 1]))
			n += 2;
		else
			return n;
	}
}

int scn_match_bind(const struct scn_match *m, const struct scn_iters *it, struct scn_cond *out,
		   char error[SCN_ERROR_MAX])
{
	size_t flen;
	int r;

	memset(out, 0, sizeof(*out));
	out->op = m->op;
	out->literal = m->literal;
	out->source = m->source;
	error[0] = '\0';
	r = scn_text_expand(&m->field, it, &out->field, &flen);
	if (r == 0 && m->value.data)
		r = scn_text_expand(&m->value, it, &out->value, &out->value_len);
	if (r < 0) {
		snprintf(error, SCN_ERROR_MAX, "%s: %s", m->source,
			 r == -ENOMEM ? "out of memory" : "an iteration number is missing");
		goto fail;
	}
	switch (m->op) {
	case SCN_OP_MATCH:
		if (memchr(out->value, '\0', out->value_len) ||
		    regcomp(&out->re, out->value, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(error, SCN_ERROR_MAX, "%s: not a POSIX extended regular expression",
				 m->source);
			out->op = SCN_OP_EQ;	/* nothing compiled to free */
			r = -EINVAL;
			goto fail;
		}
		break;
	case SCN_OP_GE: case SCN_OP_GT: case SCN_OP_LE: case SCN_OP_LT: {
		char *end;

		errno = 0;
		out->number = strtod(out->value, &end);
		if (errno || end == out->value || *end) {
			snprintf(error, SCN_ERROR_MAX, "%s: an ordering needs a number", m->source);
			r = -EINVAL;
			goto fail;
		}
		break;
	}
	default:
		break;
	}
	return 0;
fail:
	scn_cond_free(out);
	return r;
}

/*
 * One condition: FIELD OP VALUE, !FIELD or FIELD=*. Its variables are
 * bound to 0 once here, so that a regex or a number that cannot work is
 * reported with its line before anything runs.
 */
static int parse_match(struct parser *p, const char *tok, const struct ctx *ctx,
		       struct scn_match *m)
{
	static const struct { const char *s; enum scn_op op; } ops[] = {
		{ ">=", SCN_OP_GE }, { "<=", SCN_OP_LE }, { "!=", SCN_OP_NE },
		{ "=", SCN_OP_EQ }, { "~", SCN_OP_MATCH }, { ">", SCN_OP_GT }, { "<", SCN_OP_LT },
	};
	const char *f = tok[0] == '!' ? tok + 1 : tok, *rest;
	struct scn_iters zeros = { .n = ctx->n_vars };
	struct buf b = { 0 };
	struct scn_cond cond;
	char why[SCN_ERROR_MAX];
	size_t flen = field_len(f);
	int r;

	memset(m, 0, sizeof(*m));
	rest = f + flen;
	if (flen == 0 || f[0] == '.' || f[flen - 1] == '.' || memmem(f, flen, "..", 2))
		return fail(p, "%s: expected FIELD=VALUE, FIELD~REGEX, FIELD=*, !FIELD or FIELD>=N "
			    "with FIELD a dotted path such as data.memory.free_kib", tok);
	m->source = strdup(tok);
	if (!m->source)
		return oom(p);
	r = decode_quoted(p, f, flen, ctx, false, &b);
	if (r == 0 && buf_to_text(&b, &m->field) < 0)
		r = oom(p);
	if (r < 0)
		goto fail;
	if (tok[0] == '!') {
		m->op = SCN_OP_ABSENT;
		if (*rest) {
			r = fail(p, "%s: !FIELD takes no value", tok);
			goto fail;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strncmp(rest, ops[i].s, strlen(ops[i].s)) == 0) {
			m->op = ops[i].op;
			rest += strlen(ops[i].s);
			goto found;
		}
	}
	r = fail(p, "%s: no operator after the field (=, !=, ~, >=, >, <=, <)", tok);
	goto fail;
found:
	if (m->op == SCN_OP_EQ && strcmp(rest, "*") == 0) {
		m->op = SCN_OP_PRESENT;
		return 0;
	}
	r = decode_quoted(p, rest, strlen(rest), ctx, m->op == SCN_OP_MATCH, &b);
	if (r == 0 && buf_to_text(&b, &m->value) < 0)
		r = oom(p);
	if (r < 0)
		goto fail;
	m->literal = m->value.n_slots == 0 &&
		     (!strcmp(rest, "true") || !strcmp(rest, "false") || !strcmp(rest, "null"));
	r = scn_match_bind(m, &zeros, &cond, why);
	if (r < 0) {
		r = r == -ENOMEM ? oom(p) : fail(p, "%s", why);
		goto fail;
	}
	scn_cond_free(&cond);
	return 0;
fail:
	buf_free(&b);
	match_free(m);
	memset(m, 0, sizeof(*m));
	return r;
}

static int parse_matches(struct parser *p, char **tok, size_t n, const struct ctx *ctx,
			 struct scn_step *s)
{
	if (n == 0)
		return 0;
	s->matches = calloc(n, sizeof(*s->matches));
	if (!s->matches)
		return oom(p);
	for (size_t i = 0; i < n; i++) {
		int r = parse_match(p, tok[i], ctx, &s->matches[i]);

		if (r < 0)
			return r;
		s->n_matches++;
	}
	return 0;
}

static bool is_event_name(const char *s)
{
	return xgm_event_from_name(s, strlen(s)) != 0;
}

static int parse_block(struct parser *p, struct scn_block *b, struct ctx ctx, unsigned int open_line);
static int parse_words(struct parser *p, struct scn_block *b, char **tok, size_t n, struct ctx ctx);

/*
 * repeat N { ... }, shuffle { ... } and on FLAVOUR { ... }: a body on the
 * lines below, or on this line before '}'.
 */
static int parse_body(struct parser *p, struct scn_step *s, char **tok, size_t n, struct ctx ctx)
{
	struct ctx inner = ctx;

	if (n == 0 || strcmp(tok[0], "{") != 0)
		return fail(p, "%s: expected { after it", scn_kind_name(s->kind));
	if (ctx.depth + 1 > SCN_NEST_MAX)
		return fail(p, "blocks nested deeper than %d", SCN_NEST_MAX);
	inner.depth++;
	if (s->kind == SCN_REPEAT)
		inner.vars[inner.n_vars++] = s->var;
	else if (s->kind == SCN_SHUFFLE)
		inner.in_shuffle = true;
	if (n == 1)
		return parse_block(p, &s->body, inner, p->line);
	if (strcmp(tok[n - 1], "}") != 0)
		return fail(p, "a one-line block ends with }: %s N { STEP }", scn_kind_name(s->kind));
	if (n == 2)
		return fail(p, "an empty block");
	return parse_words(p, &s->body, tok + 1, n - 2, inner);
}

struct keyword {
	const char *word;
	enum scn_kind kind;
	size_t min_args, max_args;	/* words after the keyword */
};

static const struct keyword keywords[] = {
	{ "note", SCN_NOTE, 1, 1 },
	{ "create", SCN_CREATE, 1, 2 },
	{ "release", SCN_RELEASE, 1, 1 },
	{ "shutdown", SCN_SHUTDOWN, 1, 1 },
	{ "crash", SCN_CRASH, 1, 1 },
	{ "dying", SCN_DYING, 1, 1 },
	{ "destroy", SCN_DESTROY, 1, 1 },
	{ "xenstored-stop", SCN_XENSTORED_STOP, 0, 0 },
	{ "xenstored-start", SCN_XENSTORED_START, 0, 0 },
	{ "write", SCN_WRITE, 3, 4 },
	{ "guest", SCN_GUEST, 3, 4 },
	{ "rm", SCN_RM, 2, 3 },
	{ "guest-rm", SCN_GUEST_RM, 2, 3 },
	{ "tx-begin", SCN_TX_BEGIN, 1, 1 },
	{ "tx-end", SCN_TX_END, 1, 2 },
	{ "repeat", SCN_REPEAT, 2, MAX_TOKENS },
	{ "shuffle", SCN_SHUFFLE, 1, MAX_TOKENS },
	{ "on", SCN_ON, 2, MAX_TOKENS },
	{ "expect", SCN_EXPECT, 4, MAX_TOKENS },
	{ "wait-for", SCN_WAIT_FOR, 4, MAX_TOKENS },
	{ "expect-none", SCN_EXPECT_NONE, 3, 3 },
	{ "expect-get", SCN_EXPECT_GET, 2, MAX_TOKENS },
	{ "expect-stats", SCN_EXPECT_STATS, 1, MAX_TOKENS },
};

static const char usage_lines[] =
	"steps: at T | after D | note TEXT | create DOMID [NAME] | release|shutdown|crash|dying|destroy DOMID"
	" | write|guest DOMID PATH VALUE [fails] | rm|guest-rm DOMID PATH [fails] | tx-begin DOMID"
	" | tx-end DOMID [abort] | xenstored-stop | xenstored-start | repeat N [as X] { | shuffle { | on c|ocaml { | expect|wait-for EVENT DOMID within S [MATCH...]"
	" | expect-none DOMID for S | expect-get DOMID MATCH... | expect-stats MATCH..."
	" | timescale F | seed N | config KEY=VALUE";

/* Top-level settings: they describe the run, not a moment in it. */
static int parse_directive(struct parser *p, char **tok, size_t n, struct ctx ctx, bool *done)
{
	struct scenario *scn = p->scn;
	unsigned long v;

	*done = true;
	if (strcmp(tok[0], "timescale") != 0 && strcmp(tok[0], "seed") != 0 &&
	    strcmp(tok[0], "config") != 0) {
		*done = false;
		return 0;
	}
	if (ctx.depth > 0)
		return fail(p, "%s belongs at the top level, not in a block", tok[0]);
	if (n != 2)
		return fail(p, "%s takes one argument", tok[0]);
	if (strcmp(tok[0], "timescale") == 0) {
		char *end;
		double f;

		errno = 0;
		f = strtod(tok[1], &end);
		if (errno || *end || !isfinite(f) || f <= 0 || f > 100)
			return fail(p, "timescale %s: expected a factor above 0, at most 100", tok[1]);
		scn->timescale = f;
	} else if (strcmp(tok[0], "seed") == 0) {
		if (!parse_ulong(tok[1], ULONG_MAX, &v))
			return fail(p, "seed %s: expected a non-negative integer", tok[1]);
		scn->seed = v;
	} else {
		const char *eq = strchr(tok[1], '=');
		struct scn_setting *grown, *set;

		if (!eq || eq == tok[1] || !memchr(tok[1], '.', (size_t)(eq - tok[1])))
			return fail(p, "config %s: expected section.key=value", tok[1]);
		grown = realloc(scn->settings, (scn->n_settings + 1) * sizeof(*grown));
		if (!grown)
			return oom(p);
		scn->settings = grown;
		set = &scn->settings[scn->n_settings];
		set->key = strndup(tok[1], (size_t)(eq - tok[1]));
		set->value = strdup(eq + 1);
		set->line = p->line;
		if (!set->key || !set->value) {
			free(set->key);
			free(set->value);
			return oom(p);
		}
		scn->n_settings++;
	}
	return 0;
}

/* One line's words (after any "at T"/"after D" prefix has been split off) into steps of b. */
static int parse_words(struct parser *p, struct scn_block *b, char **tok, size_t n, struct ctx ctx)
{
	const struct keyword *kw = NULL;
	struct scn_step s = { .line = p->line };
	size_t nargs = n - 1;
	char **arg = tok + 1;
	bool done;
	int r;

	r = parse_directive(p, tok, n, ctx, &done);
	if (r < 0 || done)
		return r;

	if (strcmp(tok[0], "at") == 0 || strcmp(tok[0], "after") == 0) {
		s.kind = tok[0][1] == 't' ? SCN_AT : SCN_AFTER;
		if (nargs == 0)
			return fail(p, "%s: how many seconds?", tok[0]);
		if (s.kind == SCN_AT && ctx.depth > 0)
			return fail(p, "at T in a block: a block runs many times or in any order; use after D");
		if (s.kind == SCN_AFTER && ctx.in_shuffle)
			return fail(p, "after D in a shuffle block: its steps run in any order, so a delay is ambiguous");
		r = parse_seconds(p, arg[0], &s.seconds);
		if (r == 0)
			r = block_push(p, b, &s);
		if (r < 0 || nargs == 1)
			return r;
		if (strcmp(arg[1], "at") == 0 || strcmp(arg[1], "after") == 0)
			return fail(p, "one time per line");
		return parse_words(p, b, arg + 1, nargs - 1, ctx);
	}

	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(tok[0], keywords[i].word) == 0)
			kw = &keywords[i];
	if (!kw)
		return fail(p, "unknown step \"%s\"; %s", tok[0], usage_lines);
	s.kind = kw->kind;
	if (nargs < kw->min_args || nargs > kw->max_args)
		return fail(p, "%s: wrong number of arguments; %s", tok[0], usage_lines);

	switch (s.kind) {
	case SCN_NOTE:
		if (!(s.name = strdup(arg[0])))
			r = oom(p);
		break;
	case SCN_CREATE:
		r = parse_domid(p, arg[0], &s.domid);
		if (r == 0 && nargs == 2 && !(s.name = strdup(arg[1])))
			r = oom(p);
		break;
	case SCN_RELEASE: case SCN_SHUTDOWN: case SCN_CRASH: case SCN_DYING: case SCN_DESTROY:
	case SCN_TX_BEGIN:
		r = parse_domid(p, arg[0], &s.domid);
		break;
	case SCN_TX_END:
		r = parse_domid(p, arg[0], &s.domid);
		if (r == 0 && nargs == 2) {
			if (strcmp(arg[1], "abort") != 0)
				r = fail(p, "tx-end DOMID [abort]: unexpected %s", arg[1]);
			s.abort = true;
		}
		break;
	case SCN_WRITE: case SCN_GUEST: case SCN_RM: case SCN_GUEST_RM: {
		size_t fixed = (s.kind == SCN_WRITE || s.kind == SCN_GUEST) ? 3 : 2;

		r = parse_domid(p, arg[0], &s.domid);
		if (r == 0)
			r = decode_text(p, arg[1], &ctx, &s.path);
		if (r == 0 && (s.path.len == 0 || memchr(s.path.data, '\0', s.path.len)))
			r = fail(p, "%s: the path is empty or holds a NUL byte", tok[0]);
		if (r == 0 && fixed == 3)
			r = decode_text(p, arg[2], &ctx, &s.value);
		if (r == 0 && nargs > fixed) {
			if (strcmp(arg[fixed], "fails") != 0)
				r = fail(p, "%s: unexpected %s after the %s (only \"fails\" may follow)",
					 tok[0], arg[fixed], fixed == 3 ? "value" : "path");
			s.fails = true;
		}
		break;
	}
	case SCN_REPEAT:
		if (!parse_ulong(arg[0], SCN_REPEAT_MAX, &s.count) || s.count == 0) {
			r = fail(p, "repeat %s: expected a count from 1 to %d", arg[0], SCN_REPEAT_MAX);
			break;
		}
		s.var = 'i';
		if (nargs >= 2 && strcmp(arg[1], "as") == 0) {
			if (nargs < 3 || strlen(arg[2]) != 1 || !islower((unsigned char)arg[2][0])) {
				r = fail(p, "repeat N as X: X names the iteration, one lowercase letter ($X)");
				break;
			}
			s.var = arg[2][0];
			r = parse_body(p, &s, arg + 3, nargs - 3, ctx);
			break;
		}
		r = parse_body(p, &s, arg + 1, nargs - 1, ctx);
		break;
	case SCN_SHUFFLE:
		r = parse_body(p, &s, arg, nargs, ctx);
		break;
	case SCN_ON:
		/* The runner knows the flavours; the language only names one. */
		if (!(s.name = strdup(arg[0])))
			r = oom(p);
		else
			r = parse_body(p, &s, arg + 1, nargs - 1, ctx);
		break;
	case SCN_EXPECT: case SCN_WAIT_FOR:
		if (!is_event_name(arg[0])) {
			r = fail(p, "%s: %s is not an event (domain.new, domain.metrics, domain.gone, "
				 "domain.snapshot)", tok[0], arg[0]);
			break;
		}
		if (!(s.name = strdup(arg[0]))) {
			r = oom(p);
			break;
		}
		r = parse_domid(p, arg[1], &s.domid);
		if (r == 0 && strcmp(arg[2], "within") != 0)
			r = fail(p, "%s EVENT DOMID within SECONDS [MATCH...]: expected \"within\", got %s",
				 tok[0], arg[2]);
		if (r == 0)
			r = parse_seconds(p, arg[3], &s.seconds);
		if (r == 0)
			r = parse_matches(p, arg + 4, nargs - 4, &ctx, &s);
		break;
	case SCN_EXPECT_NONE:
		r = parse_domid(p, arg[0], &s.domid);
		if (r == 0 && strcmp(arg[1], "for") != 0)
			r = fail(p, "expect-none DOMID for SECONDS: expected \"for\", got %s", arg[1]);
		if (r == 0)
			r = parse_seconds(p, arg[2], &s.seconds);
		break;
	case SCN_EXPECT_GET:
		r = parse_domid(p, arg[0], &s.domid);
		if (r == 0)
			r = parse_matches(p, arg + 1, nargs - 1, &ctx, &s);
		break;
	case SCN_EXPECT_STATS:
		r = parse_matches(p, arg, nargs, &ctx, &s);
		break;
	default:
		break;
	}
	if (r < 0) {
		step_free(&s);
		return r;
	}
	return block_push(p, b, &s);
}

/*
 * A guest has one transaction open at a time, and it must close in the
 * block that opened it: otherwise a repeat would open it many times.
 */
static int check_transactions(struct parser *p, const struct scn_block *b, bool in_shuffle)
{
	unsigned int open[64], n_open = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct scn_step *s = &b->steps[i];
		unsigned int k;

		if (s->kind != SCN_TX_BEGIN && s->kind != SCN_TX_END)
			continue;
		p->line = s->line;
		if (in_shuffle)
			return fail(p, "%s in a shuffle block: a transaction needs an order", scn_kind_name(s->kind));
		for (k = 0; k < n_open && open[k] != s->domid; k++)
			;
		if (s->kind == SCN_TX_BEGIN) {
			if (k < n_open)
				return fail(p, "tx-begin %u: its transaction is already open", s->domid);
			if (n_open == sizeof(open) / sizeof(open[0]))
				return fail(p, "too many open transactions");
			open[n_open++] = s->domid;
		} else {
			if (k == n_open)
				return fail(p, "tx-end %u without tx-begin %u in the same block", s->domid, s->domid);
			open[k] = open[--n_open];
		}
	}
	if (n_open > 0)
		return fail(p, "tx-begin %u is never ended in its block", open[0]);
	return 0;
}

/* Lines until the end of the text (depth 0) or the '}' that closes this block. */
static int parse_block(struct parser *p, struct scn_block *b, struct ctx ctx, unsigned int open_line)
{
	for (;;) {
		char *tok[MAX_TOKENS];
		size_t ntok = 0, end;
		bool closed;
		int r;

		if (p->pos >= p->len) {
			if (ctx.depth > 0) {
				p->line = open_line;
				return fail(p, "this block is never closed with }");
			}
			break;
		}
		end = p->pos;
		while (end < p->len && p->text[end] != '\n')
			end++;
		p->line++;
		r = tokenize(p, p->text + p->pos, end - p->pos, tok, &ntok);
		p->pos = end < p->len ? end + 1 : end;
		closed = r == 0 && ntok == 1 && strcmp(tok[0], "}") == 0;
		if (r == 0 && ntok > 0 && !closed)
			r = parse_words(p, b, tok, ntok, ctx);
		for (size_t i = 0; i < ntok; i++)
			free(tok[i]);
		if (r < 0)
			return r;
		if (closed) {
			if (ctx.depth == 0)
				return fail(p, "} without an open block");
			if (b->n == 0)
				return fail(p, "an empty block");
			break;
		}
	}
	{
		unsigned int line = p->line;
		int r = check_transactions(p, b, ctx.in_shuffle);

		p->line = line;
		return r;
	}
}

int scenario_parse(const char *name, const char *text, size_t len, struct scenario *out,
		   char error[SCN_ERROR_MAX])
{
	struct parser p = { .name = name, .text = text, .len = len, .error = error, .scn = out };
	int r;

	memset(out, 0, sizeof(*out));
	error[0] = '\0';
	out->timescale = 1.0;
	out->seed = 1;
	out->name = strdup(name);
	if (!out->name)
		return oom(&p);
	r = parse_block(&p, &out->steps, (struct ctx){ 0 }, 0);
	if (r < 0)
		scenario_free(out);
	return r;
}

int scenario_load(const char *path, struct scenario *out, char error[SCN_ERROR_MAX])
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!f) {
		r = -errno;
		snprintf(error, SCN_ERROR_MAX, "%s: %s", path, strerror(-r));
		return r;
	}
	for (;;) {
		size_t got;

		if (len + 4096 > cap) {
			char *grown = realloc(text, cap = cap ? cap * 2 : 65536);

			if (!grown) {
				r = -ENOMEM;
				snprintf(error, SCN_ERROR_MAX, "%s: out of memory", path);
				goto out;
			}
			text = grown;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = -EIO;
		snprintf(error, SCN_ERROR_MAX, "%s: read error", path);
		goto out;
	}
	r = scenario_parse(path, text ? text : "", len, out, error);
out:
	free(text);
	fclose(f);
	return r;
}

bool scn_setting_is_duration(const char *key)
{
	size_t n = strlen(key);

	if (strncmp(key, "settle.", 7) != 0 && strncmp(key, "metrics.", 8) != 0)
		return false;
	return (n > 3 && strcmp(key + n - 3, "_ms") == 0) || (n > 2 && strcmp(key + n - 2, "_s") == 0);
}

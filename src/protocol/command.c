/*
 * Client command parsing: untrusted bytes to a struct command. yajl builds
 * the tree; a pre-scan first refuses what the tree would mishandle.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "protocol/command.h"
#include "util/utf8.h"

static const char *const error_class_names[] = {
	[COMMAND_ERROR_PARSE] = XGM_ERROR_PARSE,
	[COMMAND_ERROR_INVALID_COMMAND] = XGM_ERROR_INVALID_COMMAND,
	[COMMAND_ERROR_UNKNOWN_COMMAND] = XGM_ERROR_UNKNOWN_COMMAND,
	[COMMAND_ERROR_INVALID_ARGUMENT] = XGM_ERROR_INVALID_ARGUMENT,
	[COMMAND_ERROR_NOT_FOUND] = XGM_ERROR_NOT_FOUND,
	[COMMAND_ERROR_LINE_TOO_LONG] = XGM_ERROR_LINE_TOO_LONG,
	[COMMAND_ERROR_TOO_MANY_CLIENTS] = XGM_ERROR_TOO_MANY_CLIENTS,
	[COMMAND_ERROR_INTERNAL] = XGM_ERROR_INTERNAL,
};

const char *command_error_class_name(enum command_error_class cls)
{
	if ((size_t)cls < sizeof(error_class_names) / sizeof(error_class_names[0]))
		return error_class_names[cls];
	return XGM_ERROR_INTERNAL;
}

/* Keys each command accepts besides "cmd" and "id". */
enum {
	KEY_FILTER = 1u << 0,
	KEY_SNAPSHOT = 1u << 1,
	KEY_DOMAIN = 1u << 2,
};

static const struct {
	const char *name;
	enum command_kind kind;
	unsigned int keys;
} commands[] = {
	{ "ping", COMMAND_PING, 0 },
	{ "subscribe", COMMAND_SUBSCRIBE, KEY_FILTER | KEY_SNAPSHOT },
	{ "unsubscribe", COMMAND_UNSUBSCRIBE, 0 },
	{ "get", COMMAND_GET, KEY_DOMAIN },
	{ "list", COMMAND_LIST, 0 },
	{ "stats", COMMAND_STATS, 0 },
};

static int fail(struct command_error *err, enum command_error_class cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct command_error *err, enum command_error_class cls, const char *fmt, ...)
{
	va_list ap;

	err->cls = cls;
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * yajl_tree cannot be trusted with everything JSON allows: it keeps strings
 * as C strings (a \u0000 escape would silently truncate an id), frees trees
 * recursively (deep nesting would exhaust the stack), accepts comments, and
 * its UTF-8 check lets overlong forms through (an id would not come back as
 * sent). Refuse those before parsing; tracking strings is enough to know
 * which brackets and slashes are structural.
 */
static int prescan(const char *s, size_t len, struct command_error *err)
{
	bool in_string = false;
	unsigned int depth = 0;

	if (!utf8_valid(s, len))
		return fail(err, COMMAND_ERROR_PARSE, "not valid UTF-8");
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\0')
			return fail(err, COMMAND_ERROR_PARSE, "NUL byte at offset %zu", i);
		if (in_string) {
			if (c == '"') {
				in_string = false;
			} else if (c == '\\' && i + 1 < len) {
				i++;
				if (s[i] == 'u' && len - i > 4 && memcmp(s + i + 1, "0000", 4) == 0)
					return fail(err, COMMAND_ERROR_PARSE,
						    "\\u0000 in a string at offset %zu", i - 1);
			}
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			break;
		case '{':
		case '[':
			if (++depth > COMMAND_MAX_DEPTH)
				return fail(err, COMMAND_ERROR_PARSE,
					    "nested deeper than %d levels", COMMAND_MAX_DEPTH);
			break;
		case '}':
		case ']':
			if (depth)
				depth--;
			break;
		case '/':
			return fail(err, COMMAND_ERROR_PARSE, "comments are not JSON (offset %zu)", i);
		}
	}
	return 0;
}

/* yajl's message is several lines quoting the input; the first says what is wrong. */
static int parse_error(struct command_error *err, const char *yajl_msg)
{
	size_t n = strcspn(yajl_msg, "\n");

	while (n && (yajl_msg[n - 1] == ' ' || yajl_msg[n - 1] == '.'))
		n--;
	if (n == 0)
		return fail(err, COMMAND_ERROR_PARSE, "invalid JSON");
	return fail(err, COMMAND_ERROR_PARSE, "invalid JSON: %.*s", (int)n, yajl_msg);
}

static int compare_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Sorting and comparing neighbours: n log n whatever the keys are, where
 * comparing every pair cost 61 ms of loop time for one 64 KiB line of
 * 6,610 keys, and where a hash could be fed colliding keys.
 */
static int check_unique_keys(const yajl_val obj, const char *where, struct command_error *err)
{
	size_t n = obj->u.object.len;
	const char **sorted;
	int r = 0;

	if (n < 2)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, obj->u.object.keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), compare_key);
	for (size_t i = 1; i < n && !r; i++)
		if (strcmp(sorted[i], sorted[i - 1]) == 0)
			r = fail(err, COMMAND_ERROR_INVALID_COMMAND, "duplicate key \"%.40s\" in %s",
				 sorted[i], where);
	free(sorted);
	return r;
}

/* What yajl's lexer skips between tokens: JSON's four, and \f and \v too. */
static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/*
 * Where the value of the index-th member of the top-level object starts and
 * ends in the line. The line parsed as one JSON object, so tracking strings
 * is enough to tell structural commas, colons and brackets.
 */
static void top_level_value(const char *s, size_t len, size_t index, size_t *start, size_t *end)
{
	bool in_string = false;
	unsigned int depth = 0;
	size_t member = 0, i;

	*start = *end = 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if ((c == '}' || c == ']') && --depth == 0) {
			break;
		} else if (depth == 1 && c == ',') {
			if (member++ == index)
				break;
		} else if (depth == 1 && c == ':' && member == index) {
			*start = i + 1;
		}
	}
	*end = i;
	while (*start < *end && is_json_space(s[*start]))
		(*start)++;
	while (*end > *start && is_json_space(s[*end - 1]))
		(*end)--;
}

static yajl_val member(const yajl_val obj, const char *key)
{
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

static bool get_domid(const yajl_val v, unsigned int *ret)
{
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > XGM_DOMID_MAX)
		return false;
	*ret = (unsigned int)YAJL_GET_INTEGER(v);
	return true;
}

/*
 * The id is kept as the client wrote it, so that it is echoed byte for
 * byte: yajl would turn a lone surrogate (\ud800) into '?' and -0 into 0.
 */
static int parse_id(const char *line, size_t len, const yajl_val top, struct command_id *id,
		    struct command_error *err)
{
	size_t index, start, end;
	yajl_val v = NULL;

	for (index = 0; index < top->u.object.len; index++)
		if (strcmp(top->u.object.keys[index], "id") == 0) {
			v = top->u.object.values[index];
			break;
		}
	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_INTEGER(v) && !YAJL_IS_STRING(v))
		return fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
			    "\"id\" must be a string or an integer that fits in 64 bits");
	top_level_value(line, len, index, &start, &end);
	if (end <= start)
		return fail(err, COMMAND_ERROR_INTERNAL, "cannot find the \"id\" in the line");
	id->text = strndup(line + start, end - start);
	if (!id->text)
		return -ENOMEM;
	id->len = end - start;
	if (YAJL_IS_INTEGER(v)) {
		id->type = COMMAND_ID_INT;
		id->num = YAJL_GET_INTEGER(v);
	} else {
		id->type = COMMAND_ID_STRING;
	}
	return 0;
}

static int compare_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return (x > y) - (x < y);
}

static int parse_domains(const yajl_val v, struct command_filter *f, struct command_error *err)
{
	size_t n, out = 0;

	if (!YAJL_IS_ARRAY(v))
		return fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
			    "\"filter.domains\" must be an array of domain ids");
	n = v->u.array.len;
	if (n) {
		f->domains = calloc(n, sizeof(*f->domains));
		if (!f->domains)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (!get_domid(v->u.array.values[i], &f->domains[i]))
			return fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
				    "\"filter.domains\"[%zu] is not a domain id (an integer 0..%u)",
				    i, XGM_DOMID_MAX);
	if (n)
		qsort(f->domains, n, sizeof(*f->domains), compare_uint);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || f->domains[out - 1] != f->domains[i])
			f->domains[out++] = f->domains[i];
	f->n_domains = out;
	f->all_domains = false;
	return 0;
}

static int parse_events(const yajl_val v, struct command_filter *f, struct command_error *err)
{
	if (!YAJL_IS_ARRAY(v))
		return fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
			    "\"filter.events\" must be an array of event names");
	f->events = 0;
	for (size_t i = 0; i < v->u.array.len; i++) {
		const char *name = YAJL_GET_STRING(v->u.array.values[i]);
		unsigned int bit;

		if (!name)
			return fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
				    "\"filter.events\"[%zu] is not a string", i);
		bit = xgm_event_from_name(name, strlen(name));
		if (!bit)
			return fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
				    "unknown event \"%.40s\" in \"filter.events\"", name);
		f->events |= bit;
	}
	return 0;
}

static int parse_filter(const yajl_val v, struct command_filter *f, struct command_error *err)
{
	int r;

	if (YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_OBJECT(v))
		return fail(err, COMMAND_ERROR_INVALID_ARGUMENT, "\"filter\" must be an object");
	r = check_unique_keys(v, "\"filter\"", err);
	if (r)
		return r;
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *key = v->u.object.keys[i];
		yajl_val val = v->u.object.values[i];

		if (strcmp(key, "domains") == 0)
			r = parse_domains(val, f, err);
		else if (strcmp(key, "events") == 0)
			r = parse_events(val, f, err);
		else
			r = fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
				 "unknown key \"%.40s\" in \"filter\"", key);
		if (r)
			return r;
	}
	return 0;
}

static int parse_arguments(const yajl_val top, unsigned int allowed, const char *name,
			   struct command *cmd, struct command_error *err)
{
	int r = 0;

	for (size_t i = 0; i < top->u.object.len && !r; i++) {
		const char *key = top->u.object.keys[i];
		yajl_val val = top->u.object.values[i];

		if (strcmp(key, "cmd") == 0 || strcmp(key, "id") == 0)
			continue;
		if ((allowed & KEY_FILTER) && strcmp(key, "filter") == 0)
			r = parse_filter(val, &cmd->filter, err);
		else if ((allowed & KEY_SNAPSHOT) && strcmp(key, "snapshot") == 0) {
			if (YAJL_IS_TRUE(val) || YAJL_IS_FALSE(val))
				cmd->snapshot = YAJL_IS_TRUE(val);
			else
				r = fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
					 "\"snapshot\" must be true or false");
		} else if ((allowed & KEY_DOMAIN) && strcmp(key, "domain") == 0) {
			if (!get_domid(val, &cmd->domid))
				r = fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
					 "\"domain\" must be a domain id (an integer 0..%u)",
					 XGM_DOMID_MAX);
		} else {
			r = fail(err, COMMAND_ERROR_INVALID_ARGUMENT,
				 "unknown key \"%.40s\" for \"%s\"", key, name);
		}
	}
	if (!r && (allowed & KEY_DOMAIN) && !member(top, "domain"))
		r = fail(err, COMMAND_ERROR_INVALID_ARGUMENT, "\"%s\" needs \"domain\"", name);
	return r;
}

static int parse_tree(const char *line, size_t len, const yajl_val top, struct command *cmd,
		      struct command_error *err)
{
	const char *name;
	size_t i;
	int r;

	if (!YAJL_IS_OBJECT(top))
		return fail(err, COMMAND_ERROR_INVALID_COMMAND, "a command must be a JSON object");
	/* The id first, so that every later error can echo it. */
	r = parse_id(line, len, top, &cmd->id, err);
	if (r)
		return r;
	r = check_unique_keys(top, "the command", err);
	if (r)
		return r;
	if (!member(top, "cmd"))
		return fail(err, COMMAND_ERROR_INVALID_COMMAND, "no \"cmd\" member");
	name = YAJL_GET_STRING(member(top, "cmd"));
	if (!name)
		return fail(err, COMMAND_ERROR_INVALID_COMMAND, "\"cmd\" must be a string");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return fail(err, COMMAND_ERROR_UNKNOWN_COMMAND, "unknown command \"%.40s\"", name);
	cmd->kind = commands[i].kind;
	return parse_arguments(top, commands[i].keys, commands[i].name, cmd, err);
}

static void command_init(struct command *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->filter.all_domains = true;
	cmd->filter.events = XGM_EVENT_ALL;
	cmd->snapshot = true;
}

int command_parse(const char *line, size_t len, struct command *cmd, struct command_error *err)
{
	char yajl_msg[256] = "";
	yajl_val top = NULL;
	char *text;
	int r;

	command_init(cmd);
	r = prescan(line, len, err);
	if (r)
		return r;
	/* yajl_tree_parse wants a C string, and the line is not one. */
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, line, len);
	text[len] = '\0';
	top = yajl_tree_parse(text, yajl_msg, sizeof(yajl_msg));
	free(text);
	if (!top) {
		if (strstr(yajl_msg, "memory"))
			return -ENOMEM;
		return parse_error(err, yajl_msg);
	}
	r = parse_tree(line, len, top, cmd, err);
	yajl_tree_free(top);
	if (r) {
		/* Keep only the id: a half-parsed filter must not leak into use. */
		command_filter_release(&cmd->filter);
		if (r != -EINVAL)
			command_release(cmd);
	}
	return r;
}

void command_filter_release(struct command_filter *f)
{
	free(f->domains);
	f->domains = NULL;
	f->n_domains = 0;
	f->all_domains = true;
	f->events = XGM_EVENT_ALL;
}

void command_filter_move(struct command_filter *to, struct command_filter *from)
{
	command_filter_release(to);
	*to = *from;
	from->domains = NULL;
	command_filter_release(from);
}

void command_release(struct command *cmd)
{
	free(cmd->id.text);
	free(cmd->filter.domains);
	memset(cmd, 0, sizeof(*cmd));
}

bool command_filter_match_domain(const struct command_filter *f, unsigned int domid)
{
	if (f->all_domains)
		return true;
	return f->n_domains &&
	       bsearch(&domid, f->domains, f->n_domains, sizeof(*f->domains), compare_uint);
}

bool command_filter_match(const struct command_filter *f, unsigned int domid, enum xgm_event kind)
{
	return (f->events & kind) && command_filter_match_domain(f, domid);
}

/*
 * The checks shared by the fuzz harnesses (see fuzz.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "fuzz.h"
#include "json/jsonw.h"
#include "util/utf8.h"

void fuzz_check_json(yajl_gen g)
{
	char err[128], *copy;
	const char *text;
	size_t len;
	yajl_val v;

	jsonw_text(g, &text, &len);
	if (!utf8_valid(text, len) || memchr(text, '\n', len) || memchr(text, '\0', len)) {
		fprintf(stderr, "output is not one line of UTF-8: %.*s\n", (int)len, text);
		abort();
	}
	copy = strndup(text, len);
	if (!copy)
		return;
	v = yajl_tree_parse(copy, err, sizeof(err));
	if (!v) {
		fprintf(stderr, "output is not JSON (%s): %s\n", err, copy);
		abort();
	}
	yajl_tree_free(v);
	free(copy);
}

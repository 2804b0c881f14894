/*
 * The checks shared by the fuzz harnesses (see fuzz.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "fuzz.h"
#include "json/jsonw.h"
#include "util/utf8.h"

void fuzz_check_json(const struct jsonw *w)
{
	char err[128], *copy;
	const char *text;
	size_t len;
	yajl_val v;

	if (jsonw_error(w) == -ENOMEM)
		return;
	if (jsonw_error(w)) {
		fprintf(stderr, "the writer failed: %s\n", strerror(-jsonw_error(w)));
		abort();
	}
	jsonw_text(w, &text, &len);
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

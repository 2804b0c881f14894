/*
 * UTF-8 repair on any bytes: the result is valid, as long as promised,
 * the identity on valid input, and jsonw writes it as a JSON string.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/jsonw.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *out = malloc(3 * size + 1);
	size_t n;
	yajl_gen g;

	if (!out)
		return 0;
	n = utf8_repair(s, size, out);
	if (n > 3 * size || !utf8_valid(out, n))
		abort();
	if (utf8_valid(s, size) && (n != size || memcmp(out, s, size) != 0))
		abort();
	free(out);
	g = jsonw_new();
	if (g) {
		if (jsonw_string(g, s, size) == 0)
			fuzz_check_json(g);
		yajl_gen_free(g);
	}
	return 0;
}

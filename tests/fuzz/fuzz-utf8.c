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
	struct jsonw w;
	size_t n;

	if (!out)
		return 0;
	n = utf8_repair(s, size, out);
	if (n > 3 * size || !utf8_valid(out, n))
		abort();
	if (utf8_valid(s, size) && (n != size || memcmp(out, s, size) != 0))
		abort();
	free(out);
	jsonw_init(&w);
	jsonw_string(&w, s, size);
	fuzz_check_json(&w);
	jsonw_release(&w);
	return 0;
}

/* Unit tests of xs-wire's pure half: framing a DIRECTORY request, splitting its answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <xen/io/xs_wire.h>

#include "xs/xs-wire.h"

static void test_request(void **state)
{
	char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX], big[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg hdr;
	long len = xs_wire_directory_request("/local/domain", 7, buf, sizeof(buf));

	assert_int_equal(len, (long)sizeof(hdr) + 14);
	memcpy(&hdr, buf, sizeof(hdr));
	assert_int_equal(hdr.type, XS_DIRECTORY);
	assert_int_equal(hdr.req_id, 7);
	assert_int_equal(hdr.tx_id, 0);
	assert_int_equal(hdr.len, 14);
	assert_memory_equal(buf + sizeof(hdr), "/local/domain", 14);	/* with its NUL */

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(xs_wire_directory_request(big, 1, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_int_equal(xs_wire_directory_request("/x", 1, buf, sizeof(hdr) + 2), -ENAMETOOLONG);
}

static void test_split(void **state)
{
	unsigned int n = 99;
	int err = 0;
	char **names = xs_wire_split_names("0\0" "12\0" "name\0", 10, &n, &err);

	assert_non_null(names);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "0");
	assert_string_equal(names[1], "12");
	assert_string_equal(names[2], "name");
	assert_null(names[3]);
	free(names);	/* one allocation */

	names = xs_wire_split_names("", 0, &n, &err);
	assert_non_null(names);
	assert_int_equal(n, 0);
	free(names);

	/* An empty name is a name; a payload cut before its NUL is not an answer. */
	names = xs_wire_split_names("\0a\0", 3, &n, &err);
	assert_non_null(names);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "");
	free(names);
	assert_null(xs_wire_split_names("a\0b", 3, &n, &err));
	assert_int_equal(err, -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

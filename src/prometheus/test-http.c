/* Unit tests of the [prometheus] listen address parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prometheus/http.h"

static void test_listen_parse(void **state)
{
	char host[PROM_HOST_MAX];
	uint16_t port;

	assert_int_equal(prom_listen_parse("127.0.0.1:9101", host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9101);
	assert_int_equal(prom_listen_parse(":9101", host, &port), 0);
	assert_string_equal(host, "127.0.0.1");	/* loopback unless told */
	assert_int_equal(prom_listen_parse("[::1]:80", host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(prom_listen_parse("0.0.0.0:65535", host, &port), 0);
	assert_int_equal(port, 65535);

	assert_int_equal(prom_listen_parse("", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("127.0.0.1", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("127.0.0.1:", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("127.0.0.1:0", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("127.0.0.1:65536", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("127.0.0.1:-1", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("127.0.0.1:80x", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("localhost:80", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("::1:80", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("[::1:80", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("[]:80", host, &port), -EINVAL);
	assert_int_equal(prom_listen_parse("[127.0.0.1]:80", host, &port), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

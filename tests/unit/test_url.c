/*
 * test_url: the URL policy (base/url.h): what parses, the plain-http
 * rule, origins, and the narrow grammar that keeps base/url.c and
 * libcurl from reading a URL two ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/url.h"

static void
test_url_check(void **state)
{
	static const char *const ok[] = {
		"https://queue.fal.run",
		"https://gateway.example.com/fal/",
		"HTTPS://queue.fal.run/x",
		"https://queue.fal.run./x",
		"http://127.0.0.1:8080",
		"http://127.5.6.7/fal",
		"http://localhost:9",
		"http://LOCALHOST",
		"http://[::1]:8000/",
		"http://127.0.0.1:8080?x#y",
	};
	static const char *const bad[] = {
		"http://example.com",
		"http://queue.fal.run",
		"http://127.0.0.1.evil.com",
		"http://localhost.evil.com:80",
		"http://128.0.0.1",
		"http://10.0.0.1",
		"http://127.0.0",
		"http://127.0.0.256",
		"http://127.0.0.01",
		"http://[::2]",
		"http://[::ffff:127.0.0.1]",
		"ftp://127.0.0.1",
		"127.0.0.1:80",
		"http://user:pw@127.0.0.1",
		"https://",
		/* two parsers could read these differently: all refused */
		"http://127.0.0.1\\@evil.com/",
		"https://evil.com\\.queue.fal.run/",
		"https://queue.fal.run%2f@evil.com/",
		"https://queue.fal.run:/x",
		"https://queue.fal.run:99999/x",
		"https://queue.fal.run:8o/x",
		"https://que ue.fal.run/",
		"https://queue.fal.run/a b",
		"https://queue.fal.run/\x1b[2J",
		"https://\xc3\xa9.example/",
		"https://[::1/",
		"https://.fal.run/",
	};
	struct error err;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (url_check(ok[i], NULL, &err) < 0)
			fail_msg("%s refused: %s", ok[i], err.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (url_check(bad[i], NULL, &err) == 0)
			fail_msg("%s accepted", bad[i]);
	url_check("http://example.com:81/path?q", NULL, &err);
	assert_string_equal(err.msg,
			    "refusing plain http to 'http://example.com:81': use https, or a loopback address (127.0.0.1, localhost, [::1])");
	/* a control in the URL is not quoted back */
	url_check("https://a/\x1b[2J", NULL, &err);
	assert_null(strchr(err.msg, '\x1b'));
}

static void
test_url_parts(void **state)
{
	struct url u;
	char o[300];

	assert_int_equal(url_parse("HTTPS://Queue.FAL.run./fal-ai/x?y", &u, NULL), 0);
	assert_string_equal(u.scheme, "https");
	assert_string_equal(u.host, "queue.fal.run");
	assert_int_equal(u.port, 443);
	url_origin(&u, o, sizeof(o));
	assert_string_equal(o, "https://queue.fal.run");
	assert_int_equal(url_parse("http://[::1]:8000", &u, NULL), 0);
	assert_true(u.ipv6);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 8000);
	url_origin(&u, o, sizeof(o));
	assert_string_equal(o, "http://[::1]:8000");
}

static void
test_url_origin(void **state)
{
	struct url base;
	struct error err;

	assert_int_equal(url_parse("http://127.0.0.1:8000", &base, NULL), 0);
	assert_int_equal(url_check_origin("http://127.0.0.1:8000/a/b/requests/1/status",
					  &base, &err), 0);
	assert_int_equal(url_check_origin("http://127.0.0.1:8001/a/b/requests/1/status",
					  &base, &err), -1);
	assert_string_equal(err.msg,
			    "refusing to send the key to 'http://127.0.0.1:8001': only to the engine's own 'http://127.0.0.1:8000'");
	assert_int_equal(url_check_origin("http://localhost:8000/x", &base, &err), -1);
	assert_int_equal(url_check_origin("https://127.0.0.1:8000/x", &base, &err), -1);
	assert_int_equal(url_parse("https://queue.fal.run", &base, NULL), 0);
	assert_int_equal(url_check_origin("https://queue.fal.run:443/x", &base, &err), 0);
	assert_int_equal(url_check_origin("https://evil.example/queue.fal.run", &base, &err), -1);
}

static void
test_url_hosts(void **state)
{
	static const char *const hosts[] = { "fal.run", "fal.media", NULL };
	struct url u;

	url_parse("https://queue.fal.run/x", &u, NULL);
	assert_true(url_host_in(&u, hosts));
	url_parse("https://fal.run", &u, NULL);
	assert_true(url_host_in(&u, hosts));
	url_parse("https://evilfal.run", &u, NULL);
	assert_false(url_host_in(&u, hosts));
	url_parse("https://fal.run.evil.com", &u, NULL);
	assert_false(url_host_in(&u, hosts));
	assert_false(url_host_in(&u, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_url_parts),
		cmocka_unit_test(test_url_origin),
		cmocka_unit_test(test_url_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_safetensors: base/safetensors.h: a well-framed file passes; a
 * short file, a header length past the end, a header that is not an
 * object (an HTML error page, a JSON array) and a cut header fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/safetensors.h"

/* A file of header h (padded with pad spaces) and tail bytes of data. */
static size_t
frame(unsigned char *out, const char *h, size_t pad, size_t tail)
{
	uint64_t len = strlen(h) + pad;

	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(len >> (8 * i));
	memcpy(out + 8, h, strlen(h));
	memset(out + 8 + strlen(h), ' ', pad);
	memset(out + 8 + len, 0xab, tail);
	return 8 + len + tail;
}

static int
check(const unsigned char *b, size_t n, uint64_t size)
{
	struct error err;

	return safetensors_check_bytes(b, n, size, &err);
}

static void
test_good(void **state)
{
	unsigned char b[256];
	size_t n = frame(b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 3, 4);

	(void)state;
	assert_int_equal(check(b, n, n), 0);
	n = frame(b, "{}", 0, 0); /* no tensors: still the frame */
	assert_int_equal(check(b, n, n), 0);
}

static void
test_bad(void **state)
{
	unsigned char b[256];
	const char html[] = "<html><body>502 Bad Gateway</body></html>";
	size_t n;

	(void)state;
	assert_int_equal(check((const unsigned char *)"1234567", 7, 7), -1);
	/* an HTML page: its first 8 bytes are a huge "length" */
	assert_int_equal(check((const unsigned char *)html, sizeof(html) - 1,
			       sizeof(html) - 1), -1);
	n = frame(b, "[1, 2]", 0, 4);
	assert_int_equal(check(b, n, n), -1);
	n = frame(b, "{\"a\":1}", 0, 4);
	assert_int_equal(check(b, n, n - 8), -1); /* the file is cut short */
	assert_int_equal(check(b, 10, n), -1);    /* only part of the header read */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

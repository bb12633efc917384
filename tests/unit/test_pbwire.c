/*
 * Unit tests of base/pbwire.c, the protobuf wire format: what it writes
 * reads back (varints of every length, nested bytes), and bytes from a
 * server that are not a well-formed message are refused, never read past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/pbwire.h"

static void
test_fields_read_back(void **state)
{
	static const uint64_t values[] = { 0, 1, 127, 128, 300, UINT32_MAX,
					   (uint64_t)1 << 63, UINT64_MAX };
	struct pb_reader r;
	struct pb_field f;
	struct buf b;

	(void)state;
	buf_init(&b);
	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++)
		pb_put_varint_field(&b, (unsigned)i + 1, values[i]);
	pb_put_len_field(&b, 536870911, "abc", 3); /* the largest number */
	pb_put_len_field(&b, 2, "", 0);
	pb_reader_init(&r, b.data, b.len);
	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		assert_int_equal(pb_next(&r, &f), 1);
		assert_int_equal(f.num, i + 1);
		assert_int_equal(f.wire, PB_VARINT);
		assert_true(f.v == values[i]);
	}
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.num, 536870911);
	assert_int_equal(f.wire, PB_LEN);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.data, "abc", 3);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.len, 0);
	assert_int_equal(pb_next(&r, &f), 0);
	buf_release(&b);
}

static void
test_the_encoding_is_protobufs(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	/* the protobuf guide's examples: 150 in field 1; "testing" in 2 */
	pb_put_varint_field(&b, 1, 150);
	pb_put_len_field(&b, 2, "testing", 7);
	assert_int_equal(b.len, 12);
	assert_memory_equal(b.data, "\x08\x96\x01\x12\x07testing", 12);
	buf_release(&b);
}

static void
test_fixed_fields_are_skippable(void **state)
{
	static const uint8_t msg[] = { 0x09, 1, 2, 3, 4, 5, 6, 7, 8, /* 1: fixed64 */
				       0x15, 9, 0, 0, 0 };          /* 2: fixed32 */
	struct pb_reader r;
	struct pb_field f;

	(void)state;
	pb_reader_init(&r, msg, sizeof(msg));
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.wire, PB_FIXED64);
	assert_true(f.v == 0x0807060504030201ull);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.wire, PB_FIXED32);
	assert_int_equal(f.v, 9);
	assert_int_equal(pb_next(&r, &f), 0);
}

static void
test_malformed_messages_are_refused(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "\x08", 1 },                  /* a varint missing */
		{ "\x08\x80", 2 },              /* a varint cut short */
		{ "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12 }, /* 11 bytes */
		{ "\x12\x05" "abc", 5 },        /* a length past the end */
		{ "\x12\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10 }, /* a huge one */
		{ "\x00\x01", 2 },              /* field 0 */
		{ "\x0b", 1 },                  /* a group start */
		{ "\x0c", 1 },                  /* a group end */
		{ "\x0e\x01", 2 },              /* wire type 6 */
		{ "\x09\x01\x02", 3 },          /* fixed64 cut short */
		{ "\x80\x80\x80\x80\x10\x00", 6 }, /* field number over 2^29 - 1 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct pb_reader r;
		struct pb_field f;

		pb_reader_init(&r, bad[i].bytes, bad[i].len);
		if (pb_next(&r, &f) != -1)
			fail_msg("message %zu was read", i);
		/* and the reader stays stopped */
		assert_int_equal(pb_next(&r, &f), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_read_back),
		cmocka_unit_test(test_the_encoding_is_protobufs),
		cmocka_unit_test(test_fixed_fields_are_skippable),
		cmocka_unit_test(test_malformed_messages_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

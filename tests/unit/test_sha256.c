/*
 * Unit tests of base/sha256.c: the NIST test vectors (FIPS 180-4's
 * examples, "SHA256.pdf" and the one-million-'a' message of the SHAVS
 * long messages), the padding at every block boundary, streaming in odd
 * pieces, and a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/sha256.h"

static void
expect_hex(struct sha256 h, const char *want)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(&h, hex);
	assert_string_equal(hex, want);
}

static void
test_nist_vectors(void **state)
{
	static const struct {
		const char *msg, *digest;
	} nist[] = {
		{ "abc",
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
		  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(nist) / sizeof(nist[0]); i++)
		expect_hex(sha256_bytes(nist[i].msg, strlen(nist[i].msg)), nist[i].digest);
}

static void
test_one_million_a_in_pieces(void **state)
{
	struct sha256_ctx c;
	char a[1000];

	(void)state;
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_add(&c, a, sizeof(a));
	expect_hex(sha256_end(&c),
		   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* 55 bytes pad within their block, 56 need a second; 64 and 120 too. */
static void
test_padding_at_each_block_boundary(void **state)
{
	static const struct {
		size_t len;
		const char *digest;
	} cases[] = {
		{ 55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59" },
		{ 56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562" },
		{ 63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488" },
		{ 64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108" },
		{ 119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6" },
		{ 120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c" },
	};
	uint8_t bytes[120];

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sha256_ctx c;

		expect_hex(sha256_bytes(bytes, cases[i].len), cases[i].digest);
		/* the same bytes one at a time */
		sha256_init(&c);
		for (size_t j = 0; j < cases[i].len; j++)
			sha256_add(&c, bytes + j, 1);
		expect_hex(sha256_end(&c), cases[i].digest);
	}
}

static void
test_a_file_and_its_size(void **state)
{
	char path[] = "/tmp/lm-sha256-XXXXXX";
	int fd = mkstemp(path);
	struct sha256 h;
	struct error err;
	uint64_t size = 0;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(sha256_file(path, &h, &size, &err), 0);
	assert_int_equal(size, 3);
	expect_hex(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(path);
	assert_int_equal(sha256_file(path, &h, &size, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nist_vectors),
		cmocka_unit_test(test_one_million_a_in_pieces),
		cmocka_unit_test(test_padding_at_each_block_boundary),
		cmocka_unit_test(test_a_file_and_its_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_text: base/text.h: controls escaped (C0, DEL, C1 in UTF-8 and as
 * raw bytes), invalid UTF-8 escaped, a secret redacted before the cut,
 * and the request-id rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/text.h"

static const char *
clean(const char *s, const char *secret, size_t size)
{
	static char out[256];

	snprintf(out, sizeof(out), "%s", s);
	text_clean(out, size, secret);
	return out;
}

static void
test_escapes(void **state)
{
	assert_string_equal(clean("plain words, caf\xc3\xa9 \xe2\x9c\x93", NULL, 256),
			    "plain words, caf\xc3\xa9 \xe2\x9c\x93");
	assert_string_equal(clean("a\x1b[31mred\x1b[0m", NULL, 256),
			    "a\\x1b[31mred\\x1b[0m");
	assert_string_equal(clean("tab\there\nnew\rline\x7f", NULL, 256),
			    "tab\\x09here\\x0anew\\x0dline\\x7f");
	/* C1 CSI as UTF-8 (U+009B) and as a raw byte */
	assert_string_equal(clean("x\xc2\x9b" "2Jy", NULL, 256), "x\\u009b2Jy");
	assert_string_equal(clean("x\x9b" "2Jy", NULL, 256), "x\\x9b2Jy");
	/* overlong and cut sequences are bytes, not characters */
	assert_string_equal(clean("\xc0\x9b|\xe2\x9c", NULL, 256), "\\xc0\\x9b|\\xe2\\x9c");
	assert_string_equal(clean("\xed\xa0\x80", NULL, 256), "\\xed\\xa0\\x80");
}

static void
test_redacts(void **state)
{
	assert_string_equal(clean("Authorization: Key sk-SECRET-123 and sk-SECRET-123",
				  "sk-SECRET-123", 256),
			    "Authorization: Key [redacted] and [redacted]");
	assert_string_equal(clean("no secret here", "", 256), "no secret here");
	/* the cut comes after the redaction, at a whole unit */
	assert_string_equal(clean("Key sk-SECRET-123", "sk-SECRET-123", 10), "Key ");
	assert_string_equal(clean("ab\x1b", NULL, 5), "ab");
	assert_string_equal(clean("abc", NULL, 1), "");
}

static void
test_tokens(void **state)
{
	char long_id[200];

	assert_true(text_is_token("764cabcf-b745-4b3e-ae38-1200304cf45b", 128));
	assert_true(text_is_token("a.b_c-D9", 128));
	assert_false(text_is_token("$(touch /tmp/x)", 128));
	assert_false(text_is_token("a b", 128));
	assert_false(text_is_token("a\tb", 128));
	assert_false(text_is_token("", 128));
	assert_false(text_is_token(NULL, 128));
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_false(text_is_token(long_id, 128));
	long_id[128] = '\0';
	assert_true(text_is_token(long_id, 128));
}

/* The one UTF-8 check every reader of outside text uses (the recipe,
 * captions, ZIP names): shortest forms only, no surrogates, nothing past
 * U+10FFFF, nothing cut short. */
static void
test_utf8_bad_at_finds_the_first_ill_formed_byte(void **state)
{
	static const struct {
		const char *s;
		size_t bad; /* its offset; strlen(s): none */
	} cases[] = {
		{ "plain ascii", 11 },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14 },
		{ "a\xc0\xaf" "b", 1 },              /* overlong '/' */
		{ "ab\xe0\x80\xaf" "c", 2 },        /* overlong, 3 bytes */
		{ "\xed\xa0\x80", 0 },           /* a UTF-16 surrogate */
		{ "x\xf4\x90\x80\x80", 1 },     /* past U+10FFFF */
		{ "xy\xf5\x80\x80\x80", 2 },    /* no such lead byte */
		{ "end\xe2\x82", 3 },             /* cut short */
		{ "\x80", 0 },                     /* a lone continuation */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].s);

		assert_int_equal(utf8_bad_at(cases[i].s, len), cases[i].bad);
		assert_true(utf8_valid(cases[i].s, len) == (cases[i].bad == len));
	}
	/* a NUL is a character like any other: the length decides */
	assert_int_equal(utf8_bad_at("a\0b", 3), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_redacts),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_utf8_bad_at_finds_the_first_ill_formed_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

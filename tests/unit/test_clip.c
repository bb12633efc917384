/*
 * test_clip: compiler/clip.c counts CLIP tokens by CLIP's own split and an
 * estimate of its BPE that errs high (docs/quality.md: measured against
 * CLIP's reference tokenizer on 186 texts, one counted low, by one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compiler/clip.h"

/* Counts that show each rule of the split and of the estimate. */
static void
test_rules(void **state)
{
	(void)state;
	assert_int_equal(clip_tokens(""), 2);        /* start and end */
	assert_int_equal(clip_tokens("the"), 3);     /* a short word: one */
	assert_int_equal(clip_tokens("THE"), 3);     /* lowercased first */
	assert_int_equal(clip_tokens("a, b."), 6);   /* punctuation: a token a byte */
	assert_int_equal(clip_tokens("don't"), 4);   /* don 't */
	assert_int_equal(clip_tokens("it\xe2\x80\x99s"), 4); /* as "it's" */
	assert_int_equal(clip_tokens("1024"), 6);    /* one token a digit */
	assert_int_equal(clip_tokens("<|endoftext|>"), 3);
	assert_int_equal(clip_tokens("  \t "), 2);
}

/* A word over five letters counts a token per four letters begun. */
static void
test_long_words(void **state)
{
	(void)state;
	assert_int_equal(clip_tokens("smile"), 3);          /* 5 letters */
	assert_int_equal(clip_tokens("smiles"), 4);         /* 6: two */
	assert_int_equal(clip_tokens("photorealistic"), 6); /* 14: four */
	assert_int_equal(clip_tokens("JINXCHAR"), 4); /* CLIP: jin x char, 3 */
}

/* A piece with a byte over 0x7f counts a token a byte: BPE never leaves
 * more symbols than bytes, so this is CLIP's count or more. */
static void
test_non_ascii_counts_bytes(void **state)
{
	(void)state;
	assert_int_equal(clip_tokens("caf\xc3\xa9"), 7); /* 5 bytes */
	assert_true(clip_tokens("\xff") >= 3); /* an invalid byte is a piece */
}

/* A long run of letters: a token per four, whatever its length. */
static void
test_long_piece(void **state)
{
	char s[1001];

	(void)state;
	memset(s, 'a', 1000);
	s[1000] = '\0';
	assert_int_equal(clip_tokens(s), 252);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_long_words),
		cmocka_unit_test(test_non_ascii_counts_bytes),
		cmocka_unit_test(test_long_piece),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

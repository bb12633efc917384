/*
 * test_clip: compiler/clip.c counts tokens as CLIP's tokenizer does.
 *
 * tests/data/clip-tokens.txt holds texts and the counts CLIP's reference
 * tokenizer gives them (compiler/clip_merges.py --count, run on CLIP's
 * own vocabulary file): the captions of the recipes/ examples for every target, an
 * sdxl set whose old captions ran to 78-82 tokens, and edge cases
 * (contractions, curly quotes, accents, Greek, Cyrillic, CJK, emoji,
 * digits, underscores, special tokens). Each must count the same here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/path.h"
#include "base/util.h"
#include "compiler/clip.h"

#define FIXTURE "tests/data/clip-tokens.txt"

/* The fixture: in the working folder (make check), else beside the binary. */
static FILE *
open_fixture(void)
{
	FILE *f = fopen(FIXTURE, "r");
	char *exe, *dir, *p;

	if (f || !(exe = realpath("/proc/self/exe", NULL)))
		return f;
	dir = path_dir(exe);
	p = path_join(dir, "../../" FIXTURE);
	f = fopen(p, "r");
	free(p);
	free(dir);
	free(exe);
	return f;
}

static void
test_reference_counts(void **state)
{
	FILE *f = open_fixture();
	char line[4096];
	size_t n = 0, over77 = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		size_t want;

		if (line[0] == '#' || !tab)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*tab = '\0';
		want = strtoul(line, NULL, 10);
		if (clip_tokens(tab + 1) != want)
			fail_msg("%zu tokens, CLIP says %zu: %s", clip_tokens(tab + 1),
				 want, tab + 1);
		over77 += want > CLIP_WINDOW;
		n++;
	}
	fclose(f);
	assert_true(n >= 150);
	assert_true(over77 >= 5); /* the fixture holds texts over the window */
}

/* Counts that show each rule of the tokenizer. */
static void
test_rules(void **state)
{
	(void)state;
	assert_int_equal(clip_tokens(""), 2);        /* start and end */
	assert_int_equal(clip_tokens("the"), 3);     /* one word */
	assert_int_equal(clip_tokens("THE"), 3);     /* lowercased first */
	assert_int_equal(clip_tokens("JINXCHAR"), 5); /* jin x char */
	assert_int_equal(clip_tokens("a, b."), 6);
	assert_int_equal(clip_tokens("don't"), 4);   /* don 't */
	assert_int_equal(clip_tokens("it\xe2\x80\x99s"), 4); /* as "it's" */
	assert_int_equal(clip_tokens("1024"), 6);    /* one token a digit */
	assert_int_equal(clip_tokens("<|endoftext|>"), 3);
	assert_int_equal(clip_tokens("  \t "), 2);
}

/* A piece longer than MAX_PIECE counts a token a byte: never fewer. */
static void
test_long_piece(void **state)
{
	char s[1001];

	(void)state;
	memset(s, 'a', 1000);
	s[1000] = '\0';
	assert_int_equal(clip_tokens(s), 1002);
	s[0] = (char)0xff; /* an invalid byte is a piece of its own */
	assert_true(clip_tokens(s) >= 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_counts),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_long_piece),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

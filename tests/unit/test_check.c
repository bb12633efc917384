/*
 * test_check: unit tests for quality/check.c (cmocka).
 *
 * Each test builds a synthetic set (ids, attributes, sizes, dHashes,
 * captions) that sits just inside or just outside one rule's threshold
 * and asserts that rule's verdict. The base set is a good 28-image Flux 2
 * set (the shape of RECIPE.md example 2, with wardrobe and framing
 * balanced), on which every rule passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "quality/check.h"

#define N 28

static const char *const framings[] = { "closeup", "medium", "full", "back" };
/* 10 close-up, 8 medium, 7 full, 3 back: 36%, 29%, 25%, 11% */
static const int framing_of[N] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 3, 3, 3,
};
static const char *const emotions[] = {
	"neutral \xe2\x80\x94 relaxed features, steady gaze",
	"tired \xe2\x80\x94 heavy eyelids", "focused \xe2\x80\x94 narrowed eyes",
	"wary \xe2\x80\x94 guarded gaze", "furious \xe2\x80\x94 bared teeth",
	"sad \xe2\x80\x94 lowered gaze",
};

struct fixture {
	struct check_image v[N];
	char ids[N][32], captions[N][240];
	struct check_input in;
	struct lint *lint;
	struct check_report rep;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct lint_opts o = { .trigger = "JINXCHAR",
			       .profile = caption_profile("flux2") };
	struct error err;

	f->lint = lint_new(&o, &err);
	for (int i = 0; i < N; i++) {
		struct check_image *c = &f->v[i];

		snprintf(f->ids[i], sizeof(f->ids[i]), "upscale/img%02d", i);
		c->id = f->ids[i];
		c->attrs[ATTR_FRAMING] = framings[framing_of[i]];
		c->attrs[ATTR_ANGLE] = (const char *[]){ "seen from the front",
			"in left profile", "in right profile", "seen from below",
			"seen from above", "seen from behind" }[i % 6];
		/* 10 neutral (36%), then 18 over 5 others: at most 4 each */
		c->attrs[ATTR_EXPRESSION] = i < 10 ? emotions[0]
							 : emotions[1 + i % 5];
		c->attrs[ATTR_WARDROBE] = (const char *[]){ "a grey jumpsuit",
			"a red coat", "a black hoodie", "a denim jacket" }[i % 4];
		c->attrs[ATTR_PLACE] = (const char *[]){ "a pine forest",
			"a city street", "a ship laboratory", "a kitchen",
			"a rooftop", "a harbour pier" }[i % 6];
		snprintf(f->captions[i], sizeof(f->captions[i]),
			 "JINXCHAR looks number %d, with a steady gaze, a soft "
			 "unfocused look and a relaxed jaw, seen from the front, "
			 "wearing a coat. A "
			 "pine forest at dawn, lit by morning light.", i);
		c->caption = f->captions[i];
		c->built = true;
		c->w = c->h = 1024;
		/* spread hashes far apart: 0, 0xff.., and rotations */
		c->dhash = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
	}
	f->in = (struct check_input){ .profile = caption_profile("flux2"),
				      .size = 1024, .v = f->v, .n = N,
				      .lint = f->lint };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	check_report_release(&f->rep);
	lint_free(f->lint);
	free(f);
	return 0;
}

static enum check_status
status(struct fixture *f, const char *rule)
{
	const struct check_result *r;

	check_report_release(&f->rep);
	check_run(&f->in, &f->rep);
	r = check_find(&f->rep, rule);
	if (!r)
		fail_msg("no rule %s", rule);
	return r->status;
}

static void
test_good_set(void **state)
{
	struct fixture *f = *state;

	check_run(&f->in, &f->rep);
	for (size_t i = 0; i < f->rep.n; i++)
		if (f->rep.v[i].status != CHECK_PASS)
			fail_msg("%s: %s: %s (%s)", f->rep.v[i].rule,
				 check_status_name(f->rep.v[i].status),
				 f->rep.v[i].figure, f->rep.v[i].advice);
	assert_int_equal(f->rep.count[CHECK_PASS], f->rep.n);
	assert_int_equal(f->rep.n, 11);
}

static void
test_count(void **state)
{
	struct fixture *f = *state;

	f->in.n = 20; /* Flux 2: 20-30 */
	assert_int_equal(status(f, "count"), CHECK_PASS);
	f->in.n = 19;
	assert_int_equal(status(f, "count"), CHECK_WARN);
	f->in.n = 10; /* half the minimum is the floor */
	assert_int_equal(status(f, "count"), CHECK_WARN);
	f->in.n = 9;
	assert_int_equal(status(f, "count"), CHECK_FAIL);
	f->in.n = N;
	f->in.profile = caption_profile("zimage");
	assert_int_equal(status(f, "count"), CHECK_PASS);
	f->in.profile = caption_profile("sdxl"); /* 100-150 */
	assert_int_equal(status(f, "count"), CHECK_FAIL);
}

static void
test_resolution(void **state)
{
	struct fixture *f = *state;

	f->v[3].w = 1024, f->v[3].h = 1536;
	assert_int_equal(status(f, "resolution"), CHECK_FAIL);
	assert_non_null(strstr(check_find(&f->rep, "resolution")->figure,
			       "1024x1536 (1)"));
	f->v[3].h = 1024;
	assert_int_equal(status(f, "resolution"), CHECK_PASS);
	for (int i = 0; i < N; i++)
		f->v[i].w = f->v[i].h = 512; /* one size, enlarged by the package */
	assert_int_equal(status(f, "resolution"), CHECK_WARN);
	for (int i = 0; i < N; i++)
		f->v[i].w = f->v[i].h = 1024;
	f->in.size = 1000; /* not a multiple of 64 */
	assert_int_equal(status(f, "resolution"), CHECK_WARN);
	f->in.size = 1024;
	f->v[5].built = false;
	assert_int_equal(status(f, "resolution"), CHECK_WARN);
	assert_non_null(strstr(check_find(&f->rep, "resolution")->figure,
			       "1 of 28 not built"));
}

/* Images the package cuts to their aspects: one size per shape; buckets. */
static void
test_shapes_and_buckets(void **state)
{
	struct fixture *f = *state;

	assert_null(check_find(&f->rep, "buckets")); /* one shape: no rule */
	check_run(&f->in, &f->rep);
	assert_null(check_find(&f->rep, "buckets"));
	for (int i = 0; i < N; i++)
		f->v[i].pw = 832, f->v[i].ph = 1216;
	f->v[0].pw = f->v[0].ph = 1024;
	f->v[1].pw = f->v[1].ph = 1024;
	f->v[2].pw = 1344, f->v[2].ph = 768;
	assert_int_equal(status(f, "buckets"), CHECK_WARN);
	assert_non_null(strstr(check_find(&f->rep, "buckets")->figure,
			       "1344x768 (1)"));
	assert_non_null(strstr(check_find(&f->rep, "buckets")->figure,
			       "832x1216 (25)"));
	/* the 1024 x 1024 sources are enlarged to 832 x 1216 */
	assert_int_equal(status(f, "resolution"), CHECK_WARN);
	f->v[3].pw = 1344, f->v[3].ph = 768;
	assert_int_equal(status(f, "buckets"), CHECK_PASS);
	for (int i = 0; i < N; i++)
		f->v[i].w = f->v[i].pw, f->v[i].h = f->v[i].ph;
	assert_int_equal(status(f, "resolution"), CHECK_PASS);
	f->v[4].w = 1024, f->v[4].h = 1536; /* two sizes for one shape */
	assert_int_equal(status(f, "resolution"), CHECK_FAIL);
}

static void
test_framing(void **state)
{
	struct fixture *f = *state;

	/* move one close-up (10 -> 9: 32%, under 33%) to medium (9: 32%) */
	f->v[0].attrs[ATTR_FRAMING] = "medium";
	assert_int_equal(status(f, "framing"), CHECK_WARN);
	assert_non_null(strstr(check_find(&f->rep, "framing")->advice,
			       "medium over"));
	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_FRAMING] = NULL;
	assert_int_equal(status(f, "framing"), CHECK_WARN);
}

static void
test_angles(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < N; i++) /* 5 angles */
		f->v[i].attrs[ATTR_ANGLE] = (const char *[]){ "a", "b", "c", "d",
							      "e" }[i % 5];
	assert_int_equal(status(f, "angles"), CHECK_PASS);
	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_ANGLE] = i % 2 ? "a" : "b";
	assert_int_equal(status(f, "angles"), CHECK_WARN);
	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_ANGLE] = "a";
	assert_int_equal(status(f, "angles"), CHECK_FAIL);
}

static void
test_expressions(void **state)
{
	struct fixture *f = *state;

	/* neutral 8 of 28 = 29%: under 30% */
	f->v[8].attrs[ATTR_EXPRESSION] = emotions[1];
	f->v[9].attrs[ATTR_EXPRESSION] = emotions[2];
	assert_int_equal(status(f, "expressions"), CHECK_WARN);
	/* NULL (no edit) counts as neutral */
	f->v[8].attrs[ATTR_EXPRESSION] = NULL;
	f->v[9].attrs[ATTR_EXPRESSION] = "neutral";
	assert_int_equal(status(f, "expressions"), CHECK_PASS);
	/* one expression 7 times (over 6 in 28) */
	for (int i = 10; i < 17; i++)
		f->v[i].attrs[ATTR_EXPRESSION] = emotions[1];
	assert_int_equal(status(f, "expressions"), CHECK_WARN);
	assert_non_null(strstr(check_find(&f->rep, "expressions")->advice,
			       "tired appears"));
	/* 4 distinct: too few */
	for (int i = 10; i < N; i++)
		f->v[i].attrs[ATTR_EXPRESSION] = emotions[1 + i % 3];
	assert_int_equal(status(f, "expressions"), CHECK_WARN);
	/* all one expression */
	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_EXPRESSION] = emotions[2];
	assert_int_equal(status(f, "expressions"), CHECK_FAIL);
	assert_true(check_is_neutral(NULL));
	assert_true(check_is_neutral("Neutral - calm"));
	assert_false(check_is_neutral("neutralised"));
}

static void
test_wardrobe_backgrounds(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_WARDROBE] = i % 2 ? "a coat" : NULL;
	assert_int_equal(status(f, "wardrobe"), CHECK_WARN);
	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_PLACE] = (const char *[]){ "a", "b", "c", "d" }[i % 4];
	assert_int_equal(status(f, "backgrounds"), CHECK_WARN);
	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_PLACE] = "a pine forest";
	assert_int_equal(status(f, "backgrounds"), CHECK_FAIL);
	for (int i = 0; i < N; i++)
		f->v[i].attrs[ATTR_PLACE] = (const char *[]){ "a white studio",
			"a plain white backdrop", "a grey studio", "white seamless paper",
			"a blank wall in a studio" }[i % 5];
	assert_int_equal(status(f, "backgrounds"), CHECK_FAIL);
}

static void
test_duplicates(void **state)
{
	struct fixture *f = *state;

	f->v[7].dhash = f->v[3].dhash ^ 0x3f; /* 6 bits: a near-duplicate */
	assert_int_equal(status(f, "duplicates"), CHECK_FAIL);
	assert_non_null(strstr(check_find(&f->rep, "duplicates")->details[0],
			       "upscale/img03 ~ upscale/img07: 6 of 64"));
	f->v[7].dhash = f->v[3].dhash ^ 0x7f; /* 7 bits: similar */
	assert_int_equal(status(f, "duplicates"), CHECK_WARN);
	f->v[7].dhash = f->v[3].dhash ^ 0x7ff; /* 11 bits: different */
	assert_int_equal(status(f, "duplicates"), CHECK_PASS);
	memcpy(f->v[7].attrs, f->v[3].attrs, sizeof(f->v[7].attrs));
	assert_int_equal(status(f, "duplicates"), CHECK_WARN); /* same attributes */
}

/*
 * A similar pair is reported with what the two share, never with a fixed
 * "same angle, expression and light": img03 and img07 differ in angle
 * and place, and share framing, expression and wardrobe.
 */
static void
test_duplicates_say_what_pairs_share(void **state)
{
	struct fixture *f = *state;
	const struct check_result *r;

	f->v[7].dhash = f->v[3].dhash ^ 0xff; /* 8 bits: similar */
	assert_int_equal(status(f, "duplicates"), CHECK_WARN);
	r = check_find(&f->rep, "duplicates");
	assert_int_equal(r->ndetails, 1);
	assert_string_equal(r->details[0], "upscale/img03 ~ upscale/img07: 8 of 64 "
			    "bits differ (similar); both have the same framing, "
			    "expression, wardrobe");
	assert_null(strstr(r->advice, "same angle"));
	assert_non_null(strstr(r->advice, "in common"));
}

/*
 * Look-alikes come as groups: a burst of 12 retakes within a few bits of
 * each other is one line naming 8 of them and counting the rest (not 66
 * pair lines), and every image with one set of attributes is one line
 * too, while the figure still counts the pairs.
 */
static void
test_duplicates_come_as_groups_not_a_line_per_pair(void **state)
{
	struct fixture *f = *state;
	const struct check_result *r;

	for (int i = 1; i < 12; i++) /* img00..img11: bit i-1 flipped */
		f->v[i].dhash = f->v[0].dhash ^ (1ULL << (i - 1));
	assert_int_equal(status(f, "duplicates"), CHECK_FAIL);
	r = check_find(&f->rep, "duplicates");
	assert_int_equal(r->ndetails, 1);
	assert_string_equal(r->details[0], "upscale/img00, upscale/img01, "
			    "upscale/img02, upscale/img03, upscale/img04, "
			    "upscale/img05, upscale/img06, upscale/img07 and 4 more: "
			    "12 images, each within 6 of 64 bits of another; the "
			    "closest two 1");
	assert_non_null(strstr(r->figure, "66 near-duplicate pairs"));
	/* twins: all 28 given one set of attributes, hashes far apart again */
	for (int i = 0; i < N; i++) {
		f->v[i].dhash = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		memcpy(f->v[i].attrs, f->v[0].attrs, sizeof(f->v[i].attrs));
	}
	assert_int_equal(status(f, "duplicates"), CHECK_WARN);
	r = check_find(&f->rep, "duplicates");
	assert_int_equal(r->ndetails, 1);
	assert_non_null(strstr(r->details[0], " and 20 more: 28 images with the "
			       "same attributes"));
	assert_non_null(strstr(r->figure, "378 with the same attributes"));
}

/*
 * Preview placeholders look alike by design: two of them are never a
 * near-duplicate pair, while a placeholder and a real image still are.
 */
static void
test_placeholders_are_not_duplicates(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < N; i++)
		f->v[i].placeholder = true;
	f->v[7].dhash = f->v[3].dhash ^ 0x3; /* 2 bits */
	assert_int_equal(status(f, "duplicates"), CHECK_PASS);
	assert_non_null(strstr(check_find(&f->rep, "duplicates")->figure,
			       "28 preview placeholders, not compared"));
	f->v[7].placeholder = false;
	assert_int_equal(status(f, "duplicates"), CHECK_FAIL);
}

static void
test_captions(void **state)
{
	struct fixture *f = *state;

	snprintf(f->captions[4], sizeof(f->captions[4]), "JINXCHAR seen from behind.");
	assert_int_equal(status(f, "captions"), CHECK_WARN);
	assert_non_null(strstr(check_find(&f->rep, "captions")->figure, "short 1"));
	snprintf(f->captions[4], sizeof(f->captions[4]), "%s", f->captions[5]);
	assert_int_equal(status(f, "captions"), CHECK_WARN);
	assert_non_null(strstr(check_find(&f->rep, "captions")->figure, "1 repeated"));
	snprintf(f->captions[4], sizeof(f->captions[4]),
		 "A woman, JINXCHAR, looks number 4, with a steady gaze and a "
		 "relaxed jaw, seen from the front. A pine forest at dawn, lit by "
		 "morning light.");
	assert_int_equal(status(f, "captions"), CHECK_FAIL);
	f->v[4].caption = NULL;
	assert_int_equal(status(f, "captions"), CHECK_FAIL);
}

static void
test_trigger_prompts(void **state)
{
	struct fixture *f = *state;
	struct lint_opts o = { .trigger = "woman", .profile = caption_profile("flux2") };
	struct error err;
	struct lint *l;
	struct check_prompt p = { "expression/front/tired", "Expression: tired." };

	f->in.prompts = &p;
	f->in.nprompts = 1;
	assert_int_equal(status(f, "prompts"), CHECK_PASS);
	lint_free(f->lint);
	f->lint = l = lint_new(&o, &err);
	f->in.lint = l;
	assert_int_equal(status(f, "trigger"), CHECK_WARN);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_good_set), T(test_count), T(test_resolution),
		T(test_shapes_and_buckets), T(test_framing), T(test_angles),
		T(test_expressions),
		T(test_wardrobe_backgrounds), T(test_duplicates),
		T(test_duplicates_say_what_pairs_share),
		T(test_duplicates_come_as_groups_not_a_line_per_pair),
		T(test_placeholders_are_not_duplicates),
		T(test_captions), T(test_trigger_prompts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

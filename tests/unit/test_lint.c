/*
 * test_lint: unit tests for quality/lint.c (cmocka).
 *
 * One test per lint: a caption that breaks it is caught (with the right
 * code and level), and a good caption from RECIPE.md example 2 is not.
 * Identity words come from a character text the way a recipe gives it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "quality/lint.h"

#define GOOD "JINXCHAR looks tired, with slightly heavy eyelids, a soft " \
	     "unfocused gaze and a relaxed jaw, seen in a three-quarter view " \
	     "from the left. An industrial corridor with worn metal walls, lit " \
	     "by cool overhead light."

static const char character[] =
	"JINXCHAR, a wiry young woman with long blue braids, pale freckled skin, "
	"oval eyes, blue eyes and a cloud tattoo on her left arm";

static struct lint *
make(const char *target)
{
	struct lint_opts o = { .trigger = "JINXCHAR", .character = character,
			       .profile = caption_profile(target) };
	struct error err;
	struct lint *l = lint_new(&o, &err);

	if (!l)
		fail_msg("lint_new: %s", err.msg);
	return l;
}

/* Does r hold a finding of code at level? */
static bool
has(const struct lint_result *r, enum lint_code code, enum lint_level level)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].code == code && r->v[i].level == level)
			return true;
	return false;
}

static void
test_good_caption(void **state)
{
	struct lint *l = make("flux2");
	struct lint_result r;

	(void)state;
	lint_caption(l, GOOD, &r);
	for (size_t i = 0; i < r.n; i++)
		fail_msg("unexpected %s: %s", lint_code_name(r.v[i].code), r.v[i].msg);
	assert_int_equal(r.words, 35);
	assert_true(r.tokens >= 35 && r.tokens < 77);
	lint_free(l);
}

static void
test_identity(void **state)
{
	struct lint *l = make("flux2");
	struct lint_result r;
	const char *words = lint_identity_words(l);

	(void)state;
	/* distinctive words and pairs are taken; generic ones and the trigger not */
	assert_non_null(strstr(words, "braids"));
	assert_non_null(strstr(words, "oval eyes"));
	assert_non_null(strstr(words, "freckled"));
	assert_null(strstr(words, "jinxchar"));
	assert_non_null(strstr(words, "blue eyes"));
	assert_null(strstr(words, "young woman"));
	assert_null(strstr(words, "left arm"));
	lint_caption(l, "JINXCHAR with long blue braids, seen from the front, "
		     "in a quiet library at night under warm lamp light, smiling "
		     "softly with relaxed eyes and a calm steady gaze.", &r);
	assert_true(has(&r, LINT_IDENTITY, LINT_FAIL));
	/* "narrowed eyes" is not identity, "oval eyes" is */
	lint_caption(l, "JINXCHAR looks focused, with narrowed eyes, a set jaw and "
		     "an intent forward stare, seen from the front. A pine forest "
		     "at dawn, lit by soft diffuse morning light.", &r);
	assert_false(has(&r, LINT_IDENTITY, LINT_FAIL));
	lint_caption(l, "JINXCHAR looks calm, with Oval  Eyes half closed, seen "
		     "from the front. A pine forest at dawn, lit by soft diffuse "
		     "morning light and a warm breeze.", &r);
	assert_true(has(&r, LINT_IDENTITY, LINT_FAIL));
	lint_free(l);
}

/* caption: identity: words are identity words too, matched whole. */
static void
test_identity_list(void **state)
{
	const char *const extra[] = { "red jacket", "scar" };
	struct lint_opts o = { .trigger = "T0K", .identity = extra, .nidentity = 2 };
	struct error err;
	struct lint *l = lint_new(&o, &err);
	struct lint_result r;

	(void)state;
	assert_non_null(l);
	lint_caption(l, "T0K in a red jacket", &r);
	assert_true(has(&r, LINT_IDENTITY, LINT_FAIL));
	lint_caption(l, "T0K near a scarecrow", &r);
	assert_false(has(&r, LINT_IDENTITY, LINT_FAIL));
	lint_free(l);
}

static void
test_style(void **state)
{
	struct lint *l = make("flux2");
	struct lint_result r;

	(void)state;
	lint_caption(l, "JINXCHAR seen from the front, photorealistic, 8K, "
		     "masterpiece, best quality, highly detailed", &r);
	assert_true(has(&r, LINT_STYLE, LINT_WARN));
	size_t n = 0;
	for (size_t i = 0; i < r.n; i++)
		n += r.v[i].code == LINT_STYLE;
	assert_int_equal(n, 5);
	lint_caption(l, "JINXCHAR shot on a Hasselblad, 85mm, f/1.8.", &r);
	assert_true(has(&r, LINT_STYLE, LINT_WARN));
	lint_caption(l, GOOD, &r);
	assert_false(has(&r, LINT_STYLE, LINT_WARN));
	lint_free(l);
}

static void
test_tag_list(void **state)
{
	struct lint *l = make("flux2"), *x = make("sdxl");
	struct lint_result r;
	static const char tags[] =
		"JINXCHAR, neutral expression, high angle looking down, industrial "
		"corridor, cool overhead lighting, gritty documentary aesthetic";

	(void)state;
	lint_caption(l, tags, &r);
	assert_true(has(&r, LINT_TAG_LIST, LINT_WARN));
	lint_caption(x, tags, &r); /* SDXL reads tags well */
	assert_false(has(&r, LINT_TAG_LIST, LINT_WARN));
	lint_caption(l, "JINXCHAR with a slight smile, wearing a red coat, in left "
		     "profile, on a windy beach", &r);
	assert_false(has(&r, LINT_TAG_LIST, LINT_WARN));
	lint_caption(l, "JINXCHAR looks wary, with a guarded gaze, a slight tension "
		     "around the mouth and watchful eyes, seen from the front.", &r);
	assert_false(has(&r, LINT_TAG_LIST, LINT_WARN));
	lint_free(l);
	lint_free(x);
}

static void
test_trigger_rules(void **state)
{
	struct lint *l = make("flux2");
	struct lint_result r;

	(void)state;
	lint_caption(l, "A woman seen from the front, JINXCHAR in a library.", &r);
	assert_true(has(&r, LINT_TRIGGER_FIRST, LINT_FAIL));
	lint_caption(l, "jinxchar seen from the front.", &r);
	assert_true(has(&r, LINT_NO_TRIGGER, LINT_FAIL));
	lint_caption(l, "JINXCHARS seen from the front.", &r);
	assert_true(has(&r, LINT_NO_TRIGGER, LINT_FAIL));
	lint_caption(l, "  JINXCHAR, seen from the front.", &r);
	assert_false(has(&r, LINT_NO_TRIGGER, LINT_FAIL));
	assert_false(has(&r, LINT_TRIGGER_FIRST, LINT_FAIL));
	lint_trigger(l, &r);
	assert_int_equal(r.n, 0);
	lint_free(l);

	struct lint_opts o = { .trigger = "Background" };
	struct error err;
	l = lint_new(&o, &err);
	lint_trigger(l, &r);
	assert_true(has(&r, LINT_COMMON_TRIGGER, LINT_WARN));
	lint_free(l);
}

static void
test_shape(void **state)
{
	struct lint *l = make("flux2");
	struct lint_result r;

	(void)state;
	lint_caption(l, "", &r);
	assert_true(has(&r, LINT_EMPTY, LINT_FAIL));
	lint_caption(l, "  \n ", &r);
	assert_true(has(&r, LINT_EMPTY, LINT_FAIL));
	lint_caption(l, "JINXCHAR seen from the front.\nA second line.", &r);
	assert_true(has(&r, LINT_MULTILINE, LINT_FAIL));
	lint_caption(l, "JINXCHAR seen from the front.\n", &r); /* a final newline */
	assert_false(has(&r, LINT_MULTILINE, LINT_FAIL));
	lint_caption(l, "JINXCHAR in a caf\xe9", &r);
	assert_true(has(&r, LINT_UTF8, LINT_FAIL));
	lint_caption(l, "JINXCHAR in a caf\xc3\xa9 with \xe2\x80\x9cquotes\xe2\x80\x9d", &r);
	assert_false(has(&r, LINT_UTF8, LINT_FAIL));
	lint_free(l);
}

static void
test_word_bounds(void **state)
{
	struct lint *l = make("flux2"), *z = make("zimage");
	struct lint_result r;

	(void)state;
	lint_caption(l, "JINXCHAR seen from behind.", &r);
	assert_true(has(&r, LINT_SHORT, LINT_WARN));
	assert_int_equal(r.words, 4);
	lint_caption(z, GOOD, &r);
	assert_false(has(&r, LINT_SHORT, LINT_WARN));
	assert_false(has(&r, LINT_LONG, LINT_WARN));
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "JINXCHAR");
	for (int i = 0; i < 60; i++)
		buf_adds(&b, " walks");
	lint_caption(z, b.data, &r);
	assert_true(has(&r, LINT_LONG, LINT_WARN));
	buf_release(&b);
	lint_free(l);
	lint_free(z);
}

static void
test_tokens(void **state)
{
	struct lint *sdxl = make("sdxl"), *flux2 = make("flux2");
	struct lint_result r;
	struct buf b;

	(void)state;
	assert_int_equal(lint_tokens(flux2, ""), 2);
	assert_int_equal(lint_tokens(flux2, "the"), 3);
	assert_int_equal(lint_tokens(flux2, "a, b."), 6);
	/* compiler/clip.c's estimate: a token per four letters begun past
	 * five (CLIP says jin x char, ey eli ds: 5 each) */
	assert_int_equal(lint_tokens(flux2, "JINXCHAR"), 4);
	assert_int_equal(lint_tokens(flux2, "eyelids"), 4);
	buf_init(&b);
	buf_adds(&b, "JINXCHAR");
	for (int i = 0; i < 40; i++)
		buf_adds(&b, " with soft light,");
	lint_caption(sdxl, b.data, &r);
	assert_true(has(&r, LINT_CLIP, LINT_WARN));
	lint_caption(flux2, b.data, &r); /* Flux 2 has no CLIP encoder */
	assert_false(has(&r, LINT_CLIP, LINT_WARN));
	assert_false(has(&r, LINT_TOKENS, LINT_FAIL));
	for (int i = 0; i < 200; i++)
		buf_adds(&b, " with soft light,");
	lint_caption(flux2, b.data, &r);
	assert_true(has(&r, LINT_TOKENS, LINT_FAIL));
	lint_prompt(flux2, b.data, &r);
	assert_true(has(&r, LINT_TOKENS, LINT_WARN));
	lint_prompt(flux2, "Expression: tired.", &r);
	assert_int_equal(r.n, 0);
	buf_release(&b);
	lint_free(sdxl);
	lint_free(flux2);
}

static void
test_motion(void **state)
{
	struct lint *l = make("wan22"), *f = make("flux2");
	struct lint_result r;

	(void)state;
	lint_caption(l, GOOD, &r);
	assert_true(has(&r, LINT_MOTION, LINT_WARN));
	assert_true(has(&r, LINT_SHORT, LINT_WARN));
	lint_caption(l, "JINXCHAR turns slowly toward the camera.", &r);
	assert_false(has(&r, LINT_MOTION, LINT_WARN));
	lint_caption(f, GOOD, &r);
	assert_false(has(&r, LINT_MOTION, LINT_WARN));
	lint_free(l);
	lint_free(f);
}

/*
 * A trigger with '_' written in the character text (seed 000's
 * "miyomi_trader, a 22-year-old ...") gives no identity words: its parts
 * are the trigger, and a caption that starts with it broke no rule.
 */
static void
test_trigger_parts_are_not_identity(void **state)
{
	struct lint_opts o = { .trigger = "miyomi_trader",
			       .character = "miyomi_trader, a young woman with almond eyes",
			       .profile = caption_profile("sdxl"), .tags = true };
	struct error err;
	struct lint *l = lint_new(&o, &err);
	struct lint_result r;

	(void)state;
	assert_non_null(l);
	assert_null(strstr(lint_identity_words(l), "miyomi"));
	assert_null(strstr(lint_identity_words(l), "trader"));
	assert_non_null(strstr(lint_identity_words(l), "almond eyes"));
	lint_caption(l, "miyomi_trader, confident smirk, trading desk", &r);
	assert_false(has(&r, LINT_IDENTITY, LINT_FAIL));
	lint_caption(l, "miyomi_trader, almond eyes", &r);
	assert_true(has(&r, LINT_IDENTITY, LINT_FAIL));
	lint_free(l);
}

/* Tag captions: no sentences, no tag twice, words joined as set. */
static void
test_tag_form(void **state)
{
	struct lint_opts o = { .trigger = "miyomi_trader",
			       .profile = caption_profile("sdxl"), .tags = true };
	struct error err;
	struct lint *l = lint_new(&o, &err), *u;
	struct lint_result r;

	(void)state;
	assert_non_null(l);
	lint_caption(l, "miyomi_trader, confident smirk, trading desk, neon lighting", &r);
	if (r.n)
		fail_msg("%s: %s", lint_code_name(r.v[0].code), r.v[0].msg);
	lint_caption(l, "miyomi_trader, she sits at the desk and smiles at the camera warmly", &r);
	assert_true(has(&r, LINT_TAG_SENTENCE, LINT_WARN));
	lint_caption(l, "miyomi_trader, smirk. desk", &r);
	assert_true(has(&r, LINT_TAG_SENTENCE, LINT_WARN));
	lint_caption(l, "miyomi_trader, neon lighting, desk, Neon Lighting", &r);
	assert_true(has(&r, LINT_TAG_DUPLICATE, LINT_WARN));
	lint_caption(l, "miyomi_trader, neon_lighting, desk", &r);
	assert_true(has(&r, LINT_TAG_JOINER, LINT_WARN));
	/* a tag list is what a tag caption is: no tag-list, no word bounds */
	assert_false(has(&r, LINT_TAG_LIST, LINT_WARN));
	assert_false(has(&r, LINT_SHORT, LINT_WARN));
	o.underscores = true;
	u = lint_new(&o, &err);
	lint_caption(u, "miyomi_trader, neon_lighting, trading_desk", &r);
	assert_int_equal(r.n, 0);
	lint_caption(u, "miyomi_trader, neon lighting, trading_desk", &r);
	assert_true(has(&r, LINT_TAG_JOINER, LINT_WARN));
	lint_free(u);
	lint_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_caption),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_identity_list),
		cmocka_unit_test(test_style),
		cmocka_unit_test(test_tag_list),
		cmocka_unit_test(test_tag_form),
		cmocka_unit_test(test_trigger_parts_are_not_identity),
		cmocka_unit_test(test_trigger_rules),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_word_bounds),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_motion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

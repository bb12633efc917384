/*
 * test_caption: unit tests for compiler/caption.c (cmocka).
 *
 * Captions are built from hand-made nodes (an id and attributes) and a
 * hand-made recipe (trigger, target), so each test states exactly what
 * varies across the set. Covers: profiles, template choice by id hash
 * (reproducible, and more than one template in use), the redundancy rule,
 * the "emotion — descriptors" parsing, the trigger-only caption, word
 * bounds (shortened, never padded), one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compiler/caption.h"
#include "compiler/placeholder.h"

#define TIRED "tired \xe2\x80\x94 slightly heavy eyelids, soft unfocused gaze, relaxed jaw"

struct fixture {
	struct arena a;
	struct recipe r;
	struct node nodes[8];
	const struct node *leaves[8];
	size_t n;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	arena_init(&f->a);
	f->r.name = "jinx";
	f->r.trigger = "JINXCHAR";
	f->r.target = "flux2";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	arena_release(&f->a);
	free(f);
	return 0;
}

/* Add a dataset image with id and (slot, value) pairs ending in -1. */
static struct node *
add(struct fixture *f, const char *id, ...)
{
	struct node *n = &f->nodes[f->n];
	va_list ap;
	int slot;

	n->id = id;
	n->suffix = strchr(id, '/') ? strchr(id, '/') + 1 : "";
	va_start(ap, id);
	while ((slot = va_arg(ap, int)) >= 0)
		n->attrs[slot] = va_arg(ap, const char *);
	va_end(ap);
	f->leaves[f->n++] = n;
	return n;
}

static const char *
build(struct fixture *f, const struct node *n)
{
	struct caption_set set;
	const char *c;

	caption_set_init(&set, &f->r, f->leaves, f->n);
	c = caption_build(&f->a, &set, n);
	caption_set_release(&set);
	return c;
}

static void
test_profiles(void **state)
{
	const struct caption_profile *p;

	(void)state;
	p = caption_profile("flux2");
	assert_int_equal(p->min_words, 30);
	assert_int_equal(p->max_words, 80);
	p = caption_profile("zimage");
	assert_int_equal(p->min_words, 20);
	assert_int_equal(p->max_words, 50);
	p = caption_profile("wan22");
	assert_int_equal(p->min_words, 80);
	assert_int_equal(p->max_words, 150);
	assert_true(p->motion);
	p = caption_profile("sdxl");
	assert_int_equal(p->clip_window, 77);
	assert_false(p->prose);
	assert_string_equal(caption_profile("nonsense")->target, "flux");
	assert_string_equal(caption_profile(NULL)->target, "flux");
}

/* An expression edit: the descriptors become "a soft unfocused gaze ...". */
static void
test_emotion_descriptors(void **state)
{
	struct fixture *f = *state;
	char emo[32];

	add(f, "upscale/front/tired", ATTR_EXPRESSION, TIRED, ATTR_ANGLE,
	    "seen from the front", -1);
	add(f, "upscale/back", ATTR_ANGLE, "seen from behind", -1);
	const char *c = build(f, &f->nodes[0]);
	assert_non_null(strstr(c, "slightly heavy eyelids, a soft unfocused gaze and a relaxed jaw"));
	assert_non_null(strstr(c, "tired"));
	assert_null(strstr(c, "\xe2\x80\x94"));
	assert_int_equal(strncmp(c, "JINXCHAR ", 9), 0);
	assert_string_equal(caption_emotion(TIRED, emo, sizeof(emo)), "tired");
	assert_string_equal(caption_emotion("a slight smile", emo, sizeof(emo)),
			    "a slight smile");
	assert_string_equal(caption_emotion("wary - guarded gaze", emo, sizeof(emo)),
			    "wary");
}

/* What is the same on every image never enters a caption. */
static void
test_redundancy_rule(void **state)
{
	struct fixture *f = *state;

	add(f, "angle/a", ATTR_ANGLE, "seen from the front", ATTR_WARDROBE,
	    "a grey jumpsuit", ATTR_PLACE, "a white studio", -1);
	add(f, "angle/b", ATTR_ANGLE, "in left profile", ATTR_WARDROBE,
	    "a grey jumpsuit", ATTR_PLACE, "a white studio", -1);
	const char *c = build(f, &f->nodes[0]);
	assert_null(strstr(c, "jumpsuit"));
	assert_null(strstr(c, "studio"));
	assert_string_equal(c, "JINXCHAR seen from the front.");
	assert_string_equal(build(f, &f->nodes[1]), "JINXCHAR seen in left profile.");
}

/* An image with nothing that varies: the trigger alone. */
static void
test_trigger_only(void **state)
{
	struct fixture *f = *state;

	add(f, "anchor/a", ATTR_ANGLE, "seen from the front", -1);
	add(f, "anchor/b", ATTR_ANGLE, "seen from the front", -1);
	assert_string_equal(build(f, &f->nodes[0]), "JINXCHAR");
	f->n = 1; /* a set of one: nothing can vary */
	assert_string_equal(build(f, &f->nodes[0]), "JINXCHAR");
}

/* The same id gives the same caption; ids spread over the templates. */
static void
test_templates_reproducible(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = {
		"upscale/front/tired", "upscale/closeup_front/tired",
		"upscale/three_quarter_left/tired", "upscale/low/tired",
		"upscale/high/tired", "upscale/side/tired",
	};
	const char *first[LM_ARRAY_LEN(ids)];
	size_t distinct = 0;

	for (size_t i = 0; i < LM_ARRAY_LEN(ids); i++)
		add(f, ids[i], ATTR_EXPRESSION, TIRED, ATTR_ANGLE,
		    i % 2 ? "in left profile" : "seen from the front", ATTR_PLACE,
		    i % 3 ? "a pine forest at dawn" : "a foggy harbour pier",
		    ATTR_LIGHT, "soft diffuse morning light", -1);
	add(f, "upscale/other", -1);
	for (size_t i = 0; i < LM_ARRAY_LEN(ids); i++) {
		first[i] = build(f, &f->nodes[i]);
		assert_string_equal(first[i], build(f, &f->nodes[i]));
		assert_int_equal(strncmp(first[i], "JINXCHAR ", 9), 0);
		assert_null(strchr(first[i], '\n'));
		assert_null(strstr(first[i], "  "));
		assert_non_null(strstr(first[i], "morning light"));
	}
	/* ids spread over the three subject orders */
	bool used[3] = { false, false, false };
	for (size_t i = 0; i < LM_ARRAY_LEN(ids); i++) {
		if (strstr(first[i], "JINXCHAR looks tired"))
			used[0] = true;
		else if (strstr(first[i], "with a tired expression: slightly"))
			used[1] = true;
		else if (strstr(first[i], ". A tired expression, with slightly"))
			used[2] = true;
		else
			fail_msg("no template: %s", first[i]);
	}
	distinct = used[0] + used[1] + used[2];
	assert_true(distinct >= 2);
}

/* Over the bound: the light goes first, then descriptors; never padding. */
static void
test_word_bounds(void **state)
{
	struct fixture *f = *state;
	const char *c;

	f->r.target = "zimage"; /* 20-50 words */
	add(f, "upscale/front/tired", ATTR_EXPRESSION,
	    "tired \xe2\x80\x94 very slightly heavy drooping eyelids, a soft and "
	    "unfocused wandering gaze, a relaxed and slack jaw, slumped tired "
	    "shoulders, a slow deep breath, loose hands",
	    ATTR_ANGLE, "seen from the front", ATTR_PLACE,
	    "an industrial corridor with worn metal walls and a flickering sign",
	    ATTR_LIGHT, "cool overhead light with green fluorescent tint", -1);
	add(f, "upscale/back", -1);
	c = build(f, &f->nodes[0]);
	assert_true(caption_words(c) <= 50);
	assert_null(strstr(c, "fluorescent"));
	assert_non_null(strstr(c, "corridor"));
	assert_non_null(strstr(c, "tired"));
	/* short stays short */
	c = build(f, &f->nodes[1]);
	assert_string_equal(c, "JINXCHAR");
	/* caption: words: replaces the profile's bounds */
	f->r.sec[KIND_CAPTION].words_max = 12;
	c = build(f, &f->nodes[0]);
	assert_true(caption_words(c) <= 14);
}

/* Framing words stand in for the camera when no angle words are set. */
static void
test_framing_words(void **state)
{
	struct fixture *f = *state;

	add(f, "anchor/a", ATTR_FRAMING, "closeup", -1);
	add(f, "anchor/b", ATTR_FRAMING, "full", ATTR_POSE, "arms raised overhead",
	    -1);
	assert_string_equal(build(f, &f->nodes[0]), "JINXCHAR in a close-up.");
	assert_string_equal(build(f, &f->nodes[1]),
			    "JINXCHAR, arms raised overhead, in a full-body shot.");
}

/* Prompt assembly: {trigger} placed, other occurrences dropped. */
static void
test_prompt_trigger(void **state)
{
	struct fixture *f = *state;
	struct placeholder_vars v = { .trigger = "JINXCHAR",
		.character = "jinxchar, a wiry woman with blue braids" };
	struct placeholder_error pe;
	const char *out;

	out = placeholder_subst(&f->a, "{trigger}, {character}, {trigger} portrait, "
				"street photo of JinxChar", &v, &pe);
	assert_string_equal(out, "JINXCHAR, a wiry woman with blue braids, "
			    "JINXCHAR portrait, street photo of");
	/* no {trigger}: the text stays as written */
	out = placeholder_subst(&f->a, "{character}", &v, &pe);
	assert_string_equal(out, v.character);
	/* a longer word holding the trigger is not the trigger */
	out = placeholder_subst(&f->a, "{trigger} JINXCHARS", &v, &pe);
	assert_string_equal(out, "JINXCHAR JINXCHARS");
}

static void
test_words(void **state)
{
	(void)state;
	assert_int_equal(caption_words(""), 0);
	assert_int_equal(caption_words("  JINXCHAR  "), 1);
	assert_int_equal(caption_words("JINXCHAR seen\tfrom\nbehind."), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test_setup_teardown(test_emotion_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redundancy_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trigger_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_templates_reproducible, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_word_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_trigger, setup, teardown),
		cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

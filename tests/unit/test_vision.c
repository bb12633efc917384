/*
 * test_vision: unit tests for the vision questions (compiler/vision.h),
 * the strict check of a structured answer (gemini_parse_json), the
 * scrub of a model's words (lint_scrub) and the reading of a cached
 * answer into caption attributes (quality/vision.h), cmocka. The calls
 * are covered by t3400-vision-captions against tests/fake/gemini_fake.py.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/arena.h"
#include "base/buf.h"
#include "compiler/vision.h"
#include "quality/lint.h"
#include "quality/vision.h"
#include "runtime/engines/gemini.h"

static struct lint *
new_lint(void)
{
	static const char *const identity[] = { "sandra's mole" };
	struct lint_opts o = { .trigger = "sndr", .character = "a woman with blue braids",
			       .identity = identity, .nidentity = 1 };
	struct error err;
	struct lint *l = lint_new(&o, &err);

	if (!l)
		fail_msg("lint_new: %s", err.msg);
	return l;
}

static void
check_scrub(const struct lint *l, const char *in, const char *want, bool cut)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(lint_scrub(l, in, &b) > 0, cut);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

/* Traits, the character's words and style words go; the rest is tidied. */
static void
test_scrub(void **state)
{
	struct lint *l = new_lint();

	(void)state;
	check_scrub(l, "a park bench", "a park bench", false);
	check_scrub(l, "a bench, with a view", "a bench, with a view", false);
	check_scrub(l, "freckles, raised brows", "raised brows", true);
	check_scrub(l, "a slight smile with blue eyes", "a slight smile", true);
	check_scrub(l, "soft light, 8K, cinematic", "soft light", true);
	check_scrub(l, "a red scarf and her blonde hair", "a red scarf", true);
	check_scrub(l, "blue braids in a bun", "a bun", true);
	check_scrub(l, "a mole near sandra's mole", "a near", true);
	check_scrub(l, "Freckles", "", true);
	check_scrub(l, "\xff\xfe", "", true); /* not UTF-8: cut whole */
	lint_free(l);
}

static const char answer[] =
	"{\"angle\":\"seen from the front\",\"expression\":\"tired\","
	"\"expression_details\":[\"heavy eyelids\",\"freckled cheeks\",\"relaxed jaw\"],"
	"\"framing\":\"medium\",\"light\":\"warm window light, photorealistic\","
	"\"place\":\"a kitchen\",\"pose\":\"seated\",\"wardrobe\":\"a grey hoodie\"}";

/* The recipe's attributes win; the rest come scrubbed; an expression is
 * "EMOTION — DETAIL, DETAIL" without the detail that named a trait. */
static void
test_read_answer(void **state)
{
	struct lint *l = new_lint();
	struct arena a;
	struct error err;
	const char *attrs[ATTR_COUNT] = { [ATTR_PLACE] = "a cafe terrace" };

	(void)state;
	arena_init(&a);
	assert_int_equal(vision_read_answer(l, &a, answer, strlen(answer), attrs, &err), 0);
	assert_string_equal(attrs[ATTR_PLACE], "a cafe terrace");
	assert_string_equal(attrs[ATTR_EXPRESSION],
			    "tired \xe2\x80\x94 heavy eyelids, relaxed jaw");
	assert_string_equal(attrs[ATTR_LIGHT], "warm window light");
	assert_string_equal(attrs[ATTR_FRAMING], "medium");
	assert_string_equal(attrs[ATTR_ANGLE], "seen from the front");
	arena_release(&a);
	lint_free(l);
}

/* A back view's "none" is no expression; {} (--engine preview) is none of
 * anything; a cached file that is not an answer is refused. */
static void
test_read_answer_edges(void **state)
{
	static const char none[] = "{\"expression\":\"none\",\"expression_details\":[]}";
	static const char *const bad[] = {
		"[]", "{\"eye_colour\":\"blue\"}", "{\"framing\":\"sideways\"}",
		"{\"place\":7}", "{\"place\":\"a\",\"place\":\"b\"}", "{",
	};
	struct lint *l = new_lint();
	struct arena a;
	struct error err;
	const char *attrs[ATTR_COUNT] = { 0 };

	(void)state;
	arena_init(&a);
	assert_int_equal(vision_read_answer(l, &a, none, strlen(none), attrs, &err), 0);
	assert_null(attrs[ATTR_EXPRESSION]);
	assert_int_equal(vision_read_answer(l, &a, "{}", 2, attrs, &err), 0);
	assert_null(attrs[ATTR_PLACE]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(vision_read_answer(l, &a, bad[i], strlen(bad[i]),
						    attrs, &err), -1);
	arena_release(&a);
	lint_free(l);
}

static void
parse_json(const char *text, struct gemini_answer *a)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"");
	for (const char *p = text; *p; p++) /* text as a JSON string */
		buf_addf(&b, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	buf_adds(&b, "\"}]},\"finishReason\":\"STOP\"}],\"responseId\":\"r1\"}");
	gemini_parse_json(b.data, b.len, "AIza-SECRET", vision_caption(), a);
	buf_release(&b);
}

/* A whole answer is rewritten, keys sorted; each fault is named. */
static void
test_parse_json(void **state)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "Sure! {}", "the answer is not a JSON object" },
		{ "{\"eye_colour\":\"blue\"}", "the answer has a member 'eye_colour' not asked for" },
		{ "{\"framing\":\"wide\"}", "'framing' is not one of its choices" },
		{ "{\"expression_details\":[\"a\"]}", "'expression_details' is not a list of 2 to 3 texts" },
		{ "{\"place\":\"a\\u0007b\"}", "'place' holds a control character" },
		{ "{\"place\":\"x\"}", "the answer lacks 'expression'" },
	};
	struct gemini_answer a;

	(void)state;
	parse_json(answer, &a);
	assert_int_equal(a.outcome, GEMINI_JSON);
	assert_string_equal(a.id, "r1");
	assert_non_null(strstr(a.data, "\"angle\":\"seen from the front\""));
	gemini_answer_release(&a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		parse_json(bad[i].text, &a);
		assert_int_equal(a.outcome, GEMINI_BAD_JSON);
		assert_string_equal(a.why, bad[i].why);
		gemini_answer_release(&a);
	}
}

/* The schema names every field, its enum and bounds. */
static void
test_schema(void **state)
{
	char *s = vision_schema_json(vision_caption());

	(void)state;
	assert_non_null(strstr(s, "\"framing\":{\"type\":\"STRING\""));
	assert_non_null(strstr(s, "\"enum\":[\"closeup\",\"medium\",\"full\",\"back\"]"));
	assert_non_null(strstr(s, "\"minItems\":2,\"maxItems\":3"));
	assert_non_null(strstr(s, "\"required\":[\"expression\","));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_read_answer),
		cmocka_unit_test(test_read_answer_edges),
		cmocka_unit_test(test_parse_json),
		cmocka_unit_test(test_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of compiler/shape.c: aspect ratios as a recipe writes them
 * and the bucket sides each gets (sd-scripts' make_bucket_resolutions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/shape.h"

static struct aspect
parsed(const char *text)
{
	struct aspect a = { 0, 0 };
	char why[160];

	if (!aspect_parse(text, &a, why, sizeof(why)))
		fail_msg("'%s' refused: %s", text, why);
	return a;
}

static void
test_aspects_parse_and_refuse(void **state)
{
	static const char *const bad[] = { "", "2", "2:", ":3", "2:3:4", "2/3",
		"0:1", "1:0", "101:100", "2 :3", "-2:3", "1:5", "5:1", "2:3 ", NULL };
	struct aspect a;
	char why[160], text[24];

	a = parsed("2:3");
	assert_int_equal(a.w, 2);
	assert_int_equal(a.h, 3);
	assert_string_equal(aspect_text(parsed("16:9"), text, sizeof(text)), "16:9");
	assert_true(aspect_same(parsed("2:3"), parsed("4:6")));
	assert_false(aspect_same(parsed("2:3"), parsed("3:2")));
	parsed("1:4"); /* the narrowest a trainer buckets */
	parsed("4:1");
	for (const char *const *b = bad; *b; b++)
		if (aspect_parse(*b, &a, why, sizeof(why)))
			fail_msg("'%s' taken as %d:%d", *b, a.w, a.h);
	assert_false(aspect_set((struct aspect){ 0, 0 }));
}

/* SDXL's buckets at 1024 x 1024 and seed 000's 512 x 768. */
static void
test_sides_are_buckets_of_64(void **state)
{
	static const struct {
		const char *aspect;
		long area;
		int w, h;
	} cases[] = {
		{ "1:1", 1024L * 1024, 1024, 1024 },
		{ "2:3", 1024L * 1024, 832, 1216 },
		{ "3:2", 1024L * 1024, 1216, 832 },
		{ "16:9", 1024L * 1024, 1344, 768 },
		{ "9:16", 1024L * 1024, 768, 1344 },
		{ "3:4", 1024L * 1024, 896, 1152 },
		{ "2:3", 512L * 768, 512, 768 },
		{ "9:16", 512L * 768, 448, 832 },
		{ "4:1", 64L * 64, 128, 64 }, /* a side is never under one step */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sides s = shape_at_area(parsed(cases[i].aspect), cases[i].area);

		if (s.w != cases[i].w || s.h != cases[i].h)
			fail_msg("%s at %ld: %dx%d, want %dx%d", cases[i].aspect,
				 cases[i].area, s.w, s.h, cases[i].w, cases[i].h);
		assert_int_equal(s.w % SHAPE_STEP, 0);
		assert_int_equal(s.h % SHAPE_STEP, 0);
		assert_true((long)s.w * s.h <= cases[i].area ||
			    s.h == SHAPE_STEP);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aspects_parse_and_refuse),
		cmocka_unit_test(test_sides_are_buckets_of_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

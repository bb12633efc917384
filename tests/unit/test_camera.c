/*
 * Unit tests of compiler/camera.c: angle item names and the camera they
 * place for the multiple-angles endpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/util.h"
#include "compiler/camera.h"
#include "compiler/recipe.h"

static void
test_angle_names_place_the_camera(void **state)
{
	static const struct {
		const char *item;
		double h, v, z;
	} cases[] = {
		{ "front", 0, 0, 5 },
		{ "closeup_front", 0, 0, 8 },
		{ "closeup_three_quarter", 45, 0, 8 },
		{ "three_quarter_left", 315, 0, 5 },
		{ "three_quarter_right", 45, 0, 5 },
		{ "profile_left", 270, 0, 5 },
		{ "profile_right", 90, 0, 5 },
		{ "low_angle", 0, -30, 5 },
		{ "high_angle", 0, 45, 5 },
		{ "back", 180, 0, 5 },
		{ "back_left", 225, 0, 5 },
		{ "back_right", 135, 0, 5 },
		{ "left", 270, 0, 5 },
		{ "front-left", 315, 0, 5 },
		{ "full_body_front", 0, 0, 3 },
		{ "birds_eye", 0, 90, 5 },
		{ "Close_Up_Profile_Right", 90, 0, 8 },
	};
	struct camera a;
	struct error err;

	(void)state;

	for (size_t i = 0; i < LM_ARRAY_LEN(cases); i++) {
		if (camera_of_angle(cases[i].item, &a, &err) < 0)
			fail_msg("%s: %s", cases[i].item, err.msg);
		if (a.horizontal != cases[i].h || a.vertical != cases[i].v ||
		    a.zoom != cases[i].z)
			fail_msg("%s: got %g/%g/%g, want %g/%g/%g", cases[i].item,
				 a.horizontal, a.vertical, a.zoom, cases[i].h,
				 cases[i].v, cases[i].z);
	}
	assert_int_equal(camera_of_angle("pullup_top", &a, &err), -1);
	assert_non_null(strstr(err.msg, "'pullup'"));
	assert_int_equal(camera_of_angle("angle_view", &a, &err), -1);
	assert_int_equal(camera_of_angle(NULL, &a, &err), -1);
}

/* The list in messages holds every word, the fillers too, once each. */
static void
test_word_list_names_every_word(void **state)
{
	char list[1024];
	struct camera a;
	struct error err;

	(void)state;
	camera_list_words(list, sizeof(list));
	assert_non_null(strstr(list, "front, "));
	assert_non_null(strstr(list, "birdseye"));
	assert_non_null(strstr(list, "camera"));
	/* every word listed is one the parser takes */
	for (char *w = strtok(list, ", "); w; w = strtok(NULL, ", "))
		if (camera_of_angle(w, &a, &err) < 0 &&
		    !strstr(err.msg, "names no camera word"))
			fail_msg("listed word '%s' refused: %s", w, err.msg);
}

/* Any one of the three camera params places the camera; others do not. */
static void
test_camera_params_place_the_camera(void **state)
{
	const struct param none[] = { { "loras", "[]", false },
				      { "seed", "3", false } };
	const struct param zoom[] = { { "loras", "[]", false },
				      { "zoom", "8", false } };

	(void)state;
	assert_false(camera_set_by_params(none, 2));
	assert_false(camera_set_by_params(NULL, 0));
	assert_true(camera_set_by_params(zoom, 2));
	assert_true(camera_set_by_params(&(struct param){ "horizontal_angle", "30", false }, 1));
	assert_true(camera_set_by_params(&(struct param){ "vertical_angle", "0", false }, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_angle_names_place_the_camera),
		cmocka_unit_test(test_word_list_names_every_word),
		cmocka_unit_test(test_camera_params_place_the_camera),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_imgtype: what base/imgtype.h says of a file's ends: image_cut_short
 * sees a PNG, JPEG, GIF or WebP that lost its end (a download cut short
 * under a Content-Length that matched), and says nothing of whole files,
 * formats without a cheap rule, or what is not an image.
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

#include "base/imgtype.h"

static char dir[] = "/tmp/lm-imgtype-XXXXXX";

/* Write n bytes of data to a file of the test's folder; its path. */
static const char *
file_of(const char *name, const void *data, size_t n)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return path;
}

static const unsigned char png[] =
	"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x02\0\0\0\x90wS\xde"
	"\0\0\0\x0cIDATx\x9c" "c\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef"
	"\0\0\0\0IEND\xae\x42\x60\x82";

static void
test_png(void **state)
{
	(void)state;
	assert_false(image_cut_short(file_of("whole.png", png, sizeof(png) - 1)));
	assert_true(image_cut_short(file_of("cut.png", png, sizeof(png) / 2)));
	assert_true(image_cut_short(file_of("cut1.png", png, sizeof(png) - 2)));
}

static void
test_jpeg_gif_webp(void **state)
{
	static const unsigned char jpeg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\1\1\0\0\1\0\1\0\0\xff\xd9";
	static const unsigned char jpeg0[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\1\xff\xd9\0\0\0";
	static const unsigned char gif[] = "GIF89a\1\0\1\0\0\0\0,\0\0\0\0\1\0\1\0\0\2\2D\1\0;";
	unsigned char webp[40] = "RIFF\x20\0\0\0WEBPVP8 ";

	(void)state;
	assert_false(image_cut_short(file_of("a.jpg", jpeg, sizeof(jpeg) - 1)));
	assert_false(image_cut_short(file_of("pad.jpg", jpeg0, sizeof(jpeg0) - 1)));
	assert_true(image_cut_short(file_of("cut.jpg", jpeg, sizeof(jpeg) - 3)));
	assert_false(image_cut_short(file_of("a.gif", gif, sizeof(gif) - 1)));
	assert_true(image_cut_short(file_of("cut.gif", gif, sizeof(gif) - 3)));
	/* RIFF's length 0x20 + 8 = 40 bytes */
	assert_false(image_cut_short(file_of("a.webp", webp, 40)));
	assert_true(image_cut_short(file_of("cut.webp", webp, 30)));
}

/* No rule, or no image: not said to be cut (the decode decides). */
static void
test_no_rule(void **state)
{
	static const char tiff[] = "II*\0\x08\0\0\0 and then nothing";
	static const char text[] = "not an image at all";

	(void)state;
	assert_false(image_cut_short(file_of("a.tif", tiff, 12)));
	assert_false(image_cut_short(file_of("a.txt", text, sizeof(text) - 1)));
	assert_false(image_cut_short(file_of("empty", "", 0)));
	assert_false(image_cut_short("/nonexistent/lm-imgtype.png"));
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png),
		cmocka_unit_test(test_jpeg_gif_webp),
		cmocka_unit_test(test_no_rule),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

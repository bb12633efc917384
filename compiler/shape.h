#ifndef LM_SHAPE_H
#define LM_SHAPE_H
/*
 * shape: image sides and aspect ratios, the one place that says which
 * sides an aspect ratio gets.
 *
 * Trainers bucket images by aspect ratio in steps of 64 pixels
 * (TRAINERS.md 1.1, 1.3, 1.4), so every side loramake chooses is a
 * multiple of SHAPE_STEP: the sides of an aspect at an area are those of
 * sd-scripts' make_bucket_resolutions (the width rounded down to a step,
 * the height the most steps the area leaves), so a 2:3 image at 1024 x
 * 1024 is 832 x 1216 and at 512 x 768 it is 512 x 768.
 */
#include <stdbool.h>
#include <stddef.h>

#define SHAPE_STEP 64        /* trainers' bucket step */
#define SHAPE_MAX_RATIO 4    /* an aspect from 1:4 to 4:1 */
#define SHAPE_GEN_AREA (1024 * 1024) /* generation sides: about 1 MP */

/* An aspect ratio as written, "2:3": w = 2, h = 3. Zero: unset. */
struct aspect {
	int w, h;
};

/* Image sides in pixels. */
struct sides {
	int w, h;
};

/*
 * Read "W:H" (whole numbers 1..100, the ratio within 1:4..4:1) into *a.
 * false with a message in why (of size whysz) when text is not one.
 */
bool aspect_parse(const char *text, struct aspect *a, char *why, size_t whysz);

/* Is the aspect set? */
bool aspect_set(struct aspect a);

/* "2:3" into out (at least 24 bytes); returns out. */
char *aspect_text(struct aspect a, char *out, size_t outsz);

/* The sides of aspect a at about area pixels, multiples of SHAPE_STEP,
 * at most area (as a trainer's bucket of that area). */
struct sides shape_at_area(struct aspect a, long area);

/* Do a and b name the same ratio (2:3 and 4:6)? */
bool aspect_same(struct aspect a, struct aspect b);

#endif

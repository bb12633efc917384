/*
 * shape: aspect ratios and the bucket sides they get (shape.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "shape.h"

/* A whole number 1..100 at *p, advancing *p; 0 when there is none. */
static int
ratio_term(const char **p)
{
	int v = 0, digits = 0;

	while (**p >= '0' && **p <= '9' && digits < 4) {
		v = v * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	return digits && v >= 1 && v <= 100 ? v : 0;
}

bool
aspect_parse(const char *text, struct aspect *a, char *why, size_t whysz)
{
	const char *p = text;
	int w = ratio_term(&p), h;

	if (!w || *p++ != ':' || !(h = ratio_term(&p)) || *p) {
		snprintf(why, whysz,
			 "aspect takes W:H, whole numbers 1 to 100 (2:3, 16:9), not '%.40s'",
			 text);
		return false;
	}
	if (w > SHAPE_MAX_RATIO * h || h > SHAPE_MAX_RATIO * w) {
		snprintf(why, whysz,
			 "aspect %d:%d is past 1:%d or %d:1; trainers bucket no narrower",
			 w, h, SHAPE_MAX_RATIO, SHAPE_MAX_RATIO);
		return false;
	}
	a->w = w;
	a->h = h;
	return true;
}

bool
aspect_set(struct aspect a)
{
	return a.w > 0 && a.h > 0;
}

char *
aspect_text(struct aspect a, char *out, size_t outsz)
{
	snprintf(out, outsz, "%d:%d", a.w, a.h);
	return out;
}

bool
aspect_same(struct aspect a, struct aspect b)
{
	return (long)a.w * b.h == (long)b.w * a.h;
}

/*
 * sd-scripts' make_bucket_resolutions for one ratio: the width is the
 * ratio's at the area, rounded down to a step, and the height the most
 * steps the area leaves; a portrait is the landscape transposed, so 2:3
 * and 3:2 get the same two sides.
 */
struct sides
shape_at_area(struct aspect a, long area)
{
	bool tall = a.h > a.w;
	double ratio = tall ? (double)a.h / a.w : (double)a.w / a.h;
	long wide = (long)(sqrt((double)area * ratio) / SHAPE_STEP) * SHAPE_STEP;
	long narrow;
	struct sides s;

	if (wide < SHAPE_STEP)
		wide = SHAPE_STEP;
	narrow = area / wide / SHAPE_STEP * SHAPE_STEP;
	if (narrow < SHAPE_STEP)
		narrow = SHAPE_STEP;
	if (narrow > wide)
		narrow = wide; /* 1:1 whose root is no step: square */
	s.w = (int)(tall ? narrow : wide);
	s.h = (int)(tall ? wide : narrow);
	return s;
}

/*
 * camera: the words of an angle item's name and the camera they place.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "compiler/camera.h"
#include "compiler/recipe.h"

/* Camera words: what each word of an angle item name sets. */
enum camera_kind {
	CAMERA_YAW,    /* degrees around the subject, before left/right */
	CAMERA_SIDE,   /* -1 left, +1 right */
	CAMERA_PITCH,  /* vertical_angle */
	CAMERA_ZOOM,
	CAMERA_FILLER, /* no meaning of its own ("angle", "view") */
};

static const struct camera_word {
	const char *word;
	enum camera_kind kind;
	double value;
} camera_words[] = {
	{ "front", CAMERA_YAW, 0 },      { "frontal", CAMERA_YAW, 0 },
	{ "quarter", CAMERA_YAW, 45 },   { "threequarter", CAMERA_YAW, 45 },
	{ "3q", CAMERA_YAW, 45 },        { "profile", CAMERA_YAW, 90 },
	{ "side", CAMERA_YAW, 90 },      { "back", CAMERA_YAW, 180 },
	{ "behind", CAMERA_YAW, 180 },   { "rear", CAMERA_YAW, 180 },
	{ "left", CAMERA_SIDE, -1 },     { "right", CAMERA_SIDE, 1 },
	{ "low", CAMERA_PITCH, -30 },    { "below", CAMERA_PITCH, -30 },
	{ "worms", CAMERA_PITCH, -30 },  { "high", CAMERA_PITCH, 45 },
	{ "above", CAMERA_PITCH, 45 },   { "top", CAMERA_PITCH, 90 },
	{ "overhead", CAMERA_PITCH, 90 }, { "birds", CAMERA_PITCH, 90 },
	{ "birdseye", CAMERA_PITCH, 90 }, { "closeup", CAMERA_ZOOM, 8 },
	{ "close", CAMERA_ZOOM, 8 },     { "medium", CAMERA_ZOOM, 5 },
	{ "mid", CAMERA_ZOOM, 5 },       { "full", CAMERA_ZOOM, 3 },
	{ "wide", CAMERA_ZOOM, 2 },      { "angle", CAMERA_FILLER, 0 },
	{ "view", CAMERA_FILLER, 0 },    { "shot", CAMERA_FILLER, 0 },
	{ "up", CAMERA_FILLER, 0 },      { "three", CAMERA_FILLER, 0 },
	{ "eye", CAMERA_FILLER, 0 },     { "level", CAMERA_FILLER, 0 },
	{ "body", CAMERA_FILLER, 0 },    { "camera", CAMERA_FILLER, 0 },
};

static const struct camera_word *
find_camera_word(const char *w, size_t n)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(camera_words); i++)
		if (strlen(camera_words[i].word) == n &&
		    strncasecmp(camera_words[i].word, w, n) == 0)
			return &camera_words[i];
	return NULL;
}

/*
 * Degrees in [0, 360) from a yaw word (< 0: none) and a side (-1 left,
 * 0 none, +1 right), in the endpoint's convention: 90 is right, 270 left.
 * A side alone is a profile, "front" with a side a three-quarter view,
 * and "back" with a side sits halfway between back and that side.
 */
static double
camera_yaw(double yaw, int side)
{
	if (yaw < 0)
		yaw = side ? 90 : 0;
	if (!side)
		return yaw;
	if (yaw == 0)
		yaw = 45;
	if (yaw == 180)
		yaw = 135;
	return side < 0 ? 360 - yaw : yaw;
}

int
camera_of_angle(const char *item, struct camera *out, struct error *err)
{
	double yaw = -1;
	int side = 0;
	bool any = false;

	*out = (struct camera){ 0, 0, 5 };
	if (!item || !*item)
		return error_set(err, "the node has no angle item name");
	for (const char *p = item; *p;) {
		size_t n = strcspn(p, "_- ");
		const struct camera_word *w = find_camera_word(p, n);

		if (n && !w)
			return error_set(err, "unknown camera word '%.*s' in angle '%s'",
					 (int)n, p, item);
		if (w) {
			any |= w->kind != CAMERA_FILLER;
			if (w->kind == CAMERA_YAW)
				yaw = w->value;
			else if (w->kind == CAMERA_SIDE)
				side = (int)w->value;
			else if (w->kind == CAMERA_PITCH)
				out->vertical = w->value;
			else if (w->kind == CAMERA_ZOOM)
				out->zoom = w->value;
		}
		p += n;
		if (*p)
			p++;
	}
	if (!any)
		return error_set(err, "angle '%s' names no camera word", item);
	out->horizontal = camera_yaw(yaw, side);
	return 0;
}


void
camera_list_words(char *out, size_t outsz)
{
	size_t used = 0;

	if (outsz)
		out[0] = '\0';
	for (size_t i = 0; i < LM_ARRAY_LEN(camera_words) && used < outsz; i++) {
		int n = snprintf(out + used, outsz - used, "%s%s",
				 i ? ", " : "", camera_words[i].word);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

bool
camera_set_by_params(const struct param *params, size_t n)
{
	static const char *const fields[] = {
		"horizontal_angle", "vertical_angle", "zoom",
	};

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < LM_ARRAY_LEN(fields); j++)
			if (strcmp(params[i].name, fields[j]) == 0)
				return true;
	return false;
}

/*
 * local: image operations on the user's machine, with libvips. It edits
 * an input; it cannot generate one. What it does comes from the node:
 *
 *   size:           longest side (upscale) or square side (with crop)
 *   params.crop:    "attention" (around the face) or "centre"
 *   params.flip:    true mirrors horizontally (e.g. a right profile
 *                   made from a left one)
 *
 * Resizing is Lanczos3, up or down; EXIF orientation is baked in and alpha
 * flattened, always (image.h).
 */
#include <string.h>

#include "runtime/engine.h"
#include "runtime/image.h"

static const char *
param(const struct node *n, const char *name)
{
	for (size_t i = 0; i < n->nparams; i++)
		if (strcmp(n->params[i].name, name) == 0)
			return n->params[i].value;
	return NULL;
}

static int
local_op(const struct node *n, struct image_op *op, struct error *err)
{
	const char *crop = param(n, "crop"), *flip = param(n, "flip");

	memset(op, 0, sizeof(*op));
	op->size = n->size;
	op->width = n->width; /* size: W x H: exactly, cut around the face */
	op->height = n->height;
	if (crop && !strcmp(crop, "\"attention\""))
		op->crop = IMAGE_CROP_ATTENTION;
	else if (crop && !strcmp(crop, "\"centre\""))
		op->crop = IMAGE_CROP_CENTRE;
	else if (crop)
		return error_set(err, "params: crop takes \"attention\" or \"centre\", not %s",
				 crop);
	op->flip = flip && !strcmp(flip, "true");
	return 0;
}

static int
local_run(struct job *job, struct error *err)
{
	struct image_op op;

	if (job->ninputs < 1 || !job->inputs[0])
		return error_set(err, "the local engine edits an image; %s has no input "
				 "(generate it with a remote engine or --engine preview)",
				 job->node->id);
	if (local_op(job->node, &op, err) < 0)
		return -1;
	for (int i = 0; i < job->nouts; i++)
		if (image_transform(job->inputs[0], job->outs[i], &op, err) < 0)
			return -1;
	return 0;
}

const struct engine engine_local = {
	.type = "local",
	.exec = ENGINE_LOCAL,
	.run = local_run,
};

/*
 * preview: free, offline placeholders for every generative node, so a
 * whole recipe can be built and inspected before a cent is spent.
 *
 * Each image is labelled with its node id and prompt words, coloured by
 * its seed, and shows a thumbnail of its input, so the lineage is visible
 * in build/. The engine is part of every key, so a preview image can never
 * be taken for a real one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "runtime/engine.h"
#include "runtime/image.h"

#define PREVIEW_SIZE 1024

static int
preview_run(struct job *job, struct error *err)
{
	const struct node *n = job->node;

	if (n->kind == KIND_VISION) /* an answer that says nothing: the
				       captions are the recipe's words */
		return write_file_atomic(job->outs[0], "{}", 2, err);
	if (n->kind == KIND_GATE) { /* placeholders pass: nothing to judge */
		static const char pass[] =
			"{\"reasons\":[\"a preview placeholder\"],\"score\":1,\"view\":\"front\"}";

		return write_file_atomic(job->outs[0], pass, strlen(pass), err);
	}
	for (int i = 0; i < job->nouts; i++) {
		char *title = job->nouts > 1
			? xasprintf("%s  #%d", n->id, i + 1) : xstrdup(n->id);
		int rc = image_preview(job->outs[i], PREVIEW_SIZE,
				       (uint64_t)(n->seed + i), title,
				       n->prompt ? n->prompt : "",
				       job->ninputs ? job->inputs[0] : NULL, err);

		free(title);
		if (rc < 0)
			return -1;
	}
	return 0;
}

const struct engine engine_preview = {
	.type = "preview",
	.exec = ENGINE_LOCAL,
	.run = preview_run,
};

/*
 * engine: the table of engines. Adding one: a file in runtime/engines/,
 * a row here, a section in docs/engines.md.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

extern const struct engine engine_preview;
extern const struct engine engine_local;
extern const struct engine engine_loramake;
extern const struct engine engine_fal;
extern const struct engine engine_replicate;
extern const struct engine engine_a1111;
extern const struct engine engine_gemini;
extern const struct engine engine_comfyui;

static const struct engine *const engines[] = {
	&engine_preview,
	&engine_local,
	&engine_loramake,
	&engine_fal,
	&engine_replicate,
	&engine_a1111,
	&engine_gemini,
	&engine_comfyui,
	NULL,
};

const struct engine *
engine_find(const char *type)
{
	for (const struct engine *const *e = engines; *e; e++)
		if (strcmp((*e)->type, type) == 0)
			return *e;
	return NULL;
}

void
engine_request_release(struct engine_request *r)
{
	free(r->url);
	free(r->body);
	*r = (struct engine_request){ 0 };
}

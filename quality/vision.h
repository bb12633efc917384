#ifndef LM_QUALITY_VISION_H
#define LM_QUALITY_VISION_H
/*
 * vision: captions written from a vision model's answers (the caption
 * question of compiler/vision.h; docs/vision.md). loramake writes them,
 * not the model:
 *
 *   - each answer is read strictly, bounded: it comes from the cache,
 *     which anyone may have written (the engine checked it once already);
 *   - each value is scrubbed (lint_scrub: the recipe's identity words,
 *     physical traits such as "blue eyes" or "freckles", style and
 *     quality words are cut out);
 *   - what the recipe's items and metadata.json say wins over the model;
 *   - the caption is compiler/caption.c's, over the whole set: trigger
 *     first, the word window, the redundancy rule.
 */
#include <stddef.h>

#include "base/arena.h"
#include "base/util.h"
#include "compiler/dag.h"
#include "quality/lint.h"
#include "runtime/engine.h"

struct vision_captions {
	struct caption_writer writer; /* for sched_opts.captions */
	struct lint *lint;            /* the recipe's (lint_opts_of) */
};

/* Set vc up for recipe r. -1 with err (a lint pattern failed). */
int vision_captions_init(struct vision_captions *vc, const struct recipe *r,
			 struct error *err);
void vision_captions_release(struct vision_captions *vc);

/*
 * The attributes of one answer (text, len bytes), scrubbed with l, into
 * attrs[ATTR_*] where attrs has none yet (strings in a). An expression
 * is written "EMOTION — DETAIL, DETAIL" (compiler/caption.c's form);
 * "none" (a back view) gives none. 0, or -1 with err (not the answer to
 * the caption question).
 */
int vision_read_answer(const struct lint *l, struct arena *a, const char *text,
		       size_t len, const char **attrs, struct error *err);

/*
 * The caption of caption node n from the answers at paths (in n's input
 * order): every leaf's attributes filled in, then caption_build. Into
 * out. 0, or -1 with err.
 */
int vision_caption_of(const struct lint *l, const struct node *n,
		      const char *const *paths, size_t npaths, struct buf *out,
		      struct error *err);

/*
 * The identity gate's answer at path (a cached gate/IMAGE output): its
 * score, and its reasons joined by "; " into reasons (reset first;
 * escaped, at most VERDICT_MAX_REASONS bytes; "-" when it gives none).
 * Read as strictly as a caption answer. 0, or -1 with err.
 */
int vision_read_verdict(const char *path, double *score, struct buf *reasons,
			struct error *err);

#endif

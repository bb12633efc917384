#ifndef LM_CAPTION_H
#define LM_CAPTION_H
/*
 * caption: natural-language captions from an image's variable attributes.
 *
 * A caption is one line: the trigger first, then sentences about only what
 * varies across the packaged set (the redundancy rule: an attribute that
 * is the same on every image is learnt from the pixels and left out).
 * Identity words never enter, because captions are built from attributes,
 * not from prompts. The sentence template is chosen by a hash of the node
 * id, so a caption reproduces exactly.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "dag.h"

struct caption_set {
	const struct recipe *r;
	bool varies[ATTR_COUNT]; /* the attribute differs across the set */
};

/* Set attrs[slot] for an attribute name of an item ("expression", ...). */
void caption_set_attr(const char **attrs, const char *name, const char *value);

/* Look at the whole dataset (its leaves) to learn what varies. */
void caption_set_init(struct caption_set *set, const struct recipe *r,
		      const struct node *const *leaves, size_t n);
void caption_set_release(struct caption_set *set);

/* The caption for dataset image img, allocated in a. */
const char *caption_build(struct arena *a, const struct caption_set *set,
			  const struct node *img);

/* Words in a caption (runs of non-space). */
size_t caption_words(const char *s);

#endif

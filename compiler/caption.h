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
 * id, so a caption reproduces exactly. An image with nothing that varies
 * gets the trigger alone.
 *
 * With style: tags (the default of the CLIP-only targets, sdxl and sd15)
 * a caption is the trigger and comma-separated tags of the same varying
 * attributes instead ("miyomi_trader, confident smirk, trading desk,
 * neon lighting"), fitted to CLIP's 77 tokens by the same shortening.
 *
 * Each target (flux, flux2, zimage, wan22, sdxl, sd15) has a profile: word
 * bounds, the text encoders' token windows, and what a dataset for it
 * looks like (count, size). Captions are never padded to reach the lower
 * bound; over the upper bound they are shortened (light, then descriptors
 * beyond two, then the rest of the descriptors). docs/quality.md has the
 * figures and where they come from.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "dag.h"

/* What captions and datasets for one target model should look like. */
struct caption_profile {
	const char *target;     /* the recipe's target: "flux2" */
	const char *label;      /* for people: "Flux 2" */
	unsigned min_words;     /* word bounds of a caption */
	unsigned max_words;
	unsigned clip_window;   /* CLIP tokens read (77); 0: no CLIP encoder */
	unsigned text_window;   /* T5 / LLM encoder tokens read (512) */
	bool motion;            /* video: captions should name motion */
	bool prose;             /* natural language; comma tag lists are wrong */
	unsigned count_min;     /* images in a good dataset */
	unsigned count_max;
	int size;               /* default square side of the package */
};

/* The profile of target (NULL or unknown: flux's). Borrowed, static. */
const struct caption_profile *caption_profile(const char *target);

struct caption_set {
	const struct recipe *r;
	const struct caption_profile *profile;
	unsigned min_words, max_words; /* the profile's, or caption: words: */
	unsigned max_tokens;     /* CLIP tokens (clip.h) the caption must fit:
				  * the window of the encoder that reads it
				  * whole, CLIP's 77 for sdxl; 0: none */
	bool varies[ATTR_COUNT]; /* the attribute differs across the set */
	bool tags;               /* style: tags (caption_tags) */
	bool underscores;        /* tags: words joined by '_' */
};

/* Does r caption in tags (caption: style:, else its target's: tags for
 * a target with no prose encoder, sdxl and sd15)? */
bool caption_tags(const struct recipe *r);

/* The slot (dag.h's ATTR_*) of an attribute name ("expression",
 * "category", ...), or -1. */
int caption_attr_slot(const char *name);

/* Set attrs[slot] for an attribute name of an item ("expression", ...). */
void caption_set_attr(const char **attrs, const char *name, const char *value);

/*
 * Look at the whole dataset (its leaves) to learn what varies, and take
 * the profile of r->target. Nothing is allocated; release is for symmetry.
 */
void caption_set_init(struct caption_set *set, const struct recipe *r,
		      const struct node *const *leaves, size_t n);
void caption_set_release(struct caption_set *set);

/*
 * The caption for dataset image img, allocated in a: one line of valid
 * UTF-8 (if the recipe's words are), the trigger first, at most
 * set->max_words words unless even the shortest form is longer.
 */
const char *caption_build(struct arena *a, const struct caption_set *set,
			  const struct node *img);

/* Words in a caption (runs of non-space). */
size_t caption_words(const char *s);

/*
 * The emotion of an expression's words: "tired" for "tired — slightly
 * heavy eyelids, ...", the whole trimmed text when there is no dash.
 * Writes at most outsz - 1 bytes and a NUL; returns out.
 */
char *caption_emotion(const char *expr, char *out, size_t outsz);

#endif

#ifndef LM_VISION_H
#define LM_VISION_H
/*
 * vision: what loramake asks a model that looks at an image, in one
 * table per question (docs/vision.md):
 *
 *   caption  the attributes that vary across a photo set (expression
 *            with 2-3 physical descriptors, camera angle, framing,
 *            place, light, wardrobe, pose), never the constant identity;
 *            loramake writes the caption itself (compiler/caption.c)
 *   gate     a generated image against its reference, or references
 *            (against: a list): a score in [0, 1]
 *            and the model's reasons; back views judged on silhouette
 *            and hair, never on a face
 *
 * Each question is a prompt and the fields of its answer. The same
 * table gives the responseSchema sent (Gemini structured output), the
 * strict check of the answer (runtime/engines/gemini.c: only these
 * members, of these types and sizes) and the reading of a cached answer
 * (quality/vision.c). The prompt and the schema are in the node's key:
 * a change of either asks again. Static and immutable.
 */
#include <stdbool.h>
#include <stddef.h>

/* The model a caption: or gate: with no model: asks. */
#define VISION_DEFAULT_MODEL "gemini-2.5-flash"

/* An answer's bytes are bounded before they are parsed. */
#define VISION_MAX_ANSWER 8192

enum vision_type {
	VF_TEXT,   /* a string of at most max_len bytes, one line */
	VF_CHOICE, /* one of choices */
	VF_LIST,   /* an array of min_items..max_items texts */
	VF_SCORE,  /* a number in [0, 1] */
};

struct vision_field {
	const char *name;        /* the JSON member */
	int slot;                /* dag.h's ATTR_* it fills, or -1 */
	enum vision_type type;
	const char *describe;    /* what the schema tells the model */
	const char *const *choices; /* VF_CHOICE: NULL-terminated */
	unsigned max_len;        /* VF_TEXT, each VF_LIST item: bytes */
	unsigned min_items, max_items; /* VF_LIST */
	bool required;
};

struct vision_question {
	const char *name;        /* "caption", "gate" */
	const char *prompt;      /* the instruction sent before the images */
	const char *back_view;   /* added to the prompt when the judged image
				    is a back view (framing: back), or NULL */
	const struct vision_field *fields;
	size_t nfields;
};

/* The questions: the caption's, and the gate's for nrefs references (1:
 * the reference, then the image; more: the references, then the image;
 * the answer's fields are the same). Borrowed, static. */
const struct vision_question *vision_caption(void);
const struct vision_question *vision_gate(size_t nrefs);

/* The field called name of q, or NULL. */
const struct vision_field *vision_field(const struct vision_question *q,
					const char *name);

/* Gemini's responseSchema of q as compact JSON text (an OpenAPI subset
 * object: types, enums, array bounds, required, propertyOrdering).
 * Caller frees. */
char *vision_schema_json(const struct vision_question *q);

/* Is s one of f's choices? */
bool vision_is_choice(const struct vision_field *f, const char *s);

#endif

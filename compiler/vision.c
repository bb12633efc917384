/*
 * vision: the questions a vision model is asked (see vision.h).
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "dag.h"
#include "recipe.h"
#include "vision.h"

static const char *const framings[] = { "closeup", "medium", "full", "back", NULL };
static const char *const views[] = { "front", "three_quarter", "side", "back", NULL };

/*
 * The caption question. Identity is named so that the model leaves it
 * out; quality/vision.c still scrubs what it says (lint_scrub), since an
 * answer is never trusted to obey.
 */
static const struct vision_field caption_fields[] = {
	{ "expression", ATTR_EXPRESSION, VF_TEXT,
	  "the emotion of the face in one to three words (e.g. 'tired', "
	  "'a slight smile'); 'none' on a back view", NULL, 60, 0, 0, true },
	{ "expression_details", -1, VF_LIST,
	  "two or three physical descriptors of that expression (e.g. "
	  "'heavy eyelids', 'relaxed jaw'), never a trait the person always has",
	  NULL, 60, 2, 3, true },
	{ "angle", ATTR_ANGLE, VF_TEXT,
	  "where the camera is, as a phrase (e.g. 'seen from the front', "
	  "'in left profile', 'seen from behind', 'seen from below')",
	  NULL, 80, 0, 0, true },
	{ "framing", ATTR_FRAMING, VF_CHOICE,
	  "how much of the person the frame holds", framings, 0, 0, 0, true },
	{ "place", ATTR_PLACE, VF_TEXT,
	  "the place, as a short noun phrase (e.g. 'a cafe terrace')",
	  NULL, 80, 0, 0, true },
	{ "light", ATTR_LIGHT, VF_TEXT,
	  "the light, as a short noun phrase (e.g. 'warm window light')",
	  NULL, 80, 0, 0, true },
	{ "wardrobe", ATTR_WARDROBE, VF_TEXT,
	  "the clothes worn in this photo, as a short noun phrase",
	  NULL, 80, 0, 0, true },
	{ "pose", ATTR_POSE, VF_TEXT,
	  "the pose, as a short phrase (e.g. 'seated at a desk')",
	  NULL, 80, 0, 0, true },
};

static const struct vision_question caption_question = {
	"caption",
	"You describe one photo of a person for the caption of a LoRA "
	"training image. Describe only what changes from photo to photo: "
	"the expression (its emotion and two or three physical descriptors "
	"of it), the camera angle and framing, the place, the light, the "
	"clothes and the pose. Never describe the person's constant "
	"identity: no face shape, eye colour, hair colour or style, skin, "
	"freckles, moles, scars, tattoos, age, ethnicity or body type. No "
	"style or quality words (photorealistic, 8K, cinematic, bokeh). "
	"Short plain phrases, lower case.",
	NULL,
	caption_fields, LM_ARRAY_LEN(caption_fields),
};

/* The gate question with one reference: the first image is the
 * reference, the second the generated one. (Its text is in the keys of
 * every gate judged so far: a change asks them all again.) */
static const struct vision_field gate_fields[] = {
	{ "score", -1, VF_SCORE,
	  "how surely the second image shows the same person as the first, "
	  "from 0 (someone else) to 1 (unmistakably the same)",
	  NULL, 0, 0, 0, true },
	{ "view", -1, VF_CHOICE, "which side of the person the second image shows",
	  views, 0, 0, 0, true },
	{ "reasons", -1, VF_LIST,
	  "what differs from the reference, each a few words (e.g. 'jaw "
	  "wider', 'eyes soft', 'head turned to camera on a back view'); "
	  "empty when nothing does", NULL, 80, 0, 5, true },
};

static const struct vision_question gate_question = {
	"gate",
	"The first image is the reference of a character; the second is a "
	"generated image meant to show the same character. Judge only "
	"identity: facial geometry (jaw, cheekbones, nose, eye shape and "
	"spacing), skin texture (smoothing counts against), hair and "
	"silhouette. Expression, pose, clothes, place and light are meant to "
	"differ and never count. A back view is judged on silhouette and "
	"hair, not the face: a head turned to the camera on a back view is a "
	"failure, and say so. Give a score and short reasons.",
	" The second image is meant as a back view: judge it on silhouette "
	"and hair only, never on a face; a head turned to the camera is a "
	"failure (say 'head turned to camera on a back view').",
	gate_fields, LM_ARRAY_LEN(gate_fields),
};

/* The gate question with several references (against: a list): every
 * image but the last is a reference, the last the generated one. The
 * same answer as one reference's, its words said of the references. */
static const struct vision_field gate_refs_fields[] = {
	{ "score", -1, VF_SCORE,
	  "how surely the last image shows the same person as the references, "
	  "from 0 (someone else) to 1 (unmistakably the same)",
	  NULL, 0, 0, 0, true },
	{ "view", -1, VF_CHOICE, "which side of the person the last image shows",
	  views, 0, 0, 0, true },
	{ "reasons", -1, VF_LIST,
	  "what differs from the references, each a few words (e.g. 'jaw "
	  "wider', 'eyes soft', 'head turned to camera on a back view'); "
	  "empty when nothing does", NULL, 80, 0, 5, true },
};

static const struct vision_question gate_refs_question = {
	"gate",
	"Every image but the last is a reference of one character (the same "
	"person, from different angles); the last is a generated image meant "
	"to show the same character. Judge only identity, against all the "
	"references together: facial geometry (jaw, cheekbones, nose, eye "
	"shape and spacing), skin texture (smoothing counts against), hair "
	"and silhouette. Expression, pose, clothes, place and light are meant "
	"to differ and never count. A back view is judged on silhouette and "
	"hair, not the face: a head turned to the camera on a back view is a "
	"failure, and say so. Give a score and short reasons.",
	" The last image is meant as a back view: judge it on silhouette "
	"and hair only, never on a face; a head turned to the camera is a "
	"failure (say 'head turned to camera on a back view').",
	gate_refs_fields, LM_ARRAY_LEN(gate_refs_fields),
};

const struct vision_question *
vision_caption(void)
{
	return &caption_question;
}

const struct vision_question *
vision_gate(size_t nrefs)
{
	return nrefs > 1 ? &gate_refs_question : &gate_question;
}

const struct vision_field *
vision_field(const struct vision_question *q, const char *name)
{
	for (size_t i = 0; i < q->nfields; i++)
		if (strcmp(q->fields[i].name, name) == 0)
			return &q->fields[i];
	return NULL;
}

bool
vision_is_choice(const struct vision_field *f, const char *s)
{
	for (const char *const *c = f->choices; c && *c; c++)
		if (strcmp(*c, s) == 0)
			return true;
	return false;
}

/* One property of the schema: {"type": ..., "description": ..., ...}. */
static void
schema_field(struct buf *b, const struct vision_field *f)
{
	static const char *const types[] = {
		[VF_TEXT] = "STRING", [VF_CHOICE] = "STRING",
		[VF_LIST] = "ARRAY", [VF_SCORE] = "NUMBER",
	};

	recipe_json_string(b, f->name);
	buf_addf(b, ":{\"type\":\"%s\",\"description\":", types[f->type]);
	recipe_json_string(b, f->describe);
	if (f->type == VF_CHOICE) {
		buf_adds(b, ",\"enum\":[");
		for (const char *const *c = f->choices; *c; c++) {
			if (c != f->choices)
				buf_addc(b, ',');
			recipe_json_string(b, *c);
		}
		buf_addc(b, ']');
	} else if (f->type == VF_LIST) {
		buf_addf(b, ",\"items\":{\"type\":\"STRING\"},\"minItems\":%u,"
			 "\"maxItems\":%u", f->min_items, f->max_items);
	} else if (f->type == VF_SCORE) {
		buf_adds(b, ",\"minimum\":0,\"maximum\":1");
	}
	buf_addc(b, '}');
}

/* ,"NAME":[the field names of q, those with required only if req] */
static void
schema_names(struct buf *b, const char *name, const struct vision_question *q,
	     bool req)
{
	bool first = true;

	buf_addf(b, ",\"%s\":[", name);
	for (size_t i = 0; i < q->nfields; i++) {
		if (req && !q->fields[i].required)
			continue;
		if (!first)
			buf_addc(b, ',');
		first = false;
		recipe_json_string(b, q->fields[i].name);
	}
	buf_addc(b, ']');
}

char *
vision_schema_json(const struct vision_question *q)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "{\"type\":\"OBJECT\",\"properties\":{");
	for (size_t i = 0; i < q->nfields; i++) {
		if (i)
			buf_addc(&b, ',');
		schema_field(&b, &q->fields[i]);
	}
	buf_addc(&b, '}');
	schema_names(&b, "required", q, true);
	schema_names(&b, "propertyOrdering", q, false);
	buf_addc(&b, '}');
	return buf_detach(&b);
}

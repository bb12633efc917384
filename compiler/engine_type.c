/*
 * engine_type: the table of engine types (see engine_type.h).
 *
 * Prices and times of fal models are the seeds' figures; a recipe
 * overrides a price with engines: NAME: prices: { MODEL: USD }. A remote
 * model the table does not know is priced at the type's usd, on purpose
 * not 0: an unknown model must never look free in a plan.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "engine_type.h"
#include "recipe.h"

/* What a trainer makes: one LoRA file, or WAN 2.2's two (fal-js's
 * Wan22ImageTrainerOutput: high_noise_lora, and the low-noise one under
 * the name every fal trainer uses, diffusers_lora_file). */
#define ONE_LORA(member) .files = { { member, NULL, NULL } }, .nfiles = 1
#define WAN22_LORAS                                                       \
	.files = { { "diffusers_lora_file", "low_noise", "low" },          \
		   { "high_noise_lora", "high_noise", "high" } },          \
	.nfiles = 2

/* fal's trainers (TRAINERS.md 1.7, fal-js's training types; seed 004
 * section 6 for the defaults: Flux 2 about 1000 steps at 0.0001-0.00015,
 * since fal's own 0.00005 is too low for a character; Z-Image 1000-2000
 * steps at 0.0001; WAN 2.2 800-1500 steps at 0.0007). */
static const struct trainer flux_fast_trainer = {
	.data_field = "images_data_url", .trigger_field = "trigger_word",
	.steps = 1000, ONE_LORA("diffusers_lora_file"),
};
static const struct trainer flux2_trainer = {
	.data_field = "image_data_url", .caption_field = "default_caption",
	.steps = 1000, .learning_rate = 0.0001, ONE_LORA("diffusers_lora_file"),
};
static const struct trainer zimage_trainer = {
	.data_field = "image_data_url", .caption_field = "default_caption",
	.steps = 1000, .learning_rate = 0.0001, ONE_LORA("diffusers_lora_file"),
};
static const struct trainer portrait_trainer = {
	.data_field = "images_data_url", .trigger_field = "trigger_phrase",
	.steps = 2500, .learning_rate = 0.00009, ONE_LORA("diffusers_lora_file"),
};
/* Wan22ImageTrainerInput: training_data_url and trigger_phrase (which it
 * requires), steps, learning_rate; and seed 004's settings for a
 * character (create_masks, fal's use_masks here; face detection on; not
 * a style) */
static const char *const wan22_fields[] = {
	"use_masks", "true", "use_face_detection", "true", "is_style", "false",
	NULL,
};
static const struct trainer wan22_trainer = {
	.data_field = "training_data_url", .trigger_field = "trigger_phrase",
	.steps = 1000, .learning_rate = 0.0007, WAN22_LORAS,
	.fields = wan22_fields,
};
/* TRAINERS.md 1.8: Replicate's Flux trainers (ai-toolkit inside); the
 * LoRA is output.weights, a tar holding it */
static const struct trainer replicate_flux_trainer = {
	.data_field = "input_images", .trigger_field = "trigger_word",
	.steps = 1000, .learning_rate = 0.0004, ONE_LORA("weights"),
};

/* Which trainer a target's LoRA goes to by default. */
static const struct {
	const char *target, *endpoint;
} default_trainers[] = {
	{ "flux", "fal-ai/flux-lora-fast-training" },
	{ "flux2", "fal-ai/flux-2-trainer" },
	{ "zimage", "fal-ai/z-image-trainer" },
	{ "wan22", "fal-ai/wan-22-image-trainer" },
};

/* Which endpoint tries a target's LoRA by default (validate:). */
static const struct {
	const char *type, *target, *endpoint;
} default_validators[] = {
	{ "fal", "flux", "fal-ai/flux-lora" },
	{ "fal", "flux2", "fal-ai/flux-2/lora" },
	{ "fal", "wan22", "fal-ai/wan/v2.2-a14b/text-to-image/lora" },
	{ "replicate", "flux", "black-forest-labs/flux-dev-lora" },
};

/* The aspect_ratio values of ENGINES.md 1.13 (fal-js endpoint types). */
static const char *const ultra_aspects[] = {
	"21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21", NULL,
};
/* Replicate's Flux models' aspect_ratio enum (its schema pages, e.g.
 * black-forest-labs/flux-fill-dev's and the Flux fine-tunes'; "custom",
 * which takes width and height, is left to params:). */
static const char *const replicate_flux_aspects[] = {
	"1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16",
	"9:21", NULL,
};
static const char *const banana_aspects[] = {
	"21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16",
	NULL,
};

/* Shapes: ENGINES.md 1.13 for ultra, nano-banana-pro/edit and the 2511
 * multiple-angles endpoint; fal's flux text-to-image endpoints take
 * image_size { width, height } as the 2511 one does; the image-to-image
 * and upscale endpoints keep their input's shape and take none. */
static const struct engine_model fal_models[] = {
	{ "fal-ai/flux-pro/v1.1-ultra", 0.04, 12, FAMILY_TEXT, 0, NULL,
	  SHAPE_ASPECT_RATIO, ultra_aspects },
	{ "fal-ai/flux-pro/v1.1", 0.04, 10, FAMILY_TEXT, 0, NULL, SHAPE_IMAGE_SIZE,
	  NULL },
	{ "fal-ai/flux/dev/image-to-image", 0.03, 8, FAMILY_I2I, 1, NULL,
	  SHAPE_NONE, NULL },
	{ "fal-ai/flux-lora/image-to-image", 0.035, 10, FAMILY_I2I, 1, NULL,
	  SHAPE_NONE, NULL },
	{ "fal-ai/flux/dev", 0.025, 8, FAMILY_TEXT, 0, NULL, SHAPE_IMAGE_SIZE, NULL },
	{ "fal-ai/flux-lora", 0.035, 10, FAMILY_LORA, 0, NULL, SHAPE_IMAGE_SIZE,
	  NULL },
	/* fal's llms.txt: $0.021 per megapixel (LoRAs over 2 GB cost more) */
	{ "fal-ai/flux-2/lora", 0.021, 10, FAMILY_LORA, 0, NULL, SHAPE_IMAGE_SIZE,
	  NULL },
	/* WanLoRAT2IRequest: loras [{path, scale, transformer}], one image
	 * out; no list price found, so priced as flux-lora, never free */
	{ "fal-ai/wan/v2.2-a14b/text-to-image/lora", 0.035, 20,
	  FAMILY_LORA_EXPERTS, 0, NULL, SHAPE_IMAGE_SIZE, NULL },
	{ "fal-ai/qwen-image-edit-2511-multiple-angles", 0.035, 22,
	  FAMILY_ANGLES, 1, NULL, SHAPE_IMAGE_SIZE, NULL },
	{ "fal-ai/qwen-image-edit-2509-lora-gallery/multiple-angles", 0.035, 22,
	  FAMILY_ANGLES, 1, NULL, SHAPE_NONE, NULL },
	{ "fal-ai/nano-banana-pro/edit", 0.065, 30, FAMILY_EDIT, 14, NULL,
	  SHAPE_ASPECT_RATIO, banana_aspects },
	{ "fal-ai/nano-banana-pro", 0.065, 30, FAMILY_TEXT, 0, NULL,
	  SHAPE_ASPECT_RATIO, banana_aspects },
	{ "fal-ai/seedvr/upscale/image", 0.001, 7.5, FAMILY_UPSCALE, 1, NULL,
	  SHAPE_NONE, NULL },
	/* trainers: usd and seconds per 1,000 steps; seed 004 section 8's
	 * prices (the Flux 2 and portrait trainers have no figure there:
	 * priced as the fast trainer, never as free), the "half an
	 * hour" a training */
	{ "fal-ai/flux-lora-fast-training", 3.0, 1800, FAMILY_TRAIN, 1,
	  &flux_fast_trainer, SHAPE_NONE, NULL },
	{ "fal-ai/flux-lora-portrait-trainer", 3.0, 1800, FAMILY_TRAIN, 1,
	  &portrait_trainer, SHAPE_NONE, NULL },
	{ "fal-ai/flux-2-trainer", 3.0, 1800, FAMILY_TRAIN, 1, &flux2_trainer,
	  SHAPE_NONE, NULL },
	{ "fal-ai/z-image-trainer", 0.85, 1800, FAMILY_TRAIN, 1, &zimage_trainer,
	  SHAPE_NONE, NULL },
	{ "fal-ai/z-image-base-trainer", 0.85, 1800, FAMILY_TRAIN, 1,
	  &zimage_trainer, SHAPE_NONE, NULL },
	/* seed 004 section 8 prices WAN 2.2 at about $2 per 1,000 steps; it
	 * names the endpoint fal-ai/wan/v2.2/image-to-video/lora/training,
	 * which fal's endpoint map does not have: this is the one it has */
	{ "fal-ai/wan-22-image-trainer", 2.0, 1800, FAMILY_TRAIN, 1,
	  &wan22_trainer, SHAPE_NONE, NULL },
};

/* Replicate's official models (latest version); a pinned owner/name:version
 * (a user's own LoRA) is priced at the type's usd unless the recipe says.
 * Prices as Replicate lists them per output image, times typical. */
static const struct engine_model replicate_models[] = {
	{ "black-forest-labs/flux-dev", 0.025, 8, FAMILY_I2I, 1, NULL,
	  SHAPE_NONE, NULL },
	{ "black-forest-labs/flux-schnell", 0.003, 2, FAMILY_TEXT, 0, NULL,
	  SHAPE_NONE, NULL },
	{ "black-forest-labs/flux-1.1-pro-ultra", 0.06, 12, FAMILY_TEXT, 0, NULL,
	  SHAPE_NONE, NULL },
	{ "black-forest-labs/flux-kontext-pro", 0.04, 10, FAMILY_EDIT, 1, NULL,
	  SHAPE_NONE, NULL },
	/* Flux dev with a LoRA loaded at run time (validate:). Its input:
	 * prompt, lora_weights (a URL of a .safetensors file, a Replicate
	 * or Hugging Face model), lora_scale (default 1, -1..3), seed,
	 * num_outputs, output_format, aspect_ratio; its output a list of
	 * image URLs. Names from Replicate's schema of the same input on
	 * black-forest-labs/flux-fill-dev and from public clients of this
	 * model (replicate-python predictions.create, replicate.run(...)
	 * [0]); not lucataco/flux-dev-lora, a community model that calls it
	 * hf_lora. $0.032 an image: a public price book's measured bill
	 * (2026-10-01, "public link $0.032 a picture"), Replicate's own page
	 * not read here; seconds as fal's flux-lora. */
	{ "black-forest-labs/flux-dev-lora", 0.032, 10, FAMILY_LORA, 0, NULL,
	  SHAPE_ASPECT_RATIO, replicate_flux_aspects },
	/* Gemini 2.5 Flash Image on Replicate: its images as image_input */
	{ "google/nano-banana", 0.039, 10, FAMILY_EDIT, 3, NULL,
	  SHAPE_NONE, NULL },
	/* a training is billed by its GPU time: replicate.com/pricing lists
	 * an H100 at $0.001525/s ("Flux fine-tunes run on H100s"); about 20
	 * minutes per 1,000 steps is our estimate, until this machine has
	 * timed one (cache/times) */
	{ "ostris/flux-dev-lora-trainer", 1.83, 1200, FAMILY_TRAIN, 1,
	  &replicate_flux_trainer, SHAPE_NONE, NULL },
	{ "replicate/fast-flux-trainer", 1.83, 1200, FAMILY_TRAIN, 1,
	  &replicate_flux_trainer, SHAPE_NONE, NULL },
};

/* Gemini's image models (ENGINES.md 3): Google's list prices per output
 * image (2.5 Flash Image: 1290 output tokens at $30 per million; 3 Pro
 * Image: $0.134 at 1K or 2K, $0.24 at 4K), times typical. */
static const struct engine_model gemini_models[] = {
	{ "gemini-2.5-flash-image", 0.039, 10, FAMILY_GEMINI, 3, NULL,
	  SHAPE_NONE, NULL },
	{ "gemini-2.5-flash-image-preview", 0.039, 10, FAMILY_GEMINI, 3, NULL,
	  SHAPE_NONE, NULL },
	{ "gemini-3-pro-image-preview", 0.134, 30, FAMILY_GEMINI_SIZED, 14, NULL,
	  SHAPE_NONE, NULL },
	/* vision models (compiler/vision.h: captions, the identity gate): a
	 * call of one or two images (about 260 tokens each up to 384 px,
	 * 258 per 768 px tile above) and a short JSON answer, with thinking,
	 * priced high: 2.5 Flash $0.30 in / $2.50 out per million tokens,
	 * Flash-Lite $0.10 / $0.40, 2.5 Pro $1.25 / $10 */
	{ "gemini-2.5-flash", 0.002, 4, FAMILY_VISION, 3, NULL, SHAPE_NONE, NULL },
	{ "gemini-2.5-flash-lite", 0.0005, 2, FAMILY_VISION, 3, NULL, SHAPE_NONE,
	  NULL },
	{ "gemini-2.5-pro", 0.01, 12, FAMILY_VISION, 3, NULL, SHAPE_NONE, NULL },
};

static const char *const fal_keys[] = { "FAL_KEY", NULL };
/* ENGINES.md 1.1: queue and sync API, storage REST API, the CDN */
static const char *const fal_hosts[] = { "queue.fal.run", "fal.run",
					 "rest.fal.ai", "fal.media", NULL };
static const char *const replicate_keys[] = { "REPLICATE_API_TOKEN", NULL };
static const char *const replicate_hosts[] = { "api.replicate.com", NULL };
static const char *const gemini_keys[] = { "GEMINI_API_KEY", "GOOGLE_API_KEY",
					   NULL };
static const char *const gemini_hosts[] = {
	"generativelanguage.googleapis.com", NULL
};
/* the server's --api-auth user:password, sent as basic auth when set */
static const char *const a1111_keys[] = { "A1111_API_AUTH", NULL };
static const char *const no_hosts[] = { NULL };

static const struct engine_type types[] = {
	{ .name = "fal", .remote = true, .declarable = true, .runs = true,
	  .generates = true, .takes_model = true, .key_envs = fal_keys, .hosts = fal_hosts,
	  .default_url = "https://queue.fal.run",
	  .usd = 0.04, .seconds = 20, .concurrency = 4, .max_images = 1,
	  .models = fal_models, .nmodels = LM_ARRAY_LEN(fal_models) },
	{ .name = "replicate", .remote = true, .declarable = true, .runs = true,
	  .generates = true, .takes_model = true,
	  .key_envs = replicate_keys, .hosts = replicate_hosts,
	  .default_url = "https://api.replicate.com",
	  .usd = 0.04, .seconds = 20, .concurrency = 4, .max_images = 1,
	  .models = replicate_models, .nmodels = LM_ARRAY_LEN(replicate_models) },
	/* an unknown model is priced as the dearest known one */
	{ .name = "gemini", .remote = true, .declarable = true, .runs = true,
	  .generates = true, .takes_model = true,
	  .key_envs = gemini_keys, .hosts = gemini_hosts,
	  .default_url = "https://generativelanguage.googleapis.com",
	  .usd = 0.134, .seconds = 30, .concurrency = 4, .max_images = 3,
	  .models = gemini_models, .nmodels = LM_ARRAY_LEN(gemini_models) },
	/* servers on the user's own machine: remote (HTTP) but free;
	 * each runs one generation at a time (ENGINES.md 4, 5.1) */
	{ .name = "comfyui", .remote = true, .declarable = true, .runs = true,
	  .generates = true, .takes_model = true, .own_server = true,
	  .hosts = no_hosts, .default_url = "http://127.0.0.1:8188",
	  .usd = 0, .seconds = 20, .concurrency = 1, .max_images = 1 },
	/* seconds: an SDXL image of 30 steps on a consumer GPU */
	{ .name = "a1111", .remote = true, .declarable = true, .runs = true,
	  .generates = true, .takes_model = true, .own_server = true,
	  .key_envs = a1111_keys,
	  .hosts = no_hosts, .default_url = "http://127.0.0.1:7860",
	  .usd = 0, .seconds = 15, .concurrency = 1, .max_images = 1 },
	{ .name = "local", .declarable = true, .runs = true, .implicit = true,
	  .takes_model = true, .hosts = no_hosts, .seconds = 0.3,
	  .max_images = 1 },
	/* placeholders: ignores model:, so a model never splits its keys;
	 * 0.18 s CPU a node all in, measured (docs/bench.md) */
	{ .name = "preview", .declarable = true, .runs = true, .generates = true,
	  .implicit = true, .hosts = no_hosts, .seconds = 0.18,
	  .max_images = RECIPE_MAX_REFS + 1 },
	{ .name = "loramake", .runs = true, .hosts = no_hosts, .seconds = 0.01 },
	{ .name = "file", .runs = true, .hosts = no_hosts, .seconds = 0 },
};

static const unsigned family_fields[FAMILY_COUNT] = {
	[FAMILY_GENERIC] = FIELD_PROMPT | FIELD_NEGATIVE | FIELD_STRENGTH |
			   FIELD_IMAGE | FIELD_SEED | FIELD_ASPECT |
			   FIELD_IMAGE_SIZE,
	[FAMILY_TEXT] = FIELD_PROMPT | FIELD_SEED,
	[FAMILY_I2I] = FIELD_PROMPT | FIELD_STRENGTH | FIELD_IMAGE | FIELD_SEED,
	[FAMILY_ANGLES] = FIELD_NEGATIVE | FIELD_IMAGE | FIELD_SEED | FIELD_CAMERA,
	[FAMILY_EDIT] = FIELD_PROMPT | FIELD_IMAGE | FIELD_SEED,
	[FAMILY_UPSCALE] = FIELD_IMAGE | FIELD_SEED,
	[FAMILY_GEMINI] = FIELD_PROMPT | FIELD_IMAGE | FIELD_SEED | FIELD_ASPECT,
	[FAMILY_GEMINI_SIZED] = FIELD_PROMPT | FIELD_IMAGE | FIELD_SEED |
				FIELD_ASPECT | FIELD_IMAGE_SIZE,
	[FAMILY_TRAIN] = FIELD_IMAGE,
	[FAMILY_LORA] = FIELD_PROMPT | FIELD_SEED | FIELD_LORA,
	[FAMILY_LORA_EXPERTS] = FIELD_PROMPT | FIELD_SEED | FIELD_LORA,
	[FAMILY_VISION] = FIELD_PROMPT | FIELD_IMAGE,
};

const struct engine_type *
engine_type_find(const char *name)
{
	for (size_t i = 0; name && i < LM_ARRAY_LEN(types); i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

const struct engine_type *
engine_types(size_t *n)
{
	*n = LM_ARRAY_LEN(types);
	return types;
}

const struct engine_model *
engine_type_model(const struct engine_type *t, const char *model)
{
	const char *pin = model ? strchr(model, ':') : NULL;

	for (size_t i = 0; t && model && i < t->nmodels; i++)
		if (strcmp(t->models[i].id, model) == 0)
			return &t->models[i];
	/* a trainer's row answers for a pinned version of it too
	 * (owner/name:version: Replicate's trainings name one); an image
	 * model pinned is a user's own, not the row's */
	for (size_t i = 0; t && pin && i < t->nmodels; i++)
		if (t->models[i].family == FAMILY_TRAIN &&
		    strlen(t->models[i].id) == (size_t)(pin - model) &&
		    !strncmp(t->models[i].id, model, (size_t)(pin - model)))
			return &t->models[i];
	return NULL;
}

enum model_family
engine_type_family(const struct engine_type *t, const char *model)
{
	const struct engine_model *m = engine_type_model(t, model);

	return m ? m->family : FAMILY_GENERIC;
}

int
engine_type_max_images(const struct engine_type *t, const char *model)
{
	const struct engine_model *m = engine_type_model(t, model);

	return m ? m->max_images : t ? t->max_images : -1;
}

const struct trainer *
engine_type_trainer(const struct engine_type *t, const char *model)
{
	const struct engine_model *m = engine_type_model(t, model);

	return m ? m->train : NULL;
}

const char *
engine_type_default_trainer(const char *target)
{
	for (size_t i = 0; target && i < LM_ARRAY_LEN(default_trainers); i++)
		if (strcmp(default_trainers[i].target, target) == 0)
			return default_trainers[i].endpoint;
	return NULL;
}

const char *
engine_type_default_validator(const char *type, const char *target)
{
	for (size_t i = 0; target && i < LM_ARRAY_LEN(default_validators); i++)
		if (!strcmp(default_validators[i].type, type) &&
		    !strcmp(default_validators[i].target, target))
			return default_validators[i].endpoint;
	return NULL;
}

enum shape_field
engine_type_shape(const struct engine_type *t, const char *model,
		  const char *const **aspects)
{
	const struct engine_model *m = engine_type_model(t, model);

	*aspects = m ? m->aspects : NULL;
	return m ? m->shape : SHAPE_NONE;
}

unsigned
model_family_fields(enum model_family f)
{
	return family_fields[f];
}

bool
engine_type_documents_key(const struct engine_type *t, const char *name)
{
	for (size_t i = 0; t && t->key_envs && t->key_envs[i]; i++)
		if (strcmp(t->key_envs[i], name) == 0)
			return true;
	return false;
}

bool
engine_type_vendor_host(const struct engine_type *t, const char *host)
{
	size_t hl = strlen(host);

	for (size_t i = 0; t && t->hosts[i]; i++) {
		const char *v = t->hosts[i];
		size_t vl = strlen(v);

		if (strcasecmp(host, v) == 0)
			return true;
		if (hl > vl + 1 && host[hl - vl - 1] == '.' &&
		    strcasecmp(host + hl - vl, v) == 0)
			return true;
	}
	return false;
}

const char *
engine_type_list(char *out, size_t n, bool runnable_only)
{
	size_t len = 0, k = 0, total = 0;

	out[0] = '\0';
	for (size_t i = 0; i < LM_ARRAY_LEN(types); i++)
		total += types[i].declarable && (types[i].runs || !runnable_only);
	for (size_t i = 0; i < LM_ARRAY_LEN(types) && len < n; i++) {
		if (!types[i].declarable || (runnable_only && !types[i].runs))
			continue;
		k++;
		len += (size_t)snprintf(out + len, n - len, "%s%s",
					k == 1 ? "" : k == total ? " or " : ", ",
					types[i].name);
	}
	return out;
}

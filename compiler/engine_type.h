#ifndef LM_ENGINE_TYPE_H
#define LM_ENGINE_TYPE_H
/*
 * engine_type: the facts about each kind of engine, in one table. Every
 * question "is this type remote, what does it cost, which key does it
 * read, where may that key go, what fields does it take" is answered
 * here, so the compiler, the estimate, the scheduler, the engines and
 * the CLI cannot disagree. Facts come from /work/shared/ENGINES.md
 * (docs/engines.md) and the seeds' price figures.
 *
 * Two types are internal and cannot be declared under engines:: "file"
 * (a source image the user gave) and "loramake" (captions and packages,
 * built in). The table is static and immutable: every pointer it returns
 * is valid for the life of the program.
 */
#include <stdbool.h>
#include <stddef.h>

/* What one request of a model is built from; bits of model_family's
 * fields. A field a node sets that its family does not take is a
 * plan-time warning (or an error where the recipe set it on that node). */
enum engine_field {
	FIELD_PROMPT = 1 << 0,   /* the resolved prompt */
	FIELD_NEGATIVE = 1 << 1, /* negative: */
	FIELD_STRENGTH = 1 << 2, /* strength: (how far an edit may move) */
	FIELD_IMAGE = 1 << 3,    /* the input image(s) */
	FIELD_SEED = 1 << 4,
	FIELD_CAMERA = 1 << 5,   /* camera angles from the angle item's name */
	FIELD_ASPECT = 1 << 6,   /* params aspect_ratio (Gemini's imageConfig) */
	FIELD_IMAGE_SIZE = 1 << 7, /* params image_size: 1K, 2K, 4K (Gemini 3) */
	FIELD_LORA = 1 << 8,     /* a LoRA file and its scale (validate:) */
};

/* How a model's request is shaped: the endpoint families of fal.ai
 * (ENGINES.md 1.13), Gemini's generateContent (3.2), and GENERIC for a
 * model loramake does not know. */
enum model_family {
	FAMILY_GENERIC,  /* prompt, image_url, seed, negative_prompt, strength */
	FAMILY_TEXT,     /* text to image: prompt, seed */
	FAMILY_I2I,      /* image_url + prompt + strength */
	FAMILY_ANGLES,   /* image_urls + camera angles + negative_prompt */
	FAMILY_EDIT,     /* image_urls + prompt */
	FAMILY_UPSCALE,  /* image_url */
	FAMILY_GEMINI,   /* prompt + image parts + seed, aspectRatio */
	FAMILY_GEMINI_SIZED, /* the same and imageSize (Gemini 3) */
	FAMILY_TRAIN,    /* a trainer: the package's ZIP in, a LoRA file out */
	FAMILY_LORA,     /* text to image with LoRAs: prompt, seed, loras */
	FAMILY_LORA_EXPERTS, /* the same on a model of two experts (WAN 2.2):
			    a LoRA file each, loras[].transformer */
	FAMILY_VISION,   /* prompt + image parts in, JSON of a schema out
			    (Gemini structured output: compiler/vision.h) */
	FAMILY_COUNT
};

/*
 * A trainer endpoint: what its request calls the package, the trigger
 * and the caption fallback (the names differ per endpoint: TRAINERS.md
 * 1.7, seed 004 sections 6 and 8), and its defaults. A trainer model's
 * usd and seconds are per 1,000 steps.
 */
/* A LoRA file in a trainer's result. */
struct lora_file {
	const char *field;  /* the result's member: "diffusers_lora_file" */
	const char *name;   /* beside the others: build/train/NAME.<name>
			       .safetensors, explain; NULL: the only one */
	const char *expert; /* the transformer it loads into, on a model of
			       two experts (fal's WAN 2.2 "transformer":
			       "high" | "low"); NULL: none */
};
#define TRAINER_MAX_FILES 2

struct trainer {
	const char *data_field;    /* "images_data_url" | "image_data_url" |
				      "training_data_url" */
	const char *trigger_field; /* "trigger_word" | "trigger_phrase"; NULL:
				      the endpoint takes none */
	const char *caption_field; /* "default_caption" (the trigger) for a
				      trainer that fails on an image without
				      a caption; NULL: none */
	int steps;                 /* default steps */
	double learning_rate;      /* default; 0: the endpoint's own (not sent) */
	struct lora_file files[TRAINER_MAX_FILES]; /* what it makes */
	int nfiles;
	/* fields it is sent besides, as canonical JSON (a character's
	 * settings, seed 004 section 6); NULL-terminated pairs, or NULL */
	const char *const *fields;
};

/* How a model's request says the image's shape (ENGINES.md 1.13). */
enum shape_field {
	SHAPE_NONE,         /* it takes none: its input's, or its own */
	SHAPE_ASPECT_RATIO, /* "aspect_ratio": "2:3", one of aspects */
	SHAPE_IMAGE_SIZE,   /* "image_size": { "width", "height" } */
};

/* A model an engine type knows: its price, time and request shape. */
struct engine_model {
	const char *id;          /* "fal-ai/flux/dev/image-to-image" */
	double usd;              /* one image */
	double seconds;          /* a typical job */
	enum model_family family;
	int max_images;          /* input images one request may carry (its
				    source and refs: in all) */
	const struct trainer *train; /* FAMILY_TRAIN: its fields and defaults */
	enum shape_field shape;  /* how it takes an aspect ratio or size */
	const char *const *aspects; /* SHAPE_ASPECT_RATIO: the ratios it
				    takes, NULL-terminated */
};

struct engine_type {
	const char *name;        /* what type: names: "fal" */
	bool remote;             /* a network service (needs model:, a pool) */
	bool declarable;         /* may be named by engines: NAME: type: */
	bool runs;               /* loramake has an engine that runs it
				    (runtime/engine.c's table; the unit test
				    keeps the two in step) */
	bool generates;          /* can make an image from a prompt (local
				    only resizes; file and loramake neither) */
	bool implicit;           /* usable by name without a declaration */
	bool takes_model;        /* model: decides its output (else dropped
				    from the key) */
	const char *const *key_envs; /* key variables the vendor documents,
				    NULL-terminated; the first is the
				    default; NULL when it takes no key */
	bool own_server;         /* a server the user runs (ComfyUI, A1111):
				    free, its key optional (sent when set),
				    and one that takes no connection is
				    down, not flaky (runtime/remote.h) */
	const char *const *hosts;    /* the vendor's own hosts, NULL-terminated:
				    where its API and files are served */
	const char *default_url; /* base URL when the recipe sets none */
	double usd;              /* one image of a model not in models */
	double seconds;          /* one job of a model not in models */
	int concurrency;         /* default jobs in flight; 0: -j only */
	int max_images;          /* max_images of a model not in models */
	const struct engine_model *models;
	size_t nmodels;
};

/* The type named name, or NULL. */
const struct engine_type *engine_type_find(const char *name);

/* Every type, in table order, for lists and tests; *n gets the count. */
const struct engine_type *engine_types(size_t *n);

/* The model id of type t, or NULL when the type does not know it. */
const struct engine_model *engine_type_model(const struct engine_type *t,
					     const char *model);

/* The request family of model on type t (FAMILY_GENERIC if unknown). */
enum model_family engine_type_family(const struct engine_type *t,
				     const char *model);

/* Input images (source and refs) model's request on type t may carry:
 * the model's row, else the type's; t NULL: no limit (-1). */
int engine_type_max_images(const struct engine_type *t, const char *model);

/* The trainer endpoint model of type t, or NULL when it is none. */
const struct trainer *engine_type_trainer(const struct engine_type *t,
					  const char *model);

/* The trainer endpoint a target's LoRA is trained on by default (on fal),
 * or NULL when loramake knows none for it. */
const char *engine_type_default_trainer(const char *target);
/* The endpoint of engine type type that validates a target's LoRA by
 * default (validate:), or NULL when loramake knows none. */
const char *engine_type_default_validator(const char *type, const char *target);
/* How model on type t takes an image's shape (SHAPE_NONE if unknown);
 * *aspects gets the ratios of a SHAPE_ASPECT_RATIO model (may be NULL). */
enum shape_field engine_type_shape(const struct engine_type *t,
				   const char *model,
				   const char *const **aspects);

/* The FIELD_* bits a family's requests carry. */
unsigned model_family_fields(enum model_family f);

/* Is name one of the key variables type t documents? */
bool engine_type_documents_key(const struct engine_type *t, const char *name);

/* Is host (no port) one of type t's own hosts, or a subdomain of one
 * (v3.fal.media of fal.media)? */
bool engine_type_vendor_host(const struct engine_type *t, const char *host);

/*
 * "fal, replicate, ..." of the declarable types (runnable_only: only
 * those that run), into out of size n; returns out.
 */
const char *engine_type_list(char *out, size_t n, bool runnable_only);

#endif

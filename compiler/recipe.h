#ifndef LM_RECIPE_H
#define LM_RECIPE_H
/*
 * recipe: the checked, typed form of a recipe file. recipe_load reads the
 * YAML tree and checks every key, type and range, reporting each problem
 * at its FILE:LINE:COL. Strings point into the compile arena. Nothing here
 * expands items into nodes; that is dag.c's job.
 *
 * The reference for every key is docs/recipe.md; keep the two together.
 */
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/hash.h"
#include "shape.h"
#include "ytree.h"

#define RECIPE_FORMAT 1
#define RECIPE_MAX_COUNT 100       /* count: and candidates: per item */
#define RECIPE_MAX_REFS 16         /* refs: of a section or an item */
#define RECIPE_MAX_CONCURRENCY 256
#define RECIPE_DEFAULT_REPEATS 10  /* package repeats: (FluxGym's default) */
#define RECIPE_DEFAULT_GATE_MIN 0.7 /* gate: the score an image must reach */
#define RECIPE_MAX_REPEATS 1000
#define RECIPE_MAX_STEPS 10000     /* train steps: (fal's trainers' limit) */

enum node_kind {
	KIND_HERO,
	KIND_ANCHOR,
	KIND_ANGLE,
	KIND_EXPRESSION,
	KIND_ENVIRONMENT,
	KIND_UPSCALE,
	KIND_CAPTION,
	KIND_PACKAGE,
	KIND_TRAIN,       /* the package into a trainer: a LoRA file */
	KIND_VALIDATE,    /* prompts through an engine with the trained LoRA */
	KIND_VISION,      /* caption: engine:'s answer on one image (no
			     section of its own; compiler/vision.h) */
	KIND_GATE,        /* the identity gate: an image against its
			     reference, a verdict (docs/vision.md) */
	KIND_COUNT
};

/* "hero", "anchor", ... */
const char *kind_name(enum node_kind k);

/* A price or time set by the recipe for one model of an engine. */
struct price {
	const char *model;
	double usd;
};

struct engine_decl {
	const char *name;    /* the key under engines: */
	const char *type;    /* fal, replicate, gemini, comfyui, a1111, local, preview */
	const char *key_env; /* environment variable holding the API key */
	const char *url;     /* base URL override (proxy, gateway, fake) */
	int concurrency;     /* jobs in flight at once */
	struct price *prices;
	size_t nprices;
	struct loc loc;
	struct loc key_env_loc, url_loc; /* where the recipe set them (line 0:
					    it did not); compiler/trust.c */
	/* comfyui: the workflow (ComfyUI's API format) and what loramake
	 * binds into it */
	const char *workflow;    /* relative to the recipe's folder */
	struct loc workflow_loc;
	struct param *inputs;    /* "NODE.INPUT" -> a value, or a binding:
				    "{prompt}" (workflow_value) */
	size_t ninputs;
	/* set by compile (compiler/dag.c): the file, read through the recipe
	 * folder's walk; its bytes and the inputs are in every key on it */
	const char *workflow_path; /* from the cwd (the no-op stamp) */
	const char *workflow_text; /* workflow_len bytes, NUL-terminated */
	size_t workflow_len;
	struct hash workflow_hash;
};

/* What a comfyui input may be bound to: "{prompt}", "{seed}", ... */
enum workflow_value {
	WV_PROMPT,       /* the resolved prompt */
	WV_NEGATIVE,     /* the negative prompt ("" if none) */
	WV_SEED,         /* the candidate's seed (an integer) */
	WV_STRENGTH,     /* strength: (a number; the node must have one) */
	WV_MODEL,        /* model: (a checkpoint file, say) */
	WV_IMAGE,        /* an input image as the server names it */
	WV_COUNT
};

/*
 * The binding "{name}" (len bytes of name, no braces) names, or -1.
 * "image", "image2" ... "image9" are WV_IMAGE with *image 1..9.
 */
int workflow_value(const char *name, size_t len, int *image);

/* "{prompt}, {negative}, ...": the bindings, for messages. */
const char *workflow_value_list(void);

/* One name=value attribute, kept in recipe order. */
struct attr {
	const char *name;
	const char *value;
};

/* A generic engine input given in the recipe (params:), canonical text. */
struct param {
	const char *name;
	const char *value; /* canonical: numbers reformatted, strings as is */
	bool is_string;
};

/*
 * refs: extra images an edit sends beside its source, e.g. identity
 * keystones: [anchor/front, anchor/three_quarter]. Node ids, resolved as
 * from: is (compiler/dag.c), or REFS_CLOSEST; they are inputs, so in the
 * key.
 */
/* The ref that names no node: the anchor closest in angle (dag.c). */
#define REFS_CLOSEST "closest"

struct refs {
	const char **ids;
	struct loc *locs;      /* where each id is written */
	size_t n;
	struct loc loc;        /* the refs: value */
	bool set;              /* written (an item's [] drops its section's) */
};

/* An item of a section: one name and what it sets for its nodes. */
struct item {
	const char *name;
	struct loc loc;
	const char *text;      /* the item's words: scalar value or prompt: */
	struct loc text_loc;
	const char *prompt;    /* an item-level prompt template, or NULL */
	struct loc prompt_loc;
	const char *from;      /* input node id, or NULL */
	struct loc from_loc;
	struct refs refs;      /* over the section's when set */
	const char *file;      /* source image, relative to the recipe */
	struct loc file_loc;
	double strength;       /* < 0: unset */
	struct loc strength_loc;
	int64_t seed;          /* < 0: unset */
	int count;             /* 0: unset */
	int candidates;        /* 0: unset */
	const char *caption;   /* the words a caption uses for this item */
	const char *framing;   /* closeup, medium, full, back */
	const char *category;  /* what kind of picture (a mix: share) */
	struct aspect aspect;  /* aspect: 2:3; unset: the section's */
	struct loc aspect_loc;
	struct attr *attrs;    /* further caption attributes (expression, ...) */
	size_t nattrs;
	struct param *params;
	size_t nparams;
};

/* expression apply rule: which expressions an angle gets. */
struct apply_rule {
	const char *angle;  /* item name of the angle, or "*" */
	bool all, skip;     /* all expressions, or none (pass through) */
	const char **names; /* else these expression names */
	struct loc *name_locs; /* where each name is written */
	size_t nnames;
	struct loc loc;
	bool used;          /* matched at least one angle */
};

struct env_entry {
	const char *place;
	const char *light;
	struct loc loc;
};

struct section {
	bool present;
	struct loc loc;
	const char *engine; /* engine entry name */
	struct loc engine_loc;
	const char *model;
	const char *prompt;
	struct loc prompt_loc;
	const char *negative;
	struct loc negative_loc;
	const char *from;
	struct loc from_loc;
	struct refs refs;   /* anchor, angle, expression */
	const char *file;   /* hero: a single source image */
	struct loc file_loc;
	const char *files;  /* anchor: a glob of source images */
	struct loc files_loc;
	double strength;    /* < 0: unset */
	struct loc strength_loc;
	int64_t seed;       /* < 0: unset */
	int count;          /* 0: unset (1) */
	int candidates;     /* 0: unset (1) */
	struct item *items;
	size_t nitems;
	struct param *params;
	size_t nparams;
	/* expression */
	struct apply_rule *apply;
	size_t napply;
	/* environment */
	const char *with;   /* "expression": ride in that pass */
	struct loc with_loc;
	struct env_entry *rotate;
	size_t nrotate;
	struct aspect aspect; /* aspect: of its images; unset: their input's */
	struct loc aspect_loc;
	/* upscale, package */
	int size;           /* size: SIDE, or W x H when square; 0: unset */
	int width, height;  /* size: W x H when not square; 0: unset */
	struct loc size_loc;
	/* caption */
	const char *style;  /* prose, tags; NULL: the target's */
	struct loc style_loc;
	bool underscores;   /* tags: words joined by '_', not spaces */
	int words_min;      /* words: [min, max]; 0: the target's profile */
	int words_max;
	const char **identity; /* identity: words captions must never hold */
	struct loc *identity_locs;
	size_t nidentity;
	/* package */
	const char *format; /* fal-zip, kohya, ai-toolkit, imagefolder */
	const char *select; /* all, picked */
	const char *out;
	struct loc out_loc;
	const char *stem;   /* file-name stem inside the package */
	int repeats;        /* times a trainer shows each image per epoch; 0: 10 */
	/* gate */
	struct refs against; /* the references' node ids, sent in this
				order before the judged image (none: hero) */
	double min;         /* the score an image must reach; < 0:
			       RECIPE_DEFAULT_GATE_MIN (recipe_gate_min) */
	/* train */
	int steps;          /* 0: the trainer's default for the target */
	struct loc steps_loc;
	double learning_rate; /* < 0: the trainer's default */
	const char *destination; /* Replicate: the model (owner/name) the
				    trained weights go to */
	/* validate */
	double scale;       /* the LoRA's scale; < 0: 1 */
};

/* mix: a target share of one value of an attribute. */
struct mix_target {
	const char *attr;   /* "category", "framing", ... */
	const char *value;  /* "portrait" */
	double share;       /* percent, 0..100 */
	struct loc loc;
};

struct recipe {
	const struct source *src;
	const char *dir;       /* the recipe's folder */
	int format;            /* loramake: 1 */
	const char *name;
	const char *trigger;
	const char *target;    /* flux, flux2, zimage, wan22, sdxl, sd15 */
	int64_t seed;          /* < 0: unset */
	int concurrency;       /* -j default; 0: unset */
	const char *remote_cache; /* a team cache it suggests (never used
				   * unless the user names it), or NULL */
	const char *character;  /* identity prompt */
	const char *negative;
	struct loc negative_loc;
	struct engine_decl *engines;
	size_t nengines;
	struct section sec[KIND_COUNT];
	struct mix_target *mix; /* mix: target shares, by attribute */
	size_t nmix;
	struct loc mix_loc;
};

/*
 * Check root (the parsed document) into r. Returns 0, or -1 when errors
 * were reported to d. dir is the recipe's folder, for file checks.
 */
int recipe_load(struct recipe *r, struct arena *a, const struct source *src,
		const char *dir, const struct ynode *root, struct diag *d);

struct buf;
/* text as a JSON string (quoted, escaped) onto out: a param's value. */
/* The identity gate's threshold: gate: min:, else RECIPE_DEFAULT_GATE_MIN. */
double recipe_gate_min(const struct recipe *r);
void recipe_json_string(struct buf *out, const char *text);

const struct engine_decl *recipe_engine(const struct recipe *r,
					const char *name);

#endif

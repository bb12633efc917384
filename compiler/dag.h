#ifndef LM_DAG_H
#define LM_DAG_H
/*
 * dag: a recipe expanded into nodes, one image (or caption, or package)
 * each, with stable ids and content keys.
 *
 * compile() runs the whole front end: load the file, parse YAML, check
 * the recipe, expand sections into nodes, resolve placeholders, and key
 * every node. Nodes are created in pipeline order, and a node's inputs are
 * always created before it, so dag->nodes is a topological order; every
 * later pass is a single loop over it.
 *
 * All memory of a dag (the source text, the recipe, the nodes) is owned by
 * dag->arena and freed by dag_free.
 */
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/hash.h"
#include "base/htab.h"
#include "recipe.h"

/* The parts of a key, hashed one by one so `explain` can name the part that
 * changed. The key is the hash of the kind and all facets. */
enum facet {
	FACET_ENGINE, /* engine type */
	FACET_MODEL,
	FACET_PROMPT, /* resolved prompt and negative prompt */
	FACET_PARAMS, /* parameters: strength, size, candidates, params: ... */
	FACET_SEED,
	FACET_INPUTS, /* input keys, picks and file contents */
	FACET_COUNT
};

/* "engine", "model", ... */
const char *facet_name(enum facet f);

/* A caption attribute of an image, collected along its lineage. */
enum attr_slot {
	ATTR_ANGLE,      /* camera words: "in left profile" */
	ATTR_FRAMING,    /* closeup, medium, full, back */
	ATTR_EXPRESSION, /* "tired — slightly heavy eyelids, ..." */
	ATTR_PLACE,
	ATTR_LIGHT,
	ATTR_POSE,
	ATTR_WARDROBE,
	ATTR_CATEGORY,   /* what kind of picture: not in captions, for mix: */
	ATTR_COUNT
};

struct node {
	const char *id;           /* "expression/closeup_front/tired" */
	const char *suffix;       /* id without its kind: "closeup_front/tired" */
	enum node_kind kind;
	struct loc loc;           /* where the recipe defines it */
	size_t idx;               /* position in dag->nodes */

	/* what makes it */
	const struct engine_decl *engine; /* NULL: built in (file, local ops) */
	const char *engine_type;  /* fal, local, preview, ..., "file", "loramake" */
	const char *model;        /* NULL for built-ins */
	const char *prompt;       /* resolved; NULL when the node has none */
	const char *negative;
	const char *item;         /* the item name that made it, or NULL */
	struct param *params;     /* engine inputs from the recipe */
	size_t nparams;
	double strength;          /* < 0: none */
	int size;                 /* upscale/package: target side; 0: none */
	int steps;                /* train: the trainer's steps (its price
				     is per 1,000); 0: not a training */
	double lora_scale;        /* validate: the LoRA's scale */
	const char *destination;  /* train on Replicate: the model its
				     weights go to (not in the key: where
				     they go, not what they are) */
	bool made_known;          /* train: its LoRA file is in the cache
				     (cli/session.c, runtime/sched.c) */
	struct hash made;         /* ... and its hash: what a validate
				     node's key covers, not the training's
				     key (a LoRA is not reproducible) */
	int width, height;        /* upscale/package: size: W x H (not
				     square); 0: none */
	struct aspect aspect;     /* the aspect its image is made and
				     packaged at (item, section, else its
				     input's); unset: the package's shape */
	bool shape_sent;          /* its engine's request carries the aspect
				     (aspect_ratio or image_size): then the
				     aspect is in its key */
	int candidates;           /* images made; a pick chooses one (>= 1) */
	int index;                /* 1..count for count > 1, else 0 */
	int64_t seed;             /* the seed it runs with (fixed or derived) */
	bool seed_fixed;          /* set by the recipe rather than the key */
	int reroll;               /* times rerolled (loramake reroll): part
				     of its seed, so of its key */
	const struct env_entry *env; /* the environment entry it was given */
	bool env_moved;           /* the lock had it on another entry: moved
				     to balance a new one */
	const char *file;         /* source image, as a path from the cwd */
	const char *caption;      /* caption nodes: the caption text */

	/* edges */
	struct node **in;         /* inputs, in order: the source, then the
				     refs (the last nrefs) */
	size_t nin, capin;
	size_t nrefs;             /* refs: images sent beside the source
				     (identity keystones), not edited */
	struct node **out;        /* nodes that take this one as input */
	size_t nout, capout;
	const struct node *subject; /* caption: the image it describes */
	const struct recipe *recipe; /* the recipe it came from */

	/* dataset role */
	bool image;               /* its output is an image */
	bool leaf;                /* a dataset image: captioned and packaged */
	const char *attrs[ATTR_COUNT]; /* caption attributes along its lineage */

	/* keys */
	bool keyed;               /* key known (no unmade pick upstream) */
	const struct node *waits_on; /* the candidate node whose pick is missing */
	struct hash key;
	struct hash facets[FACET_COUNT];
	struct hash file_hash;    /* source files: their content */

	/* estimates */
	double usd;               /* for all its candidates */
	double seconds;           /* wall time of one run */
	bool timed;               /* seconds are what a build here took
				   * (cli/eta.c), not the table's */
};

/*
 * The choices recorded in the lock that decide keys: picks a person made,
 * the pool entry each image was given (compiler/assign.h), and rerolls.
 */
struct picks {
	struct htab byid;         /* id -> (void *)(uintptr_t)candidate */
	bool first;               /* --pick first: take candidate 1 when unset */
	struct htab envs;         /* image id -> entry tag (char *, owned) */
	struct htab rerolls;      /* id -> (void *)(uintptr_t)times rerolled */
	struct htab verdicts;     /* image id -> its identity gate's verdict
				     line "KEY pass|fail SCORE REASONS"
				     (char *, owned; picks_verdict) */
};

/* The identity gate's verdict on an image (a lock line, gate:). */
struct verdict {
	bool failed;              /* the score is under the recipe's min:
				     (as it is now): out of the package
				     unless kept by hand */
	double score;             /* 0..1 */
	const char *reasons;      /* the model's, joined by "; " (cleaned
				     text); borrowed from the picks */
};

/* The longest verdict line's reasons (bytes): more are cut. */
#define VERDICT_MAX_REASONS 400

/* The most nodes a recipe may expand to: a plan of 724,001 nodes took
 * 5.7 s and 743 MB, and a 2 KB recipe can ask for that many. */
#define DAG_MAX_NODES 100000

struct trust;

struct compile_opts {
	const char *engine_override; /* --engine preview: every generative node */
	const struct picks *picks;   /* may be NULL */
	const struct trust *trust;   /* what the user allows an engine's
					key_env and url (compiler/trust.h);
					may be NULL */
};

struct dag {
	struct arena arena;
	struct source src;
	struct recipe recipe;
	char *recipe_path;        /* as given */
	char *dir;                /* the recipe's folder */
	struct node **nodes;      /* topological order */
	size_t nnodes, capnodes;
	struct htab byid;         /* id -> node */
	struct node *package;     /* NULL if the recipe has none */
	struct node *train;       /* the training (train:), or NULL */
	size_t nvalidate;         /* validate: nodes (after the training) */
	const struct picks *picks;
};

/*
 * Compile the recipe at path. Returns a dag the caller frees with
 * dag_free, or NULL after reporting every error to d.
 */
struct dag *compile(const char *path, const struct compile_opts *opts,
		    struct diag *d);
void dag_free(struct dag *dag);

/* Key n again (its inputs' keys, or a training's LoRA hash, may have
 * become known since dag_key). */
void dag_key_node(struct dag *dag, struct node *n);
/* Does n come after the training (the training, or a validation)? Only
 * the target train builds such a node. */
bool node_after_package(const struct node *n);

/* The node with this id, or NULL. */
struct node *dag_find(const struct dag *dag, const char *id);

/* Does the node run a job (as opposed to being a source file)? */
bool node_has_job(const struct node *n);
/* Is n one of user's refs (sent beside its source, not edited)? */
bool node_is_ref_of(const struct node *n, const struct node *user);
/* Does its engine cost money or call a network service? */
bool node_is_remote(const struct node *n);

/* A training's trainer (compiler/engine_type.h), or NULL for any other
 * node (or a trainer loramake does not know). */
const struct trainer *node_trainer(const struct node *n);
/* The files one request of n makes: a training's LoRA files (WAN 2.2's
 * two), else 1. Its outputs are that many for each candidate. */
int node_files_per_request(const struct node *n);

/* Training t made these files (its outputs, in its trainer's order):
 * t->made names them all, for the validations' keys (compiler/key.c). */
void node_set_made(struct node *t, const struct hash *outs, size_t nouts);

/* The candidate a consumer of n takes: the pick, 1 if n has one
 * candidate, or 0 when a person still has to pick. */
int node_pick(const struct node *n, const struct picks *picks);

void picks_init(struct picks *p);
void picks_release(struct picks *p);
/* Record a pick; id is copied into the picks' own storage. */
void picks_set(struct picks *p, const char *id, int candidate);
/* Record the pool entry tag an image was given (both copied). */
void picks_set_env(struct picks *p, const char *id, const char *tag);
/* The entry tag recorded for id, or NULL (borrowed from p). */
const char *picks_env(const struct picks *p, const char *id);
/* Record the gate's verdict on image id made with key (text copied;
 * reasons one line of cleaned text). */
void picks_set_verdict(struct picks *p, const char *id, const struct hash *key,
		       bool failed, double score, const char *reasons);
/* Record a verdict line's value as read (verdict_text_ok; copied). */
void picks_put_verdict(struct picks *p, const char *id, const char *text);
/* The verdict line's value recorded for id, or NULL (borrowed). */
const char *picks_verdict_text(const struct picks *p, const char *id);
/* The verdict recorded for img as it is now (its key), or false: none,
 * or one about an earlier image of that id. p may be NULL. Failed is
 * what img's recipe's min: says of the score (verdict_fails), not the
 * word the judging build wrote: an edited min: is a new selection at once,
 * with no call. */
bool picks_verdict(const struct picks *p, const struct node *img,
		   struct verdict *v);
/* Does score fail r's gate? The score as a lock line holds it (two
 * decimals), so the build that judges and every reader of its line
 * agree on a score at the threshold. */
bool verdict_fails(double score, const struct recipe *r);
/* Is text a verdict line's value ("KEY pass|fail SCORE REASONS")? The
 * lock's check of what it reads. */
bool verdict_text_ok(const char *text);
/* Record how often id was rerolled (0: never; the line is dropped). */
void picks_set_reroll(struct picks *p, const char *id, int times);
/* How often id was rerolled; p may be NULL. */
int picks_reroll(const struct picks *p, const char *id);

/*
 * (Re)compute every node's key in topological order, from the picks now in
 * dag->picks. Nodes below an unmade pick get keyed = false and waits_on.
 */
void dag_key(struct dag *dag);

/*
 * The FACET_ENGINE hash of a node run on engine_type: a lock entry's
 * facets tell which engine made what it records ("preview" placeholders).
 */
struct hash key_engine_facet(const char *engine_type);

/*
 * Does package pkg take its input in (an image or its caption)? With
 * select: picked, only images a person picked or kept (on the image, or
 * on the image its upscale refines); with select: all or --pick first,
 * every one.
 */
bool dag_selected(const struct node *pkg, const struct node *in,
		  const struct picks *picks);

/*
 * The sides package pkg gives image img: its aspect's at the package's
 * area, else the package's own (size: W x H, size: SIDE, else the
 * target's square). Multiples of 64 when the package size is.
 */
struct sides dag_package_sides(const struct node *pkg, const struct node *img);

/* The package's own sides (size:, else the target's square). */
struct sides dag_package_base(const struct node *pkg);

/* Estimated dollars and seconds per node, from prices.c's tables. */
void dag_estimate(struct dag *dag);

#endif

#ifndef LM_CHECK_H
#define LM_CHECK_H
/*
 * check: the rules a packaged dataset should meet (seed 004 §3, §5, §9;
 * TRAINERS.md §4, §6), each judged pass, warn or fail with the figure it
 * measured and what to do about it.
 *
 * The rules work on plain data (struct check_image: a node id, its
 * caption attributes, its caption, and what was measured of its pixels),
 * so they are tested on synthetic sets; cli/check.c gathers the data from
 * a built recipe. Nothing here reads a file.
 *
 *   count        images in the target's range
 *   resolution   one size for every image (of one package shape)
 *   buckets      the aspect buckets the package's images fall in, none
 *                holding a single image (only when there are several)
 *   framing      close-up 33-40%, medium 25-30%, full 20-25%, back ~10%
 *   mix          each mix: target share, within MIX_TOLERANCE points
 *                (only when the recipe sets one)
 *   angles       5 or more camera angles
 *   expressions  5-7, neutral 30-40%, none over 6 in 25-30 images
 *   wardrobe     3 or more outfits
 *   backgrounds  5 or more places, not all white
 *   duplicates   no two images within CHECK_DUP_HAMMING of 64 dHash bits
 *                (two preview placeholders are not compared)
 *   captions     every caption lint (quality/lint.h)
 *   trigger      not a common English word
 *   prompts      generation prompts within the encoders' windows
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/dag.h"
#include "lint.h"

/* dHash distance at or below which two images are near-duplicates: a
 * re-encode, resize or small tone change measures 0-5 (docs/images.md). */
#define CHECK_DUP_HAMMING 6
/* At or below this (and above CHECK_DUP_HAMMING): similar, a warning. */
#define CHECK_SIMILAR_HAMMING 10

enum check_status { CHECK_PASS, CHECK_WARN, CHECK_FAIL };

/* One image of the packaged set. */
struct check_image {
	const char *id;                /* node id: "upscale/front/tired" */
	const char *attrs[ATTR_COUNT]; /* caption attributes; NULL: unset */
	const char *caption;           /* its caption, or NULL */
	bool built;                    /* the pixels were measured */
	int w, h;                      /* when built */
	int pw, ph;                    /* its sides in the package
					* (dag_package_sides); 0: the
					* package's square */
	uint64_t dhash;                /* when built */
	bool placeholder;              /* made by the preview engine, or from
					* an image that was: not compared by
					* pixels with another placeholder */
};

/* The identity gate's verdict on one image, for the identity rule. */
struct check_verdict {
	const char *id;                /* the image's node id */
	bool judged;                   /* a verdict on the image as it is */
	double score;                  /* when judged: 0..1 */
	bool failed;                   /* under the gate's min */
	bool kept;                     /* kept by hand: in the package anyway */
	const char *reasons;           /* the model's, "; " between them */
};

/* A generation prompt, for the prompts rule. */
struct check_prompt {
	const char *id;
	const char *text;
};

struct check_input {
	const struct caption_profile *profile;
	int size;                      /* the package's square side */
	int width, height;             /* or its sides (size: W x H); 0:
					* size x size */
	const struct check_image *v;
	size_t n;
	const struct check_prompt *prompts;
	size_t nprompts;
	const struct check_verdict *verdicts; /* gated images (gate:), or none */
	size_t nverdicts;
	double gate_min;               /* the score they must reach */
	const struct lint *lint;       /* captions, trigger, prompts */
	const struct mix_target *mix;  /* the recipe's mix: targets */
	size_t nmix;
};

#define CHECK_MAX_RULES 16

struct check_result {
	const char *rule;              /* "count", ... */
	enum check_status status;
	char figure[320];              /* what was measured */
	char advice[320];              /* what to do; empty on a pass */
	char **details;                /* more lines (pairs, findings); owned */
	size_t ndetails, capdetails;
};

struct check_report {
	struct check_result v[CHECK_MAX_RULES];
	size_t n;
	unsigned count[3];             /* by status */
};

/*
 * Judge in against every rule, in the order above, into *rep (which the
 * caller releases with check_report_release).
 */
void check_run(const struct check_input *in, struct check_report *rep);
void check_report_release(struct check_report *rep);

/* "pass", "warn", "fail". */
const char *check_status_name(enum check_status s);

/* The result of one rule by name, or NULL. */
const struct check_result *check_find(const struct check_report *rep,
				      const char *rule);

/* Is expression text neutral? NULL (no edit) counts as neutral. */
bool check_is_neutral(const char *expr);

#endif

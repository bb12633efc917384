#ifndef LM_LINT_H
#define LM_LINT_H
/*
 * lint: rules a caption or a prompt can break, found with PCRE2. This
 * module is the only includer of pcre2.h; its patterns are compiled once,
 * in lint_new, and shared read-only afterwards.
 *
 * A caption is checked for: being empty, invalid UTF-8 or more than one
 * line; the trigger missing or not first; identity words (taken from the
 * recipe's character text and caption: identity:); style and quality
 * words ("photorealistic", "8K", "masterpiece", ...); a comma tag list
 * instead of sentences (or, for tag captions, a tag that is a sentence,
 * a tag twice, words joined unlike the recipe says); a word count
 * outside the target's bounds; a
 * token count over the text encoders' windows; and, for video
 * targets, no motion words. The recipe's trigger is checked against a
 * list of common English words. docs/quality.md lists every rule.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/util.h"
#include "compiler/caption.h"

enum lint_level {
	LINT_WARN, /* worth a look; the dataset still trains */
	LINT_FAIL, /* the dataset trains badly or not at all */
};

enum lint_code {
	LINT_EMPTY,          /* fail: no words at all */
	LINT_UTF8,           /* fail: not valid UTF-8 */
	LINT_MULTILINE,      /* fail: a line break inside */
	LINT_NO_TRIGGER,     /* fail: the trigger is missing */
	LINT_TRIGGER_FIRST,  /* fail: the trigger is there but not first */
	LINT_IDENTITY,       /* fail: an identity word of the character */
	LINT_STYLE,          /* warn: style, quality or camera-spec words */
	LINT_TAG_LIST,       /* warn: a comma tag list, not sentences */
	LINT_SHORT,          /* warn: fewer words than the lower bound */
	LINT_LONG,           /* warn: more words than the upper bound */
	LINT_CLIP,           /* warn: over CLIP's window (77 tokens) */
	LINT_TOKENS,         /* fail: over the T5/LLM encoder's window */
	LINT_MOTION,         /* warn: a video target, and no motion words */
	LINT_COMMON_TRIGGER, /* warn: the trigger is a common English word */
	LINT_TAG_SENTENCE,   /* warn: style: tags, and a tag is a sentence */
	LINT_TAG_DUPLICATE,  /* warn: style: tags, and a tag twice */
	LINT_TAG_JOINER,     /* warn: a tag's words joined unlike the rest
				(spaces with underscores: true, or '_') */
	LINT_CODE_COUNT
};

#define LINT_MAX_FINDINGS 16

struct lint_finding {
	enum lint_code code;
	enum lint_level level;
	size_t offset, len;   /* the offending bytes of the text, if any */
	char msg[200];        /* "identity word 'blue braids'" */
};

struct lint_result {
	struct lint_finding v[LINT_MAX_FINDINGS]; /* the first ones found */
	size_t n;
	size_t words;         /* caption_words() of the text */
	size_t tokens;        /* CLIP tokens (lint_tokens) */
};

struct lint_opts {
	const char *trigger;         /* required for captions */
	const char *character;       /* identity text; may be NULL */
	const char *const *identity; /* further identity words or phrases */
	size_t nidentity;
	const struct caption_profile *profile; /* NULL: flux's */
	unsigned min_words, max_words;  /* 0: the profile's (none for tags) */
	bool tags;                   /* captions are tags (caption_tags) */
	bool underscores;            /* tags join their words with '_' */
};

struct lint;

/* The options of recipe r's captions: its trigger, character, caption:
 * identity:, words: and style. */
void lint_opts_of(const struct recipe *r, struct lint_opts *o);

/*
 * Compile the patterns for o. Returns a lint the caller frees with
 * lint_free, or NULL with err (a pattern failed to compile: the message
 * names the pattern and the offset where PCRE2 stopped).
 */
struct lint *lint_new(const struct lint_opts *o, struct error *err);
void lint_free(struct lint *l);

/* Check a caption; fills *r (r->n findings, worst first is not implied). */
void lint_caption(const struct lint *l, const char *caption,
		  struct lint_result *r);

/* Check a generation prompt: UTF-8, one encoder window. Fills *r. */
void lint_prompt(const struct lint *l, const char *prompt,
		 struct lint_result *r);

/* Check the trigger itself (a common word?). Fills *r. */
void lint_trigger(const struct lint *l, struct lint_result *r);

/*
 * Tokens of text as CLIP's tokenizer counts them (compiler/clip.h), start
 * and end included. They are exact for CLIP (flux's CLIP-L, sdxl) and
 * stand in for the T5 / LLM encoders' counts, which are close.
 */
size_t lint_tokens(const struct lint *l, const char *text);

/*
 * A vision model's words made fit for a caption: every identity word of
 * the recipe, every physical trait a person keeps ("blue eyes",
 * "freckles", "red hair") and every style or quality word cut out, the
 * rest tidied (no doubled spaces or commas, no dangling "and", "with" at
 * either end). Into out (reset first); returns the matches cut (0:
 * nothing was).
 * Text that is not UTF-8 is cut whole.
 */
size_t lint_scrub(const struct lint *l, const char *text, struct buf *out);

/* The identity words lint_new took from the character text, joined by
 * ", " (for messages and tests). Borrowed; valid until lint_free. */
const char *lint_identity_words(const struct lint *l);

/* "identity", "style", ... : the rule's name in reports and JSON. */
const char *lint_code_name(enum lint_code c);

/* The worst level in r, or -1 when r has no finding. */
int lint_worst(const struct lint_result *r);

#endif

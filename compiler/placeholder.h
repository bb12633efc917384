#ifndef LM_PLACEHOLDER_H
#define LM_PLACEHOLDER_H
/*
 * placeholder: {name} substitution in prompt templates.
 *
 *   "{character}, {item}"  ->  "Orange anatomical mannequin ..., standing"
 *
 * "{{" and "}}" stand for literal braces. A placeholder that is unknown, or
 * that has no value for the node being expanded, is an error.
 */
#include <stddef.h>

#include "base/arena.h"

/* The values a template may use; NULL: none here. */
struct placeholder_vars {
	const char *character;   /* character.prompt */
	const char *trigger;
	const char *name;        /* the recipe's name */
	const char *item;        /* the item's words */
	const char *expression;  /* expression words */
	const char *environment; /* environment place */
	const char *lighting;    /* environment light */
	const char *angle;       /* the angle's caption words */
};

struct placeholder_error {
	size_t offset;  /* byte offset of the bad '{' in the template */
	char msg[160];
};

/*
 * Expand tmpl. Returns the text (in a), or NULL and fills *pe.
 */
const char *placeholder_subst(struct arena *a, const char *tmpl,
			      const struct placeholder_vars *v,
			      struct placeholder_error *pe);

#endif

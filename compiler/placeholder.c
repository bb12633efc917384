/*
 * placeholder: a single left-to-right scan; no regex needed.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "placeholder.h"

struct var {
	const char *name;
	size_t off; /* offset of the field in struct placeholder_vars */
	const char *missing; /* why it can be empty */
};

#define VAR(n, why) { #n, offsetof(struct placeholder_vars, n), why }
static const struct var vars[] = {
	VAR(character, "the recipe has no character: prompt"),
	VAR(trigger, "the recipe has no trigger:"),
	VAR(name, "the recipe has no name:"),
	VAR(item, "this section has no items"),
	VAR(expression, "only expression edits have an expression"),
	VAR(environment, "no environment rides in this edit (environment: with: expression, or an environment section)"),
	VAR(lighting, "no environment rides in this edit (environment: with: expression, or an environment section)"),
	VAR(angle, "only angles and their edits have an angle"),
};

static const char *
lookup(const struct placeholder_vars *v, const char *name, size_t len,
       const struct var **which)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(vars); i++) {
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0) {
			*which = &vars[i];
			return *(const char *const *)((const char *)v + vars[i].off);
		}
	}
	*which = NULL;
	return NULL;
}

static const char *
fail(struct placeholder_error *pe, size_t off, const char *msg)
{
	pe->offset = off;
	snprintf(pe->msg, sizeof(pe->msg), "%s", msg);
	return NULL;
}

/* Fail on the unknown placeholder p..close, naming a close one if any. */
static const char *
unknown(struct placeholder_error *pe, const char *tmpl, const char *p,
	const char *close)
{
	const char *names[LM_ARRAY_LEN(vars)];
	char word[32], msg[160];
	int len = (int)(close - p - 1 > 30 ? 30 : close - p - 1);
	const char *hint;

	for (size_t i = 0; i < LM_ARRAY_LEN(vars); i++)
		names[i] = vars[i].name;
	snprintf(word, sizeof(word), "%.*s", len, p + 1);
	hint = closest_word(word, names, LM_ARRAY_LEN(names));
	if (hint)
		snprintf(msg, sizeof(msg),
			 "unknown placeholder {%s}; did you mean {%s}?", word, hint);
	else
		snprintf(msg, sizeof(msg),
			 "unknown placeholder {%s} (known: {character}, {item}, {expression}, {environment}, {lighting}, {angle}, {trigger}, {name})",
			 word);
	return fail(pe, (size_t)(p - tmpl), msg);
}

const char *
placeholder_subst(struct arena *a, const char *tmpl,
		  const struct placeholder_vars *v, struct placeholder_error *pe)
{
	struct buf out;
	const char *p = tmpl, *result;

	buf_init(&out);
	while (*p) {
		const char *close, *val;
		const struct var *which;

		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			buf_addc(&out, *p);
			p += 2;
			continue;
		}
		if (*p != '{') {
			buf_addc(&out, *p++);
			continue;
		}
		close = strchr(p, '}');
		if (!close) {
			buf_release(&out);
			return fail(pe, (size_t)(p - tmpl),
				    "'{' opens a placeholder that is never closed (write {{ for a brace)");
		}
		val = lookup(v, p + 1, (size_t)(close - p - 1), &which);
		if (!which) {
			buf_release(&out);
			return unknown(pe, tmpl, p, close);
		}
		if (!val) {
			char msg[160];

			snprintf(msg, sizeof(msg), "{%s} has no value here: %s",
				 which->name, which->missing);
			buf_release(&out);
			return fail(pe, (size_t)(p - tmpl), msg);
		}
		buf_adds(&out, val);
		p = close + 1;
	}
	result = arena_strndup(a, out.data, out.len);
	buf_release(&out);
	return result;
}

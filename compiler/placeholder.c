/*
 * placeholder: a single left-to-right scan; no regex needed.
 *
 * Prompt assembly (seed 001): when a template places the trigger with
 * {trigger}, every other occurrence of the trigger word in the expanded
 * text (in the template's own words or in a value such as {character})
 * is removed, case-insensitively and as a whole word, so the trigger
 * stands exactly where the recipe put it: "{trigger}, {character},
 * {trigger} portrait" gives it first and mid-prompt, once each. A
 * template without {trigger} is left as written.
 */
#include <ctype.h>
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

#define MARK '\x01' /* stands for a placed {trigger} until the end */

static bool
word_byte(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/*
 * Remove each whole-word, case-insensitive occurrence of trigger from b,
 * then tidy what is left: no doubled spaces or commas, no space before a
 * comma or full stop, no separator at either end. Unchanged text stays
 * byte for byte (its keys must not move).
 */
static void
drop_trigger(struct buf *b, const char *trigger)
{
	size_t tl = strlen(trigger), w = 0;
	char *s = b->data;
	bool dropped = false;

	for (size_t r = 0; r < b->len;) {
		if ((r == 0 || !word_byte(s[r - 1])) &&
		    strncasecmp(s + r, trigger, tl) == 0 && !word_byte(s[r + tl])) {
			r += tl;
			dropped = true;
			continue;
		}
		s[w++] = s[r++];
	}
	s[w] = '\0';
	b->len = w;
	if (!dropped)
		return;
	w = 0;
	for (size_t r = 0; r < b->len; r++) {
		char c = s[r];

		if (c == ' ' && (w == 0 || s[w - 1] == ' '))
			continue;
		if ((c == ',' || c == '.') && w && s[w - 1] == ' ')
			w--;
		if (c == ',' && (w == 0 || s[w - 1] == ',' || s[w - 1] == '.'))
			continue;
		s[w++] = c;
	}
	while (w && (s[w - 1] == ' ' || s[w - 1] == ','))
		w--;
	s[w] = '\0';
	b->len = w;
}

/* Put the trigger where the marks are. */
static void
place_trigger(struct buf *b, const char *trigger)
{
	struct buf out;

	buf_init(&out);
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == MARK)
			buf_adds(&out, trigger);
		else
			buf_addc(&out, b->data[i]);
	}
	buf_release(b);
	*b = out;
}

const char *
placeholder_subst(struct arena *a, const char *tmpl,
		  const struct placeholder_vars *v, struct placeholder_error *pe)
{
	struct buf out;
	const char *p = tmpl, *result;
	bool placed = false;

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
		if (which->off == offsetof(struct placeholder_vars, trigger)) {
			buf_addc(&out, MARK);
			placed = true;
		} else {
			buf_adds(&out, val);
		}
		p = close + 1;
	}
	if (placed) {
		drop_trigger(&out, v->trigger);
		place_trigger(&out, v->trigger);
	}
	result = arena_strndup(a, out.data, out.len);
	buf_release(&out);
	return result;
}

/*
 * vision: captions from a vision model's answers (see vision.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/path.h"
#include "base/text.h"
#include "compiler/caption.h"
#include "compiler/vision.h"
#include "vision.h"

/* value scrubbed, in a; NULL when nothing of it is left */
static const char *
scrubbed(const struct lint *l, struct arena *a, const char *value)
{
	struct buf b;
	const char *out = NULL;

	if (!value)
		return NULL; /* not in the answer (--engine preview's {}) */
	buf_init(&b);
	lint_scrub(l, value, &b);
	if (b.len)
		out = arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return out;
}

/* A descriptor of the expression, or NULL when it named identity: a
 * few words about a trait ("freckles on the cheeks") say nothing once
 * the trait is cut out. */
static const char *
descriptor(const struct lint *l, struct arena *a, json_t *d)
{
	struct buf b;
	const char *out = NULL;

	if (!json_is_string(d))
		return NULL;
	buf_init(&b);
	if (lint_scrub(l, json_string_value(d), &b) == 0 && b.len)
		out = arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return out;
}

/* "EMOTION — DETAIL, DETAIL" of the answer's expression, or NULL. */
static const char *
expression_of(const struct lint *l, struct arena *a, json_t *root)
{
	const char *emotion = scrubbed(l, a, json_string_value(
					       json_object_get(root, "expression")));
	json_t *details = json_object_get(root, "expression_details"), *d;
	struct buf b;
	const char *out;
	size_t i;

	if (!emotion || strcmp(emotion, "none") == 0)
		return NULL;
	buf_init(&b);
	buf_adds(&b, emotion);
	json_array_foreach(details, i, d) {
		const char *w = descriptor(l, a, d);

		if (w)
			buf_addf(&b, "%s%s", strstr(b.data, " \xe2\x80\x94 ") ? ", "
									  : " \xe2\x80\x94 ", w);
	}
	out = arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return out;
}

/* Is v of field f's type and size? */
static bool
value_ok(const struct vision_field *f, json_t *v)
{
	switch (f->type) {
	case VF_TEXT:
		return json_is_string(v) && json_string_length(v) <= f->max_len &&
		       text_is_line(json_string_value(v), json_string_length(v));
	case VF_CHOICE:
		return json_is_string(v) && vision_is_choice(f, json_string_value(v));
	case VF_LIST:
		if (!json_is_array(v) || json_array_size(v) > f->max_items)
			return false;
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *t = json_array_get(v, i);

			if (!json_is_string(t) || json_string_length(t) > f->max_len ||
			    !text_is_line(json_string_value(t), json_string_length(t)))
				return false;
		}
		return true;
	case VF_SCORE:
		return json_is_number(v) && json_number_value(v) >= 0 &&
		       json_number_value(v) <= 1;
	}
	return false;
}

/* Is root an answer to question q: an object of its members, each of
 * its type and size? */
static bool
answer_of(const struct vision_question *q, json_t *root)
{
	const char *name;
	json_t *v;

	if (!json_is_object(root))
		return false;
	json_object_foreach(root, name, v) {
		const struct vision_field *f = vision_field(q, name);

		if (!f || !value_ok(f, v))
			return false;
	}
	return true;
}

int
vision_read_answer(const struct lint *l, struct arena *a, const char *text,
		   size_t len, const char **attrs, struct error *err)
{
	const struct vision_question *q = vision_caption();
	json_t *root = len <= VISION_MAX_ANSWER
		? json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (!answer_of(q, root)) {
		json_decref(root);
		return error_set(err, "not an answer to the caption question");
	}
	for (size_t i = 0; i < q->nfields; i++) {
		const struct vision_field *f = &q->fields[i];
		const char *v;

		if (f->slot < 0 || attrs[f->slot])
			continue; /* the recipe's word wins */
		v = f->slot == ATTR_EXPRESSION
			? expression_of(l, a, root)
			: json_is_string(json_object_get(root, f->name))
			? scrubbed(l, a, json_string_value(json_object_get(root, f->name)))
			: NULL;
		if (f->type == VF_CHOICE && v && !vision_is_choice(f, v))
			v = NULL;
		attrs[f->slot] = v;
	}
	json_decref(root);
	return 0;
}

/* The answer at path into leaf copy img's attributes. */
static int
read_into(const struct lint *l, struct arena *a, const char *path,
	  struct node *img, struct error *err)
{
	struct stat st;
	char *text;
	size_t len;
	int rc;

	if (stat(path, &st) < 0 || st.st_size > VISION_MAX_ANSWER)
		return error_set(err, "the answer of %s is missing or too big",
				 img->id);
	if (read_file(path, &text, &len, err) < 0)
		return -1;
	rc = vision_read_answer(l, a, text, len, img->attrs, err);
	free(text);
	if (rc < 0)
		return error_set(err, "the cached answer about %s is not one", img->id);
	return 0;
}

int
vision_caption_of(const struct lint *l, const struct node *n,
		  const char *const *paths, size_t npaths, struct buf *out,
		  struct error *err)
{
	struct node *imgs = xcalloc(npaths + 1, sizeof(*imgs));
	const struct node **set = xcalloc(npaths + 1, sizeof(*set));
	const struct node *self = NULL;
	struct caption_set cs;
	struct arena a;
	int rc = 0;

	arena_init(&a);
	for (size_t i = 0; i < npaths && rc == 0; i++) {
		imgs[i] = *n->in[i]->subject; /* its attrs, to fill in */
		set[i] = &imgs[i];
		if (n->in[i]->subject == n->subject)
			self = &imgs[i];
		rc = read_into(l, &a, paths[i], &imgs[i], err);
	}
	if (rc == 0 && !self)
		rc = error_set(err, "%s takes no answer about its image", n->id);
	if (rc == 0) {
		caption_set_init(&cs, n->recipe, set, npaths);
		buf_adds(out, caption_build(&a, &cs, self));
		caption_set_release(&cs);
	}
	arena_release(&a);
	free(set);
	free(imgs);
	return rc;
}

static int
write_caption(const struct caption_writer *w, const struct node *n,
	      const char *const *answers, size_t nanswers, struct buf *out,
	      struct error *err)
{
	const struct vision_captions *vc = w->ctx;

	return vision_caption_of(vc->lint, n, answers, nanswers, out, err);
}

int
vision_captions_init(struct vision_captions *vc, const struct recipe *r,
		     struct error *err)
{
	struct lint_opts o;

	lint_opts_of(r, &o);
	vc->writer = (struct caption_writer){ write_caption, vc };
	vc->lint = lint_new(&o, err);
	return vc->lint ? 0 : -1;
}

void
vision_captions_release(struct vision_captions *vc)
{
	lint_free(vc->lint);
	vc->lint = NULL;
}

/* The reasons of a verdict, "; " between them, escaped, bounded. */
static void
join_reasons(json_t *list, struct buf *out)
{
	json_t *r;
	size_t i;

	json_array_foreach(list, i, r) {
		const char *t = json_string_value(r);

		if (!t || !*t)
			continue;
		if (out->len)
			buf_adds(out, "; ");
		text_clean_add(out, t, strlen(t), NULL);
	}
	if (out->len > VERDICT_MAX_REASONS) {
		size_t n = VERDICT_MAX_REASONS;

		while (n && ((unsigned char)out->data[n] & 0xc0) == 0x80)
			n--; /* never cut inside a character */
		out->len = n;
		out->data[n] = '\0';
	}
	if (!out->len)
		buf_adds(out, "-");
}

int
vision_read_verdict(const char *path, double *score, struct buf *reasons,
		    struct error *err)
{
	struct stat st;
	char *text;
	size_t len;
	json_t *root;

	buf_reset(reasons);
	if (stat(path, &st) < 0 || st.st_size > VISION_MAX_ANSWER)
		return error_set(err, "the gate's answer is missing or too big");
	if (read_file(path, &text, &len, err) < 0)
		return -1;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	/* the answer's fields are the same whatever the references */
	if (!answer_of(vision_gate(1), root) || !json_object_get(root, "score")) {
		json_decref(root);
		return error_set(err, "the cached gate answer is not one");
	}
	*score = json_number_value(json_object_get(root, "score"));
	join_reasons(json_object_get(root, "reasons"), reasons);
	json_decref(root);
	return 0;
}

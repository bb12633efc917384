/*
 * key: a node's content key, xxh3-128 over a canonical encoding of all
 * that decides its output and nothing else.
 *
 * Each facet is hashed on its own (so `explain` can name what changed),
 * and the key is the hash of the format version, the kind and the facets.
 * Every field is written as "name=<len>:<bytes>;" so no two different
 * field lists can encode to the same bytes. Numbers are written in their
 * shortest round-trip form (format_double), so "0.50" and ".5" agree.
 * Bump KEY_FORMAT whenever the encoding changes: old cache entries then
 * miss instead of colliding. docs/keys.md is the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "dag.h"

#define KEY_FORMAT "loramake-key/1"

static const char *const facet_names[FACET_COUNT] = {
	"engine", "model", "prompt", "parameters", "seed", "input",
};

const char *
facet_name(enum facet f)
{
	return facet_names[f];
}

void
picks_init(struct picks *p)
{
	htab_init(&p->byid);
	htab_init(&p->envs);
	htab_init(&p->rerolls);
	htab_init(&p->verdicts);
	p->first = false;
}

/* Free a table's copied keys (and values, when they are strings). */
static void
release_table(struct htab *t, bool free_values)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key) {
			free((char *)t->slots[i].key);
			if (free_values)
				free(t->slots[i].value);
		}
	htab_release(t);
}

void
picks_release(struct picks *p)
{
	release_table(&p->byid, false);
	release_table(&p->envs, true);
	release_table(&p->rerolls, false);
	release_table(&p->verdicts, true);
}

/* Put value under a copy of id, reusing the table's key when present;
 * returns the old value. */
static void *
put_copy(struct htab *t, const char *id, void *value)
{
	const char *key = htab_key(t, id, strlen(id));

	if (!key)
		key = xstrdup(id);
	return htab_put(t, key, strlen(key), value);
}

void
picks_set_env(struct picks *p, const char *id, const char *tag)
{
	free(put_copy(&p->envs, id, xstrdup(tag)));
}

const char *
picks_env(const struct picks *p, const char *id)
{
	return p ? htab_get(&p->envs, id, strlen(id)) : NULL;
}

/* The first 16 hex digits of a key: what a verdict line names. */
static void
key16(const struct hash *key, char out[17])
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(key, hex);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

void
picks_set_verdict(struct picks *p, const char *id, const struct hash *key,
		  bool failed, double score, const char *reasons)
{
	char k[17];

	key16(key, k);
	free(put_copy(&p->verdicts, id,
		      xasprintf("%s %s %.2f %.*s", k, failed ? "fail" : "pass", score,
				VERDICT_MAX_REASONS, reasons && *reasons ? reasons : "-")));
}

void
picks_put_verdict(struct picks *p, const char *id, const char *text)
{
	free(put_copy(&p->verdicts, id, xstrdup(text)));
}

const char *
picks_verdict_text(const struct picks *p, const char *id)
{
	return p ? htab_get(&p->verdicts, id, strlen(id)) : NULL;
}

bool
verdict_text_ok(const char *t)
{
	size_t n = strspn(t, "0123456789abcdef");
	char *end;
	double score;

	if (n != 16 || t[16] != ' ' ||
	    (strncmp(t + 17, "pass ", 5) != 0 && strncmp(t + 17, "fail ", 5) != 0))
		return false;
	score = strtod(t + 22, &end);
	return end != t + 22 && *end == ' ' && end[1] && score >= 0 && score <= 1 &&
	       strlen(end + 1) <= VERDICT_MAX_REASONS;
}

bool
picks_verdict(const struct picks *p, const struct node *img, struct verdict *v)
{
	const char *t = p ? htab_get(&p->verdicts, img->id, strlen(img->id)) : NULL;
	char k[17], *end;

	if (!t || !verdict_text_ok(t))
		return false;
	key16(&img->key, k);
	if (strncmp(t, k, 16) != 0)
		return false; /* about an earlier image (a reroll, an edit) */
	v->score = strtod(t + 22, &end);
	v->reasons = end + 1;
	/* a node of no recipe (a tool's, a test's): the word as judged */
	v->failed = img->recipe ? verdict_fails(v->score, img->recipe) : t[17] == 'f';
	return true;
}

bool
verdict_fails(double score, const struct recipe *r)
{
	char two[32];

	snprintf(two, sizeof(two), "%.2f", score); /* as picks_set_verdict */
	return strtod(two, NULL) < recipe_gate_min(r);
}

void
picks_set_reroll(struct picks *p, const char *id, int times)
{
	put_copy(&p->rerolls, id, (void *)(uintptr_t)(times > 0 ? times : 0));
}

int
picks_reroll(const struct picks *p, const char *id)
{
	return p ? (int)(uintptr_t)htab_get(&p->rerolls, id, strlen(id)) : 0;
}

void
picks_set(struct picks *p, const char *id, int candidate)
{
	void *old = htab_get(&p->byid, id, strlen(id));

	if (old) {
		htab_put(&p->byid, id, strlen(id), (void *)(uintptr_t)candidate);
		return;
	}
	char *copy = xstrdup(id);
	htab_put(&p->byid, copy, strlen(copy), (void *)(uintptr_t)candidate);
}

int
node_pick(const struct node *n, const struct picks *picks)
{
	uintptr_t v = picks ? (uintptr_t)htab_get(&picks->byid, n->id,
						  strlen(n->id)) : 0;

	if (v && (int)v <= n->candidates)
		return (int)v;
	if (n->candidates == 1 || (picks && picks->first))
		return 1;
	return 0;
}

/* "name=LEN:VALUE;" — written straight into the buffer: this runs some
 * twenty times per node, so it must not cost a printf. */
static void
field(struct buf *b, const char *name, const char *value)
{
	char digits[24], *d = digits + sizeof(digits);
	size_t nl = strlen(name), vl, len, dl;
	char *p;

	if (!value)
		value = "";
	vl = len = strlen(value);
	do
		*--d = (char)('0' + len % 10);
	while (len /= 10);
	dl = (size_t)(digits + sizeof(digits) - d);
	if (buf_reserve(b, nl + dl + vl + 3) < 0)
		BUG("key field too large");
	p = b->data + b->len;
	memcpy(p, name, nl);
	p[nl] = '=';
	memcpy(p + nl + 1, d, dl);
	p[nl + 1 + dl] = ':';
	memcpy(p + nl + 2 + dl, value, vl);
	p[nl + 2 + dl + vl] = ';';
	b->len += nl + dl + vl + 3;
	b->data[b->len] = '\0';
}

static void
field_num(struct buf *b, const char *name, double v)
{
	char tmp[32];

	format_double(tmp, sizeof(tmp), v);
	field(b, name, tmp);
}

/* Counts and sizes: the same text format_double gives, without printf. */
static void
field_int(struct buf *b, const char *name, long long v)
{
	char tmp[24], *d = tmp + sizeof(tmp) - 1;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	*d = '\0';
	do
		*--d = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--d = '-';
	field(b, name, d);
}

static void
field_hash(struct buf *b, const char *name, const struct hash *h)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(h, hex);
	field(b, name, hex);
}

/* A package's image: its id, and its sides where its aspect gives it
 * others than the package's (so a package without aspects keys as
 * before they existed). */
static void
image_field(struct buf *b, const struct node *pkg, const struct node *img)
{
	struct sides base = dag_package_base(pkg);
	struct sides s = dag_package_sides(pkg, img);

	field(b, "id", img->id);
	if (s.w != base.w || s.h != base.h) {
		field_int(b, "width", s.w);
		field_int(b, "height", s.h);
	}
}

static void
params_facet(struct buf *b, const struct node *n)
{
	if (n->strength >= 0)
		field_num(b, "strength", n->strength);
	if (n->size)
		field_int(b, "size", n->size);
	if (n->width) { /* size: W x H; a square is size: alone, as before */
		field_int(b, "width", n->width);
		field_int(b, "height", n->height);
	}
	if (n->shape_sent) { /* only a recipe that sets aspect: has it */
		char text[24];

		field(b, "aspect", aspect_text(n->aspect, text, sizeof(text)));
	}
	field_int(b, "candidates", n->candidates);
	if (n->index)
		field_int(b, "index", n->index);
	if (n->kind == KIND_ANGLE && n->item)
		field(b, "angle", n->item); /* multi-angle models read it */
	if (n->caption)
		field(b, "caption", n->caption);
	if (n->kind == KIND_VALIDATE)
		field_num(b, "lora_scale", n->lora_scale);
	if (n->kind == KIND_CAPTION && n->nin) /* from vision answers: whose,
						  and the template its id picks */
		field(b, "subject", n->subject->id);
	if (n->kind == KIND_PACKAGE) {
		const struct section *s = &n->recipe->sec[KIND_PACKAGE];

		/* bump when runtime/engines/builtin.c packs differently */
		field(b, "layout", "4");
		field(b, "format", s->format ? s->format : "fal-zip");
		field(b, "select", s->select ? s->select : "all");
		field(b, "stem", s->stem ? s->stem : n->recipe->name);
		field(b, "target", n->recipe->target);
		field_num(b, "repeats", s->repeats ? s->repeats
						    : RECIPE_DEFAULT_REPEATS);
		/* file names and the manifest name each image's node */
		for (size_t i = 0; i < n->nin; i++)
			if (n->in[i]->kind != KIND_CAPTION)
				image_field(b, n, n->in[i]);
	}
	/* params in name order, so reordering them changes nothing */
	const char *last = NULL;
	for (size_t done = 0; done < n->nparams; done++) {
		const struct param *best = NULL;

		for (size_t i = 0; i < n->nparams; i++) {
			const struct param *p = &n->params[i];

			if (last && strcmp(p->name, last) <= 0)
				continue;
			if (!best || strcmp(p->name, best->name) < 0)
				best = p;
		}
		if (!best)
			break;
		buf_adds(b, "param.");
		field(b, best->name, best->value);
		last = best->name;
	}
}

bool
dag_selected(const struct node *pkg, const struct node *in, const struct picks *picks)
{
	const struct section *s = &pkg->recipe->sec[KIND_PACKAGE];
	const struct node *img = in->kind == KIND_CAPTION ? in->subject : in;

	struct verdict v;
	bool gated = picks_verdict(picks, img, &v) && v.failed;

	/* an image the identity gate failed goes only when kept by hand */
	if (!gated &&
	    (!s->select || strcmp(s->select, "all") == 0 || (picks && picks->first)))
		return true;
	/* picked: a pick on the image, or on what its upscale refines */
	for (const struct node *p = img; p;
	     p = p->kind == KIND_UPSCALE && p->nin ? p->in[0] : NULL)
		if (picks && htab_get(&picks->byid, p->id, strlen(p->id)))
			return true;
	return false;
}

/* Returns false when an input's pick is missing (the key is unknown). */
static bool
inputs_facet(struct buf *b, struct node *n, const struct picks *picks)
{
	if (n->file)
		field_hash(b, "file", &n->file_hash);
	for (size_t i = 0; i < n->nin; i++) {
		const struct node *in = n->in[i];
		int pick = node_pick(in, picks);

		/* a package waits for every pick above it: which images a
		 * person keeps is only known once each one is made */
		if (!in->keyed) {
			n->waits_on = in->waits_on;
			return false;
		}
		if (!pick) {
			n->waits_on = in;
			return false;
		}
		if (n->kind == KIND_PACKAGE && !dag_selected(n, in, picks))
			continue;
		if (in->kind == KIND_TRAIN && in->made_known) {
			/* the LoRA file itself: a training is not reproducible,
			 * so its key does not say which file it made */
			field_hash(b, "lora", &in->made);
			continue;
		}
		field_hash(b, "in", &in->key);
		field_int(b, "pick", pick);
	}
	return true;
}

static int
param_name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct param *const *)a)->name,
		      (*(const struct param *const *)b)->name);
}

/*
 * A comfyui node's workflow: the file's bytes and the inputs bound into
 * it (by name, so their order in the recipe does not count). Nothing for
 * any other engine, whose keys stay as they were.
 */
static void
workflow_fields(struct buf *b, const struct node *n)
{
	const struct engine_decl *e = n->engine;
	const struct param **in;

	if (!e || !e->workflow_text || strcmp(e->type, n->engine_type) != 0)
		return;
	field_hash(b, "workflow", &e->workflow_hash);
	in = xcalloc(e->ninputs + 1, sizeof(*in));
	for (size_t i = 0; i < e->ninputs; i++)
		in[i] = &e->inputs[i];
	qsort(in, e->ninputs, sizeof(*in), param_name_cmp);
	for (size_t i = 0; i < e->ninputs; i++) {
		field(b, "bind", in[i]->name);
		field(b, "to", in[i]->value);
	}
	free(in);
}

static void
key_node(struct node *n, const struct picks *picks)
{
	struct buf b, all;

	buf_init(&b);
	n->keyed = false;
	n->waits_on = NULL;
	for (int f = 0; f < FACET_COUNT; f++) {
		buf_reset(&b);
		switch (f) {
		case FACET_ENGINE:
			field(&b, "engine", n->engine_type);
			workflow_fields(&b, n);
			break;
		case FACET_MODEL:
			field(&b, "model", n->model);
			break;
		case FACET_PROMPT:
			field(&b, "prompt", n->prompt);
			field(&b, "negative", n->prompt ? n->negative : NULL);
			break;
		case FACET_PARAMS:
			params_facet(&b, n);
			break;
		case FACET_SEED:
			if (n->seed_fixed)
				field_int(&b, "seed", n->seed);
			else
				field(&b, "seed", "derived");
			if (n->reroll) /* a derived seed follows the key */
				field_int(&b, "reroll", n->reroll);
			break;
		case FACET_INPUTS:
			if (!inputs_facet(&b, n, picks)) {
				buf_release(&b);
				return;
			}
			break;
		}
		n->facets[f] = hash_bytes(b.data, b.len);
	}
	buf_init(&all);
	field(&all, "format", KEY_FORMAT);
	field(&all, "kind", kind_name(n->kind));
	for (int f = 0; f < FACET_COUNT; f++)
		field_hash(&all, facet_names[f], &n->facets[f]);
	n->key = hash_bytes(all.data, all.len);
	n->keyed = true;
	if (!n->seed_fixed)
		n->seed = (int64_t)(hash_low64(&n->key) & 0xffffffff);
	buf_release(&all);
	buf_release(&b);
}

struct hash
key_engine_facet(const char *engine_type)
{
	struct buf b;
	struct hash h;

	buf_init(&b);
	field(&b, "engine", engine_type); /* as key_node's FACET_ENGINE */
	h = hash_bytes(b.data, b.len);
	buf_release(&b);
	return h;
}

void
dag_key_node(struct dag *dag, struct node *n)
{
	n->recipe = &dag->recipe;
	key_node(n, dag->picks);
}

void
dag_key(struct dag *dag)
{
	for (size_t i = 0; i < dag->nnodes; i++) {
		dag->nodes[i]->recipe = &dag->recipe;
		key_node(dag->nodes[i], dag->picks);
	}
}

/*
 * dag: expand a checked recipe into nodes.
 *
 * Sections expand in pipeline order. hero, anchor and angle make images
 * from items; expression makes one edit per (image, expression) that its
 * apply rules allow; environment either rides in the expression edit
 * (with: expression) or edits every image; upscale refines every dataset
 * image; caption describes each; package takes them all. An image is a
 * dataset image ("leaf") unless a later edit used it as its input.
 */
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/imgtype.h"
#include "base/path.h"
#include "assign.h"
#include "camera.h"
#include "caption.h"
#include "dag.h"
#include "engine_type.h"
#include "mix.h"
#include "placeholder.h"
#include "trust.h"
#include "vision.h"

struct expander {
	struct dag *dag;
	struct recipe *r;
	struct diag *d;
	const struct compile_opts *opts;
	struct node **leaves; /* the current dataset images, in order */
	size_t nleaves, capleaves;
	struct htab bad_templates; /* templates (and aspect: locs) already
				      reported */
	struct htab told_refs;     /* "WHAT LINE:COL" of refs: problems said */
	bool bad_engine[KIND_COUNT]; /* a section's engine error is reported */
	const char *declared[KIND_COUNT]; /* the engine type the recipe gives
				       each section (before --engine) */
	bool too_big;                /* DAG_MAX_NODES reached: stop expanding */
	struct htab files;           /* "dev:ino" of every file node's file */
};

bool
node_has_job(const struct node *n)
{
	return strcmp(n->engine_type, "file") != 0;
}

bool
node_is_ref_of(const struct node *n, const struct node *user)
{
	for (size_t i = user->nin - user->nrefs; i < user->nin; i++)
		if (user->in[i] == n)
			return true;
	return false;
}

bool
node_after_package(const struct node *n)
{
	return n->kind == KIND_TRAIN || n->kind == KIND_VALIDATE;
}

bool
node_is_remote(const struct node *n)
{
	const struct engine_type *t = engine_type_find(n->engine_type);

	return !t || t->remote; /* an unknown type is never taken for free */
}

const struct trainer *
node_trainer(const struct node *n)
{
	if (n->kind != KIND_TRAIN)
		return NULL;
	return engine_type_trainer(engine_type_find(n->engine_type), n->model);
}

int
node_files_per_request(const struct node *n)
{
	const struct trainer *t = node_trainer(n);

	return t && t->nfiles > 1 ? t->nfiles : 1;
}

void
node_set_made(struct node *t, const struct hash *outs, size_t nouts)
{
	struct hasher h;

	if (nouts == 1) { /* one file: its own hash, as before WAN 2.2 */
		t->made = outs[0];
	} else {
		hasher_init(&h);
		hasher_add(&h, "loras", 6);
		hasher_add(&h, outs, nouts * sizeof(*outs));
		t->made = hasher_end(&h);
	}
	t->made_known = true;
}

/* Does engine type name make images from prompts? */
static bool
type_generates(const char *name)
{
	const struct engine_type *t = engine_type_find(name);

	return t && t->generates;
}

struct node *
dag_find(const struct dag *dag, const char *id)
{
	return htab_get(&dag->byid, id, strlen(id));
}

/* How each section multiplies what comes before it, for the message. */
static const char *const multiplies[KIND_COUNT] = {
	[KIND_ANCHOR] = "anchor makes count: images of each item",
	[KIND_ANGLE] = "angle makes count: images of each item",
	[KIND_EXPRESSION] = "expression makes each of its items from every image "
			    "above it (apply: limits which)",
	[KIND_ENVIRONMENT] = "environment edits every image above it",
	[KIND_UPSCALE] = "upscale refines every image",
	[KIND_CAPTION] = "caption describes every image",
};

/* The node that would pass DAG_MAX_NODES: one error naming the sections
 * and how many nodes each made, and no more expansion. */
static void
too_many_nodes(struct expander *x, enum node_kind kind, struct loc loc)
{
	size_t per[KIND_COUNT] = { 0 };
	struct buf counts, how;

	x->too_big = true;
	per[kind]++; /* the one that would pass */
	for (size_t i = 0; i < x->dag->nnodes; i++)
		per[x->dag->nodes[i]->kind]++;
	buf_init(&counts);
	buf_init(&how);
	for (int k = 0; k < KIND_COUNT; k++) {
		if (!per[k])
			continue;
		buf_addf(&counts, "%s%s %zu", counts.len ? ", " : "", kind_name(k),
			 per[k]);
		if (multiplies[k] && per[k] > 1)
			buf_addf(&how, "%s%s", how.len ? "; " : "", multiplies[k]);
	}
	diag_error(x->d, loc,
		   "the recipe expands to more than %d nodes (so far: %s, while "
		   "expanding %s); the sections multiply: %s", DAG_MAX_NODES,
		   counts.data, kind_name(kind),
		   how.len ? how.data : "each adds to what comes before it");
	buf_release(&counts);
	buf_release(&how);
}

static struct node *
new_node(struct expander *x, enum node_kind kind, const char *suffix,
	 struct loc loc)
{
	struct dag *dag = x->dag;
	struct node *n;

	if (x->too_big)
		return NULL;
	if (dag->nnodes == DAG_MAX_NODES) {
		too_many_nodes(x, kind, loc);
		return NULL;
	}
	n = arena_alloc(&dag->arena, sizeof(*n));

	n->kind = kind;
	n->suffix = suffix ? arena_strdup(&dag->arena, suffix) : "";
	n->id = suffix ? arena_printf(&dag->arena, "%s/%s", kind_name(kind), suffix)
		       : kind_name(kind);
	n->loc = loc;
	n->strength = -1;
	n->candidates = 1;
	n->engine_type = "loramake";
	n->reroll = picks_reroll(x->opts->picks, n->id);
	if (htab_get(&dag->byid, n->id, strlen(n->id))) {
		diag_error(x->d, loc, "two nodes would be named '%s'", n->id);
		return NULL;
	}
	htab_put(&dag->byid, n->id, strlen(n->id), n);
	n->idx = dag->nnodes;
	LM_GROW(dag->nodes, dag->nnodes + 1, dag->capnodes);
	dag->nodes[dag->nnodes++] = n;
	return n;
}

static void
add_input(struct expander *x, struct node *n, struct node *in)
{
	(void)x;
	LM_GROW(n->in, n->nin + 1, n->capin);
	n->in[n->nin++] = in;
	LM_GROW(in->out, in->nout + 1, in->capout);
	in->out[in->nout++] = n;
}

/* Copy the caption attributes of the input an edit starts from. */
static void
inherit(struct node *n, const struct node *from)
{
	memcpy(n->attrs, from->attrs, sizeof(n->attrs));
	n->aspect = from->aspect; /* an edit keeps its input's shape */
}

/* "closeup_front" -> "closeup front": an item name as words. */
static const char *
name_words(struct expander *x, const char *name)
{
	char *s = arena_strdup(&x->dag->arena, name);

	for (char *p = s; *p; p++)
		if (*p == '_' || *p == '-')
			*p = ' ';
	return s;
}

/* Report that section s must name one of the recipe's remote engines. */
static void
several_engines(struct expander *x, enum node_kind kind, const struct section *s)
{
	struct buf names;

	buf_init(&names);
	for (size_t i = 0; i < x->r->nengines; i++) {
		const struct engine_decl *e = &x->r->engines[i];

		if (type_generates(e->type))
			buf_addf(&names, "%s%s", names.len ? ", " : "", e->name);
	}
	diag_error(x->d, s->loc,
		   "%s has no engine: and the recipe has several (%s); name one",
		   kind_name(kind), names.data);
	buf_release(&names);
}

static const char *
default_engine(struct expander *x, const struct node *n, const struct section *s)
{
	const struct engine_decl *e = NULL;

	for (size_t i = 0; i < x->r->nengines; i++) {
		if (!type_generates(x->r->engines[i].type))
			continue; /* local only resizes */
		if (e) {
			several_engines(x, n->kind, s);
			return NULL;
		}
		e = &x->r->engines[i];
	}
	if (!e)
		diag_error(x->d, s->loc,
			   "%s needs an engine: declare one under engines: (or build with --engine preview)",
			   kind_name(n->kind));
	return e ? e->name : NULL;
}

static void
unknown_engine(struct expander *x, const struct section *s, const char *name)
{
	const char *names[64], *hint;
	size_t k = 0, ntypes;
	const struct engine_type *t = engine_types(&ntypes);

	for (size_t i = 0; i < x->r->nengines && k < 48; i++)
		names[k++] = x->r->engines[i].name;
	for (size_t i = 0; i < ntypes && k < LM_ARRAY_LEN(names); i++)
		if (t[i].implicit)
			names[k++] = t[i].name;
	hint = closest_word(name, names, k);
	diag_error(x->d, s->engine_loc.src ? s->engine_loc : s->loc,
		   "unknown engine '%s'%s%s%s", name, hint ? "; did you mean '" : "",
		   hint ? hint : "", hint ? "'?" : "");
}

static void
resolve_engine(struct expander *x, struct node *n, const struct section *s,
	       const char *fallback)
{
	const char *name = s->engine;
	const struct engine_decl *e = NULL;
	const struct engine_type *t;

	if (!name && x->opts->engine_override)
		name = x->opts->engine_override;
	if (!name)
		name = fallback;
	if (!name && !(name = default_engine(x, n, s)))
		return;
	e = recipe_engine(x->r, name);
	n->engine = e;
	n->engine_type = e ? e->type : name;
	t = engine_type_find(n->engine_type);
	if (!e && !(t && t->implicit)) {
		unknown_engine(x, s, name);
		return;
	}
	x->declared[n->kind] = n->engine_type;
	/* --engine preview puts every generative node on it; local ops stay */
	if (x->opts->engine_override && t->generates) {
		n->engine = recipe_engine(x->r, x->opts->engine_override);
		n->engine_type = n->engine ? n->engine->type : x->opts->engine_override;
	}
	n->model = s->model;
	if (node_is_remote(n) && !n->model)
		diag_error(x->d, s->engine_loc.src ? s->engine_loc : s->loc,
			   "%s runs on '%s' and needs a model: (the endpoint id)",
			   kind_name(n->kind), n->engine_type);
	if (!engine_type_find(n->engine_type)->takes_model)
		n->model = NULL; /* preview ignores the model; keep keys honest */
}

/* The identity of the file at path ("dev:ino" into buf), or NULL if it
 * cannot be stat'ed: one file by any spelling of its path. */
static const char *
file_identity(const char *path, char *buf, size_t bufsz)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	snprintf(buf, bufsz, "%ju:%ju", (uintmax_t)st.st_dev,
		 (uintmax_t)st.st_ino);
	return buf;
}

/* Remember that a node has the file at path (for file_taken). */
static void
note_file(struct expander *x, const char *path)
{
	char id[64];

	if (file_identity(path, id, sizeof(id)) &&
	    !htab_get(&x->files, id, strlen(id))) {
		char *key = arena_strdup(&x->dag->arena, id);

		htab_put(&x->files, key, strlen(key), key);
	}
}

/* resolve_engine, reporting a section's engine problem once, not per node. */
static void
set_engine(struct expander *x, struct node *n, const struct section *s,
	   const char *fallback)
{
	unsigned before = x->d->nerrors;

	if (x->bad_engine[n->kind])
		return;
	resolve_engine(x, n, s, fallback);
	if (x->d->nerrors > before)
		x->bad_engine[n->kind] = true;
}

static void
set_file(struct expander *x, struct node *n, const char *rel, struct loc loc)
{
	struct error err;
	char *path = path_resolve_inside(x->dag->dir, rel, &err);

	n->engine_type = "file";
	n->image = true;
	if (!path) {
		diag_error(x->d, loc, "%s", err.msg);
		return;
	}
	n->file = arena_strdup(&x->dag->arena, path);
	free(path);
	/* only images go to engines: a `.env` named here is a recipe error */
	if (!image_type_of(n->file, &err) ||
	    hash_file(n->file, &n->file_hash, &err) < 0)
		diag_error(x->d, loc, "%s", err.msg);
	else
		note_file(x, n->file);
}

/* What names an image inside the ids of nodes below it: "closeup_front"
 * for angle/closeup_front, "hero" for the hero. */
static const char *
image_name(const struct node *n)
{
	return n->suffix[0] ? n->suffix : n->id;
}

/* A copy of the current dataset images: the inputs of the next stage. */
static struct node **
take_leaves(struct expander *x, size_t *n)
{
	struct node **v = xmalloc((x->nleaves + 1) * sizeof(*v));

	if (x->nleaves) /* leaves is NULL before the first image */
		memcpy(v, x->leaves, x->nleaves * sizeof(*v));
	*n = x->nleaves;
	return v;
}

static void
push_leaf(struct expander *x, struct node *n)
{
	LM_GROW(x->leaves, x->nleaves + 1, x->capleaves);
	x->leaves[x->nleaves++] = n;
}

/* Seeds: an item's, else its section's, else the recipe's; else derived. */
static void
set_seed(struct expander *x, struct node *n, const struct section *s,
	 const struct item *it, int index)
{
	int64_t seed = it && it->seed >= 0 ? it->seed
		     : s->seed >= 0 ? s->seed : x->r->seed;

	if (seed < 0)
		return;
	n->seed_fixed = true;
	/* a reroll moves a fixed seed by a large odd step: far from the
	 * seeds its siblings (index) use */
	n->seed = (seed + (index > 0 ? index - 1 : 0) +
		   (int64_t)n->reroll * 0x9e3779b1) & 0xffffffff;
}

/* The loc of pointer at, found in loc's source at or after loc. */
static struct loc
loc_of(struct loc loc, const char *start, const char *at)
{
	for (const char *p = start; p < at; p++) {
		if (*p == '\n') {
			loc.line++;
			loc.col = 1;
		} else {
			loc.col++;
		}
	}
	return loc;
}

/*
 * The loc of byte off (a '{') of a template whose scalar starts at loc.
 * Where the source holds the template's bytes as they are (one line, no
 * escapes) that is exact; else (folded or escaped text) the placeholder's
 * first appearance after loc; else the scalar's start.
 */
static struct loc
loc_inside(struct loc loc, const char *tmpl, size_t off)
{
	const char *at, *close = strchr(tmpl + off, '}');
	size_t quote = 0;

	if (!loc.src || !loc.line)
		return loc;
	at = loc.src->text;
	for (uint32_t l = 1; l < loc.line && at; l++)
		if ((at = strchr(at, '\n')))
			at++;
	if (!at)
		return loc;
	at += loc.col - 1;
	if (*at == '"' || *at == '\'')
		quote = 1;
	if (!memchr(tmpl, '\n', off + 1) &&
	    strncmp(at + quote, tmpl, off + 1) == 0)
		return loc_of(loc, at, at + quote + off);
	if (close) {
		char *word = xstrndup(tmpl + off, (size_t)(close - tmpl - off) + 1);
		const char *found = strstr(at, word);

		free(word);
		if (found)
			return loc_of(loc, at, found);
	}
	return loc;
}

/*
 * Expand a prompt template, reporting a bad placeholder once per template
 * (a section prompt is expanded for many nodes) with the caret on it.
 */
static const char *
expand_prompt(struct expander *x, const char *tmpl, struct loc loc,
	      const struct placeholder_vars *v)
{
	struct placeholder_error pe;
	const char *out = placeholder_subst(&x->dag->arena, tmpl, v, &pe);

	if (out)
		return out;
	if (htab_put(&x->bad_templates, tmpl, strlen(tmpl), (void *)tmpl))
		return NULL;
	diag_error(x->d, loc_inside(loc, tmpl, pe.offset), "%s", pe.msg);
	return NULL;
}

/* Is p's value the JSON null (a key dropped, not sent)? */
static bool
param_is_null(const struct param *p)
{
	return !p->is_string && strcmp(p->value, "null") == 0;
}

/* Does params[0..n) hold name (a value for it, null included)? */
static bool
params_have(const struct param *params, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(params[i].name, name) == 0)
			return true;
	return false;
}

/*
 * The params a node sends and is keyed by (docs/recipe.md): the section's,
 * with the item's over them key by key. A value is taken whole, as YAML's
 * `<<:` takes it: an item's `loras:` replaces the section's list, an
 * item's `image_size: {...}` the section's mapping. A key whose value is
 * null is dropped, so an item can take one of the section's keys away.
 * A node that adds and drops nothing shares its section's array, so its
 * key is what it was before items could merge.
 */
static void
merge_params(struct expander *x, struct node *n, const struct section *s,
	     const struct item *it)
{
	size_t nit = it ? it->nparams : 0, k = 0;
	bool plain = nit == 0;
	struct param *v;

	for (size_t i = 0; i < s->nparams && plain; i++)
		plain = !param_is_null(&s->params[i]);
	if (plain) {
		n->params = s->nparams ? s->params : NULL;
		n->nparams = s->nparams;
		return;
	}
	v = arena_alloc(&x->dag->arena, (s->nparams + nit + 1) * sizeof(*v));
	for (size_t i = 0; i < s->nparams; i++)
		if (!params_have(it ? it->params : NULL, nit, s->params[i].name) &&
		    !param_is_null(&s->params[i]))
			v[k++] = s->params[i];
	for (size_t i = 0; i < nit; i++)
		if (!param_is_null(&it->params[i]))
			v[k++] = it->params[i];
	n->params = k ? v : NULL;
	n->nparams = k;
}

struct gen_spec {
	enum node_kind kind;
	const struct section *s;
	const struct item *it;       /* NULL for hero */
	const char *suffix;          /* id without kind */
	struct node *from;           /* input image, or NULL */
	const char *tmpl;            /* prompt template */
	struct loc tmpl_loc;
	struct placeholder_vars vars;
	int index;
};

static struct node *resolve_from(struct expander *x, const char *id,
				 struct loc loc, const char *key);

/* A section's refs: reach many nodes: each problem is said once, at its
 * first node. Was what at loc said? said() records that it is. */
static bool
was_said(struct expander *x, const char *what, struct loc loc)
{
	char key[48];

	snprintf(key, sizeof(key), "%s %u:%u", what, loc.line, loc.col);
	return htab_get(&x->told_refs, key, strlen(key)) != NULL;
}

static void
said(struct expander *x, const char *what, struct loc loc)
{
	char key[48];

	snprintf(key, sizeof(key), "%s %u:%u", what, loc.line, loc.col);
	htab_put(&x->told_refs, arena_strdup(&x->dag->arena, key), strlen(key),
		 x);
}

/*
 * Refuse refs that make node n carry more images than its model takes
 * (compiler/engine_type.c: max_images of the type the recipe declares,
 * not --engine preview's), once a refs: place.
 */
static void
check_ref_limit(struct expander *x, const struct node *n, const struct refs *r)
{
	const struct engine_type *t = engine_type_find(x->declared[n->kind]);
	int max = engine_type_max_images(t, n->model);

	if (max < 0 || n->nin <= (size_t)max || was_said(x, "limit", r->loc))
		return;
	said(x, "limit", r->loc);
	diag_error(x->d, r->loc,
		   "%s takes at most %d image%s in all, and %s would send %zu (%s%zu ref%s)",
		   n->model ? n->model : t->name, max, max == 1 ? "" : "s", n->id,
		   n->nin, n->nin > n->nrefs ? "its source and " : "", n->nrefs,
		   n->nrefs == 1 ? "" : "s");
}

/* Does n send ref already (refs: [closest, anchor/front] may name one
 * twice)? */
static bool
has_ref(const struct node *n, const struct node *ref)
{
	for (size_t i = n->nin - n->nrefs; i < n->nin; i++)
		if (n->in[i] == ref)
			return true;
	return false;
}

/* The camera of node n: its item's name, else its source's (an
 * expression of an angle, ...), as camera words place it; false if none
 * names one. */
static bool
camera_of_node(const struct node *n, struct camera *cam)
{
	for (; n; n = n->nin > n->nrefs ? n->in[0] : NULL)
		if (n->item && camera_of_angle(n->item, cam, NULL) == 0)
			return true;
	return false;
}

/* How far apart two cameras look: the turn around the subject (the
 * shorter way), then the tilt. */
static double
camera_distance(const struct camera *a, const struct camera *b)
{
	double h = fabs(a->horizontal - b->horizontal);

	if (h > 180)
		h = 360 - h;
	return h + fabs(a->vertical - b->vertical);
}

/*
 * refs: closest: the anchor whose camera (its item's name) is nearest to
 * node n's (its item's, else its source's), the first of equals in the
 * recipe's order unless that is n's own source (which is sent anyway):
 * seed 004's keystone method. NULL, said once at loc,
 * when n names no camera or no anchor does.
 */
static struct node *
closest_anchor(struct expander *x, const struct node *n, const char *setting,
	       struct loc loc)
{
	struct camera want, cam;
	struct node *best = NULL;
	const struct node *source = n->nin > n->nrefs ? n->in[0] : NULL;
	double best_d = 1e9;

	if (!camera_of_node(n, &want)) {
		if (!was_said(x, "closest-angle", loc))
			diag_error(x->d, loc, "%s: closest needs %s to name a camera (its item or its source's: %s)",
				   setting, n->id, CAMERA_HINT);
		said(x, "closest-angle", loc);
		return NULL;
	}
	for (size_t i = 0; i < x->dag->nnodes; i++) {
		struct node *a = x->dag->nodes[i];
		double d;

		if (a == n || a->kind != KIND_ANCHOR || !a->image || !a->item ||
		    camera_of_angle(a->item, &cam, NULL) < 0)
			continue;
		d = camera_distance(&want, &cam);
		if (d < best_d || (d == best_d && best == source)) {
			best = a;
			best_d = d;
		}
	}
	if (!best && !was_said(x, "closest-anchor", loc))
		diag_error(x->d, loc, "%s: closest finds no anchor named by a camera (anchor items such as front, three_quarter_left, profile_right)",
			   setting);
	if (!best)
		said(x, "closest-anchor", loc);
	return best;
}

/* refs r of node n: extra inputs after its source, each an earlier image
 * (or the anchor closest in angle: closest); the source itself is not
 * sent twice. */
static void
add_refs(struct expander *x, struct node *n, const struct refs *r)
{
	bool bad = false;

	for (size_t i = 0; i < r->n; i++) {
		struct node *ref = NULL;

		if (strcmp(r->ids[i], REFS_CLOSEST) == 0) {
			if (!(ref = closest_anchor(x, n, "refs", r->locs[i]))) {
				bad = true;
				continue;
			}
		} else if (was_said(x, "ref", r->locs[i]) ||
		    !(ref = resolve_from(x, r->ids[i], r->locs[i], "refs"))) {
			said(x, "ref", r->locs[i]);
			bad = true;
			continue;
		}
		if ((n->nin && n->in[0] == ref) || has_ref(n, ref))
			continue; /* the keystone itself, or closest and named: once */
		add_input(x, n, ref);
		n->nrefs++;
	}
	if (n->nrefs && !bad)
		check_ref_limit(x, n, r);
}

/* Is aspect a one of the ratios an endpoint lists ("2:3", ...)? */
static bool
aspect_listed(const char *const *list, struct aspect a)
{
	char why[8];

	for (; list && *list; list++) {
		struct aspect b;

		if (aspect_parse(*list, &b, why, sizeof(why)) && aspect_same(a, b))
			return true;
	}
	return false;
}

/*
 * The aspect of node n: its item's, else its section's, else its
 * input's (inherit). One the item or section sets goes to an endpoint
 * that takes an aspect ratio or a size (compiler/engine_type.h) and so
 * into the key; an inherited one is not sent (edits keep their input's
 * shape) and keys nothing: packaging reads it from the image's lineage,
 * the package's key holds the sides. A ratio the declared endpoint
 * (model: the section's, or the default it stands for: validate's) does
 * not list is an error where it is set.
 */
static void
set_aspect(struct expander *x, struct node *n, const struct section *s,
	   const struct item *it, const char *model)
{
	const struct engine_type *declared = engine_type_find(x->declared[n->kind]);
	const struct loc *loc = it && aspect_set(it->aspect) ? &it->aspect_loc
			      : aspect_set(s->aspect) ? &s->aspect_loc : NULL;
	const char *const *ratios;
	char text[24];

	if (!loc)
		return;
	n->aspect = it && aspect_set(it->aspect) ? it->aspect : s->aspect;
	/* said once a place: the loc (in the recipe's arena) is its key */
	if (declared && engine_type_shape(declared, model, &ratios) ==
	    SHAPE_ASPECT_RATIO && !aspect_listed(ratios, n->aspect) &&
	    !htab_put(&x->bad_templates, (const char *)loc, sizeof(*loc),
		      (void *)loc)) {
		struct buf all;

		buf_init(&all);
		for (; *ratios; ratios++)
			buf_addf(&all, "%s%s", all.len ? ", " : "", *ratios);
		diag_error(x->d, *loc, "%s takes the aspect ratios %s, not %s",
			   model, all.data, aspect_text(n->aspect, text, sizeof(text)));
		buf_release(&all);
	}
	n->shape_sent = n->engine_type &&
		engine_type_shape(engine_type_find(n->engine_type), n->model,
				  &ratios) != SHAPE_NONE;
}

/* Make one generative (or edit) node from spec. */
static struct node *
gen_node(struct expander *x, const struct gen_spec *g)
{
	const struct section *s = g->s;
	const struct item *it = g->it;
	struct node *n = new_node(x, g->kind, g->suffix,
				  it ? it->loc : s->loc);

	if (!n)
		return NULL;
	n->image = true;
	n->item = it ? it->name : NULL;
	n->index = g->index;
	set_engine(x, n, s, NULL);
	if (g->from) {
		add_input(x, n, g->from);
		inherit(n, g->from);
	}
	add_refs(x, n, it && it->refs.set ? &it->refs : &s->refs);
	set_aspect(x, n, s, it, s->model);
	n->prompt = expand_prompt(x, g->tmpl, g->tmpl_loc, &g->vars);
	n->negative = s->negative ? s->negative : x->r->negative;
	n->strength = it && it->strength >= 0 ? it->strength : s->strength;
	n->candidates = it && it->candidates ? it->candidates
		      : s->candidates ? s->candidates : 1;
	merge_params(x, n, s, it);
	set_seed(x, n, s, it, g->index);
	return n;
}

static void
base_vars(struct expander *x, struct placeholder_vars *v)
{
	memset(v, 0, sizeof(*v));
	v->character = x->r->character;
	v->trigger = x->r->trigger;
	v->name = x->r->name;
}

static void
expand_hero(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_HERO];
	struct gen_spec g = { .kind = KIND_HERO, .s = s };
	struct node *n;

	if (!s->present)
		return;
	if (s->file) {
		if (!(n = new_node(x, KIND_HERO, NULL, s->loc)))
			return;
		set_file(x, n, s->file, s->file_loc);
		push_leaf(x, n);
		return;
	}
	if (!s->prompt && !x->r->character) {
		diag_error(x->d, s->loc,
			   "hero needs a file: or a prompt: (or a character: to describe)");
		return;
	}
	base_vars(x, &g.vars);
	g.tmpl = s->prompt ? s->prompt : "{character}";
	g.tmpl_loc = s->prompt ? s->prompt_loc : s->loc;
	if ((n = gen_node(x, &g)))
		push_leaf(x, n);
}

/*
 * The node a from: names. An id of an item with count > 1 is ambiguous, so
 * it must name one of its images.
 */
static struct node *
resolve_from(struct expander *x, const char *id, struct loc loc,
	     const char *key)
{
	struct node *n = dag_find(x->dag, id);
	const char *ids[4096];
	size_t k = 0;

	if (n && n->image)
		return n;
	if (n) {
		diag_error(x->d, loc, "'%s' is not an image and cannot be edited", id);
		return NULL;
	}
	char *first = xasprintf("%s/1", id);
	bool counted = dag_find(x->dag, first) != NULL;
	free(first);
	if (counted) {
		diag_error(x->d, loc,
			   "'%s' makes several images; name one, e.g. '%s/1'", id, id);
		return NULL;
	}
	for (size_t i = 0; i < x->dag->nnodes && k < LM_ARRAY_LEN(ids); i++)
		if (x->dag->nodes[i]->image)
			ids[k++] = x->dag->nodes[i]->id;
	const char *hint = closest_word(id, ids, k);
	if (hint)
		diag_error(x->d, loc, "unknown node '%s' in %s:; did you mean '%s'?",
			   id, key, hint);
	else
		diag_error(x->d, loc, "unknown node '%s' in %s: (it must be an earlier image, e.g. 'hero' or 'anchor/NAME')",
			   id, key);
	return NULL;
}

/*
 * Angle item it must name a camera in words the endpoint's request is
 * made from, when its section's model places the camera from the name
 * and the node's params do not place it themselves: found now, not when
 * the paid request is built.
 */
static void
check_camera_words(struct expander *x, const struct section *s,
		   const struct item *it, const struct node *n)
{
	const struct engine_type *t = engine_type_find(x->declared[KIND_ANGLE]);
	struct camera cam;
	struct error why;
	char words[512];

	if (!t || !(model_family_fields(engine_type_family(t, s->model)) &
		    FIELD_CAMERA))
		return;
	if (camera_set_by_params(n->params, n->nparams))
		return; /* the recipe places the camera itself */
	if (camera_of_angle(it->name, &cam, &why) == 0)
		return;
	camera_list_words(words, sizeof(words));
	diag_error(x->d, it->loc,
		   "%s (%s reads the camera from the item's name); camera words: %s; or set params horizontal_angle, vertical_angle and zoom",
		   why.msg, s->model, words);
}

/* Expand one item of anchor or angle into count nodes. */
static void
expand_item(struct expander *x, enum node_kind kind, const struct item *it,
	    const char *dflt_tmpl)
{
	const struct section *s = &x->r->sec[kind];
	int count = it->count ? it->count : s->count ? s->count : 1;
	const char *from = it->from ? it->from : s->from;
	struct loc from_loc = it->from ? it->from_loc : s->from_loc;
	struct gen_spec g = { .kind = kind, .s = s, .it = it };

	if (from && !(g.from = resolve_from(x, from, from_loc, "from")))
		return;
	if (!from && kind == KIND_ANGLE) {
		g.from = dag_find(x->dag, "hero");
		if (!g.from) {
			diag_error(x->d, it->loc,
				   "angle '%s' needs from: (an anchor or the hero to edit)",
				   it->name);
			return;
		}
	}
	base_vars(x, &g.vars);
	g.vars.item = it->text ? it->text : name_words(x, it->name);
	g.vars.angle = it->caption ? it->caption : g.vars.item;
	g.tmpl = it->prompt ? it->prompt : s->prompt ? s->prompt : dflt_tmpl;
	g.tmpl_loc = it->prompt ? it->prompt_loc : s->prompt ? s->prompt_loc : it->loc;
	for (int i = 1; i <= count && !x->too_big; i++) {
		char *suffix = count > 1 ? xasprintf("%s/%d", it->name, i)
					 : xstrdup(it->name);
		struct node *n;

		g.suffix = suffix;
		g.index = count > 1 ? i : 0;
		n = gen_node(x, &g);
		free(suffix);
		if (!n)
			continue;
		if (kind == KIND_ANGLE && i == 1)
			check_camera_words(x, s, it, n);
		if (it->caption)
			n->attrs[ATTR_ANGLE] = it->caption;
		else if (it->text)
			n->attrs[ATTR_POSE] = it->text;
		else if (it->prompt && !strchr(it->prompt, '{'))
			n->attrs[ATTR_POSE] = it->prompt; /* its words are the pose */
		else if (kind == KIND_ANGLE)
			n->attrs[ATTR_ANGLE] = g.vars.item;
		if (it->framing)
			n->attrs[ATTR_FRAMING] = it->framing;
		if (it->category)
			n->attrs[ATTR_CATEGORY] = it->category;
		for (size_t a = 0; a < it->nattrs; a++)
			caption_set_attr(n->attrs, it->attrs[a].name,
					 it->attrs[a].value);
		push_leaf(x, n);
	}
}

/* A file anchor: an image the user made, with its caption attributes. */
static void
file_item(struct expander *x, const struct item *it)
{
	struct node *n = new_node(x, KIND_ANCHOR, it->name, it->loc);

	if (!n)
		return;
	n->item = it->name;
	set_file(x, n, it->file, it->file_loc);
	if (it->caption)
		n->attrs[ATTR_ANGLE] = it->caption;
	if (it->framing)
		n->attrs[ATTR_FRAMING] = it->framing;
	if (it->category)
		n->attrs[ATTR_CATEGORY] = it->category;
	/* a photo is packaged at its item's (or section's) aspect */
	n->aspect = aspect_set(it->aspect) ? it->aspect
		  : x->r->sec[KIND_ANCHOR].aspect;
	for (size_t a = 0; a < it->nattrs; a++)
		caption_set_attr(n->attrs, it->attrs[a].name, it->attrs[a].value);
	push_leaf(x, n);
}

/* Is path (as glob gave it) the file of an anchor made already? One
 * lookup, whatever the number of files. */
static bool
file_taken(struct expander *x, const char *path)
{
	char id[64];

	return file_identity(path, id, sizeof(id)) &&
	       htab_get(&x->files, id, strlen(id));
}

/*
 * photos/metadata.json beside a files: glob, if present: a mapping from
 * file name to caption attributes, e.g.
 *   { "IMG_0412.jpg": { "expression": "a slight smile", "framing": "medium" } }
 * JSON is YAML, so ytree reads it with locations. Returns its root, or
 * NULL; *src must be released by the caller when non-NULL is returned.
 */
static const struct ynode *
load_metadata(struct expander *x, const char *glob_rel, struct loc loc,
	      struct source *src)
{
	char *gdir = path_dir(glob_rel), *rel = path_join(gdir, "metadata.json");
	char *path = path_join(x->dag->dir, rel);
	struct ynode *root = NULL;
	struct error err;
	int fd;

	free(gdir);
	free(rel);
	if (!path_exists(path)) {
		free(path);
		return NULL;
	}
	/* read like every input: never through a link (its text would show
	 * in the errors) */
	if ((fd = path_open(path, O_RDONLY, 0, &err)) < 0 ||
	    (close(fd), source_load(src, path, &err) < 0)) {
		diag_error(x->d, loc, "%s", err.msg);
		free(path);
		return NULL;
	}
	free(path);
	if (ytree_parse(&x->dag->arena, src, x->d, &root) < 0 || !root) {
		source_release(src);
		return NULL;
	}
	if (root->kind != Y_MAP) {
		diag_error(x->d, root->loc, "metadata.json must map file names to attributes");
		source_release(src);
		return NULL;
	}
	return root;
}

static bool
is_framing(const char *s)
{
	return !strcmp(s, "closeup") || !strcmp(s, "medium") ||
	       !strcmp(s, "full") || !strcmp(s, "back");
}

/* Copy the attributes metadata.json gives file base into it. */
static void
meta_attrs(struct expander *x, const struct ynode *meta, const char *base,
	   struct item *it)
{
	static const char *const keys[] = { "expression", "wardrobe", "pose",
					    "place", "light", "framing",
					    "caption", NULL };
	const struct ynode *m = NULL;

	for (size_t i = 0; i + 1 < meta->n; i += 2)
		if (meta->items[i]->kind == Y_SCALAR &&
		    !strcmp(meta->items[i]->str, base))
			m = meta->items[i + 1];
	if (!m)
		return;
	if (m->kind != Y_MAP) {
		diag_error(x->d, m->loc, "attributes of '%s' must be a mapping", base);
		return;
	}
	it->attrs = arena_alloc(&x->dag->arena, (m->n / 2 + 1) * sizeof(*it->attrs));
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->items[i], *v = m->items[i + 1];
		const char *hint;

		if (k->kind != Y_SCALAR || v->kind != Y_SCALAR) {
			diag_error(x->d, k->loc, "metadata attributes are name: text");
			continue;
		}
		bool known = false;
		for (const char *const *p = keys; *p; p++)
			known |= !strcmp(*p, k->str);
		if (!known) {
			hint = closest_word(k->str, keys, SIZE_MAX);
			diag_error(x->d, k->loc, "unknown attribute '%s'%s%s%s", k->str,
				   hint ? "; did you mean '" : "", hint ? hint : "",
				   hint ? "'?" : "");
			continue;
		}
		if (!strcmp(k->str, "caption"))
			it->caption = arena_strdup(&x->dag->arena, v->str);
		else if (!strcmp(k->str, "framing") && !is_framing(v->str))
			diag_error(x->d, v->loc,
				   "framing is closeup, medium, full or back, not '%s'",
				   v->str);
		else if (!strcmp(k->str, "framing"))
			it->framing = arena_strdup(&x->dag->arena, v->str);
		else
			it->attrs[it->nattrs++] = (struct attr){
				arena_strdup(&x->dag->arena, k->str),
				arena_strdup(&x->dag->arena, v->str) };
	}
}

static void
expand_files_glob(struct expander *x, const struct section *s)
{
	char *pattern;
	glob_t g;
	int rc;

	if (!path_is_contained(s->files)) {
		diag_error(x->d, s->files_loc, "'%s' is outside the recipe's folder",
			   s->files);
		return;
	}
	pattern = path_join(x->dag->dir, s->files);
	rc = glob(pattern, 0, NULL, &g);
	free(pattern);
	if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
		diag_error(x->d, s->files_loc, "no file matches '%s'", s->files);
		if (rc == 0)
			globfree(&g);
		return;
	}
	if (rc != 0) {
		diag_error(x->d, s->files_loc, "cannot list '%s'", s->files);
		return;
	}
	struct source msrc;
	const struct ynode *meta = load_metadata(x, s->files, s->files_loc, &msrc);
	size_t dirlen = strlen(x->dag->dir);

	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct item *it = arena_alloc(&x->dag->arena, sizeof(*it));
		const char *rel = g.gl_pathv[i];
		const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
		char *stem = arena_strdup(&x->dag->arena, base);
		char *dot = strrchr(stem, '.');

		if (strcmp(x->dag->dir, ".") && strncmp(rel, x->dag->dir, dirlen) == 0)
			rel += dirlen + 1;
		if (dot && dot != stem)
			*dot = '\0';
		for (char *p = stem; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-'))
				*p = '_';
		it->name = stem;
		it->loc = s->files_loc;
		it->file = arena_strdup(&x->dag->arena, rel);
		it->file_loc = s->files_loc;
		if (file_taken(x, g.gl_pathv[i]))
			continue; /* an item names this file already */
		if (meta)
			meta_attrs(x, meta, base, it);
		file_item(x, it);
	}
	globfree(&g);
	if (meta)
		source_release(&msrc);
}

static void
expand_anchors(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_ANCHOR];

	if (!s->present)
		return;
	for (size_t i = 0; i < s->nitems; i++) {
		if (s->items[i].file)
			file_item(x, &s->items[i]);
		else
			expand_item(x, KIND_ANCHOR, &s->items[i],
				    x->r->character ? "{character}, {item}" : "{item}");
	}
	if (s->files)
		expand_files_glob(x, s);
	if (!s->nitems && !s->files)
		diag_error(x->d, s->loc, "anchor needs items: or files:");
}

static void
expand_angles(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_ANGLE];

	if (!s->present)
		return;
	if (!s->nitems) {
		diag_error(x->d, s->loc, "angle needs items:");
		return;
	}
	for (size_t i = 0; i < s->nitems; i++)
		expand_item(x, KIND_ANGLE, &s->items[i], "{item}");
}

/* Drop the leaves that a stage edited (they are inputs now). */
static void
prune_leaves(struct expander *x)
{
	size_t k = 0;

	for (size_t i = 0; i < x->nleaves; i++) {
		struct node *n = x->leaves[i];
		bool edited = false;

		for (size_t j = 0; j < n->nout; j++)
			if (n->out[j]->image && n->out[j]->kind != KIND_UPSCALE &&
			    !node_is_ref_of(n, n->out[j]))
				edited = true;
		if (!edited)
			x->leaves[k++] = n;
	}
	x->nleaves = k;
}

/*
 * Leaves are sorted by lineage (the recipe order of their first input,
 * then of themselves, all the way up), so the dataset follows the recipe:
 * an angle's expressions sit next to it, not after every other angle.
 */
static size_t
lineage(const struct node *n, size_t *path)
{
	size_t depth = 0, tmp[16];

	for (; n && depth < LM_ARRAY_LEN(tmp); n = n->nin ? n->in[0] : NULL)
		tmp[depth++] = n->idx;
	for (size_t i = 0; i < depth; i++)
		path[i] = tmp[depth - 1 - i];
	return depth;
}

static int
by_lineage(const void *a, const void *b)
{
	size_t pa[16], pb[16];
	size_t na = lineage(*(struct node *const *)a, pa);
	size_t nb = lineage(*(struct node *const *)b, pb);

	for (size_t i = 0; i < na && i < nb; i++)
		if (pa[i] != pb[i])
			return pa[i] < pb[i] ? -1 : 1;
	return na < nb ? -1 : na > nb;
}

/* After a stage: drop the edited images, order the rest by lineage. */
static void
settle_leaves(struct expander *x)
{
	prune_leaves(x);
	if (x->nleaves)
		qsort(x->leaves, x->nleaves, sizeof(*x->leaves), by_lineage);
}

/* The apply rule for an angle item, or NULL (all expressions). */
static struct apply_rule *
rule_for(const struct section *s, const char *item)
{
	struct apply_rule *star = NULL;

	for (size_t i = 0; i < s->napply; i++) {
		if (item && strcmp(s->apply[i].angle, item) == 0)
			return &s->apply[i];
		if (strcmp(s->apply[i].angle, "*") == 0)
			star = &s->apply[i];
	}
	return star;
}

static const struct item *
find_item(const struct section *s, const char *name)
{
	for (size_t i = 0; i < s->nitems; i++)
		if (strcmp(s->items[i].name, name) == 0)
			return &s->items[i];
	return NULL;
}

static bool
rule_takes(const struct apply_rule *r, const char *expr)
{
	if (!r || r->all)
		return true;
	if (r->skip)
		return false;
	for (size_t i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i], expr) == 0)
			return true;
	return false;
}

/*
 * Report name, which is not an item of s (what: "angle", "expression"),
 * with a hint if an item's name is close.
 */
static void
not_an_item(struct expander *x, const struct section *s, const char *name,
	    struct loc loc, const char *what)
{
	const char *names[256];
	size_t k = 0;
	const char *hint;

	for (size_t i = 0; i < s->nitems && k < LM_ARRAY_LEN(names); i++)
		names[k++] = s->items[i].name;
	hint = closest_word(name, names, k);
	diag_error(x->d, loc, "apply names '%s', which is not an %s item%s%s%s",
		   name, what, hint ? "; did you mean '" : "", hint ? hint : "",
		   hint ? "'?" : "");
}

/* Every name an apply rule uses must be an angle and an expression. */
static void
check_apply(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_EXPRESSION];
	/* rules name the items of the images being edited: the angles, or
	 * the anchors of a recipe without angles */
	enum node_kind base = x->r->sec[KIND_ANGLE].present ? KIND_ANGLE : KIND_ANCHOR;
	const struct section *ang = &x->r->sec[base];

	for (size_t i = 0; i < s->napply; i++) {
		const struct apply_rule *r = &s->apply[i];

		if (strcmp(r->angle, "*") && !find_item(ang, r->angle))
			not_an_item(x, ang, r->angle, r->loc, kind_name(base));
		for (size_t j = 0; j < r->nnames; j++)
			if (!find_item(s, r->names[j]))
				not_an_item(x, s, r->names[j], r->name_locs[j],
					    "expression");
	}
}

static const char *
locked_env(const char *id, void *picks)
{
	return picks_env(picks, id);
}

/*
 * The environment entry of each of the nids node ids about to be made
 * (compiler/assign.h: sticky, balanced, independent of list positions).
 * Returns a malloc'd array the caller frees, or NULL without a pool.
 */
static struct assignment *
assign_envs(struct expander *x, const char *const *ids, size_t nids)
{
	const struct section *env = &x->r->sec[KIND_ENVIRONMENT];
	struct assignment *out;

	if (!env->nrotate)
		return NULL;
	out = xcalloc(nids + 1, sizeof(*out));
	assign_pool(ids, nids, env->rotate, env->nrotate, locked_env,
		    (void *)x->opts->picks, out);
	return out;
}

static void
set_env(struct node *n, struct placeholder_vars *v, const struct env_entry *e,
	bool moved)
{
	v->environment = e ? e->place : NULL;
	v->lighting = e ? e->light : NULL;
	n->env = e;
	n->env_moved = e && moved;
	if (e) {
		n->attrs[ATTR_PLACE] = e->place;
		n->attrs[ATTR_LIGHT] = e->light;
	}
}

/* The expression edits to make: (base image, item) pairs the apply rules
 * allow, in recipe order. */
struct edit {
	struct node *base;
	const struct item *it;
	const char *suffix;
	const char *id;
};

static struct edit *
plan_edits(struct expander *x, struct node **base, size_t nbase, size_t *nedits)
{
	const struct section *s = &x->r->sec[KIND_EXPRESSION];
	/* plan no more than DAG_MAX_NODES allows, and one more, whose
	 * new_node reports the limit: images x items can be billions */
	size_t room = DAG_MAX_NODES - x->dag->nnodes + 1;
	size_t want = nbase * s->nitems, cap = want < room ? want : room;
	struct edit *v = xcalloc(cap + 1, sizeof(*v));
	size_t k = 0;

	for (size_t b = 0; b < nbase && k < cap; b++) {
		const struct apply_rule *r = rule_for(s, base[b]->item);

		for (size_t e = 0; e < s->nitems && k < cap; e++) {
			if (!rule_takes(r, s->items[e].name))
				continue;
			v[k].base = base[b];
			v[k].it = &s->items[e];
			v[k].suffix = arena_printf(&x->dag->arena, "%s/%s",
						   image_name(base[b]),
						   s->items[e].name);
			v[k].id = arena_printf(&x->dag->arena, "%s/%s",
					       kind_name(KIND_EXPRESSION),
					       v[k].suffix);
			k++;
		}
	}
	*nedits = k;
	return v;
}

/* Make one expression edit, with its environment entry (or none). */
static void
expression_node(struct expander *x, const struct edit *ed,
		const struct assignment *a)
{
	const struct section *s = &x->r->sec[KIND_EXPRESSION];
	const struct section *env = &x->r->sec[KIND_ENVIRONMENT];
	const struct item *it = ed->it;
	const struct env_entry *en = a ? &env->rotate[a->entry] : NULL;
	struct gen_spec g = { .kind = KIND_EXPRESSION, .s = s, .it = it,
			      .from = ed->base };
	struct node *n;

	base_vars(x, &g.vars);
	g.vars.item = g.vars.expression =
		it->text ? it->text : name_words(x, it->name);
	g.vars.angle = ed->base->attrs[ATTR_ANGLE];
	g.vars.environment = en ? en->place : NULL;
	g.vars.lighting = en ? en->light : NULL;
	g.suffix = ed->suffix;
	g.tmpl = it->prompt ? it->prompt : s->prompt ? s->prompt
	       : "Change only the facial expression to: {expression}. Keep the face identity, pose and framing.";
	g.tmpl_loc = it->prompt ? it->prompt_loc
		   : s->prompt ? s->prompt_loc : it->loc;
	if (!(n = gen_node(x, &g)))
		return;
	n->attrs[ATTR_EXPRESSION] = g.vars.expression;
	set_env(n, &g.vars, en, a && a->moved);
	push_leaf(x, n);
}

static void
expand_expressions(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_EXPRESSION];
	const struct section *env = &x->r->sec[KIND_ENVIRONMENT];
	bool ride = env->present && env->with;
	size_t nbase, nedits;
	struct node **base;
	struct edit *edits;
	const char **ids;
	struct assignment *a = NULL;

	if (!s->present)
		return;
	if (!s->nitems) {
		diag_error(x->d, s->loc, "expression needs items:");
		return;
	}
	check_apply(x);
	base = take_leaves(x, &nbase);
	edits = plan_edits(x, base, nbase, &nedits);
	ids = xcalloc(nedits + 1, sizeof(*ids));
	for (size_t i = 0; i < nedits; i++)
		ids[i] = edits[i].id;
	if (ride)
		a = assign_envs(x, ids, nedits);
	for (size_t i = 0; i < nedits; i++)
		expression_node(x, &edits[i], a ? &a[i] : NULL);
	free(a);
	free(ids);
	free(edits);
	free(base);
	settle_leaves(x);
}

/* environment without with: an edit of every dataset image. */
static void
expand_environments(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_ENVIRONMENT];
	size_t nbase;
	struct node **base;
	const char **ids;
	struct assignment *a;

	if (!s->present)
		return;
	if (!s->nrotate) {
		diag_error(x->d, s->loc, "environment needs rotate: (a list of places)");
		return;
	}
	if (s->with) {
		if (!x->r->sec[KIND_EXPRESSION].present)
			diag_error(x->d, s->with_loc,
				   "with: expression, but the recipe has no expression section");
		return;
	}
	base = take_leaves(x, &nbase);
	ids = xcalloc(nbase + 1, sizeof(*ids));
	for (size_t b = 0; b < nbase; b++)
		ids[b] = arena_printf(&x->dag->arena, "%s/%s",
				      kind_name(KIND_ENVIRONMENT),
				      image_name(base[b]));
	a = assign_envs(x, ids, nbase);
	for (size_t b = 0; b < nbase; b++) {
		struct gen_spec g = { .kind = KIND_ENVIRONMENT, .s = s,
				      .from = base[b] };
		const struct env_entry *en = &s->rotate[a[b].entry];
		struct node *n;

		base_vars(x, &g.vars);
		g.vars.environment = en->place;
		g.vars.lighting = en->light;
		g.vars.expression = base[b]->attrs[ATTR_EXPRESSION];
		g.vars.angle = base[b]->attrs[ATTR_ANGLE];
		g.suffix = image_name(base[b]);
		g.tmpl = s->prompt ? s->prompt
		       : "Change only the background to {environment}, lit by {lighting}. Keep the person unchanged.";
		g.tmpl_loc = s->prompt ? s->prompt_loc : s->loc;
		if (!(n = gen_node(x, &g)))
			continue;
		set_env(n, &g.vars, en, a[b].moved);
		push_leaf(x, n);
	}
	free(a);
	free(ids);
	free(base);
	settle_leaves(x);
}

static void
expand_upscales(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_UPSCALE];

	if (!s->present)
		return;
	for (size_t i = 0; i < x->nleaves; i++) {
		struct node *in = x->leaves[i];
		struct node *n = new_node(x, KIND_UPSCALE,
					  image_name(in), s->loc);

		if (!n)
			continue;
		n->image = true;
		set_engine(x, n, s, "local");
		if (x->opts->engine_override && !s->engine)
			n->engine_type = "local"; /* an unnamed upscale is local */
		n->size = s->size;
		n->width = s->width;
		n->height = s->height;
		merge_params(x, n, s, NULL);
		if (strcmp(n->engine_type, "local") == 0 && !n->size && !n->width)
			n->size = 1024;
		add_input(x, n, in);
		inherit(n, in);
		set_seed(x, n, s, NULL, 0);
		x->leaves[i] = n;
	}
}

/* A vision node's question: its prompt, and the answer's JSON as Gemini's
 * structured output (params, so both are in the key). */
static void
ask_vision(struct expander *x, struct node *n, const struct vision_question *q)
{
	char *schema = vision_schema_json(q);

	n->prompt = q->prompt;
	n->params = arena_alloc(&x->dag->arena, 2 * sizeof(*n->params));
	n->params[0] = (struct param){ "responseMimeType", "\"application/json\"",
				       true };
	n->params[1] = (struct param){ "responseSchema",
				       arena_strdup(&x->dag->arena, schema), false };
	n->nparams = 2;
	free(schema);
}

/* The model of a vision node must answer JSON (engine_type.c's
 * FAMILY_VISION rows), unless --engine preview stands in. */
static void
check_vision_model(struct expander *x, const struct node *n,
		   const struct section *s)
{
	const struct engine_type *t = engine_type_find(n->engine_type);

	if (x->opts->engine_override || !t || !t->remote ||
	    engine_type_family(t, n->model) == FAMILY_VISION)
		return;
	diag_error(x->d, s->engine_loc.src ? s->engine_loc : s->loc,
		   "%s: model '%s' on '%s' does not look at images (a vision "
		   "model: %s on a gemini engine)", kind_name(n->kind == KIND_VISION
							      ? KIND_CAPTION : n->kind),
		   n->model ? n->model : "", n->engine_type, VISION_DEFAULT_MODEL);
}

/*
 * caption: engine: a vision node per dataset image asks the model what
 * varies in it (compiler/vision.h). vis[i] gets leaf i's, or NULL when
 * the captions are the recipe's own.
 */
static void
expand_vision(struct expander *x, struct node **vis)
{
	const struct section *s = &x->r->sec[KIND_CAPTION];
	struct section vs = *s;

	if (!s->engine)
		return;
	if (!vs.model)
		vs.model = VISION_DEFAULT_MODEL;
	for (size_t i = 0; i < x->nleaves; i++) {
		struct node *img = x->leaves[i];
		struct node *n = new_node(x, KIND_VISION, image_name(img),
					  s->engine_loc);

		if (!n)
			return;
		n->subject = img;
		set_engine(x, n, &vs, NULL);
		if (i == 0)
			check_vision_model(x, n, s);
		ask_vision(x, n, vision_caption());
		add_input(x, n, img);
		vis[i] = n;
	}
}

/*
 * The gate's references: the images against: names, in its order (the
 * hero when it names none), into refs (RECIPE_MAX_REFS of room); NULL for
 * closest, which each image resolves to its own (gate_refs_of). How
 * many, or 0 after an error (one names no image of the recipe).
 */
static size_t
gate_references(struct expander *x, const struct section *s, struct node **refs)
{
	const struct refs *a = &s->against;
	size_t n = a->n ? a->n : 1, found = 0;

	if (a->set && !a->n)
		return 0; /* an empty list, or one in error: said by recipe.c */
	for (size_t i = 0; i < n; i++) {
		const char *id = a->n ? a->ids[i] : "hero";
		struct node *ref = dag_find(x->dag, id);

		if (strcmp(id, REFS_CLOSEST) == 0) {
			refs[found++] = NULL;
			continue;
		}
		if (ref && ref->image) {
			refs[found++] = ref;
			continue;
		}
		diag_error(x->d, a->n ? a->locs[i] : s->loc,
			   "gate: against: '%s' is not an image of the recipe "
			   "(the hero, a keystone such as anchor/front, or closest)", id);
	}
	return found == n ? n : 0;
}

/* Refuse references that make gate g send more images than its model
 * takes (compiler/engine_type.c's max_images of the declared type: the
 * references and the judged image). */
static bool
check_gate_limit(struct expander *x, const struct node *g, const struct section *s,
		 size_t nrefs)
{
	const struct engine_type *t = engine_type_find(x->declared[KIND_GATE]);
	int max = engine_type_max_images(t, g->model);

	if (max < 0 || nrefs + 1 <= (size_t)max)
		return true;
	diag_error(x->d, s->against.loc,
		   "gate: %s takes at most %d images in all, and against: names %zu "
		   "references (each gate sends them and the image it judges: at "
		   "most %d references)", g->model ? g->model : t->name, max, nrefs,
		   max - 1);
	return false;
}

static bool
is_reference(struct node *const *refs, size_t n, const struct node *img)
{
	for (size_t i = 0; i < n; i++)
		if (refs[i] == img)
			return true;
	return false;
}

/*
 * The references gate img is judged against: against:'s, closest as the
 * anchor nearest in camera angle to img (never img itself), each once;
 * how many into out, or 0 after an error (said once).
 */
static size_t
gate_refs_of(struct expander *x, const struct section *s, struct node *img,
	     struct node *const *refs, size_t nrefs, struct node **out)
{
	size_t n = 0;

	for (size_t r = 0; r < nrefs; r++) {
		struct node *ref = refs[r] ? refs[r]
				 : closest_anchor(x, img, "gate: against",
						  s->against.loc);

		if (!ref)
			return 0;
		if (!is_reference(out, n, ref))
			out[n++] = ref;
	}
	return n;
}

/*
 * gate: a gate/IMAGE node per generated dataset image asks the vision
 * model whether it is still the references' character (compiler/vision.h):
 * its inputs are the references, in against:'s order, then the image.
 * Its verdict, recorded in the lock by the build, keeps a failed image
 * out of the package (dag_selected).
 */
static void
expand_gate(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_GATE];
	struct section gs = *s;
	struct node *refs[RECIPE_MAX_REFS], *mine[RECIPE_MAX_REFS];
	const struct vision_question *q;
	size_t nrefs, n_mine;
	int checked = 0;

	if (!s->present || !(nrefs = gate_references(x, s, refs)))
		return;
	if (!gs.model)
		gs.model = VISION_DEFAULT_MODEL;
	for (size_t i = 0; i < x->nleaves; i++) {
		struct node *img = x->leaves[i], *n;
		const char *framing = img->attrs[ATTR_FRAMING];

		if (!node_has_job(img) || is_reference(refs, nrefs, img))
			continue; /* the user's own photos are not judged */
		if (!(n_mine = gate_refs_of(x, s, img, refs, nrefs, mine)))
			return;
		if (!(n = new_node(x, KIND_GATE, image_name(img), s->loc)))
			return;
		n->subject = img;
		set_engine(x, n, &gs, NULL);
		if (!checked++) {
			check_vision_model(x, n, s);
			if (!check_gate_limit(x, n, s, nrefs))
				return;
		}
		q = vision_gate(n_mine);
		ask_vision(x, n, q);
		if (framing && strcmp(framing, "back") == 0)
			n->prompt = arena_printf(&x->dag->arena, "%s%s", n->prompt,
						 q->back_view);
		for (size_t r = 0; r < n_mine; r++)
			add_input(x, n, mine[r]);
		add_input(x, n, img);
	}
}

static void
expand_captions(struct expander *x)
{
	struct caption_set set;
	struct node **vis;

	if (!x->r->sec[KIND_CAPTION].present && !x->r->sec[KIND_PACKAGE].present)
		return;
	for (size_t i = 0; i < x->nleaves; i++)
		x->leaves[i]->leaf = true;
	vis = xcalloc(x->nleaves + 1, sizeof(*vis));
	expand_vision(x, vis);
	caption_set_init(&set, x->r, (const struct node *const *)x->leaves,
			 x->nleaves);
	for (size_t i = 0; i < x->nleaves; i++) {
		struct node *img = x->leaves[i];
		struct node *n = new_node(x, KIND_CAPTION,
					  image_name(img),
					  x->r->sec[KIND_CAPTION].present
						  ? x->r->sec[KIND_CAPTION].loc
						  : img->loc);

		if (!n)
			continue;
		n->subject = img;
		/* with a vision model, what the recipe knows: the answers
		 * fill the rest when it runs (quality/vision.c); every answer
		 * is an input, for the redundancy rule */
		n->caption = caption_build(&x->dag->arena, &set, img);
		for (size_t k = 0; k < x->nleaves && vis[k]; k++)
			add_input(x, n, vis[k]);
	}
	caption_set_release(&set);
	free(vis);
}

static void
expand_package(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_PACKAGE];
	struct node *n;

	if (!s->present)
		return;
	if (!(n = new_node(x, KIND_PACKAGE, NULL, s->loc)))
		return;
	n->size = s->size;
	n->width = s->width;
	n->height = s->height;
	for (size_t i = 0; i < x->nleaves; i++) {
		struct node *img = x->leaves[i];
		char *cid = xasprintf("caption/%s", image_name(img));

		add_input(x, n, img);
		add_input(x, n, dag_find(x->dag, cid));
		free(cid);
	}
	x->dag->package = n;
}

/* ---- the training ---- */

/* A param of the train node: name = value (canonical JSON), unless the
 * section's params: set name (those win). */
static void
train_param(struct expander *x, struct node *n, const struct section *s,
	    const char *name, const char *json)
{
	if (params_have(s->params, s->nparams, name))
		return;
	n->params[n->nparams++] = (struct param){
		.name = name, .value = arena_strdup(&x->dag->arena, json),
		.is_string = json[0] == '"'
	};
}

/* The trigger as a JSON string. */
static const char *
json_text(struct expander *x, const char *text)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	recipe_json_string(&b, text);
	out = arena_strdup(&x->dag->arena, b.data);
	buf_release(&b);
	return out;
}

/*
 * The trainer's fields, named as its endpoint names them (engine_type.c's
 * trainer table, not a chain of names here): the trigger, the caption
 * fallback, steps and learning rate; the section's params: go over
 * them. All are params, so all are in the key.
 */
static void
train_params(struct expander *x, struct node *n, const struct section *s,
	     const struct trainer *t)
{
	double lr = s->learning_rate >= 0 ? s->learning_rate : t->learning_rate;
	size_t nfields = 0;
	char num[32];

	for (const char *const *f = t->fields; f && *f; f += 2)
		nfields++;
	n->params = arena_alloc(&x->dag->arena,
				(s->nparams + 5 + nfields) * sizeof(*n->params));
	if (t->trigger_field)
		train_param(x, n, s, t->trigger_field, json_text(x, x->r->trigger));
	if (t->caption_field)
		train_param(x, n, s, t->caption_field, json_text(x, x->r->trigger));
	snprintf(num, sizeof(num), "%d", n->steps);
	train_param(x, n, s, "steps", num);
	if (lr > 0) {
		format_double(num, sizeof(num), lr);
		train_param(x, n, s, "learning_rate", num);
	}
	for (const char *const *f = t->fields; f && *f; f += 2)
		train_param(x, n, s, f[0], f[1]);
	for (size_t i = 0; i < s->nparams; i++)
		if (!param_is_null(&s->params[i]))
			n->params[n->nparams++] = s->params[i];
}

/* Does engine type name have trainers loramake knows (fal, replicate)? */
static bool
type_trains(const char *name)
{
	return !strcmp(name, "fal") || !strcmp(name, "replicate");
}

/* The engine entry a training runs on: engine:, else the one entry whose
 * type has trainers loramake knows (fal first). NULL after an error. */
static const struct engine_decl *
train_engine(struct expander *x, const struct section *s)
{
	const struct engine_decl *e = NULL;

	if (s->engine && !(e = recipe_engine(x->r, s->engine))) {
		unknown_engine(x, s, s->engine);
		return NULL;
	}
	for (size_t i = 0; !e && i < x->r->nengines; i++)
		if (strcmp(x->r->engines[i].type, "fal") == 0)
			e = &x->r->engines[i];
	if (!e)
		diag_error(x->d, s->loc, "train needs a fal engine: declare one "
			   "under engines: (type: fal, or type: replicate) and name "
			   "it in engine:");
	else if (!type_trains(e->type))
		diag_error(x->d, s->engine_loc.src ? s->engine_loc : s->loc,
			   "train runs on fal's or Replicate's trainers; engine '%s' "
			   "is of type %s", e->name, e->type);
	return e && type_trains(e->type) ? e : NULL;
}

/* Replicate's trainings name a version of the trainer and a model of the
 * user's that the weights go to. false after an error. */
static bool
replicate_training(struct expander *x, const struct section *s,
		   const char *model)
{
	if (!strchr(model, ':'))
		diag_error(x->d, s->loc, "a Replicate training names a version of "
			   "its trainer: model: %s:VERSION", model);
	else if (!s->destination || !strchr(s->destination, '/'))
		diag_error(x->d, s->loc, "a Replicate training needs destination: "
			   "OWNER/NAME, a model of yours its weights go to");
	else
		return true;
	return false;
}

/*
 * train: the package into a trainer, a LoRA file out. Only a build that
 * asks for the target `train` runs it (cli/session.c): the default
 * target is the package. --engine does not move it: a training runs on
 * its trainer or not at all.
 */
static void
expand_train(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_TRAIN];
	const struct engine_decl *e;
	const struct trainer *t;
	const char *model;
	struct node *n;

	if (!s->present)
		return;
	if (!x->dag->package) {
		diag_error(x->d, s->loc, "train needs a package: section (the ZIP "
			   "it trains on; format: fal-zip)");
		return;
	}
	if (x->r->sec[KIND_PACKAGE].format &&
	    strcmp(x->r->sec[KIND_PACKAGE].format, "fal-zip") != 0) {
		diag_error(x->d, s->loc, "train uploads a fal-zip package; this "
			   "package's format is %s", x->r->sec[KIND_PACKAGE].format);
		return;
	}
	if (!(e = train_engine(x, s)))
		return;
	model = s->model ? s->model : !strcmp(e->type, "fal")
		? engine_type_default_trainer(x->r->target) : NULL;
	if (!model) {
		diag_error(x->d, s->loc, "loramake knows no %s trainer for target "
			   "%s; name one in model:", e->type, x->r->target);
		return;
	}
	if (!(t = engine_type_trainer(engine_type_find(e->type), model))) {
		diag_error(x->d, s->loc, "'%s' is not a %s trainer loramake knows "
			   "(fal-ai/flux-lora-fast-training, fal-ai/flux-2-trainer, "
			   "fal-ai/z-image-trainer, ostris/flux-dev-lora-trainer:VERSION, "
			   "...)", model, e->type);
		return;
	}
	if (!strcmp(e->type, "replicate") && !replicate_training(x, s, model))
		return;
	if (!(n = new_node(x, KIND_TRAIN, x->r->name, s->loc)))
		return;
	n->engine = e;
	n->engine_type = e->type;
	n->model = model;
	n->steps = s->steps ? s->steps : t->steps;
	n->destination = s->destination;
	train_params(x, n, s, t);
	add_input(x, n, x->dag->package);
	x->dag->train = n;
}

/* ---- validation: prompts through an engine with the trained LoRA ---- */

/* Does model take the training's LoRA files as they come: one file, or
 * (WAN 2.2) one for each of its two experts? */
static bool
takes_the_loras(struct expander *x, const struct section *s,
		const struct engine_type *t, const char *model)
{
	const struct node *train = x->dag->train;
	int files = node_files_per_request(train);
	bool experts = engine_type_family(t, model) == FAMILY_LORA_EXPERTS;

	if (files > 1 && !experts)
		diag_error(x->d, s->loc, "'%s' takes one LoRA file; %s makes %d "
			   "(one for each expert of its model): validate on an "
			   "endpoint that takes them (%s)", model, train->model,
			   files, engine_type_default_validator("fal", "wan22"));
	else if (files == 1 && experts)
		diag_error(x->d, s->loc, "'%s' takes a LoRA file for each of its "
			   "two experts; %s makes one", model, train->model);
	return (files > 1) == experts;
}

/* The engine a validation runs on: engine:, else the training's. A model
 * that takes no LoRA is refused here, not when the request is paid. */
static const char *
validate_model(struct expander *x, const struct section *s,
	       const struct engine_decl *e)
{
	const struct engine_type *t = engine_type_find(e->type);
	const char *model = s->model ? s->model
			  : engine_type_default_validator(e->type, x->r->target);

	if (!model) {
		diag_error(x->d, s->loc, "loramake knows no %s endpoint that takes a "
			   "LoRA for target %s; name one in model:", e->type,
			   x->r->target);
		return NULL;
	}
	if (!(model_family_fields(engine_type_family(t, model)) & FIELD_LORA)) {
		diag_error(x->d, s->loc, "'%s' takes no LoRA; validate needs an "
			   "endpoint that does (fal-ai/flux-lora, ...)", model);
		return NULL;
	}
	if (!takes_the_loras(x, s, t, model))
		return NULL;
	return model;
}

/* One validation image: validate/NAME, the LoRA its input. */
static void
validate_node(struct expander *x, const struct section *s, const struct item *it,
	      const struct engine_decl *e, const char *model)
{
	struct placeholder_vars v;
	const char *tmpl = it && it->prompt ? it->prompt : s->prompt ? s->prompt
			 : "{trigger}, {item}";
	struct loc tloc = it && it->prompt ? it->prompt_loc
			: s->prompt ? s->prompt_loc : it ? it->loc : s->loc;
	struct node *n = new_node(x, KIND_VALIDATE, it ? it->name : x->r->name,
				  it ? it->loc : s->loc);

	if (!n)
		return;
	n->image = true;
	n->item = it ? it->name : NULL;
	n->engine = e;
	n->engine_type = e->type;
	n->model = model;
	n->lora_scale = s->scale >= 0 ? s->scale : 1;
	n->candidates = 1;
	base_vars(x, &v);
	v.item = it ? it->text ? it->text : name_words(x, it->name) : "";
	add_input(x, n, x->dag->train);
	set_aspect(x, n, s, it, model);
	n->prompt = expand_prompt(x, tmpl, tloc, &v);
	merge_params(x, n, s, it);
	set_seed(x, n, s, it, 0);
	x->dag->nvalidate++;
}

/*
 * validate: images made with the trained LoRA, after the training and
 * only by the target train, so a person sees what the LoRA does. Their
 * key holds the LoRA file's hash once it is made (compiler/key.c): an
 * image of one LoRA is never taken for another's.
 */
static void
expand_validate(struct expander *x)
{
	const struct section *s = &x->r->sec[KIND_VALIDATE];
	const struct engine_decl *e;
	const char *model;

	if (!s->present)
		return;
	if (!x->dag->train) {
		diag_error(x->d, s->loc, "validate needs a train: section (the LoRA "
			   "it tries)");
		return;
	}
	e = s->engine ? recipe_engine(x->r, s->engine) : x->dag->train->engine;
	if (!e) {
		unknown_engine(x, s, s->engine);
		return;
	}
	x->declared[KIND_VALIDATE] = e->type;
	if (!(model = validate_model(x, s, e)))
		return;
	if (!s->nitems && !s->prompt) {
		diag_error(x->d, s->loc, "validate needs items: (name: prompt) or "
			   "a prompt:");
		return;
	}
	if (!s->nitems)
		validate_node(x, s, NULL, e, model);
	for (size_t i = 0; i < s->nitems && !x->too_big; i++)
		validate_node(x, s, &s->items[i], e, model);
}

struct sides
dag_package_base(const struct node *pkg)
{
	struct sides s;

	if (pkg->width) {
		s.w = pkg->width;
		s.h = pkg->height;
	} else {
		s.w = s.h = pkg->size ? pkg->size
			  : caption_profile(pkg->recipe->target)->size;
	}
	return s;
}

struct sides
dag_package_sides(const struct node *pkg, const struct node *img)
{
	struct sides base = dag_package_base(pkg);
	struct aspect own = { base.w, base.h };

	if (!aspect_set(img->aspect) || aspect_same(img->aspect, own))
		return base;
	return shape_at_area(img->aspect, (long)base.w * base.h);
}

/* ---- fields an endpoint would drop ---- */

/* What a node sets that only some request families send. */
static const struct field_use {
	unsigned field;     /* FIELD_* */
	const char *key;    /* the recipe key that sets it */
	const char *words;  /* what the endpoint takes none of */
	const char *hint;   /* what to do instead; NULL: name the endpoints
			       of the type that take it */
} field_uses[] = {
	{ FIELD_STRENGTH, "strength", "strength", NULL },
	{ FIELD_NEGATIVE, "negative", "negative prompt", NULL },
	/* only the multiple-angles family takes no prompt */
	{ FIELD_PROMPT, "prompt", "prompt",
	  "it builds its own from the camera words; add words with params: { additional_prompt: ... }" },
};

/* The fields kind's section sends: its declared type's (not --engine
 * preview's: a recipe is judged as it would run) family for its model. A
 * model the type does not know takes every field. */
static unsigned
section_takes(const struct expander *x, enum node_kind k)
{
	const struct engine_type *t = engine_type_find(x->declared[k]);

	return model_family_fields(engine_type_family(t, x->r->sec[k].model));
}

/* "; endpoints that take one: A, B": u's hint, or the models of kind's
 * type whose requests carry u's field. */
static void
field_hint(const struct expander *x, enum node_kind k,
	   const struct field_use *u, struct buf *out)
{
	const struct engine_type *t = engine_type_find(x->declared[k]);
	size_t n = 0;

	if (u->hint) {
		buf_addf(out, " (%s)", u->hint);
		return;
	}
	for (size_t i = 0; t && i < t->nmodels; i++)
		if (model_family_fields(t->models[i].family) & u->field)
			buf_addf(out, "%s%s", n++ ? ", " : "; endpoints that take one: ",
				 t->models[i].id);
}

/*
 * Where the recipe set field u for node n, or NULL when it did not:
 * *it is the item that set it (NULL: the section, or the recipe), and
 * *inherited says it is the character's negative, which every section
 * takes. A prompt counts only when written: every node has one.
 */
static const struct loc *
field_set(const struct expander *x, const struct node *n,
	  const struct field_use *u, const struct item **it, bool *inherited)
{
	const struct section *s = &x->r->sec[n->kind];
	const struct item *own = n->item ? find_item(s, n->item) : NULL;

	*it = NULL;
	*inherited = false;
	switch (u->field) {
	case FIELD_STRENGTH:
		if (n->strength < 0)
			return NULL;
		if (!own || own->strength < 0)
			return &s->strength_loc;
		*it = own;
		return &own->strength_loc;
	case FIELD_NEGATIVE:
		if (!n->negative || !*n->negative)
			return NULL;
		if (s->negative)
			return &s->negative_loc;
		*inherited = true;
		return &x->r->negative_loc;
	default:
		if (!own || !own->prompt)
			return s->prompt ? &s->prompt_loc : NULL;
		*it = own;
		return &own->prompt_loc;
	}
}

/* Reports of field u for a kind, each place once. */
struct field_report {
	const struct node *first; /* the first node inheriting it */
	size_t n;                 /* how many inherit it */
	bool told;                /* the section's own setting is reported */
	bool *told_item;          /* per item index */
};

/* Say that node n's endpoint drops the u it was given (once a place). */
static void
drop_one(struct expander *x, const struct node *n, const struct field_use *u,
	 struct field_report *rep)
{
	const struct section *s = &x->r->sec[n->kind];
	const struct item *it;
	bool inherited, *told;
	const struct loc *loc = field_set(x, n, u, &it, &inherited);
	struct buf hint;

	if (!loc)
		return;
	if (inherited) {
		if (!rep->n++)
			rep->first = n;
		return;
	}
	told = it ? &rep->told_item[it - s->items] : &rep->told;
	if (*told)
		return;
	*told = true;
	buf_init(&hint);
	field_hint(x, n->kind, u, &hint);
	if (it)
		diag_error(x->d, *loc,
			   "%s takes no %s: %s would be made without it; remove %s:%s",
			   s->model, u->words, n->id, u->key, hint.data);
	else
		diag_error(x->d, *loc,
			   "%s takes no %s: the %s nodes (%s, ...) would be made without it; remove %s:%s",
			   s->model, u->words, kind_name(n->kind), n->id, u->key,
			   hint.data);
	buf_release(&hint);
}

/* The warning for the nodes that inherit a field their endpoint drops. */
static void
drop_inherited(struct expander *x, enum node_kind k, const struct field_use *u,
	       const struct field_report *rep)
{
	char more[64] = "";

	if (!rep->n)
		return;
	if (rep->n > 1)
		snprintf(more, sizeof(more), " and %zu more %s nodes", rep->n - 1,
			 kind_name(k));
	diag_warning(x->d, x->r->negative_loc,
		     "%s takes no %s: the character's %s: is not sent to %s%s",
		     x->r->sec[k].model, u->words, u->key, rep->first->id, more);
}

/*
 * strength:, negative: and prompt: reach an endpoint only if its request
 * family takes them (compiler/engine_type.h), so one the endpoint would
 * drop is said at plan time: an error where the recipe set it for those
 * nodes (their item or section), a warning naming them where they only
 * inherit it (the character's negative, which every section takes).
 */
static void
check_dropped_fields(struct expander *x)
{
	enum { NUSES = LM_ARRAY_LEN(field_uses) };
	struct field_report rep[KIND_COUNT][NUSES];

	memset(rep, 0, sizeof(rep));
	for (int k = 0; k < KIND_COUNT; k++)
		for (size_t f = 0; f < NUSES; f++)
			rep[k][f].told_item = xcalloc(x->r->sec[k].nitems + 1,
						      sizeof(bool));
	for (size_t i = 0; i < x->dag->nnodes; i++) {
		const struct node *n = x->dag->nodes[i];
		unsigned takes;

		if (!n->image || !node_has_job(n) || !x->declared[n->kind])
			continue;
		takes = section_takes(x, n->kind);
		for (size_t f = 0; f < NUSES; f++)
			if (!(takes & field_uses[f].field))
				drop_one(x, n, &field_uses[f], &rep[n->kind][f]);
	}
	for (int k = 0; k < KIND_COUNT; k++)
		for (size_t f = 0; f < NUSES; f++) {
			drop_inherited(x, k, &field_uses[f], &rep[k][f]);
			free(rep[k][f].told_item);
		}
}

/*
 * mix: targets against the planned set (every dataset image): a share
 * off by more than MIX_TOLERANCE points is said now, before anything is
 * paid, where the target is written.
 */
static void
check_mix(struct expander *x)
{
	const struct recipe *r = x->r;
	const char *const **attrs;
	size_t count;

	if (!r->nmix || !x->nleaves)
		return;
	attrs = xcalloc(x->nleaves, sizeof(*attrs));
	for (size_t i = 0; i < x->nleaves; i++)
		attrs[i] = x->leaves[i]->attrs;
	for (size_t i = 0; i < r->nmix; i++) {
		const struct mix_target *m = &r->mix[i];
		double share = mix_share(m, attrs, x->nleaves, &count);

		if (share < m->share - MIX_TOLERANCE || share > m->share + MIX_TOLERANCE)
			diag_warning(x->d, m->loc,
				     "mix: %s %s is %.0f%% of the planned set (%zu of %zu images), "
				     "more than %.0f points off its %g%%",
				     m->attr, m->value, share, count, x->nleaves,
				     MIX_TOLERANCE, m->share);
	}
	free(attrs);
}

/*
 * A recipe must make at least one image: one that makes none (only a
 * package, or nothing but engines) would build an empty dataset. Said
 * once, where the package is, else at the top; only when nothing else
 * went wrong, since an error elsewhere may be what dropped the images.
 */
static void
check_some_image(struct expander *x)
{
	const struct section *pkg = &x->r->sec[KIND_PACKAGE];
	struct loc at = { &x->dag->src, 1, 1 };

	if (x->d->nerrors)
		return;
	for (size_t i = 0; i < x->dag->nnodes; i++)
		if (x->dag->nodes[i]->image)
			return;
	diag_error(x->d, pkg->present ? pkg->loc : at,
		   "the recipe makes no images; give it a hero: (file: or prompt:), anchor files: or other sections (see recipes/quickstart)");
}

/* A workflow bigger is no exported workflow (they are kilobytes). */
#define MAX_WORKFLOW_BYTES (8u << 20)

/*
 * Read each comfyui engine's workflow: through the recipe folder's walk
 * (no link followed, nothing above the folder), into the arena; its hash
 * goes into the key of every node on the engine (compiler/key.c).
 */
static void
load_workflows(struct expander *x)
{
	for (size_t i = 0; i < x->r->nengines; i++) {
		struct engine_decl *e = &x->r->engines[i];
		struct error err;
		char *path, *data = NULL;
		size_t len = 0;

		if (!e->workflow)
			continue;
		path = path_resolve_inside(x->dag->dir, e->workflow, &err);
		if (path && read_file(path, &data, &len, &err) == 0 &&
		    len > MAX_WORKFLOW_BYTES)
			error_set(&err, "'%s' is %zu bytes, more than a workflow (%u bytes at most)",
				  e->workflow, len, MAX_WORKFLOW_BYTES);
		if (!data || len > MAX_WORKFLOW_BYTES) {
			diag_error(x->d, e->workflow_loc, "engine '%s': workflow: %s",
				   e->name, err.msg);
		} else {
			char *text = arena_alloc(&x->dag->arena, len + 1);

			memcpy(text, data, len + 1);
			e->workflow_path = arena_strdup(&x->dag->arena, path);
			e->workflow_text = text;
			e->workflow_len = len;
			e->workflow_hash = hash_bytes(data, len);
		}
		free(data);
		free(path);
	}
}

struct dag *
compile(const char *path, const struct compile_opts *opts, struct diag *d)
{
	static const struct compile_opts none;
	struct dag *dag = xcalloc(1, sizeof(*dag));
	struct expander x = { .dag = dag, .d = d, .opts = opts ? opts : &none };
	struct error err;
	struct ynode *root;

	arena_init(&dag->arena);
	htab_init(&dag->byid);
	htab_init(&x.bad_templates);
	htab_init(&x.told_refs);
	htab_init(&x.files);
	dag->recipe_path = xstrdup(path);
	dag->dir = path_dir(path);
	dag->picks = x.opts->picks;
	if (source_load(&dag->src, path, &err) < 0) {
		fprintf(d->out, "%s: error: %s\n", lm_progname, err.msg);
		d->nerrors++;
		goto fail;
	}
	if (ytree_parse(&dag->arena, &dag->src, d, &root) < 0)
		goto fail;
	if (recipe_load(&dag->recipe, &dag->arena, &dag->src, dag->dir, root, d) < 0)
		goto fail;
	x.r = &dag->recipe;
	if (x.opts->engine_override && strcmp(x.opts->engine_override, "preview") &&
	    !recipe_engine(x.r, x.opts->engine_override)) {
		fprintf(d->out, "%s: error: --engine '%s' is not an engine of this recipe\n",
			lm_progname, x.opts->engine_override);
		d->nerrors++;
		goto fail;
	}
	load_workflows(&x);
	expand_hero(&x);
	expand_anchors(&x);
	expand_angles(&x);
	prune_leaves(&x);
	expand_expressions(&x);
	expand_environments(&x);
	expand_upscales(&x);
	expand_gate(&x);
	expand_captions(&x);
	expand_package(&x);
	expand_train(&x);
	expand_validate(&x);
	check_mix(&x);
	check_dropped_fields(&x);
	check_some_image(&x);
	free(x.leaves);
	x.leaves = NULL;
	htab_release(&x.bad_templates);
	htab_release(&x.told_refs);
	htab_release(&x.files);
	trust_check(dag, x.opts->trust, d);
	if (d->nerrors)
		goto fail;
	dag_key(dag);
	dag_estimate(dag);
	return dag;
fail:
	free(x.leaves);
	htab_release(&x.bad_templates);
	htab_release(&x.told_refs);
	htab_release(&x.files);
	dag_free(dag);
	return NULL;
}

void
dag_free(struct dag *dag)
{
	if (!dag)
		return;
	for (size_t i = 0; i < dag->nnodes; i++) {
		free(dag->nodes[i]->in);
		free(dag->nodes[i]->out);
	}
	free(dag->nodes);
	htab_release(&dag->byid);
	source_release(&dag->src);
	free(dag->recipe_path);
	free(dag->dir);
	arena_release(&dag->arena);
	free(dag);
}

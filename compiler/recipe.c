/*
 * recipe: check a YAML tree against the recipe schema.
 *
 * Every key of every mapping is checked against the keys its place allows,
 * so a typo is an error with a "did you mean" hint rather than a silently
 * ignored setting that costs money later. Values are checked for type and
 * range here; cross references (from:, apply:) are checked in dag.c where
 * the node ids exist.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/htab.h"
#include "base/path.h"
#include "base/url.h"
#include "engine_type.h"
#include "recipe.h"

struct ctx {
	struct arena *a;
	struct diag *d;
	struct recipe *r;
};

static const char *const kind_names[KIND_COUNT] = {
	"hero", "anchor", "angle", "expression",
	"environment", "upscale", "caption", "package", "train", "validate",
	"vision", "gate",
};

const char *
kind_name(enum node_kind k)
{
	return kind_names[k];
}

/* The keys each place in a recipe allows; NULL-terminated. */
static const char *const top_keys[] = {
	"loramake", "name", "trigger", "target", "seed", "concurrency",
	"remote_cache", "engines", "character", "hero", "anchor", "angle", "expression",
	"environment", "upscale", "caption", "package", "train", "validate", "mix",
	"gate", NULL,
};
static const char *const engine_keys[] = {
	"type", "key_env", "url", "concurrency", "prices", "workflow", "inputs",
	NULL,
};
/* by enum workflow_value */
static const char *const workflow_values[WV_COUNT + 1] = {
	"prompt", "negative", "seed", "strength", "model", "image", NULL,
};
static const char *const character_keys[] = { "prompt", "negative", NULL };
static const char *const section_keys[KIND_COUNT][16] = {
	[KIND_HERO] = { "engine", "model", "prompt", "negative", "file",
			"candidates", "seed", "params", "aspect", NULL },
	[KIND_ANCHOR] = { "engine", "model", "prompt", "negative", "items",
			  "files", "from", "refs", "candidates", "count",
			  "seed", "strength", "params", "aspect", NULL },
	[KIND_ANGLE] = { "engine", "model", "prompt", "negative", "from",
			 "refs", "items", "candidates", "count", "seed",
			 "strength", "params", "aspect", NULL },
	[KIND_EXPRESSION] = { "engine", "model", "prompt", "negative",
			      "items", "apply", "refs", "candidates", "seed",
			      "strength", "params", "aspect", NULL },
	[KIND_ENVIRONMENT] = { "engine", "model", "prompt", "negative",
			       "with", "rotate", "seed", "strength", "params",
			       "aspect", NULL },
	[KIND_UPSCALE] = { "engine", "model", "size", "seed", "params", NULL },
	[KIND_CAPTION] = { "words", "identity", "style", "underscores", "engine",
			   "model", NULL },
	[KIND_PACKAGE] = { "format", "select", "size", "out", "stem", "repeats",
			   NULL },
	[KIND_TRAIN] = { "engine", "model", "steps", "learning_rate", "params",
			 "destination", NULL },
	[KIND_VALIDATE] = { "engine", "model", "prompt", "items", "seed", "scale",
			    "params", "aspect", NULL },
	[KIND_GATE] = { "engine", "model", "against", "min", NULL },
};
static const char *const item_keys[] = {
	"prompt", "text", "from", "refs", "file", "strength", "seed", "count",
	"candidates", "caption", "framing", "expression", "wardrobe", "pose",
	"place", "light", "params", "aspect", "category", NULL,
};
/* item keys that are caption attributes */
static const char *const attr_keys[] = {
	"expression", "wardrobe", "pose", "place", "light", NULL,
};
static const char *const rotate_keys[] = { "place", "light", NULL };
static const char *const targets[] = {
	"flux", "flux2", "zimage", "wan22", "sdxl", "sd15", NULL,
};
static const char *const caption_styles[] = { "prose", "tags", NULL };
/* the attributes a mix: may set shares of (dag.h's ATTR_* by name) */
static const char *const mix_attrs[] = {
	"category", "framing", "expression", "angle", "pose", "wardrobe",
	"place", "light", NULL,
};
static const char *const framings[] = {
	"closeup", "medium", "full", "back", NULL,
};
static const char *const formats[] = {
	"fal-zip", "kohya", "ai-toolkit", "imagefolder", NULL,
};
static const char *const selects[] = { "all", "picked", NULL };

static bool
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* v for a message: "a list", "a mapping", "empty", or its text quoted. */
static const char *
describe(const struct ynode *v, char *buf, size_t sz)
{
	if (v->kind != Y_SCALAR)
		return ynode_kind_name(v);
	if (ynode_is_null(v))
		return "empty";
	snprintf(buf, sz, "'%.40s%s'", v->str, v->len > 40 ? "..." : "");
	return buf;
}

/* Report "unknown key", with a hint when a known key is close. */
static void
unknown_key(struct ctx *c, const struct ynode *k, const char *where,
	    const char *const *allowed)
{
	const char *hint = closest_word(k->str, allowed, SIZE_MAX);

	if (hint)
		diag_error(c->d, k->loc, "unknown key '%s' in %s; did you mean '%s'?",
			   k->str, where, hint);
	else
		diag_error(c->d, k->loc, "unknown key '%s' in %s", k->str, where);
}

/*
 * Check that map is a mapping whose keys are text, unique and allowed
 * (allowed NULL: any text key). Returns false if map is not a mapping.
 */
static bool
check_map(struct ctx *c, const struct ynode *map, const char *where,
	  const char *const *allowed)
{
	char buf[64];
	struct htab seen; /* key text -> its first key node: a mapping may
			   * hold 100,000 items, so no pairwise compare */

	if (map->kind != Y_MAP) {
		diag_error(c->d, map->loc, "%s must be a mapping, not %s", where,
			   describe(map, buf, sizeof(buf)));
		return false;
	}
	htab_init(&seen);
	for (size_t i = 0; i < map->n; i += 2) {
		const struct ynode *k = map->items[i];

		if (k->kind != Y_SCALAR) {
			diag_error(c->d, k->loc, "a key in %s must be text", where);
			continue;
		}
		if (strlen(k->str) != k->len) {
			diag_error(c->d, k->loc, "a key in %s holds a NUL character",
				   where);
			continue;
		}
		const struct ynode *prev = htab_get(&seen, k->str, k->len);

		if (prev) {
			diag_error(c->d, k->loc, "duplicate key '%s' in %s", k->str,
				   where);
			diag_note(c->d, prev->loc, "first set here");
		} else {
			htab_put(&seen, k->str, k->len, (void *)k);
		}
		if (allowed && !in_list(allowed, k->str))
			unknown_key(c, k, where, allowed);
	}
	htab_release(&seen);
	return true;
}

/* The value under key in map, or NULL. */
static const struct ynode *
get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i += 2)
		if (map->items[i]->kind == Y_SCALAR &&
		    strcmp(map->items[i]->str, key) == 0)
			return map->items[i + 1];
	return NULL;
}

/* A text value: any scalar but null; no NUL bytes. */
static bool
as_text(struct ctx *c, const struct ynode *v, const char *what,
	const char **out)
{
	if (v->kind != Y_SCALAR || ynode_is_null(v)) {
		diag_error(c->d, v->loc, "%s must be text, not %s", what,
			   ynode_is_null(v) ? "empty" : ynode_kind_name(v));
		return false;
	}
	if (strlen(v->str) != v->len) {
		diag_error(c->d, v->loc, "%s holds a NUL character", what);
		return false;
	}
	*out = v->str;
	return true;
}

static bool
as_choice(struct ctx *c, const struct ynode *v, const char *what,
	  const char *const *choices, const char **out)
{
	const char *hint;

	if (!as_text(c, v, what, out))
		return false;
	if (in_list(choices, *out))
		return true;
	struct buf all;
	buf_init(&all);
	for (const char *const *p = choices; *p; p++)
		buf_addf(&all, "%s%s", p == choices ? "" : ", ", *p);
	hint = closest_word(*out, choices, SIZE_MAX);
	if (hint)
		diag_error(c->d, v->loc, "%s '%s' is not one of %s; did you mean '%s'?",
			   what, *out, all.data, hint);
	else
		diag_error(c->d, v->loc, "%s '%s' is not one of %s", what, *out,
			   all.data);
	buf_release(&all);
	return false;
}

/*
 * Is v written as a number (digits only, if whole) that parse_int64 or
 * parse_double refused? Then it is too big (or small), not malformed.
 */
static bool
is_numeral(const struct ynode *v, bool whole)
{
	const char *p = v->str;
	char *end;

	if (v->kind != Y_SCALAR || !v->plain)
		return false;
	if (*p == '-' || *p == '+')
		p++;
	if (!((*p >= '0' && *p <= '9') || *p == '.'))
		return false; /* not inf or nan */
	if (!whole) {
		strtod(p, &end);
		return *end == '\0';
	}
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static bool
as_number(struct ctx *c, const struct ynode *v, const char *what, double lo,
	  double hi, double *out)
{
	char a[32], b[32], buf[64];

	if (is_numeral(v, false) && !parse_double(v->str, out))
		*out = strtod(v->str, NULL); /* +-HUGE_VAL, or 0 if tiny */
	else if (v->kind != Y_SCALAR || !v->plain || !parse_double(v->str, out)) {
		diag_error(c->d, v->loc, "%s must be a number, not %s", what,
			   describe(v, buf, sizeof(buf)));
		return false;
	}
	if (*out < lo || *out > hi) {
		format_double(a, sizeof(a), lo);
		format_double(b, sizeof(b), hi);
		diag_error(c->d, v->loc, "%s must be between %s and %s, not %s",
			   what, a, b, v->str);
		return false;
	}
	return true;
}

static bool
as_int(struct ctx *c, const struct ynode *v, const char *what, int64_t lo,
       int64_t hi, int64_t *out)
{
	char buf[64];

	if (is_numeral(v, true) && !parse_int64(v->str, out))
		*out = v->str[0] == '-' ? INT64_MIN : INT64_MAX;
	else if (v->kind != Y_SCALAR || !v->plain || !parse_int64(v->str, out)) {
		diag_error(c->d, v->loc, "%s must be a whole number, not %s", what,
			   describe(v, buf, sizeof(buf)));
		return false;
	}
	if (*out < lo || *out > hi) {
		diag_error(c->d, v->loc,
			   "%s must be between %lld and %lld, not %s", what,
			   (long long)lo, (long long)hi, v->str);
		return false;
	}
	return true;
}

/* true or false, as YAML writes them. */
static void
get_bool(struct ctx *c, const struct ynode *v, const char *what, bool *out)
{
	char buf[64];

	if (v->kind == Y_SCALAR && v->plain && strcmp(v->str, "true") == 0)
		*out = true;
	else if (v->kind == Y_SCALAR && v->plain && strcmp(v->str, "false") == 0)
		*out = false;
	else
		diag_error(c->d, v->loc, "%s takes true or false, not %s", what,
			   describe(v, buf, sizeof(buf)));
}

static void
get_text(struct ctx *c, const struct ynode *map, const char *key,
	 const char **out, struct loc *loc)
{
	const struct ynode *v = get(map, key);

	if (v && as_text(c, v, key, out) && loc)
		*loc = v->loc;
}

#define REF_WHAT "a ref (a node id, e.g. anchor/front)"

/* refs: [ID, ...] (or one ID): node ids, each text, none twice; key
 * names the place (refs, against), what names one of them. */
static void
get_refs(struct ctx *c, const struct ynode *map, const char *key,
	 const char *what, struct refs *r)
{
	const struct ynode *v = get(map, key);
	const struct ynode *const *ids;
	size_t n;

	if (!v)
		return;
	r->set = true;
	r->loc = v->loc;
	ids = v->kind == Y_SEQ ? (const struct ynode *const *)v->items : &v;
	n = v->kind == Y_SEQ ? v->n : 1;
	if (n > RECIPE_MAX_REFS) {
		diag_error(c->d, v->loc, "%s takes at most %d images, not %zu",
			   key, RECIPE_MAX_REFS, n);
		return;
	}
	r->ids = arena_alloc(c->a, (n + 1) * sizeof(*r->ids));
	r->locs = arena_alloc(c->a, (n + 1) * sizeof(*r->locs));
	for (size_t i = 0; i < n; i++) {
		const char *id;

		if (!as_text(c, ids[i], what, &id))
			continue;
		for (size_t k = 0; k < r->n; k++)
			if (strcmp(r->ids[k], id) == 0) {
				diag_error(c->d, ids[i]->loc, "'%s' is in %s twice", id, key);
				id = NULL;
				break;
			}
		if (!id)
			continue;
		r->locs[r->n] = ids[i]->loc;
		r->ids[r->n++] = id;
	}
}

/*
 * remote_cache: the team cache a recipe suggests. Only a suggestion: the
 * recipe may be a stranger's, so plan shows it and nothing uses it until
 * the user names it (LORAMAKE_REMOTE_CACHE, docs/remote-cache.md). It may
 * carry no secret: no user or password (url.c refuses them), no query.
 */
static void
get_remote_cache(struct ctx *c, const struct ynode *root)
{
	const struct ynode *v = get(root, "remote_cache");
	struct error err;

	if (!v || !as_text(c, v, "remote_cache", &c->r->remote_cache))
		return;
	if (url_check(c->r->remote_cache, NULL, &err) < 0)
		diag_error(c->d, v->loc, "remote_cache: %s", err.msg);
	else if (strpbrk(c->r->remote_cache, "?#"))
		diag_error(c->d, v->loc, "remote_cache: a URL with no query or fragment "
			   "(a recipe carries no secret; the user's header goes in "
			   "$LORAMAKE_REMOTE_CACHE_HEADER)");
}

static void
get_int(struct ctx *c, const struct ynode *map, const char *key, int64_t lo,
	int64_t hi, int *out)
{
	const struct ynode *v = get(map, key);
	int64_t n;

	if (v && as_int(c, v, key, lo, hi, &n))
		*out = (int)n;
}

static void
get_seed(struct ctx *c, const struct ynode *map, int64_t *out)
{
	const struct ynode *v = get(map, "seed");

	if (v)
		as_int(c, v, "seed", 0, 4294967295LL, out);
}

static void
get_strength(struct ctx *c, const struct ynode *map, double *out,
	     struct loc *loc)
{
	const struct ynode *v = get(map, "strength");

	if (v && as_number(c, v, "strength", 0, 1, out))
		*loc = v->loc;
}

/* aspect: W:H into *out (and where it is written). */
static void
get_aspect(struct ctx *c, const struct ynode *map, struct aspect *out,
	   struct loc *loc)
{
	const struct ynode *v = get(map, "aspect");
	const char *text;
	char why[160];

	if (!v || !as_text(c, v, "aspect", &text))
		return;
	if (!aspect_parse(text, out, why, sizeof(why)))
		diag_error(c->d, v->loc, "%s", why);
	else
		*loc = v->loc;
}

/* "768 x 1152", "768x1152": two whole numbers around an x. */
static bool
parse_sides(const char *s, int64_t *w, int64_t *h)
{
	char a[16], b[16], *x;
	size_t la;

	x = strpbrk(s, "xX");
	if (!x || (la = (size_t)(x - s)) >= sizeof(a) || strlen(x + 1) >= sizeof(b))
		return false;
	memcpy(a, s, la);
	a[la] = '\0';
	snprintf(b, sizeof(b), "%s", x + 1);
	for (char *p = a + la; p > a && p[-1] == ' '; )
		*--p = '\0';
	return parse_int64(a + strspn(a, " "), w) &&
	       parse_int64(b + strspn(b, " "), h);
}

/*
 * size: SIDE (a square, as before), W x H or [W, H]. A square W x H is
 * the side alone, so it keys as size: SIDE does; other sides must be
 * multiples of 64, the trainers' bucket step.
 */
static void
get_size(struct ctx *c, const struct ynode *map, struct section *s)
{
	const struct ynode *v = get(map, "size");
	int64_t w, h;

	if (!v)
		return;
	s->size_loc = v->loc;
	if (v->kind == Y_SCALAR && (!v->plain || strpbrk(v->str, "xX") ||
				    !is_numeral(v, true))) {
		if (!parse_sides(v->str, &w, &h)) {
			diag_error(c->d, v->loc,
				   "size takes a side (1024), W x H (832 x 1216) or [W, H], not '%.40s'",
				   v->str);
			return;
		}
	} else if (v->kind == Y_SEQ) {
		if (v->n != 2) {
			diag_error(c->d, v->loc, "size takes [W, H], two sides");
			return;
		}
		if (!as_int(c, v->items[0], "size width", 64, 8192, &w) ||
		    !as_int(c, v->items[1], "size height", 64, 8192, &h))
			return;
	} else {
		get_int(c, map, "size", 64, 8192, &s->size);
		return;
	}
	if (w < 64 || w > 8192 || h < 64 || h > 8192) {
		diag_error(c->d, v->loc, "size sides must be between 64 and 8192, not %lld x %lld",
			   (long long)w, (long long)h);
		return;
	}
	if (w == h) {
		s->size = (int)w;
	} else if (w % SHAPE_STEP || h % SHAPE_STEP) {
		diag_error(c->d, v->loc,
			   "size %lld x %lld: sides must be multiples of %d (trainers bucket in %ds): %lld x %lld?",
			   (long long)w, (long long)h, SHAPE_STEP, SHAPE_STEP,
			   (long long)(w + SHAPE_STEP / 2) / SHAPE_STEP * SHAPE_STEP,
			   (long long)(h + SHAPE_STEP / 2) / SHAPE_STEP * SHAPE_STEP);
	} else {
		s->width = (int)w;
		s->height = (int)h;
	}
}

/* Is s a name usable in node ids and file names? */
static bool
is_identifier(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == '-' || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/*
 * Write v as canonical JSON: mappings with sorted keys, numbers in their
 * shortest form, so reformatting a recipe never changes a key.
 */
void
recipe_json_string(struct buf *out, const char *text)
{
	buf_addc(out, '"');
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addf(out, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			buf_addf(out, "\\u%04x", *p);
		else
			buf_addc(out, *p);
	}
	buf_addc(out, '"');
}

static void
canonical_json(struct buf *out, const struct ynode *v)
{
	double num;

	if (v->kind == Y_SCALAR) {
		if (v->plain && ynode_is_null(v)) {
			buf_adds(out, "null");
		} else if (v->plain && (strcmp(v->str, "true") == 0 ||
					strcmp(v->str, "false") == 0)) {
			buf_adds(out, v->str);
		} else if (v->plain && parse_double(v->str, &num)) {
			char tmp[32];

			format_double(tmp, sizeof(tmp), num);
			buf_adds(out, tmp);
		} else {
			recipe_json_string(out, v->str);
		}
		return;
	}
	if (v->kind == Y_SEQ) {
		buf_addc(out, '[');
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				buf_addc(out, ',');
			canonical_json(out, v->items[i]);
		}
		buf_addc(out, ']');
		return;
	}
	/* mapping: emit pairs in key order (selection sort: maps are small) */
	buf_addc(out, '{');
	const char *last = NULL;
	for (size_t done = 0; done < v->n / 2; done++) {
		size_t best = SIZE_MAX;

		for (size_t i = 0; i < v->n; i += 2) {
			const char *k = v->items[i]->str;

			if (last && strcmp(k, last) <= 0)
				continue;
			if (best == SIZE_MAX || strcmp(k, v->items[best]->str) < 0)
				best = i;
		}
		if (best == SIZE_MAX)
			break;
		if (done)
			buf_addc(out, ',');
		canonical_json(out, v->items[best]);
		buf_addc(out, ':');
		canonical_json(out, v->items[best + 1]);
		last = v->items[best]->str;
	}
	buf_addc(out, '}');
}

/* Are the keys of every mapping inside v text? Reports the first that is not. */
static bool
text_keys(struct ctx *c, const struct ynode *v)
{
	for (size_t i = 0; v->kind != Y_SCALAR && i < v->n; i++) {
		const struct ynode *k = v->items[i];

		if (v->kind == Y_MAP && i % 2 == 0 &&
		    (k->kind != Y_SCALAR || strlen(k->str) != k->len)) {
			diag_error(c->d, k->loc, "a key in params must be text");
			return false;
		}
		if (!text_keys(c, k))
			return false;
	}
	return true;
}

/* The mapping under key of map as canonical JSON values (params:, a
 * comfyui engine's inputs:). */
static void
get_values(struct ctx *c, const struct ynode *map, const char *key,
	   struct param **out, size_t *nout)
{
	const struct ynode *v = get(map, key);
	struct buf b;

	if (!v || !check_map(c, v, key, NULL) || !text_keys(c, v))
		return;
	*out = arena_alloc(c->a, (v->n / 2 + 1) * sizeof(**out));
	buf_init(&b);
	for (size_t i = 0; i < v->n; i += 2) {
		struct param *p = &(*out)[(*nout)++];

		if (v->items[i]->kind != Y_SCALAR)
			continue;
		buf_reset(&b);
		canonical_json(&b, v->items[i + 1]);
		p->name = v->items[i]->str;
		p->value = arena_strdup(c->a, b.data);
		p->is_string = b.data[0] == '"';
	}
	buf_release(&b);
}

/* Does section kind k take key (section_keys)? Items take what their
 * section takes: count: makes copies only where the section can. */
static bool
section_takes(enum node_kind k, const char *key)
{
	for (const char *const *p = section_keys[k]; *p; p++)
		if (strcmp(*p, key) == 0)
			return true;
	return false;
}

static void
load_item(struct ctx *c, enum node_kind k, const struct ynode *key,
	  const struct ynode *v, struct item *it)
{
	char where[96];

	it->name = key->str;
	it->loc = key->loc;
	it->strength = -1;
	it->seed = -1;
	if (!is_identifier(it->name))
		diag_error(c->d, key->loc,
			   "item name '%s' may hold only letters, digits, '_' and '-'",
			   it->name);
	if (v->kind == Y_SCALAR) {
		if (ynode_is_null(v))
			return; /* `front:` alone: the name is the item */
		if (as_text(c, v, "an item", &it->text))
			it->text_loc = v->loc;
		return;
	}
	snprintf(where, sizeof(where), "%s item '%s'", kind_name(k), it->name);
	if (!check_map(c, v, where, item_keys))
		return;
	get_text(c, v, "text", &it->text, &it->text_loc);
	get_text(c, v, "prompt", &it->prompt, &it->prompt_loc);
	get_text(c, v, "from", &it->from, &it->from_loc);
	get_refs(c, v, "refs", REF_WHAT, &it->refs);
	get_text(c, v, "file", &it->file, &it->file_loc);
	if (it->refs.set && !section_takes(k, "refs"))
		diag_error(c->d, it->refs.loc,
			   "%s items take no refs: (only anchor, angle and expression edits send images beside their source)",
			   kind_name(k));
	else if (it->refs.set && it->file)
		diag_error(c->d, it->refs.loc,
			   "a file: item is the user's image, nothing makes it: refs: has no use there");
	get_text(c, v, "caption", &it->caption, NULL);
	get_text(c, v, "category", &it->category, NULL);
	if (get(v, "aspect") && !section_takes(k, "aspect"))
		diag_error(c->d, get(v, "aspect")->loc,
			   "%s items take no aspect: (they keep their input's shape; set it on the package's size:)",
			   kind_name(k));
	else
		get_aspect(c, v, &it->aspect, &it->aspect_loc);
	get_strength(c, v, &it->strength, &it->strength_loc);
	get_seed(c, v, &it->seed);
	if (get(v, "count") && !section_takes(k, "count"))
		diag_error(c->d, get(v, "count")->loc,
			   "%s items take no count: (each is made once for every image it applies to); use candidates: for alternatives to pick from",
			   kind_name(k));
	else
		get_int(c, v, "count", 1, RECIPE_MAX_COUNT, &it->count);
	get_int(c, v, "candidates", 1, RECIPE_MAX_COUNT, &it->candidates);
	const struct ynode *f = get(v, "framing");
	if (f)
		as_choice(c, f, "framing", framings, &it->framing);
	it->attrs = arena_alloc(c->a, LM_ARRAY_LEN(attr_keys) * sizeof(*it->attrs));
	for (const char *const *a = attr_keys; *a; a++) {
		const char *val = NULL;

		get_text(c, v, *a, &val, NULL);
		if (val) {
			it->attrs[it->nattrs].name = *a;
			it->attrs[it->nattrs++].value = val;
		}
	}
	get_values(c, v, "params", &it->params, &it->nparams);
}

/* items: [front, back]: a plain list of names (where: for messages) */
static void
load_item_list(struct ctx *c, enum node_kind k, const struct ynode *items,
	       const char *where, struct section *s)
{
	static const struct ynode null_node = { .kind = Y_SCALAR, .str = "",
						.plain = true };
	struct htab seen; /* names so far (a hash set: lists can be long) */

	htab_init(&seen);
	s->items = arena_alloc(c->a, (items->n + 1) * sizeof(*s->items));
	for (size_t i = 0; i < items->n; i++) {
		const struct ynode *v = items->items[i];

		if (v->kind != Y_SCALAR || ynode_is_null(v)) {
			diag_error(c->d, v->loc,
				   "a list of items holds names; use a mapping to give each item settings");
			continue;
		}
		if (htab_put(&seen, v->str, v->len, (void *)v)) {
			diag_error(c->d, v->loc, "duplicate item '%s' in %s",
				   v->str, where);
			continue;
		}
		load_item(c, k, v, &null_node, &s->items[s->nitems++]);
	}
	htab_release(&seen);
}

static void
load_items(struct ctx *c, enum node_kind k, const struct ynode *sec,
	   struct section *s)
{
	const struct ynode *items = get(sec, "items");
	char where[64];

	if (!items)
		return;
	snprintf(where, sizeof(where), "%s items", kind_name(k));
	if (items->kind == Y_SCALAR && !ynode_is_null(items)) {
		diag_error(c->d, items->loc,
			   "%s must be a mapping (name: words) or a list of names, not '%s'",
			   where, items->str);
		return;
	}
	if (items->n == 0) {
		diag_error(c->d, items->loc, "%s has no items (%s is empty)",
			   kind_name(k), "items:");
		return;
	}
	if (items->kind == Y_SEQ) {
		load_item_list(c, k, items, where, s);
		return;
	}
	if (!check_map(c, items, where, NULL))
		return;
	s->items = arena_alloc(c->a, (items->n / 2 + 1) * sizeof(*s->items));
	for (size_t i = 0; i < items->n; i += 2)
		if (items->items[i]->kind == Y_SCALAR)
			load_item(c, k, items->items[i], items->items[i + 1],
				  &s->items[s->nitems++]);
}

/* apply: { angle: all | skip | none | name | [names] } */
static void
load_apply(struct ctx *c, const struct ynode *sec, struct section *s)
{
	const struct ynode *ap = get(sec, "apply");

	if (!ap || !check_map(c, ap, "apply", NULL))
		return;
	s->apply = arena_alloc(c->a, (ap->n / 2 + 1) * sizeof(*s->apply));
	for (size_t i = 0; i < ap->n; i += 2) {
		const struct ynode *k = ap->items[i], *v = ap->items[i + 1];
		struct apply_rule *r = &s->apply[s->napply];

		if (k->kind != Y_SCALAR)
			continue; /* check_map said so */
		s->napply++;
		r->angle = k->str;
		r->loc = k->loc;
		if (v->kind == Y_SCALAR && v->plain &&
		    (strcmp(v->str, "all") == 0)) {
			r->all = true;
		} else if (v->kind == Y_SCALAR && v->plain &&
			   (strcmp(v->str, "skip") == 0 ||
			    strcmp(v->str, "none") == 0)) {
			r->skip = true;
		} else if (v->kind == Y_SCALAR && !ynode_is_null(v)) {
			r->names = arena_alloc(c->a, sizeof(*r->names));
			r->name_locs = arena_alloc(c->a, sizeof(*r->name_locs));
			r->name_locs[r->nnames] = v->loc;
			r->names[r->nnames++] = v->str;
		} else if (v->kind == Y_SEQ) {
			r->names = arena_alloc(c->a, (v->n + 1) * sizeof(*r->names));
			r->name_locs = arena_alloc(c->a,
						   (v->n + 1) * sizeof(*r->name_locs));
			for (size_t j = 0; j < v->n; j++) {
				r->name_locs[r->nnames] = v->items[j]->loc;
				if (as_text(c, v->items[j], "an expression name",
					    &r->names[r->nnames]))
					r->nnames++;
			}
		} else {
			diag_error(c->d, v->loc,
				   "apply takes all, skip, or a list of expression names");
		}
	}
}

static void
load_rotate(struct ctx *c, const struct ynode *sec, struct section *s)
{
	const struct ynode *rot = get(sec, "rotate");

	if (!rot)
		return;
	if (rot->kind != Y_SEQ || rot->n == 0) {
		diag_error(c->d, rot->loc,
			   "rotate takes a list of { place, light } entries");
		return;
	}
	s->rotate = arena_alloc(c->a, rot->n * sizeof(*s->rotate));
	for (size_t i = 0; i < rot->n; i++) {
		const struct ynode *e = rot->items[i];
		struct env_entry *env = &s->rotate[s->nrotate++];

		env->loc = e->loc;
		if (e->kind == Y_SCALAR) {
			as_text(c, e, "an environment", &env->place);
			continue;
		}
		if (!check_map(c, e, "an environment", rotate_keys))
			continue;
		get_text(c, e, "place", &env->place, NULL);
		get_text(c, e, "light", &env->light, NULL);
		if (!env->place)
			diag_error(c->d, e->loc, "an environment needs a place");
	}
}

/* caption words: [min, max]: bounds that replace the target profile's. */
static void
load_words(struct ctx *c, const struct ynode *sec, struct section *s)
{
	const struct ynode *w = get(sec, "words");
	int64_t lo, hi;

	if (!w)
		return;
	if (w->kind != Y_SEQ || w->n != 2) {
		diag_error(c->d, w->loc,
			   "words takes [min, max], e.g. [30, 80]");
		return;
	}
	if (!as_int(c, w->items[0], "words min", 1, 1000, &lo) ||
	    !as_int(c, w->items[1], "words max", 1, 1000, &hi))
		return;
	if (lo > hi) {
		diag_error(c->d, w->items[1]->loc,
			   "words max (%lld) is below words min (%lld)",
			   (long long)hi, (long long)lo);
		return;
	}
	s->words_min = (int)lo;
	s->words_max = (int)hi;
}

/* caption identity: [words]: identity words a caption must never hold. */
static void
load_identity(struct ctx *c, const struct ynode *sec, struct section *s)
{
	const struct ynode *v = get(sec, "identity");

	if (!v)
		return;
	if (v->kind != Y_SEQ) {
		diag_error(c->d, v->loc,
			   "identity takes a list of words, e.g. [blue braids, freckles]");
		return;
	}
	s->identity = arena_alloc(c->a, (v->n + 1) * sizeof(*s->identity));
	s->identity_locs = arena_alloc(c->a, (v->n + 1) * sizeof(*s->identity_locs));
	for (size_t i = 0; i < v->n; i++) {
		s->identity_locs[s->nidentity] = v->items[i]->loc;
		if (as_text(c, v->items[i], "an identity word",
			    &s->identity[s->nidentity]))
			s->nidentity++;
	}
}

/* A folder layout cannot be written to a .zip, nor a ZIP to a folder. */
static void
check_out(struct ctx *c, struct section *s)
{
	const char *dot = s->out ? strrchr(s->out, '.') : NULL;
	bool zip = dot && strcmp(dot, ".zip") == 0;
	bool folder = s->format && strcmp(s->format, "fal-zip") != 0;

	if (!s->out || (s->format && !in_list(formats, s->format)))
		return; /* a bad format is reported already */
	if (folder && zip)
		diag_error(c->d, s->out_loc,
			   "format %s writes a folder; out: '%s' names a ZIP",
			   s->format, s->out);
	else if (!folder && !zip)
		diag_error(c->d, s->out_loc,
			   "format fal-zip writes a ZIP; out: '%s' should end in .zip",
			   s->out);
}

/*
 * Check section k (key is its name in the recipe, v its value). Its loc is
 * the key's, where "hero needs ..." should point.
 */
static void
load_section(struct ctx *c, enum node_kind k, const struct ynode *key,
	     const struct ynode *v)
{
	struct section *s = &c->r->sec[k];
	const struct ynode *n;

	s->present = true;
	s->loc = key->loc;
	s->strength = -1;
	s->seed = -1;
	s->learning_rate = -1;
	s->scale = -1;
	s->min = -1;
	if (ynode_is_null(v))
		return; /* `caption:` alone takes the defaults */
	if (!check_map(c, v, kind_name(k), section_keys[k]))
		return;
	get_text(c, v, "engine", &s->engine, &s->engine_loc);
	get_text(c, v, "model", &s->model, NULL);
	if (s->model && !*s->model)
		diag_error(c->d, get(v, "model")->loc,
			   "model is empty; give the endpoint id (e.g. fal-ai/nano-banana-pro/edit) or leave model: out");
	get_text(c, v, "prompt", &s->prompt, &s->prompt_loc);
	get_text(c, v, "negative", &s->negative, &s->negative_loc);
	get_text(c, v, "from", &s->from, &s->from_loc);
	get_refs(c, v, "refs", REF_WHAT, &s->refs);
	get_text(c, v, "file", &s->file, &s->file_loc);
	get_text(c, v, "files", &s->files, &s->files_loc);
	get_text(c, v, "with", &s->with, &s->with_loc);
	get_text(c, v, "out", &s->out, &s->out_loc);
	get_text(c, v, "stem", &s->stem, NULL);
	get_text(c, v, "destination", &s->destination, NULL);
	get_strength(c, v, &s->strength, &s->strength_loc);
	get_seed(c, v, &s->seed);
	get_int(c, v, "count", 1, RECIPE_MAX_COUNT, &s->count);
	get_int(c, v, "candidates", 1, RECIPE_MAX_COUNT, &s->candidates);
	get_size(c, v, s);
	get_aspect(c, v, &s->aspect, &s->aspect_loc);
	if ((n = get(v, "style")) && as_choice(c, n, "caption style",
						caption_styles, &s->style))
		s->style_loc = n->loc;
	if ((n = get(v, "underscores")))
		get_bool(c, n, "underscores", &s->underscores);
	if ((n = get(v, "format")))
		as_choice(c, n, "format", formats, &s->format);
	if ((n = get(v, "select")))
		as_choice(c, n, "select", selects, &s->select);
	if (s->with && strcmp(s->with, "expression") != 0)
		diag_error(c->d, s->with_loc,
			   "with: takes 'expression' (the pass whose edit carries the environment)");
	if (s->out && !path_is_contained(s->out))
		diag_error(c->d, s->out_loc,
			   "out: '%s' is outside the recipe's folder", s->out);
	if (s->stem && !is_identifier(s->stem))
		diag_error(c->d, get(v, "stem")->loc,
			   "stem may hold only letters, digits, '_' and '-'");
	get_int(c, v, "repeats", 1, RECIPE_MAX_REPEATS, &s->repeats);
	get_int(c, v, "steps", 1, RECIPE_MAX_STEPS, &s->steps);
	if ((n = get(v, "steps")))
		s->steps_loc = n->loc;
	if ((n = get(v, "learning_rate")))
		as_number(c, n, "learning_rate", 1e-7, 0.1, &s->learning_rate);
	get_refs(c, v, "against", "a reference (a node id, e.g. hero or anchor/front)",
		 &s->against);
	if ((n = get(v, "against")) && n->kind == Y_SEQ && !n->n)
		diag_error(c->d, n->loc, "gate: against: names no image (the hero, "
			   "or keystones such as [hero, anchor/front])");
	if ((n = get(v, "min")))
		as_number(c, n, "min", 0, 1, &s->min);
	if ((n = get(v, "scale")))
		as_number(c, n, "scale", 0, 4, &s->scale);
	if (k == KIND_CAPTION) {
		load_words(c, v, s);
		load_identity(c, v, s);
	}
	if (k == KIND_PACKAGE)
		check_out(c, s);
	get_values(c, v, "params", &s->params, &s->nparams);
	load_items(c, k, v, s);
	if (k == KIND_EXPRESSION)
		load_apply(c, v, s);
	if (k == KIND_ENVIRONMENT)
		load_rotate(c, v, s);
}

static void
load_prices(struct ctx *c, const struct ynode *v, struct engine_decl *e)
{
	if (!check_map(c, v, "prices", NULL))
		return;
	e->prices = arena_alloc(c->a, (v->n / 2 + 1) * sizeof(*e->prices));
	for (size_t i = 0; i < v->n; i += 2) {
		struct price *p = &e->prices[e->nprices];

		if (as_number(c, v->items[i + 1], "a price", 0, 1000, &p->usd)) {
			p->model = v->items[i]->str;
			e->nprices++;
		}
	}
}

/* The declarable engine types' names, NULL-terminated, for as_choice. */
static const char *const *
declarable_types(void)
{
	static const char *names[32];
	size_t n, k = 0;
	const struct engine_type *t = engine_types(&n);

	for (size_t i = 0; i < n && k + 1 < LM_ARRAY_LEN(names); i++)
		if (t[i].declarable)
			names[k++] = t[i].name;
	names[k] = NULL;
	return names;
}

/* The engine's type, refused (false) when loramake cannot run it yet. */
static bool
load_type(struct ctx *c, const struct ynode *v, struct engine_decl *ed)
{
	const struct engine_type *t;
	char runnable[256];

	if (!as_choice(c, v, "engine type", declarable_types(), &ed->type))
		return false;
	t = engine_type_find(ed->type);
	if (!t->runs) {
		diag_error(c->d, v->loc,
			   "engine type '%s' has no engine in this loramake yet (types that run: %s)",
			   ed->type, engine_type_list(runnable, sizeof(runnable), true));
		return false;
	}
	ed->key_env = t->key_envs ? t->key_envs[0] : NULL;
	return true;
}

int
workflow_value(const char *name, size_t len, int *image)
{
	*image = 0;
	for (int i = 0; i < WV_COUNT; i++) {
		size_t n = strlen(workflow_values[i]);

		if (len == n && strncmp(name, workflow_values[i], n) == 0) {
			*image = i == WV_IMAGE;
			return i;
		}
	}
	if (len == 6 && strncmp(name, "image", 5) == 0 && name[5] >= '2' &&
	    name[5] <= '9') {
		*image = name[5] - '0';
		return WV_IMAGE;
	}
	return -1;
}

const char *
workflow_value_list(void)
{
	return "{prompt}, {negative}, {seed}, {strength}, {model}, {image} (or {image2} ... {image9})";
}

/* v ("{sead}", len bytes) names no binding: say so, with a hint. */
static void
unknown_binding(struct ctx *c, const struct ynode *v, size_t len)
{
	char *name = xstrndup(v->str + 1, len - 2);
	const char *hint = closest_word(name, workflow_values, SIZE_MAX);

	if (hint)
		diag_error(c->d, v->loc,
			   "'%s' is not a value loramake binds; did you mean '{%s}'? (%s; any other value is set as it is)",
			   v->str, hint, workflow_value_list());
	else
		diag_error(c->d, v->loc,
			   "'%s' is not a value loramake binds: %s; any other value is set as it is",
			   v->str, workflow_value_list());
	free(name);
}

/*
 * A comfyui engine's workflow: and inputs:. Each input names NODE.INPUT
 * ("6.text"); a value "{NAME}" must be a binding (workflow_value), any
 * other value is set as it is. Whether the nodes and inputs exist is the
 * engine's to say: the file is JSON, which the compiler does not parse.
 */
static void
load_workflow(struct ctx *c, const struct ynode *e, struct engine_decl *ed)
{
	const struct ynode *in = get(e, "inputs");
	bool comfy = strcmp(ed->type, "comfyui") == 0;
	int image;

	get_text(c, e, "workflow", &ed->workflow, &ed->workflow_loc);
	if (!comfy && (ed->workflow || in)) {
		diag_error(c->d, ed->workflow ? ed->workflow_loc : in->loc,
			   "engine '%s': workflow: and inputs: are for comfyui engines, not %s",
			   ed->name, ed->type);
		return;
	}
	if (!comfy)
		return;
	if (!ed->workflow) {
		diag_error(c->d, ed->loc,
			   "engine '%s' (comfyui) needs workflow: a workflow ComfyUI exported in API format (Workflow > Export (API)), a JSON file in the recipe's folder",
			   ed->name);
		return;
	}
	get_values(c, e, "inputs", &ed->inputs, &ed->ninputs);
	for (size_t i = 0; in && in->kind == Y_MAP && i + 1 < in->n; i += 2) {
		const struct ynode *k = in->items[i], *v = in->items[i + 1];
		const char *dot = k->kind == Y_SCALAR ? strrchr(k->str, '.') : NULL;
		size_t len = v->kind == Y_SCALAR ? strlen(v->str) : 0;

		if (!dot || dot == k->str || !dot[1])
			diag_error(c->d, k->loc,
				   "input '%s' of engine '%s' is not NODE.INPUT: a node id of %s, a dot, an input name (\"6.text\")",
				   k->kind == Y_SCALAR ? k->str : "?", ed->name, ed->workflow);
		if (len > 2 && v->str[0] == '{' && v->str[len - 1] == '}' &&
		    workflow_value(v->str + 1, len - 2, &image) < 0)
			unknown_binding(c, v, len);
	}
}

static void
load_engines(struct ctx *c, const struct ynode *v)
{
	struct recipe *r = c->r;

	if (!check_map(c, v, "engines", NULL))
		return;
	r->engines = arena_alloc(c->a, (v->n / 2 + 1) * sizeof(*r->engines));
	for (size_t i = 0; i < v->n; i += 2) {
		const struct ynode *k = v->items[i], *e = v->items[i + 1], *n;
		struct engine_decl *ed = &r->engines[r->nengines];
		char where[96];

		if (k->kind != Y_SCALAR)
			continue;
		snprintf(where, sizeof(where), "engine '%s'", k->str);
		if (!is_identifier(k->str))
			diag_error(c->d, k->loc,
				   "engine name '%s' may hold only letters, digits, '_' and '-'",
				   k->str);
		if (!check_map(c, e, where, engine_keys))
			continue;
		ed->name = k->str;
		ed->loc = k->loc;
		if (!(n = get(e, "type"))) {
			char all[256];

			diag_error(c->d, e->loc, "%s needs a type (%s)", where,
				   engine_type_list(all, sizeof(all), false));
			continue;
		}
		if (!load_type(c, n, ed))
			continue;
		get_text(c, e, "key_env", &ed->key_env, &ed->key_env_loc);
		get_text(c, e, "url", &ed->url, &ed->url_loc);
		get_int(c, e, "concurrency", 1, RECIPE_MAX_CONCURRENCY,
			&ed->concurrency);
		if ((n = get(e, "prices")))
			load_prices(c, n, ed);
		load_workflow(c, e, ed);
		r->nengines++;
	}
}

static void
load_character(struct ctx *c, const struct ynode *v)
{
	if (v->kind == Y_SCALAR) {
		as_text(c, v, "character", &c->r->character);
		return;
	}
	if (v->kind == Y_SEQ) {
		diag_error(c->d, v->loc,
			   "character must be text or a mapping (prompt:, negative:), not a list");
		return;
	}
	if (!check_map(c, v, "character", character_keys))
		return;
	get_text(c, v, "prompt", &c->r->character, NULL);
	get_text(c, v, "negative", &c->r->negative, &c->r->negative_loc);
}

/*
 * Is a key of map a misspelling of key? check_map has reported it with a
 * hint, so a "missing key" error would say the same thing twice.
 */
static bool
misspelt(const struct ynode *map, const char *key)
{
	const char *const want[] = { key, NULL };

	for (size_t i = 0; i < map->n; i += 2)
		if (map->items[i]->kind == Y_SCALAR &&
		    closest_word(map->items[i]->str, want, 1))
			return true;
	return false;
}

/*
 * The trigger starts every caption, so it must be one printable word:
 * an empty one, or one with a space, tab, newline, comma or other
 * control character, would break every caption of the dataset.
 */
static void
check_trigger(struct ctx *c, struct loc loc, const char *t)
{
	if (!*t) {
		diag_error(c->d, loc,
			   "trigger is empty; it is the word every caption starts with (e.g. JINXCHAR)");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p <= ' ' || *p == ',' || *p == 0x7f) {
			diag_error(c->d, loc,
				   "trigger must be one word (no spaces, tabs, newlines, commas or control characters)");
			return;
		}
}

/* One attribute's shares: { portrait: 40, trading: 25, ... }. */
static void
load_mix_attr(struct ctx *c, const char *attr, const struct ynode *v)
{
	char where[64];
	double sum = 0;

	snprintf(where, sizeof(where), "mix: %s", attr);
	if (!check_map(c, v, where, NULL))
		return;
	for (size_t i = 0; i < v->n; i += 2) {
		struct mix_target *m = &c->r->mix[c->r->nmix];

		if (v->items[i]->kind != Y_SCALAR ||
		    !as_number(c, v->items[i + 1], "a share (percent)", 0, 100,
			       &m->share))
			continue;
		m->attr = attr;
		m->value = v->items[i]->str;
		m->loc = v->items[i]->loc;
		sum += m->share;
		c->r->nmix++;
	}
	if (sum > 100.5)
		diag_error(c->d, v->loc,
			   "the shares of mix: %s add up to %g%%, over 100", attr, sum);
}

/* mix: { ATTRIBUTE: { VALUE: PERCENT, ... }, ... }: target shares. */
static void
load_mix(struct ctx *c, const struct ynode *v)
{
	size_t total = 0;

	c->r->mix_loc = v->loc;
	if (!check_map(c, v, "mix", mix_attrs))
		return;
	for (size_t i = 1; i < v->n; i += 2)
		total += v->items[i]->kind == Y_MAP ? v->items[i]->n / 2 : 0;
	c->r->mix = arena_alloc(c->a, (total + 1) * sizeof(*c->r->mix));
	for (size_t i = 0; i < v->n; i += 2)
		if (v->items[i]->kind == Y_SCALAR &&
		    in_list(mix_attrs, v->items[i]->str))
			load_mix_attr(c, v->items[i]->str, v->items[i + 1]);
}

static void
load_top(struct ctx *c, const struct ynode *root)
{
	struct recipe *r = c->r;
	const struct ynode *v;
	int64_t fmt;

	if (!(v = get(root, "loramake"))) {
		struct loc l = { c->r->src, 1, 1 };

		if (!misspelt(root, "loramake"))
			diag_error(c->d, l,
				   "missing 'loramake: %d' (the recipe format) at the top",
				   RECIPE_FORMAT);
	} else if (as_int(c, v, "loramake", 1, 1000, &fmt) &&
		   fmt != RECIPE_FORMAT) {
		diag_error(c->d, v->loc,
			   "this recipe is format %lld; this loramake reads format %d",
			   (long long)fmt, RECIPE_FORMAT);
	}
	get_text(c, root, "name", &r->name, NULL);
	if (r->name && !is_identifier(r->name))
		diag_error(c->d, get(root, "name")->loc,
			   "name may hold only letters, digits, '_' and '-'");
	get_text(c, root, "trigger", &r->trigger, NULL);
	if (r->trigger)
		check_trigger(c, get(root, "trigger")->loc, r->trigger);
	if ((v = get(root, "target")))
		as_choice(c, v, "target", targets, &r->target);
	get_seed(c, root, &r->seed);
	get_int(c, root, "concurrency", 1, RECIPE_MAX_CONCURRENCY,
		&r->concurrency);
	get_remote_cache(c, root);
	if ((v = get(root, "engines")))
		load_engines(c, v);
	if ((v = get(root, "character")))
		load_character(c, v);
	if ((v = get(root, "mix")))
		load_mix(c, v);
}

int
recipe_load(struct recipe *r, struct arena *a, const struct source *src,
	    const char *dir, const struct ynode *root, struct diag *d)
{
	struct ctx c = { a, d, r };
	unsigned before = d->nerrors;

	memset(r, 0, sizeof(*r));
	r->src = src;
	r->dir = dir;
	r->seed = -1;
	r->target = "flux";
	if (!root || ynode_is_null(root)) {
		struct loc l = { src, 1, 1 };

		diag_error(d, l, "the recipe is empty; start with 'loramake: %d' "
			   "(see recipes/quickstart)", RECIPE_FORMAT);
		return -1;
	}
	if (!check_map(&c, root, "the recipe", top_keys))
		return -1;
	load_top(&c, root);
	for (size_t i = 0; i < root->n; i += 2) {
		const struct ynode *key = root->items[i];

		for (int k = 0; k < KIND_COUNT; k++)
			if (key->kind == Y_SCALAR &&
			    strcmp(key->str, kind_name(k)) == 0 &&
			    get(root, key->str) == root->items[i + 1])
				load_section(&c, k, key, root->items[i + 1]);
	}
	if (!r->name) {
		/* default: the recipe's folder name, else the file's stem */
		r->name = "dataset";
	}
	if (!r->trigger && !misspelt(root, "trigger") &&
	    (r->sec[KIND_PACKAGE].present || r->sec[KIND_CAPTION].present)) {
		struct loc l = { src, 1, 1 };

		diag_error(d, l, "missing 'trigger:' (the word every caption starts with)");
	}
	return d->nerrors > before ? -1 : 0;
}

double
recipe_gate_min(const struct recipe *r)
{
	return r->sec[KIND_GATE].min >= 0 ? r->sec[KIND_GATE].min
					  : RECIPE_DEFAULT_GATE_MIN;
}

const struct engine_decl *
recipe_engine(const struct recipe *r, const char *name)
{
	for (size_t i = 0; i < r->nengines; i++)
		if (strcmp(r->engines[i].name, name) == 0)
			return &r->engines[i];
	return NULL;
}

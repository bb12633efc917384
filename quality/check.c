/*
 * check: dataset rules over plain data.
 *
 * Each rule is one function that fills one struct check_result. Figures
 * come first (what was measured), then the verdict, then the advice, so a
 * warning always says how far off the set is. Percentages are of the
 * whole set; values that are unset count as one value of their own
 * ("unset": the hero's wardrobe, the source's background), since the
 * images still show something there.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "check.h"
#include "compiler/mix.h"
#include "runtime/image.h"

static const char *const status_names[] = { "pass", "warn", "fail" };

const char *
check_status_name(enum check_status s)
{
	return status_names[s];
}

/* ---- results ---- */

static struct check_result *
rule(struct check_report *rep, const char *name)
{
	struct check_result *r = &rep->v[rep->n++];

	memset(r, 0, sizeof(*r));
	r->rule = name;
	return r;
}

static void LM_PRINTF(3, 4)
verdict(struct check_result *r, enum check_status s, const char *fmt, ...)
{
	va_list ap;

	if (s > r->status)
		r->status = s;
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(r->advice, sizeof(r->advice), fmt, ap);
	va_end(ap);
}

static void LM_PRINTF(2, 3)
figure(struct check_result *r, const char *fmt, ...)
{
	size_t len = strlen(r->figure);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->figure + len, sizeof(r->figure) - len, fmt, ap);
	va_end(ap);
}

static void LM_PRINTF(2, 3)
detail(struct check_result *r, const char *fmt, ...)
{
	va_list ap;

	LM_GROW(r->details, r->ndetails + 1, r->capdetails);
	va_start(ap, fmt);
	r->details[r->ndetails++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void
check_report_release(struct check_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		for (size_t j = 0; j < rep->v[i].ndetails; j++)
			free(rep->v[i].details[j]);
		free(rep->v[i].details);
	}
	rep->n = 0;
}

const struct check_result *
check_find(const struct check_report *rep, const char *name)
{
	for (size_t i = 0; i < rep->n; i++)
		if (strcmp(rep->v[i].rule, name) == 0)
			return &rep->v[i];
	return NULL;
}

/* ---- tallies of distinct values ---- */

struct tally {
	char **keys;    /* owned */
	size_t *count;
	size_t n, cap;
};

static void
tally_add(struct tally *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->keys[i], key) == 0) {
			t->count[i]++;
			return;
		}
	}
	if (t->n + 1 > t->cap) {
		LM_GROW(t->keys, t->n + 1, t->cap);
		t->count = xreallocarray(t->count, t->cap, sizeof(*t->count));
	}
	t->keys[t->n] = xstrdup(key);
	t->count[t->n++] = 1;
}

static size_t
tally_get(const struct tally *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->keys[i], key) == 0)
			return t->count[i];
	return 0;
}

static void
tally_release(struct tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->count);
}

/* Tally attribute slot over the set; unset values count as "unset". */
static void
tally_attr(struct tally *t, const struct check_input *in, enum attr_slot s)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < in->n; i++)
		tally_add(t, in->v[i].attrs[s] ? in->v[i].attrs[s] : "unset");
}

static double
pct(size_t part, size_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* ---- rules ---- */

static void
rule_count(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r = rule(rep, "count");
	const struct caption_profile *p = in->profile;
	size_t floor = p->count_min / 2 > 4 ? p->count_min / 2 : 4;

	figure(r, "%zu images (%s: %u-%u)", in->n, p->label, p->count_min,
	       p->count_max);
	if (in->n < floor)
		verdict(r, CHECK_FAIL,
			"too few to learn an identity: add images until there are %u",
			p->count_min);
	else if (in->n < p->count_min)
		verdict(r, CHECK_WARN, "add %zu images (angles or expressions)",
			p->count_min - in->n);
	else if (in->n > p->count_max)
		verdict(r, CHECK_WARN,
			"%zu over: drop the weakest (select: picked) or lower repeats",
			in->n - p->count_max);
}

/* The images not built yet, as a figure suffix, or "". */
static void
unbuilt(struct check_result *r, const struct check_input *in, size_t built)
{
	if (built < in->n) {
		figure(r, " (%zu of %zu not built)", in->n - built, in->n);
		verdict(r, CHECK_WARN, "build the recipe, then check again");
	}
}

/* The package's own sides, and image i's in it. */
static void
package_sides(const struct check_input *in, int *w, int *h)
{
	*w = in->width ? in->width : in->size;
	*h = in->width ? in->height : in->size;
}

static void
image_sides(const struct check_input *in, size_t i, int *w, int *h)
{
	if (in->v[i].pw) {
		*w = in->v[i].pw;
		*h = in->v[i].ph;
	} else {
		package_sides(in, w, h);
	}
}

/* The images' package sides, "832x1216" each, into *t. */
static void
tally_shapes(const struct check_input *in, struct tally *t)
{
	char key[32];
	int w, h;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < in->n; i++) {
		image_sides(in, i, &w, &h);
		snprintf(key, sizeof(key), "%dx%d", w, h);
		tally_add(t, key);
	}
}

/*
 * resolution when the package cuts its images to several shapes (their
 * aspects): one size per shape, none enlarged to its shape.
 */
static void
resolution_by_shape(const struct check_input *in, struct check_result *r,
		    size_t nshapes)
{
	struct tally pairs = { 0 };
	size_t built = 0, enlarged = 0;
	char key[64];
	int w, h;

	for (size_t i = 0; i < in->n; i++) {
		const struct check_image *v = &in->v[i];

		if (!v->built)
			continue;
		built++;
		image_sides(in, i, &w, &h);
		snprintf(key, sizeof(key), "%dx%d for %dx%d", v->w, v->h, w, h);
		tally_add(&pairs, key);
		if (v->w < w || v->h < h)
			enlarged++;
	}
	figure(r, "%zu package shapes: ", nshapes);
	for (size_t i = 0; i < pairs.n; i++)
		figure(r, "%s%s (%zu)", i ? ", " : "", pairs.keys[i], pairs.count[i]);
	if (!pairs.n)
		figure(r, "no image measured");
	if (pairs.n > nshapes)
		verdict(r, CHECK_FAIL,
			"images cut to one shape come in several sizes: make each "
			"aspect's images one size upstream");
	else if (enlarged)
		verdict(r, CHECK_WARN,
			"%zu images are enlarged to their shape: upscale first",
			enlarged);
	unbuilt(r, in, built);
	tally_release(&pairs);
}

static void
rule_resolution(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r = rule(rep, "resolution");
	struct tally t = { 0 }, shapes;
	size_t built = 0;
	char key[32];

	tally_shapes(in, &shapes);
	if (shapes.n > 1) {
		resolution_by_shape(in, r, shapes.n);
		tally_release(&shapes);
		return;
	}
	tally_release(&shapes);

	for (size_t i = 0; i < in->n; i++) {
		if (!in->v[i].built)
			continue;
		built++;
		snprintf(key, sizeof(key), "%dx%d", in->v[i].w, in->v[i].h);
		tally_add(&t, key);
	}
	if (t.n == 1)
		figure(r, "all %zu are %s", built, t.keys[0]);
	else if (t.n == 0)
		figure(r, "no image measured");
	for (size_t i = 0; t.n > 1 && i < t.n; i++)
		figure(r, "%s%s (%zu)", i ? ", " : "", t.keys[i], t.count[i]);
	int pw, ph;

	package_sides(in, &pw, &ph);
	figure(r, "; package %dx%d", pw, ph);
	if (t.n > 1) {
		verdict(r, CHECK_FAIL,
			"make them one size upstream (upscale: { engine: local, size: %d, "
			"params: { crop: attention } }); the package crops each square "
			"around the subject, which can cut it", in->size);
		for (size_t i = 0; i < in->n; i++)
			if (in->v[i].built)
				detail(r, "%s: %dx%d", in->v[i].id, in->v[i].w,
				       in->v[i].h);
	} else if (t.n == 1) {
		int side = 0;

		for (size_t i = 0; i < in->n && !side; i++)
			if (in->v[i].built)
				side = in->v[i].w < in->v[i].h ? in->v[i].w
							       : in->v[i].h;
		if (side < (pw < ph ? pw : ph))
			verdict(r, CHECK_WARN,
				"the package enlarges them from %d to %d: upscale first",
				side, pw < ph ? pw : ph);
	}
	if (pw % 64 || ph % 64)
		verdict(r, CHECK_WARN,
			"package size %d is not a multiple of 64; trainers bucket in 64s",
			pw % 64 ? pw : ph);
	unbuilt(r, in, built);
	tally_release(&t);
}

/*
 * The buckets an aspect-bucketing trainer puts the package's images in:
 * loramake delivers each image at its bucket's sides (multiples of 64,
 * compiler/shape.h), so its bucket is its package sides. A bucket with
 * one image trains it alone, and SimpleTuner drops every bucket smaller
 * than the batch (TRAINERS.md 1.4, issues §4 item 7). Reported only when
 * there are several buckets: a one-shape set has one, holding them all.
 */
static void
rule_buckets(const struct check_input *in, struct check_report *rep)
{
	struct tally t;
	struct check_result *r;
	size_t lonely = 0;

	tally_shapes(in, &t);
	if (t.n < 2) {
		tally_release(&t);
		return;
	}
	r = rule(rep, "buckets");
	figure(r, "%zu buckets: ", t.n);
	for (size_t i = 0; i < t.n; i++) {
		figure(r, "%s%s (%zu)", i ? ", " : "", t.keys[i], t.count[i]);
		if (t.count[i] == 1) {
			lonely++;
			detail(r, "bucket %s holds one image", t.keys[i]);
		}
	}
	if (lonely)
		verdict(r, CHECK_WARN,
			"%zu bucket%s hold%s a single image: trainers train it alone or "
			"drop it (SimpleTuner drops buckets under the batch size); give "
			"it company or another aspect",
			lonely, lonely > 1 ? "s" : "", lonely > 1 ? "" : "s");
	tally_release(&t);
}

/* mix: each target share against the set, attribute by attribute. */
static void
rule_mix(const struct check_input *in, struct check_report *rep)
{
	const char *const **attrs;
	struct check_result *r;
	const char *attr = NULL;
	size_t count, off = 0;

	if (!in->nmix)
		return;
	r = rule(rep, "mix");
	attrs = xcalloc(in->n + 1, sizeof(*attrs));
	for (size_t i = 0; i < in->n; i++)
		attrs[i] = in->v[i].attrs;
	for (size_t i = 0; i < in->nmix; i++) {
		const struct mix_target *m = &in->mix[i];
		double share = mix_share(m, attrs, in->n, &count);
		bool miss = share < m->share - MIX_TOLERANCE ||
			    share > m->share + MIX_TOLERANCE;

		if (!attr || strcmp(attr, m->attr) != 0)
			figure(r, "%s%s: ", attr ? "; " : "", m->attr);
		else
			figure(r, ", ");
		attr = m->attr;
		figure(r, "%s %.1f%% (want %g)", m->value, share, m->share);
		detail(r, "%s %s: %zu of %zu images, %.1f%%, target %g%%%s",
		       m->attr, m->value, count, in->n, share, m->share,
		       miss ? ", off by more than 5 points" : "");
		off += miss;
	}
	if (off)
		verdict(r, CHECK_WARN,
			"%zu share%s off by more than %.0f points: change the items' "
			"counts (or their category:) to match mix:",
			off, off > 1 ? "s" : "", MIX_TOLERANCE);
	free(attrs);
}

static void
rule_framing(const struct check_input *in, struct check_report *rep)
{
	static const struct {
		const char *name, *label;
		double lo, hi;
	} want[] = {
		{ "closeup", "close-up", 33, 40 },
		{ "medium", "medium", 25, 30 },
		{ "full", "full", 20, 25 },
		{ "back", "back", 5, 15 },
	};
	struct check_result *r = rule(rep, "framing");
	struct tally t;
	char off[200] = "";

	tally_attr(&t, in, ATTR_FRAMING);
	for (size_t i = 0; i < LM_ARRAY_LEN(want); i++) {
		size_t c = tally_get(&t, want[i].name);
		double p = pct(c, in->n);

		figure(r, "%s%s %.0f%% (%zu)", i ? ", " : "", want[i].label, p, c);
		if (p + 0.5 < want[i].lo || p - 0.5 > want[i].hi)
			snprintf(off + strlen(off), sizeof(off) - strlen(off),
				 "%s%s %s %.0f-%.0f%%", *off ? ", " : "",
				 want[i].label, p < want[i].lo ? "under" : "over",
				 want[i].lo, want[i].hi);
	}
	if (tally_get(&t, "unset"))
		figure(r, ", unset %zu", tally_get(&t, "unset"));
	if (tally_get(&t, "unset") == in->n)
		verdict(r, CHECK_WARN, "no image has framing: set it on the items");
	else if (*off)
		verdict(r, CHECK_WARN, "%s: move images between framings (the "
			"angles' framing:)", off);
	tally_release(&t);
}

/* distinct values of slot: >= good pass, 2..good-1 warn, 1 fail/warn */
static void
rule_distinct(const struct check_input *in, struct check_report *rep,
	      const char *name, enum attr_slot slot, size_t good,
	      enum check_status one, const char *advice)
{
	struct check_result *r = rule(rep, name);
	struct tally t;

	tally_attr(&t, in, slot);
	figure(r, "%zu distinct (want %zu or more)", t.n, good);
	if (tally_get(&t, "unset"))
		figure(r, ", %zu unset", tally_get(&t, "unset"));
	if (t.n <= 1 && in->n > 1)
		verdict(r, one, "all one: %s", advice);
	else if (t.n < good)
		verdict(r, CHECK_WARN, "%s", advice);
	tally_release(&t);
}

bool
check_is_neutral(const char *expr)
{
	char emo[64];

	if (!expr)
		return true;
	caption_emotion(expr, emo, sizeof(emo));
	return strcasecmp(emo, "neutral") == 0;
}

/* The expression's emotion, lowercase; neutral for NULL. */
static void
emotion_key(const char *expr, char *out, size_t outsz)
{
	if (check_is_neutral(expr)) {
		snprintf(out, outsz, "neutral");
		return;
	}
	caption_emotion(expr, out, outsz);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void
rule_expressions(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r = rule(rep, "expressions");
	struct tally t = { 0 };
	size_t cap = (in->n * 6 + 27) / 28, neutral;
	char key[64];

	if (cap < 6)
		cap = 6; /* "none over 5-6 in 25-30": 6 of 28, scaled */
	for (size_t i = 0; i < in->n; i++) {
		emotion_key(in->v[i].attrs[ATTR_EXPRESSION], key, sizeof(key));
		tally_add(&t, key);
	}
	neutral = tally_get(&t, "neutral");
	figure(r, "%zu distinct (want 5-7); neutral %.0f%% (want 30-40%%)", t.n,
	       pct(neutral, in->n));
	for (size_t i = 0; i < t.n; i++)
		detail(r, "%s: %zu", t.keys[i], t.count[i]);
	for (size_t i = 0; i < t.n; i++)
		if (strcmp(t.keys[i], "neutral") && t.count[i] > cap)
			verdict(r, CHECK_WARN, "%s appears %zu times, over %zu: "
				"swap some for other expressions", t.keys[i],
				t.count[i], cap);
	if (t.n <= 1 && in->n > 1)
		verdict(r, CHECK_FAIL, "all one expression: add an expression "
			"section with 5-7 clearly distinct emotions");
	else if (t.n < 5 || t.n > 7)
		verdict(r, CHECK_WARN, "use 5-7 distinct expressions");
	else if (pct(neutral, in->n) + 0.5 < 30 || pct(neutral, in->n) - 0.5 > 40)
		verdict(r, CHECK_WARN, "make neutral about a third of the set "
			"(%zu-%zu of %zu)", (in->n * 30 + 99) / 100,
			in->n * 40 / 100, in->n);
	tally_release(&t);
}

/* Is every place a plain studio or white background? */
static bool
all_plain(const struct check_input *in)
{
	static const char *const plain[] = { "white", "studio", "plain",
					     "blank", "seamless", NULL };
	size_t named = 0;

	for (size_t i = 0; i < in->n; i++) {
		const char *p = in->v[i].attrs[ATTR_PLACE];
		bool hit = false;

		if (!p)
			continue;
		named++;
		for (const char *const *w = plain; *w && !hit; w++)
			hit = strcasestr(p, *w) != NULL;
		if (!hit)
			return false;
	}
	return named > 0;
}

static void
rule_backgrounds(const struct check_input *in, struct check_report *rep)
{
	rule_distinct(in, rep, "backgrounds", ATTR_PLACE, 5, CHECK_FAIL,
		      "rotate 5-10 environments (environment: rotate:)");
	if (all_plain(in))
		verdict(&rep->v[rep->n - 1], CHECK_FAIL,
			"every background is white or studio: the LoRA learns the "
			"backdrop; rotate real places");
}

/* What two images share, for the duplicates advice: "angle, light". */
static void
shared_attrs(const struct check_image *a, const struct check_image *b,
	     char *out, size_t outsz, bool *all)
{
	static const char *const names[ATTR_COUNT] = {
		[ATTR_ANGLE] = "angle", [ATTR_FRAMING] = "framing",
		[ATTR_EXPRESSION] = "expression", [ATTR_PLACE] = "place",
		[ATTR_LIGHT] = "light", [ATTR_POSE] = "pose",
		[ATTR_WARDROBE] = "wardrobe", [ATTR_CATEGORY] = "category",
	};
	size_t len = 0;

	*all = true;
	out[0] = '\0';
	for (int s = 0; s < ATTR_COUNT; s++) {
		const char *x = a->attrs[s], *y = b->attrs[s];

		if (x != y && (!x || !y || strcmp(x, y) != 0)) {
			*all = false;
		} else if (x && len < outsz) {
			len += (size_t)snprintf(out + len, outsz - len, "%s%s",
						len ? ", " : "", names[s]);
		}
	}
}

/* A 64-bit digest of every caption attribute: equal for twins. */
static uint64_t
attrs_digest(const struct check_image *a)
{
	struct buf b;
	uint64_t h;

	buf_init(&b);
	for (int s = 0; s < ATTR_COUNT; s++) {
		if (a->attrs[s])
			buf_adds(&b, a->attrs[s]);
		buf_addc(&b, a->attrs[s] ? '\n' : '\0'); /* unset is not "" */
	}
	h = hash_str64(b.data, b.len);
	buf_release(&b);
	return h;
}

/* Do a and b have every caption attribute the same (unset alike)? */
static bool
same_attrs(const struct check_image *a, const struct check_image *b)
{
	for (int s = 0; s < ATTR_COUNT; s++) {
		const char *x = a->attrs[s], *y = b->attrs[s];

		if (x != y && (!x || !y || strcmp(x, y) != 0))
			return false;
	}
	return true;
}

/* One pair's detail line, naming what the two share. */
static void
pair_detail(struct check_result *r, const struct check_image *a,
	    const struct check_image *b, int d, const char *kind)
{
	char shared[160];
	bool all;

	shared_attrs(a, b, shared, sizeof(shared), &all);
	if (d > 64)
		detail(r, "%s ~ %s: the same attributes", a->id, b->id);
	else
		detail(r, "%s ~ %s: %d of 64 bits differ%s; %s%s", a->id, b->id,
		       d, kind, shared[0] ? "both have the same " : "",
		       shared[0] ? shared : "no attribute in common");
}

/*
 * Look-alikes joined into groups (union-find): a pair alike links two
 * images, and a group is what the links join. A burst of 100 retakes, or
 * 1,000 images with one set of attributes, is one line, not a line per
 * pair (500,000 for 1,000 twins: a 49 MB check --json). A group of two is
 * its pair's line, saying what the two share.
 */
struct groups {
	size_t *parent, *size;
	int *closest;          /* at a group's root: its closest pair's bits */
	size_t links;          /* pairs that linked (the figure counts pairs) */
};

static void
groups_init(struct groups *g, size_t n)
{
	g->parent = xcalloc(n + 1, sizeof(*g->parent));
	g->size = xcalloc(n + 1, sizeof(*g->size));
	g->closest = xcalloc(n + 1, sizeof(*g->closest));
	g->links = 0;
	for (size_t i = 0; i < n; i++) {
		g->parent[i] = i;
		g->size[i] = 1;
		g->closest[i] = 65;
	}
}

static void
groups_release(struct groups *g)
{
	free(g->parent);
	free(g->size);
	free(g->closest);
}

static size_t
group_of(struct groups *g, size_t i)
{
	while (g->parent[i] != i) {
		g->parent[i] = g->parent[g->parent[i]]; /* path halving */
		i = g->parent[i];
	}
	return i;
}

/* a and b are alike, d bits apart (65: by attributes). */
static void
groups_link(struct groups *g, size_t a, size_t b, int d)
{
	size_t ra = group_of(g, a), rb = group_of(g, b);
	int c;

	g->links++;
	if (ra != rb) {
		if (g->size[ra] < g->size[rb]) {
			size_t t = ra;

			ra = rb;
			rb = t;
		}
		g->parent[rb] = ra;
		g->size[ra] += g->size[rb];
		c = g->closest[rb] < g->closest[ra] ? g->closest[rb] : g->closest[ra];
		g->closest[ra] = c;
	}
	if (d < g->closest[ra])
		g->closest[ra] = d;
}

/* Images of a group a detail names; the rest are counted. */
#define GROUP_NAMED 8

/* One line per group of g, in the order of each group's first image. */
static void
group_details(struct check_result *r, const struct check_input *in,
	      struct groups *g, const char *kind)
{
	bool *said = xcalloc(in->n + 1, sizeof(*said));

	for (size_t i = 0; i < in->n; i++) {
		size_t root = group_of(g, i), named = 0;
		struct buf b;

		if (g->size[root] < 2 || said[root])
			continue;
		said[root] = true;
		buf_init(&b);
		for (size_t j = i; j < in->n; j++) {
			if (group_of(g, j) != root)
				continue;
			if (g->size[root] == 2 && j > i) {
				pair_detail(r, &in->v[i], &in->v[j],
					    g->closest[root], kind);
				break;
			}
			if (named < GROUP_NAMED)
				buf_addf(&b, "%s%s", named ? ", " : "", in->v[j].id);
			named++;
		}
		if (g->size[root] > 2) {
			if (named > GROUP_NAMED)
				buf_addf(&b, " and %zu more", named - GROUP_NAMED);
			if (g->closest[root] > 64)
				detail(r, "%s: %zu images with the same attributes",
				       b.data, named);
			else
				detail(r, "%s: %zu images, each within %d of 64 bits of "
				       "another%s; the closest two %d", b.data, named,
				       *kind ? CHECK_SIMILAR_HAMMING : CHECK_DUP_HAMMING,
				       kind, g->closest[root]);
		}
		buf_release(&b);
	}
	free(said);
}

/*
 * Near-duplicates by dHash, and pairs with identical attributes. Two
 * preview placeholders are not compared by pixels: they are labels on a
 * coloured ground, alike by design, and say nothing of the real set.
 *
 * Every pair is looked at, but a look is a popcount and a compare of
 * two 64-bit digests (the attributes are compared as text only when
 * their digests agree): all the rules over 5,000 images (12.5 million
 * pairs) take 0.2-0.3 s of CPU, over 10,000 0.5-0.7 s (docs/bench.md), so no
 * index over the hashes (blocks, a BK-tree) is needed; at a radius of 10
 * bits in 64 neither would prune much. The pairs are reported as groups
 * (struct groups): near-duplicates, similar ones, and twins apart.
 */
static void
rule_duplicates(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r = rule(rep, "duplicates");
	size_t built = 0, placeholders = 0;
	uint64_t *digest = xcalloc(in->n + 1, sizeof(*digest));
	struct groups dup, similar, twins;
	int closest = 65;

	groups_init(&dup, in->n);
	groups_init(&similar, in->n);
	groups_init(&twins, in->n);
	for (size_t i = 0; i < in->n; i++)
		digest[i] = attrs_digest(&in->v[i]);
	for (size_t i = 0; i < in->n; i++) {
		const struct check_image *a = &in->v[i];

		built += a->built;
		placeholders += a->placeholder;
		for (size_t j = i + 1; j < in->n; j++) {
			const struct check_image *b = &in->v[j];
			bool compare = a->built && b->built &&
				       !(a->placeholder && b->placeholder);
			int d = compare ? image_hamming(a->dhash, b->dhash) : 65;

			closest = d < closest ? d : closest;
			if (d <= CHECK_DUP_HAMMING)
				groups_link(&dup, i, j, d);
			else if (d <= CHECK_SIMILAR_HAMMING)
				groups_link(&similar, i, j, d);
			else if (digest[i] == digest[j] && same_attrs(a, b))
				groups_link(&twins, i, j, 65);
		}
	}
	free(digest);
	group_details(r, in, &dup, "");
	group_details(r, in, &similar, " (similar)");
	group_details(r, in, &twins, "");
	figure(r, "%zu near-duplicate pairs (dHash <= %d of 64), %zu similar "
	       "(<= %d), %zu with the same attributes", dup.links, CHECK_DUP_HAMMING,
	       similar.links, CHECK_SIMILAR_HAMMING, twins.links);
	if (closest <= 64)
		figure(r, "; closest pair %d", closest);
	if (placeholders)
		figure(r, "; %zu preview placeholders, not compared with each "
		       "other", placeholders);
	if (dup.links)
		verdict(r, CHECK_FAIL, "keep one image of each pair or group (or "
			"pick another candidate)");
	else if (similar.links || twins.links)
		verdict(r, CHECK_WARN, "look at these pairs and groups: a pair's "
			"line says what the two have in common; change one of those "
			"on one image, or drop it");
	unbuilt(r, in, built);
	groups_release(&dup);
	groups_release(&similar);
	groups_release(&twins);
}

/* An image's caption and index, to sort by caption then index. */
struct captioned {
	const char *caption;
	size_t i;
};

static int
by_caption(const void *a, const void *b)
{
	const struct captioned *x = a, *y = b;
	int c = strcmp(x->caption, y->caption);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * first[i]: the first image with image i's caption (i itself when none
 * before it has it). Sorted, not all pairs: n log n compares.
 */
static size_t *
first_with_caption(const struct check_input *in)
{
	size_t *first = xcalloc(in->n + 1, sizeof(*first)), m = 0;
	struct captioned *order = xcalloc(in->n + 1, sizeof(*order));

	for (size_t i = 0; i < in->n; i++) {
		first[i] = i;
		if (in->v[i].caption)
			order[m++] = (struct captioned){ in->v[i].caption, i };
	}
	qsort(order, m, sizeof(*order), by_caption);
	for (size_t k = 1; k < m; k++)
		if (strcmp(order[k].caption, order[k - 1].caption) == 0)
			first[order[k].i] = first[order[k - 1].i];
	free(order);
	return first;
}

/* Captions: every lint on every caption, summed up per lint. */
static void
rule_captions(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r = rule(rep, "captions");
	size_t hits[LINT_CODE_COUNT] = { 0 }, minw = SIZE_MAX, maxw = 0, n = 0;
	size_t same = 0, maxtok = 0, *first = first_with_caption(in);
	struct lint_result lr;

	for (size_t i = 0; i < in->n; i++) {
		const char *c = in->v[i].caption;

		if (!c) {
			verdict(r, CHECK_FAIL, "every image needs a caption");
			detail(r, "%s: no caption", in->v[i].id);
			continue;
		}
		n++;
		if (first[i] != i) {
			same++;
			detail(r, "%s: the same caption as %s", in->v[i].id,
			       in->v[first[i]].id);
		}
		lint_caption(in->lint, c, &lr);
		minw = lr.words < minw ? lr.words : minw;
		maxw = lr.words > maxw ? lr.words : maxw;
		maxtok = lr.tokens > maxtok ? lr.tokens : maxtok;
		for (size_t k = 0; k < lr.n; k++) {
			const struct lint_finding *f = &lr.v[k];

			if (k == 0 || lr.v[k - 1].code != f->code)
				hits[f->code]++;
			verdict(r, f->level == LINT_FAIL ? CHECK_FAIL : CHECK_WARN, NULL);
			detail(r, "%s: %s", in->v[i].id, f->msg);
		}
	}
	free(first);
	figure(r, "%zu captions, %zu-%zu words (%s: %u-%u), %zu CLIP tokens "
	       "at most", n, n ? minw : 0, maxw, in->profile->label,
	       in->profile->min_words, in->profile->max_words, maxtok);
	for (int c = 0; c < LINT_CODE_COUNT; c++)
		if (hits[c])
			figure(r, "; %s %zu", lint_code_name(c), hits[c]);
	figure(r, same ? "; %zu repeated" : "; all distinct", same);
	if (same)
		verdict(r, CHECK_WARN, NULL);
	if (r->status == CHECK_FAIL)
		verdict(r, CHECK_FAIL, "fix the failing captions (details below): "
			"trigger first, no identity words, one line");
	else if (r->status == CHECK_WARN && hits[LINT_SHORT] &&
		 hits[LINT_SHORT] + same == r->ndetails)
		verdict(r, CHECK_WARN, "short captions are right for images with "
			"little that varies (a pass-through back view); never pad");
	else if (r->status == CHECK_WARN)
		verdict(r, CHECK_WARN, "look at the captions listed below");
}

static void
rule_trigger(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r = rule(rep, "trigger");
	struct lint_result lr;

	lint_trigger(in->lint, &lr);
	figure(r, "%s", lr.n ? lr.v[0].msg : "a rare token");
	if (lr.n)
		verdict(r, lr.v[0].level == LINT_FAIL ? CHECK_FAIL : CHECK_WARN,
			"pick a made-up word (e.g. NAME + CHAR) and rebuild the captions");
}

static void
rule_prompts(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r = rule(rep, "prompts");
	size_t maxtok = 0;
	struct lint_result lr;

	for (size_t i = 0; i < in->nprompts; i++) {
		lint_prompt(in->lint, in->prompts[i].text, &lr);
		maxtok = lr.tokens > maxtok ? lr.tokens : maxtok;
		for (size_t k = 0; k < lr.n; k++) {
			verdict(r, lr.v[k].level == LINT_FAIL ? CHECK_FAIL
							      : CHECK_WARN, NULL);
			detail(r, "%s: %s", in->prompts[i].id, lr.v[k].msg);
		}
	}
	figure(r, "%zu prompts, about %zu tokens at most", in->nprompts, maxtok);
	if (r->status != CHECK_PASS)
		verdict(r, r->status, "shorten the prompts listed below");
}

/* The order of verdicts by score, worst first (failed before passed). */
static int
by_score(const void *a, const void *b)
{
	const struct check_verdict *x = *(const struct check_verdict *const *)a;
	const struct check_verdict *y = *(const struct check_verdict *const *)b;

	return (x->score > y->score) - (x->score < y->score);
}

/* Identity: the gate's verdicts (gate:): how many failed, the worst. */
static void
rule_identity(const struct check_input *in, struct check_report *rep)
{
	struct check_result *r;
	const struct check_verdict **v;
	size_t judged = 0, failed = 0, kept = 0;

	if (!in->nverdicts)
		return;
	r = rule(rep, "identity");
	v = xcalloc(in->nverdicts + 1, sizeof(*v));
	for (size_t i = 0; i < in->nverdicts; i++) {
		if (!in->verdicts[i].judged)
			continue;
		v[judged++] = &in->verdicts[i];
		failed += in->verdicts[i].failed;
		kept += in->verdicts[i].failed && in->verdicts[i].kept;
	}
	qsort(v, judged, sizeof(*v), by_score);
	figure(r, "%zu of %zu judged, %zu failed (under %.2f)", judged,
	       in->nverdicts, failed, in->gate_min);
	for (size_t i = 0; i < judged && i < 3; i++)
		figure(r, "%s %.2f", i ? "," : "; worst", v[i]->score);
	if (kept)
		figure(r, ", %zu kept by hand", kept);
	if (failed)
		verdict(r, CHECK_WARN, "look at the failed images: reroll them "
			"(loramake RECIPE --reroll-failed 2) or keep one by hand "
			"(loramake pick RECIPE ID)");
	else if (judged < in->nverdicts)
		verdict(r, CHECK_WARN, "build to judge the rest");
	for (size_t i = 0; i < judged && v[i]->failed; i++)
		detail(r, "%s: %.2f, %s%s", v[i]->id, v[i]->score, v[i]->reasons,
		       v[i]->kept ? " (kept by hand)" : " (left out of the package)");
	free(v);
}

void
check_run(const struct check_input *in, struct check_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rule_count(in, rep);
	rule_resolution(in, rep);
	rule_buckets(in, rep);
	rule_framing(in, rep);
	rule_mix(in, rep);
	rule_distinct(in, rep, "angles", ATTR_ANGLE, 5, CHECK_FAIL,
		      "add camera angles (front, three-quarter, profile, low, high, back)");
	rule_expressions(in, rep);
	rule_distinct(in, rep, "wardrobe", ATTR_WARDROBE, 3, CHECK_WARN,
		      "give 3-5 outfits (wardrobe: on items), or the LoRA bakes "
		      "the outfit into the identity");
	rule_backgrounds(in, rep);
	rule_duplicates(in, rep);
	rule_captions(in, rep);
	rule_trigger(in, rep);
	rule_prompts(in, rep);
	rule_identity(in, rep);
	for (size_t i = 0; i < rep->n; i++)
		rep->count[rep->v[i].status]++;
}

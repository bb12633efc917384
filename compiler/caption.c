/*
 * caption: profiles and templates over attributes.
 *
 * An expression given as "tired — slightly heavy eyelids, soft unfocused
 * gaze, relaxed jaw" (the seeds' "emotion — descriptors" form) becomes
 * "looks tired, with slightly heavy eyelids, a soft unfocused gaze and a
 * relaxed jaw": the physical descriptors are the words that teach most.
 *
 * A caption is two sentences at most: the subject sentence (trigger,
 * expression, pose, wardrobe, camera words) in one of three orders, and
 * the setting sentence (place, light) in one of three phrasings. Both
 * choices come from the xxh3 of the node id, so they are stable across
 * runs and machines and change only when the id does.
 */
#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "caption.h"
#include "clip.h"

#define TEMPLATES 3  /* subject sentence orders */
#define SETTINGS 3   /* setting sentence phrasings */

/*
 * The figures: docs/quality.md says where each comes from. Word bounds
 * for flux2, zimage and wan22 are seed 004's; flux and sdxl are ours
 * (CLIP reads 77 tokens, about 55 words).
 */
static const struct caption_profile profiles[] = {
	{ "flux", "Flux", 20, 60, 77, 512, false, true, 15, 30, 1024 },
	{ "flux2", "Flux 2", 30, 80, 0, 512, false, true, 20, 30, 1024 },
	{ "zimage", "Z-Image", 20, 50, 0, 512, false, true, 20, 30, 1024 },
	{ "wan22", "WAN 2.2", 80, 150, 0, 512, true, true, 10, 30, 1024 },
	{ "sdxl", "SDXL", 10, 50, 77, 0, false, false, 100, 150, 1024 },
	{ "sd15", "SD 1.5", 10, 50, 77, 0, false, false, 100, 150, 512 },
};

const struct caption_profile *
caption_profile(const char *target)
{
	for (size_t i = 0; target && i < LM_ARRAY_LEN(profiles); i++)
		if (strcmp(profiles[i].target, target) == 0)
			return &profiles[i];
	return &profiles[0];
}

int
caption_attr_slot(const char *name)
{
	static const struct {
		const char *name;
		enum attr_slot slot;
	} map[] = {
		{ "expression", ATTR_EXPRESSION }, { "wardrobe", ATTR_WARDROBE },
		{ "pose", ATTR_POSE },             { "place", ATTR_PLACE },
		{ "light", ATTR_LIGHT },           { "angle", ATTR_ANGLE },
		{ "framing", ATTR_FRAMING },       { "category", ATTR_CATEGORY },
	};

	for (size_t i = 0; i < LM_ARRAY_LEN(map); i++)
		if (strcmp(map[i].name, name) == 0)
			return (int)map[i].slot;
	return -1;
}

void
caption_set_attr(const char **attrs, const char *name, const char *value)
{
	int slot = caption_attr_slot(name);

	if (slot >= 0)
		attrs[slot] = value;
}

static bool
same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
caption_tags(const struct recipe *r)
{
	const char *style = r->sec[KIND_CAPTION].style;

	return style ? strcmp(style, "tags") == 0
		     : !caption_profile(r->target)->prose;
}

void
caption_set_init(struct caption_set *set, const struct recipe *r,
		 const struct node *const *leaves, size_t n)
{
	const struct section *cs = &r->sec[KIND_CAPTION];

	memset(set, 0, sizeof(*set));
	set->r = r;
	set->profile = caption_profile(r->target);
	set->tags = caption_tags(r);
	set->underscores = cs->underscores;
	/* the profile's word bounds are for sentences: tags are bound by
	 * the encoder's tokens, and by words only when the recipe says */
	set->min_words = cs->words_min ? (unsigned)cs->words_min
		       : set->tags ? 0 : set->profile->min_words;
	set->max_words = cs->words_max ? (unsigned)cs->words_max
		       : set->tags ? 0 : set->profile->max_words;
	set->max_tokens = set->profile->text_window ? set->profile->text_window
						    : set->profile->clip_window;
	for (int a = 0; a < ATTR_COUNT; a++)
		for (size_t i = 1; i < n && !set->varies[a]; i++)
			if (!same(leaves[i]->attrs[a], leaves[0]->attrs[a]))
				set->varies[a] = true;
}

void
caption_set_release(struct caption_set *set)
{
	(void)set;
}

/* ---- expression words ---- */

/*
 * Does w start with prefix (lowercase ASCII), ignoring case? The first
 * letter is compared before the call: this runs for every phrase of
 * every template a caption tries.
 */
static bool
starts_with(const char *w, const char *prefix)
{
	return tolower((unsigned char)w[0]) == prefix[0] &&
	       strncasecmp(w, prefix, strlen(prefix)) == 0;
}

static bool
ends_with(const char *w, size_t len, const char *tail)
{
	size_t tl = strlen(tail);

	return len >= tl && strncasecmp(w + len - tl, tail, tl) == 0;
}

/* Does a descriptor phrase name a plural thing ("heavy eyelids")? */
static bool
plural(const char *phrase, size_t len)
{
	static const char *const irregular[] = { "teeth", "feet", "lips",
						 "eyes", "brows", NULL };
	const char *p = phrase, *end = phrase + len;

	while (p < end) {
		const char *w = p;

		while (p < end && !isspace((unsigned char)*p))
			p++;
		size_t wl = (size_t)(p - w);
		for (const char *const *ir = irregular; *ir; ir++)
			if (wl == strlen(*ir) && strncmp(w, *ir, wl) == 0)
				return true;
		if (wl > 3 && w[wl - 1] == 's' && w[wl - 2] != 's' &&
		    w[wl - 2] != 'u' && w[wl - 2] != 'i' &&
		    !ends_with(w, wl, "ways") && !ends_with(w, wl, "wards"))
			return true; /* "sideways", "backwards" are not plural */
		while (p < end && isspace((unsigned char)*p))
			p++;
	}
	return false;
}

/* Does the phrase start with a determiner or a number ("one raised ...")? */
static bool
has_determiner(const char *w, size_t len)
{
	static const char *const det[] = { "a ", "an ", "the ", "his ", "her ",
		"their ", "its ", "my ", "your ", "our ", "no ", "one ", "two ",
		"three ", "four ", "both ", "each ", "every ", "some ", "this ",
		"that ", "these ", "those ", "several ", "many ", "few ", NULL };

	for (const char *const *d = det; *d; d++)
		if (starts_with(w, *d) && len > strlen(*d))
			return true;
	return false;
}

/*
 * "a" or "an" by the sound the word starts with: "an uneasy", "a one-off",
 * "a unique", "an hour", "an urban". The exceptions are the spellings
 * whose first sound is not their first letter's.
 */
static const char *
indefinite_article(const char *w)
{
	static const struct {
		const char *start;
		const char *article;
	} sounds[] = {
		{ "hour", "an" }, { "honest", "an" }, { "honou", "an" },
		{ "heir", "an" }, { "one", "a" },     { "once", "a" },
		{ "unin", "an" }, { "unim", "an" },   { "unid", "an" },
		{ "uni", "a" },   { "use", "a" },     { "usu", "a" },
		{ "uti", "a" },   { "ubiq", "a" },    { "eu", "a" },
		{ "ewe", "a" },
	};

	for (size_t i = 0; i < LM_ARRAY_LEN(sounds); i++)
		if (starts_with(w, sounds[i].start))
			return sounds[i].article;
	return strchr("aeiouAEIOU", w[0]) ? "an" : "a";
}

/* Append "a soft unfocused gaze" for "soft unfocused gaze". */
static void
add_phrase(struct buf *b, const char *w, size_t len)
{
	if (!plural(w, len) && !has_determiner(w, len))
		buf_addf(b, "%s ", indefinite_article(w));
	buf_add(b, w, len);
}

static const char *
trim(const char *s, const char *end, size_t *len)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && (isspace((unsigned char)end[-1]) || end[-1] == '.'))
		end--;
	*len = (size_t)(end - s);
	return s;
}

/* Find the dash between emotion and descriptors: " — ", " – ", " - ", ": ". */
static const char *
find_dash(const char *s, size_t *dashlen)
{
	static const char *const dashes[] = { " \xe2\x80\x94 ", " \xe2\x80\x93 ",
					      " - ", ": ", NULL };

	for (const char *const *d = dashes; *d; d++) {
		const char *p = strstr(s, *d);

		if (p) {
			*dashlen = strlen(*d);
			return p;
		}
	}
	return NULL;
}

char *
caption_emotion(const char *expr, char *out, size_t outsz)
{
	size_t dashlen, len;
	const char *dash = find_dash(expr, &dashlen);
	const char *w = trim(expr, dash ? dash : expr + strlen(expr), &len);

	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, w, len);
	out[len] = '\0';
	return out;
}

/* Descriptors after the dash (at most max; max < 0: all), as "A, B and C". */
static size_t
add_descriptors(struct buf *b, const char *p, int max)
{
	size_t total = 0, n = 0, len;
	const char *w;

	for (const char *q = p; *q; q++)
		total += *q == ',';
	total++;
	if (max >= 0 && total > (size_t)max)
		total = (size_t)max;
	while (*p && n < total) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);

		w = trim(p, end, &len);
		if (len) {
			if (n)
				buf_adds(b, n + 1 == total ? " and " : ", ");
			add_phrase(b, w, len);
			n++;
		} else {
			total--;
		}
		p = comma ? comma + 1 : end;
	}
	return n;
}

enum expr_form {
	EXPR_PREDICATE, /* " looks tired, with A, B and C" */
	EXPR_NOUN,      /* " with a tired expression: A, B and C" */
	EXPR_SENTENCE,  /* "A tired expression, with A, B and C" */
};

/*
 * Is the emotion a noun phrase ("genuine laugh", "a slight smile"), not
 * an adjective ("tired")? It is when it starts with a determiner or ends
 * in a word that names a facial expression: "looks genuine laugh" is
 * wrong, "with a genuine laugh" right.
 */
static bool
emotion_is_noun(const char *w, size_t len)
{
	static const char *const nouns[] = { "smile", "smiles", "grin", "smirk",
		"laugh", "laughter", "frown", "scowl", "pout", "sneer", "glare",
		"stare", "gaze", "look", "glance", "wink", "yawn", "gasp", "sigh",
		"grimace", "squint", "blush", "giggle", "chuckle", "cry", "tears",
		"scream", "shout", "sob", "snarl", "face", "expression", "mood",
		"surprise", "shock", "joy", "anger", "rage", "fear", "disgust",
		"contempt", "sadness", "awe", "delight", NULL };
	const char *last = w + len;

	if (has_determiner(w, len))
		return true;
	while (last > w && !isspace((unsigned char)last[-1]))
		last--;
	for (const char *const *n = nouns; *n; n++)
		if (starts_with(last, *n) && (size_t)(w + len - last) == strlen(*n))
			return true;
	return false;
}

/*
 * The expression in one of three forms. An adjective ("tired") reads
 * " looks tired", " with a tired expression", "A tired expression"; a
 * noun phrase ("genuine laugh", "a slight smile") reads " with a genuine
 * laugh" in the first two forms and "A genuine laugh" in the third.
 */
static void
add_expression(struct buf *b, const char *expr, enum expr_form form, int ndesc)
{
	size_t dashlen = 0, len, mark = b->len;
	const char *dash = find_dash(expr, &dashlen);
	const char *w = trim(expr, dash ? dash : expr + strlen(expr), &len);
	bool noun = emotion_is_noun(w, len);

	if (form != EXPR_SENTENCE)
		buf_adds(b, form == EXPR_PREDICATE && !noun ? " looks " : " with ");
	if (noun)
		add_phrase(b, w, len);
	else if (form == EXPR_PREDICATE)
		buf_add(b, w, len);
	else
		buf_addf(b, "%s %.*s expression", indefinite_article(w), (int)len, w);
	if (form == EXPR_SENTENCE)
		b->data[mark] = (char)toupper((unsigned char)b->data[mark]);
	if (!dash || ndesc == 0)
		return;
	mark = b->len;
	buf_adds(b, form == EXPR_SENTENCE ? ", with "
		    : form == EXPR_NOUN || noun ? ": " : ", with ");
	if (!add_descriptors(b, dash + dashlen, ndesc)) {
		b->len = mark;
		b->data[mark] = '\0';
	}
}

/* ---- camera words ---- */

/* "seen from the front"; words without a verb get "seen". */
static void
add_angle(struct buf *b, const char *angle)
{
	if (strncmp(angle, "seen", 4) == 0 || strncmp(angle, "viewed", 6) == 0)
		buf_addf(b, "%s", angle);
	else
		buf_addf(b, "seen %s", angle);
}

static const char *
framing_words(const char *f)
{
	if (!f)
		return NULL;
	if (strcmp(f, "closeup") == 0)
		return "in a close-up";
	if (strcmp(f, "medium") == 0)
		return "in a medium shot";
	if (strcmp(f, "full") == 0)
		return "in a full-body shot";
	if (strcmp(f, "back") == 0)
		return "seen from behind";
	return NULL;
}

static void
add_capitalised(struct buf *b, const char *s)
{
	buf_addc(b, (char)toupper((unsigned char)s[0]));
	buf_adds(b, s + 1);
}

/* ---- templates ---- */

/* What one caption says: the attributes that vary, and how much of them. */
struct parts {
	const char *trigger;
	const char *expr, *pose, *wardrobe, *angle, *frame, *place, *light;
	int ndesc;        /* descriptors kept; -1: all */
	unsigned tmpl;    /* subject sentence order, 0..TEMPLATES-1 */
	unsigned setting; /* setting phrasing, 0..SETTINGS-1 */
};

static void
add_camera(struct buf *b, const struct parts *p)
{
	if (p->angle)
		add_angle(b, p->angle);
	else
		buf_adds(b, p->frame);
}

static void
add_extras(struct buf *b, const struct parts *p)
{
	if (p->pose)
		buf_addf(b, ", %s", p->pose);
	if (p->wardrobe)
		buf_addf(b, ", wearing %s", p->wardrobe);
}

/*
 * The subject sentence, in order p->tmpl:
 *   0  TRIGGER looks EMOTION, with DESCRIPTORS, POSE, wearing W, CAMERA.
 *   1  TRIGGER CAMERA, POSE, wearing W, with an EMOTION expression: D.
 *   2  TRIGGER CAMERA, POSE, wearing W. An EMOTION expression, with D.
 * Orders 1 and 2 need both camera words and an expression; without them
 * order 0 is used.
 */
static void
add_subject(struct buf *b, const struct parts *p)
{
	bool camera = p->angle || p->frame;
	unsigned t = camera && p->expr ? p->tmpl : 0;
	size_t mark;

	buf_adds(b, p->trigger);
	mark = b->len;
	if (t == 0) {
		if (p->expr)
			add_expression(b, p->expr, EXPR_PREDICATE, p->ndesc);
		add_extras(b, p);
		if (camera) {
			buf_adds(b, b->len > mark ? ", " : " ");
			add_camera(b, p);
		}
	} else {
		buf_addc(b, ' ');
		add_camera(b, p);
		add_extras(b, p);
		if (t == 1) {
			buf_addc(b, ',');
			add_expression(b, p->expr, EXPR_NOUN, p->ndesc);
		} else {
			buf_adds(b, ". ");
			add_expression(b, p->expr, EXPR_SENTENCE, p->ndesc);
		}
	}
	if (b->len > mark)
		buf_addc(b, '.');
}

/*
 * The setting sentence, in phrasing p->setting:
 *   0  An industrial corridor, lit by cool overhead light.
 *   1  The setting is an industrial corridor, with cool overhead light.
 *   2  An industrial corridor, under cool overhead light.
 * Light without a place: "The light is L." (0, 2) or "Lit by L." (1).
 */
static void
add_setting(struct buf *b, const struct parts *p)
{
	static const char *const joins[SETTINGS] = { ", lit by ", ", with ",
						     ", under " };
	unsigned s = p->setting % SETTINGS;
	const char *join = joins[s];

	if (s == 1 && p->place && strstr(p->place, " with "))
		join = joins[0]; /* not "a corridor with worn walls, with light" */

	if (p->place) {
		buf_addc(b, ' ');
		if (s == 1)
			buf_addf(b, "The setting is %s", p->place);
		else
			add_capitalised(b, p->place);
		if (p->light)
			buf_addf(b, "%s%s", join, p->light);
	} else if (p->light) {
		buf_addf(b, s == 1 ? " Lit by %s" : " The light is %s", p->light);
	}
	if (p->place || p->light)
		buf_addc(b, '.');
}

/* The attribute if it varies across the set, else NULL. */
static const char *
attr(const struct caption_set *set, const struct node *img, enum attr_slot s)
{
	return set->varies[s] ? img->attrs[s] : NULL;
}

/* Render p into b: one line, single spaces. */
static void
render(struct buf *b, const struct parts *p)
{
	char *r, *w;

	buf_reset(b);
	add_subject(b, p);
	add_setting(b, p);
	for (r = w = b->data; *r; r++) {
		char c = *r == '\n' || *r == '\r' || *r == '\t' ? ' ' : *r;

		if (c == ' ' && (w == b->data || w[-1] == ' '))
			continue;
		*w++ = c;
	}
	while (w > b->data && w[-1] == ' ')
		w--;
	*w = '\0';
	b->len = (size_t)(w - b->data);
}

/*
 * Shorten p one step for a caption over the word bound: drop the light,
 * keep two descriptors, drop the descriptors, drop the place. Returns
 * false when there is nothing left to drop.
 */
static bool
shorten(struct parts *p)
{
	if (p->light) {
		p->light = NULL;
	} else if (p->expr && (p->ndesc < 0 || p->ndesc > 2)) {
		p->ndesc = 2;
	} else if (p->expr && p->ndesc > 0) {
		p->ndesc = 0;
	} else if (p->place) {
		p->place = NULL;
	} else {
		return false;
	}
	return true;
}

/* Where a rendered caption falls against the set's word and token bounds. */
enum fit { FIT_SHORT, FIT_IN, FIT_LONG };

static enum fit
fit_of(const struct caption_set *set, const char *s)
{
	size_t words = caption_words(s);

	/* a token holds one byte at least: a short text needs no count */
	bool may_be_over = set->max_tokens && strlen(s) + 2 > set->max_tokens;

	if ((set->max_words && words > set->max_words) ||
	    (may_be_over && clip_tokens(s) > set->max_tokens))
		return FIT_LONG;
	return words < set->min_words ? FIT_SHORT : FIT_IN;
}

/*
 * Words, bytes and CLIP tokens of one sentence. A caption is its subject
 * sentence, then its setting sentence after a space, and all three add up
 * across that space (no CLIP piece spans whitespace), less the start and
 * end tokens the two counts hold twice.
 */
struct measure {
	size_t words, bytes, tokens;
};

static void
measure_part(struct buf *b, const struct parts *p, bool subject,
	     struct measure *m)
{
	buf_reset(b);
	if (subject)
		add_subject(b, p);
	else
		add_setting(b, p);
	m->words = caption_words(b->data);
	m->bytes = b->len;
	m->tokens = 0;
}

static enum fit
fit_sum(const struct caption_set *set, const struct measure *x,
	const struct measure *y, bool counted)
{
	size_t words = x->words + y->words;

	if ((set->max_words && words > set->max_words) ||
	    (counted && x->tokens + y->tokens - 2 > set->max_tokens))
		return FIT_LONG;
	return words < set->min_words ? FIT_SHORT : FIT_IN;
}

/*
 * Render p in the first of its nine template and phrasing choices that
 * fits the bounds, starting from its own (the id's hash) and trying the
 * other subject orders first. Returns FIT_IN when one fits; else the
 * longest short one is left in b (FIT_SHORT), or, when every choice is
 * long, p's own choice (FIT_LONG). Its own choice is rendered first, as
 * it fits most often; the others are judged by their two sentences,
 * measured once each, and only the chosen one is rendered whole.
 */
static enum fit
render_fitting(struct buf *b, const struct caption_set *set, struct parts *p)
{
	struct parts own = *p, q = *p;
	struct measure subj[TEMPLATES], sett[SETTINGS];
	/* choices that render alike are tried once: the orders differ only
	 * with camera words and an expression, the phrasings with a setting */
	unsigned orders = (p->angle || p->frame) && p->expr ? TEMPLATES : 1;
	unsigned phrasings = p->place || p->light ? SETTINGS : 1;
	size_t most_bytes = 0, best_words = 0;
	int best = -1;
	bool count;
	enum fit f;

	render(b, p);
	if ((f = fit_of(set, b->data)) == FIT_IN || orders * phrasings == 1)
		return f; /* it fits, or there is no other choice */
	for (unsigned o = 0; o < orders; o++) {
		q.tmpl = (own.tmpl + o) % TEMPLATES;
		measure_part(b, &q, true, &subj[o]);
	}
	for (unsigned s = 0; s < phrasings; s++) {
		q.setting = (own.setting + s) % SETTINGS;
		measure_part(b, &q, false, &sett[s]);
	}
	for (unsigned o = 0; o < orders; o++)
		for (unsigned s = 0; s < phrasings; s++)
			if (subj[o].bytes + sett[s].bytes > most_bytes)
				most_bytes = subj[o].bytes + sett[s].bytes;
	/* a token holds one byte at least: count only if it can matter */
	count = set->max_tokens && most_bytes + 2 > set->max_tokens;
	for (unsigned o = 0; count && o < orders; o++) {
		q.tmpl = (own.tmpl + o) % TEMPLATES;
		measure_part(b, &q, true, &subj[o]);
		subj[o].tokens = clip_tokens(b->data);
	}
	for (unsigned s = 0; count && s < phrasings; s++) {
		q.setting = (own.setting + s) % SETTINGS;
		measure_part(b, &q, false, &sett[s]);
		sett[s].tokens = clip_tokens(b->data);
	}
	for (unsigned k = 0; k < orders * phrasings; k++) {
		const struct measure *x = &subj[k % orders], *y = &sett[k / orders];

		f = fit_sum(set, x, y, count);
		if (f == FIT_IN || (f == FIT_SHORT && best < 0) ||
		    (f == FIT_SHORT && x->words + y->words > best_words)) {
			best = (int)k;
			best_words = x->words + y->words;
		}
		if (f == FIT_IN)
			break;
	}
	*p = own;
	if (best >= 0) {
		p->tmpl = (own.tmpl + (unsigned)best % orders) % TEMPLATES;
		p->setting = (own.setting + (unsigned)best / orders) % SETTINGS;
	}
	render(b, p);
	return best < 0 ? FIT_LONG : fit_sum(set, &subj[best % orders],
					       &sett[best / orders], count);
}

/* ---- tags ---- */

/* Is the tag b holds from mark + 2 on one of those before mark (case
 * aside)? Tags are joined by ", ". */
static bool
has_tag_before(const struct buf *b, size_t mark)
{
	const char *t = b->data + mark + 2, *end = b->data + mark;
	size_t len = b->len - mark - 2;

	for (const char *p = b->data; p < end; ) {
		const char *q = strstr(p, ", ");

		if (!q || q > end)
			q = end;
		if ((size_t)(q - p) == len && strncasecmp(p, t, len) == 0)
			return true;
		p = q + 2;
	}
	return false;
}

/*
 * Append one tag: w trimmed, without a leading article or the camera
 * verbs of the prose forms ("seen from behind" is "from behind"), its
 * spaces as '_' with underscores; a tag already there is not repeated.
 */
static void
add_tag(struct buf *b, const struct caption_set *set, const char *w,
	size_t len)
{
	static const char *const lead[] = { "seen ", "viewed ", "in ", "a ",
					    "an ", "the ", NULL };
	size_t mark = b->len;

	w = trim(w, w + len, &len);
	for (const char *const *l = lead; *l; l++)
		if (len > strlen(*l) && starts_with(w, *l)) {
			w += strlen(*l);
			len -= strlen(*l);
		}
	if (!len)
		return;
	buf_adds(b, ", ");
	for (size_t i = 0; i < len; i++)
		buf_addc(b, set->underscores && w[i] == ' ' ? '_' : w[i]);
	if (has_tag_before(b, mark)) {
		b->len = mark;
		b->data[mark] = '\0';
	}
}

/* Each comma-separated part of text as a tag (at most max; < 0: all). */
static void
add_tags(struct buf *b, const struct caption_set *set, const char *text,
	 int max)
{
	for (const char *p = text; p && *p && max != 0; max--) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		add_tag(b, set, p, len);
		p = comma ? comma + 1 : NULL;
	}
}

static const char *
framing_tag(const char *f)
{
	static const char *const tags[][2] = {
		{ "closeup", "close-up" }, { "medium", "medium shot" },
		{ "full", "full body" },   { "back", "from behind" },
	};

	for (size_t i = 0; f && i < LM_ARRAY_LEN(tags); i++)
		if (strcmp(f, tags[i][0]) == 0)
			return tags[i][1];
	return NULL;
}

/*
 * The tag caption of p: trigger, emotion, its descriptors, camera, pose,
 * wardrobe, place, light. Shortened as the prose is (shorten), the same
 * attributes in the same order of loss.
 */
static void
render_tags(struct buf *b, const struct caption_set *set, const struct parts *p)
{
	char emotion[256];
	size_t dashlen;

	buf_reset(b);
	buf_adds(b, p->trigger);
	if (p->expr) {
		const char *dash = find_dash(p->expr, &dashlen);

		caption_emotion(p->expr, emotion, sizeof(emotion));
		add_tag(b, set, emotion, strlen(emotion));
		if (dash)
			add_tags(b, set, dash + dashlen, p->ndesc);
	}
	add_tags(b, set, p->angle ? p->angle : p->frame, 1);
	add_tags(b, set, p->pose, -1);
	add_tags(b, set, p->wardrobe, -1);
	add_tags(b, set, p->place, -1);
	add_tags(b, set, p->light, -1);
}

const char *
caption_build(struct arena *a, const struct caption_set *set,
	      const struct node *img)
{
	const struct recipe *r = set->r;
	uint64_t h = hash_str64(img->id, strlen(img->id));
	struct parts p = {
		.trigger = r->trigger ? r->trigger : r->name,
		.expr = attr(set, img, ATTR_EXPRESSION),
		.pose = attr(set, img, ATTR_POSE),
		.wardrobe = attr(set, img, ATTR_WARDROBE),
		.angle = attr(set, img, ATTR_ANGLE),
		.place = attr(set, img, ATTR_PLACE),
		.light = attr(set, img, ATTR_LIGHT),
		.ndesc = -1,
		.tmpl = (unsigned)(h % TEMPLATES),
		.setting = (unsigned)((h >> 16) % SETTINGS),
	};
	struct buf b;
	const char *out;

	buf_init(&b);
	if (set->tags) {
		if (!p.angle)
			p.frame = framing_tag(attr(set, img, ATTR_FRAMING));
		for (render_tags(&b, set, &p);
		     fit_of(set, b.data) == FIT_LONG && shorten(&p);)
			render_tags(&b, set, &p);
		out = arena_strndup(a, b.data, b.len);
		buf_release(&b);
		return out;
	}
	if (!p.angle)
		p.frame = framing_words(attr(set, img, ATTR_FRAMING));
	while (render_fitting(&b, set, &p) == FIT_LONG && shorten(&p))
		;
	out = arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return out;
}

size_t
caption_words(const char *s)
{
	size_t n = 0;
	bool in = false;

	for (; *s; s++) {
		bool sp = isspace((unsigned char)*s);

		if (!sp && !in)
			n++;
		in = !sp;
	}
	return n;
}

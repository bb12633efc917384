/*
 * caption: templates over attributes.
 *
 * An expression given as "tired — slightly heavy eyelids, soft unfocused
 * gaze, relaxed jaw" (the seeds' "emotion — descriptors" form) becomes
 * "looks tired, with slightly heavy eyelids, a soft unfocused gaze and a
 * relaxed jaw": the physical descriptors are the words that teach most.
 */
#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "caption.h"

void
caption_set_attr(const char **attrs, const char *name, const char *value)
{
	static const struct {
		const char *name;
		enum attr_slot slot;
	} map[] = {
		{ "expression", ATTR_EXPRESSION }, { "wardrobe", ATTR_WARDROBE },
		{ "pose", ATTR_POSE },             { "place", ATTR_PLACE },
		{ "light", ATTR_LIGHT },           { "angle", ATTR_ANGLE },
		{ "framing", ATTR_FRAMING },
	};

	for (size_t i = 0; i < LM_ARRAY_LEN(map); i++)
		if (strcmp(map[i].name, name) == 0)
			attrs[map[i].slot] = value;
}

static bool
same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

void
caption_set_init(struct caption_set *set, const struct recipe *r,
		 const struct node *const *leaves, size_t n)
{
	memset(set, 0, sizeof(*set));
	set->r = r;
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

/* The attribute if it varies across the set, else NULL. */
static const char *
attr(const struct caption_set *set, const struct node *img, enum attr_slot s)
{
	return set->varies[s] ? img->attrs[s] : NULL;
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
		    w[wl - 2] != 'u' && w[wl - 2] != 'i')
			return true;
		while (p < end && isspace((unsigned char)*p))
			p++;
	}
	return false;
}

static bool
has_determiner(const char *w, size_t len)
{
	static const char *const det[] = { "a ", "an ", "the ", "his ", "her ",
					   "their ", "its ", "no ", NULL };

	for (const char *const *d = det; *d; d++)
		if (len > strlen(*d) && strncasecmp(w, *d, strlen(*d)) == 0)
			return true;
	return false;
}

/* Append "a soft unfocused gaze" for "soft unfocused gaze". */
static void
add_phrase(struct buf *b, const char *w, size_t len)
{
	if (!plural(w, len) && !has_determiner(w, len))
		buf_adds(b, strchr("aeiouAEIOU", w[0]) ? "an " : "a ");
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

/* Find the dash between emotion and descriptors: " — ", " – " or " - ". */
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

/* "looks tired, with A, B and C" from "tired — A, B, C". */
static void
add_expression(struct buf *b, const char *expr)
{
	size_t dashlen, len, n = 0;
	const char *dash = find_dash(expr, &dashlen), *p, *w;

	if (!dash) {
		w = trim(expr, expr + strlen(expr), &len);
		if (strncmp(w, "a ", 2) == 0 || strncmp(w, "an ", 3) == 0)
			buf_addf(b, " with %.*s", (int)len, w);
		else
			buf_addf(b, " looks %.*s", (int)len, w);
		return;
	}
	w = trim(expr, dash, &len);
	buf_addf(b, " looks %.*s, with ", (int)len, w);
	p = dash + dashlen;
	size_t total = 1;
	for (const char *q = p; *q; q++)
		total += *q == ',';
	while (*p) {
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
}

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

/* The setting sentence, in one of three phrasings chosen by t. */
static void
add_setting(struct buf *b, const char *place, const char *light, unsigned t)
{
	if (place && t % 3 == 1) {
		buf_addf(b, " The setting is %s", place);
	} else if (place) {
		buf_addc(b, ' ');
		add_capitalised(b, place);
	}
	if (place && light)
		buf_addf(b, t % 3 == 2 ? ", under %s" : t % 3 == 1 ? ", in %s"
						     : ", lit by %s", light);
	else if (light)
		buf_addf(b, " The light is %s", light);
	if (place || light)
		buf_addc(b, '.');
}

const char *
caption_build(struct arena *a, const struct caption_set *set,
	      const struct node *img)
{
	const struct recipe *r = set->r;
	const char *expr = attr(set, img, ATTR_EXPRESSION);
	const char *angle = attr(set, img, ATTR_ANGLE);
	const char *pose = attr(set, img, ATTR_POSE);
	const char *wardrobe = attr(set, img, ATTR_WARDROBE);
	const char *frame = angle ? NULL : framing_words(attr(set, img, ATTR_FRAMING));
	unsigned t = (unsigned)hash_str64(img->id, strlen(img->id));
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_adds(&b, r->trigger ? r->trigger : r->name);
	if (expr)
		add_expression(&b, expr);
	if (pose)
		buf_addf(&b, "%s%s", expr ? ", " : ", ", pose);
	if (wardrobe)
		buf_addf(&b, ", wearing %s", wardrobe);
	if (angle || frame) {
		buf_adds(&b, expr || pose || wardrobe ? ", " : " ");
		if (angle)
			add_angle(&b, angle);
		else
			buf_adds(&b, frame);
	}
	if (expr || pose || wardrobe || angle || frame)
		buf_addc(&b, '.');
	add_setting(&b, attr(set, img, ATTR_PLACE), attr(set, img, ATTR_LIGHT), t);
	/* one line, always */
	for (char *p = b.data; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
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

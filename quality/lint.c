/*
 * lint: caption and prompt rules on PCRE2.
 *
 * Every pattern is compiled once in lint_new with PCRE2_UTF | PCRE2_UCP
 * (so \b and \w know letters beyond ASCII) and matched with a match data
 * block of the caller's own, so one lint may serve several threads.
 * Text is checked for valid UTF-8 in C first: a PCRE2_UTF match on
 * invalid UTF-8 is an error, not a miss.
 *
 * Identity words are taken from the character text: each word that is
 * not everyday English (quality/words.c) and has four letters or more
 * ("braids", "wireframe"), and each pair of adjacent content words that
 * holds such a word or names a trait ("oval eyes", "blue eyes", "red
 * hair"), so the generic "eyes" in "narrowed eyes" is not taken for
 * identity while "blue eyes" is. They are escaped into
 * one alternation, so no text of a recipe is ever compiled as a regex.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/text.h"
#include "compiler/clip.h"
#include "lint.h"
#include "words.h"

#define FLAGS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS)
#define MAX_IDENTITY 200 /* identity alternatives taken from the text */

/* A word: letters and digits, with inner apostrophes and hyphens. */
static const char word_pattern[] =
	"[\\p{L}\\p{N}]+(?:['\xe2\x80\x99-][\\p{L}\\p{N}]+)*";

/* Style, quality and camera-spec words: constant across any set. */
static const char style_pattern[] =
	"\\b(?:photo-?realistic|hyper-?realistic|ultra-?realistic|realistic"
	"|(?:4|8|16)k|uhd|hdr|masterpiece|masterful"
	"|(?:best|high|highest|top)\\s+quality"
	"|(?:highly|ultra|extremely|very|super)[\\s-]+detailed"
	"|intricate(?:\\s+details?)?|sharp\\s+focus|award[\\s-]+winning"
	"|trending\\s+on\\s+\\w+|octane\\s+render|unreal\\s+engine|cinematic"
	"|professional\\s+photo(?:graph|graphy)?|studio\\s+quality"
	"|raw\\s+photo|film\\s+grain|dslr|hasselblad|bokeh|absurdres"
	"|high-?res|\\d{2,3}\\s?mm(?:\\s+lens)?)\\b"
	"|\\bf/\\d+(?:\\.\\d+)?";

/* Motion and camera movement, which video captions should name. */
static const char motion_pattern[] =
	"\\b(?:walk(?:s|ing|ed)?|turn(?:s|ing|ed)?|run(?:s|ning)?"
	"|move(?:s|d)?|moving|step(?:s|ping|ped)?|lean(?:s|ing)?"
	"|raise[sd]?|raising|lift(?:s|ing|ed)?|nod(?:s|ding)?|sway(?:s|ing)?"
	"|spin(?:s|ning)?|glanc(?:e|es|ing)|blink(?:s|ing)?|breath(?:es|ing)"
	"|breathe|tilt(?:s|ing)?|pan(?:s|ning)|zoom(?:s|ing)?|orbit(?:s|ing)?"
	"|approach(?:es|ing)?|gestur(?:e|es|ing)|wav(?:e|es|ing)"
	"|jump(?:s|ing)?|danc(?:e|es|ing)|rotat(?:e|es|ing)|dolly"
	"|crouch(?:es|ing)?|swing(?:s|ing)?|twist(?:s|ing)?|strides?"
	"|striding|slowly|quickly|motion|movement)\\b";

/*
 * Physical traits a person keeps from photo to photo: identity whatever
 * the recipe says. Not a caption rule (a recipe's own words may name a
 * colour on purpose); what lint_scrub takes out of a vision model's
 * answer, which describes the person unless stopped.
 */
static const char traits_pattern[] =
	"\\b(?:(?:blue|green|grey|gray|brown|hazel|amber|dark|light|pale|bright)"
	"[\\s-]+eyes?"
	"|(?:blonde?|brunette|red|ginger|auburn|black|brown|grey|gray|white"
	"|silver|dark|light|long|short|curly|wavy|straight|pink|blue|shoulder-length)"
	"[\\s-]+(?:hair(?:ed)?|braids?|curls|bob|ponytail)"
	"|freckle[sd]?|freckly|moles?|beauty\\s+marks?|birthmarks?|dimples?"
	"|scars?|tattoo(?:s|ed)?|piercings?"
	"|(?:pale|fair|olive|dark|tan(?:ned)?|light|brown|porcelain|smooth)"
	"[\\s-]+(?:skin(?:ned)?|complexion)"
	"|blonde?|brunette|redhead|(?:high|sharp|prominent)\\s+cheekbones"
	"|(?:square|round|oval|heart-shaped|narrow|strong)\\s+(?:face|jaw(?:line)?|chin))\\b";

struct lint {
	pcre2_code *word;
	pcre2_code *traits;
	pcre2_code *style;
	pcre2_code *motion;
	pcre2_code *identity;  /* NULL: no identity words */
	char *trigger;         /* NULL: none */
	char *identity_words;  /* "braids, blue braids" */
	const struct caption_profile *profile;
	unsigned min_words, max_words;
	bool tags, underscores;
};

static const char *const code_names[LINT_CODE_COUNT] = {
	[LINT_EMPTY] = "empty",
	[LINT_UTF8] = "utf8",
	[LINT_MULTILINE] = "multiline",
	[LINT_NO_TRIGGER] = "no-trigger",
	[LINT_TRIGGER_FIRST] = "trigger-first",
	[LINT_IDENTITY] = "identity",
	[LINT_STYLE] = "style",
	[LINT_TAG_LIST] = "tag-list",
	[LINT_SHORT] = "short",
	[LINT_LONG] = "long",
	[LINT_CLIP] = "clip-tokens",
	[LINT_TOKENS] = "tokens",
	[LINT_MOTION] = "motion",
	[LINT_COMMON_TRIGGER] = "common-trigger",
	[LINT_TAG_SENTENCE] = "tag-sentence",
	[LINT_TAG_DUPLICATE] = "tag-duplicate",
	[LINT_TAG_JOINER] = "tag-joiner",
};

const char *
lint_code_name(enum lint_code c)
{
	return code_names[c];
}

/* Compile pattern; NULL with err naming the offset PCRE2 stopped at. */
static pcre2_code *
compile_re(const char *what, const char *pattern, struct error *err)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				       FLAGS, &code, &off, NULL);
	PCRE2_UCHAR msg[160];

	if (re)
		return re;
	pcre2_get_error_message(code, msg, sizeof(msg));
	error_set(err, "cannot compile the %s pattern at offset %zu: %s", what,
		  (size_t)off, (const char *)msg);
	return NULL;
}

/*
 * Call fn for each match of re in text[0..len), with its start and end.
 * Stops when fn returns false. text must be valid UTF-8.
 */
static void
each_match(const pcre2_code *re, const char *text, size_t len,
	   bool (*fn)(void *ctx, const char *text, size_t start, size_t end),
	   void *ctx)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	size_t at = 0;

	while (at <= len) {
		int rc = pcre2_match(re, (PCRE2_SPTR)text, len, at, 0, md, NULL);
		PCRE2_SIZE *ov;

		if (rc < 0)
			break;
		ov = pcre2_get_ovector_pointer(md);
		if (!fn(ctx, text, ov[0], ov[1]))
			break;
		at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		while (at < len && ((unsigned char)text[at] & 0xc0) == 0x80)
			at++; /* never restart inside a character */
	}
	pcre2_match_data_free(md);
}

/* Does re match anywhere in text? Fills *start and *end of the first. */
static bool
find(const pcre2_code *re, const char *text, size_t *start, size_t *end)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, NULL);

	if (rc >= 0) {
		*start = pcre2_get_ovector_pointer(md)[0];
		*end = pcre2_get_ovector_pointer(md)[1];
	}
	pcre2_match_data_free(md);
	return rc >= 0;
}


/* ASCII-lowercase s[0..len) into out (outsz >= 2); false if too long. */
static bool
lower(const char *s, size_t len, char *out, size_t outsz)
{
	if (len >= outsz)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
	return true;
}

/* ---- identity words ---- */

struct idwords {
	const struct lint *l;
	const char *prev_end;  /* end of the previous content word, or NULL */
	char prev[64];         /* that word, lowercase */
	struct buf alt;        /* the alternation being built */
	struct buf names;      /* "braids, blue braids" */
	size_t n;
};

/* Append s to the alternation, escaped, with \s+ for each run of spaces. */
static void
add_alternative(struct idwords *w, const char *s, bool plural)
{
	if (w->n >= MAX_IDENTITY)
		return;
	buf_adds(&w->alt, w->n++ ? "|" : "");
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (isspace(c)) {
			while (isspace((unsigned char)p[1]))
				p++;
			buf_adds(&w->alt, "\\s+");
		} else if (c < 0x80 && !isalnum(c)) {
			buf_addf(&w->alt, "\\%c", c);
		} else {
			buf_addc(&w->alt, (char)c);
		}
	}
	if (plural)
		buf_adds(&w->alt, "(?:s|es)?");
	buf_addf(&w->names, "%s%s", w->names.len ? ", " : "", s);
}

static bool
is_trigger(const struct lint *l, const char *word)
{
	return l->trigger && strcasecmp(word, l->trigger) == 0;
}

/* Is the gap between two words only spaces (no comma, no full stop)? */
static bool
adjacent(const char *from, const char *to)
{
	for (; from < to; from++)
		if (!isspace((unsigned char)*from))
			return false;
	return true;
}

/*
 * Is the pair "w1 w2" identity? When either word is not everyday English
 * ("blue braids"), or it names a trait of a face or hair ("blue eyes",
 * "red hair"); "young woman" and "left arm" are too generic.
 */
static bool
telling_pair(const char *w1, const char *w2)
{
	static const char *const traits[] = { "hair", "eyes", "eye", "skin",
		"lips", "face", "beard", "nose", "ears", "brows", "eyebrows",
		"freckles", "teeth", NULL };

	if (!words_common(w1) || !words_common(w2))
		return true;
	if (!strcmp(w1, "left") || !strcmp(w1, "right"))
		return false;
	for (const char *const *t = traits; *t; t++)
		if (!strcmp(w2, *t))
			return true;
	return false;
}

/* Does [start, end) of text lie inside an occurrence of the trigger
 * ("trader" of "miyomi_trader, a young woman")? */
static bool
in_trigger(const struct lint *l, const char *text, size_t start, size_t end)
{
	size_t tl = l->trigger ? strlen(l->trigger) : 0;

	for (const char *p = tl ? strstr(text, l->trigger) : NULL; p;
	     p = strstr(p + 1, l->trigger))
		if ((size_t)(p - text) <= start && end <= (size_t)(p - text) + tl)
			return true;
	return false;
}

static bool
on_character_word(void *ctx, const char *text, size_t start, size_t end)
{
	struct idwords *w = ctx;
	char word[64], pair[130];
	bool content;

	if (in_trigger(w->l, text, start, end)) {
		w->prev_end = NULL; /* the trigger's parts are not identity */
		return true;
	}
	if (!lower(text + start, end - start, word, sizeof(word))) {
		w->prev_end = NULL;
		return true;
	}
	content = end - start >= 3 && !words_stop(word) && !is_trigger(w->l, word);
	if (content && end - start >= 4 && !words_common(word))
		add_alternative(w, word, true);
	if (content && w->prev_end && adjacent(w->prev_end, text + start) &&
	    telling_pair(w->prev, word)) {
		snprintf(pair, sizeof(pair), "%s %s", w->prev, word);
		add_alternative(w, pair, false);
	}
	w->prev_end = content ? text + end : NULL;
	if (content)
		memcpy(w->prev, word, sizeof(word));
	return true;
}

/* Build the identity pattern from the character text and o->identity. */
static int
build_identity(struct lint *l, const struct lint_opts *o, struct error *err)
{
	struct idwords w = { .l = l };
	int rc = 0;

	buf_init(&w.alt);
	buf_init(&w.names);
	buf_adds(&w.alt, "(?<![\\p{L}\\p{N}])(?:");
	if (o->character && utf8_valid(o->character, strlen(o->character)))
		each_match(l->word, o->character, strlen(o->character),
			   on_character_word, &w);
	for (size_t i = 0; i < o->nidentity; i++)
		if (utf8_valid(o->identity[i], strlen(o->identity[i])))
			add_alternative(&w, o->identity[i], false);
	buf_adds(&w.alt, ")(?![\\p{L}\\p{N}])");
	if (w.n && !(l->identity = compile_re("identity", w.alt.data, err)))
		rc = -1;
	l->identity_words = buf_detach(&w.names);
	buf_release(&w.alt);
	return rc;
}

void
lint_opts_of(const struct recipe *r, struct lint_opts *o)
{
	const struct section *cs = &r->sec[KIND_CAPTION];

	*o = (struct lint_opts){ .trigger = r->trigger, .character = r->character,
				 .identity = cs->identity,
				 .nidentity = cs->nidentity,
				 .profile = caption_profile(r->target),
				 .min_words = (unsigned)cs->words_min,
				 .max_words = (unsigned)cs->words_max,
				 .tags = caption_tags(r),
				 .underscores = cs->underscores };
}

struct lint *
lint_new(const struct lint_opts *o, struct error *err)
{
	struct lint *l = xcalloc(1, sizeof(*l));

	l->profile = o->profile ? o->profile : caption_profile(NULL);
	l->tags = o->tags;
	l->underscores = o->underscores;
	/* the profile's word bounds are for sentences, not for tags */
	l->min_words = o->min_words ? o->min_words
		     : o->tags ? 0 : l->profile->min_words;
	l->max_words = o->max_words ? o->max_words
		     : o->tags ? 0 : l->profile->max_words;
	l->trigger = o->trigger ? xstrdup(o->trigger) : NULL;
	if (!(l->word = compile_re("word", word_pattern, err)) ||
	    !(l->style = compile_re("style", style_pattern, err)) ||
	    !(l->traits = compile_re("traits", traits_pattern, err)) ||
	    !(l->motion = compile_re("motion", motion_pattern, err)) ||
	    build_identity(l, o, err) < 0) {
		lint_free(l);
		return NULL;
	}
	return l;
}

void
lint_free(struct lint *l)
{
	if (!l)
		return;
	pcre2_code_free(l->word);
	pcre2_code_free(l->style);
	pcre2_code_free(l->traits);
	pcre2_code_free(l->motion);
	pcre2_code_free(l->identity);
	free(l->trigger);
	free(l->identity_words);
	free(l);
}

const char *
lint_identity_words(const struct lint *l)
{
	return l->identity_words;
}

/* ---- findings ---- */

static void LM_PRINTF(6, 7)
add(struct lint_result *r, enum lint_code code, enum lint_level level,
    size_t off, size_t len, const char *fmt, ...)
{
	struct lint_finding *f;
	va_list ap;

	if (r->n >= LINT_MAX_FINDINGS)
		return;
	f = &r->v[r->n++];
	f->code = code;
	f->level = level;
	f->offset = off;
	f->len = len;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

int
lint_worst(const struct lint_result *r)
{
	int worst = -1;

	for (size_t i = 0; i < r->n; i++)
		if ((int)r->v[i].level > worst)
			worst = (int)r->v[i].level;
	return worst;
}

/* ---- tokens ---- */

size_t
lint_tokens(const struct lint *l, const char *text)
{
	(void)l;
	return clip_tokens(text);
}

/* ---- caption rules ---- */

/* The trigger must be the caption's first word, exactly as written. */
static void
check_trigger(const struct lint *l, const char *s, struct lint_result *r)
{
	size_t tl = strlen(l->trigger), i = 0;
	const char *p;

	while (isspace((unsigned char)s[i]))
		i++;
	if (strncmp(s + i, l->trigger, tl) == 0 &&
	    !isalnum((unsigned char)s[i + tl]) && s[i + tl] != '_')
		return;
	for (p = strstr(s, l->trigger); p; p = strstr(p + 1, l->trigger)) {
		bool start = p == s || !isalnum((unsigned char)p[-1]);

		if (start && !isalnum((unsigned char)p[tl]) && p[tl] != '_') {
			add(r, LINT_TRIGGER_FIRST, LINT_FAIL, (size_t)(p - s), tl,
			    "the trigger '%s' is not the first word", l->trigger);
			return;
		}
	}
	add(r, LINT_NO_TRIGGER, LINT_FAIL, 0, 0, "the trigger '%s' is missing",
	    l->trigger);
}

struct hits {
	struct lint_result *r;
	enum lint_code code;
	enum lint_level level;
	const char *what;
	size_t skip_from, skip_to; /* the trigger's bytes: no hit inside */
};

static bool
on_hit(void *ctx, const char *text, size_t start, size_t end)
{
	struct hits *h = ctx;

	if (start >= h->skip_from && end <= h->skip_to)
		return true; /* "trader" inside the trigger miyomi_trader */
	add(h->r, h->code, h->level, start, end - start, "%s '%.*s'", h->what,
	    (int)(end - start), text + start);
	return h->r->n < LINT_MAX_FINDINGS;
}

static bool
on_function_word(void *ctx, const char *text, size_t start, size_t end)
{
	static const char *const verbs[] = { "looks", "seen", "wearing", "lit",
					     "is", "are", "has", NULL };
	bool *found = ctx;
	char word[32];

	if (!lower(text + start, end - start, word, sizeof(word)))
		return true;
	*found = words_stop(word);
	for (const char *const *v = verbs; *v && !*found; v++)
		*found = strcmp(word, *v) == 0;
	return !*found;
}

/* Does part hold a function word or a linking verb? */
static bool
has_function_word(const struct lint *l, const char *part)
{
	bool found = false;

	each_match(l->word, part, strlen(part), on_function_word, &found);
	return found;
}

/*
 * A comma tag list: four or more comma-separated parts, no full stop
 * inside, three quarters of the parts four words or fewer, and at most a
 * third of them holding a function word ("with", "the", "seen").
 */
static bool
tag_list(const struct lint *l, const char *s)
{
	size_t parts = 0, brief = 0, function = 0, len = strlen(s);

	while (len && (s[len - 1] == '.' || isspace((unsigned char)s[len - 1])))
		len--;
	if (memchr(s, '.', len) || memchr(s, ';', len) || memchr(s, '?', len))
		return false;
	for (const char *p = s, *end; p < s + len; p = end + 1) {
		char part[256];
		size_t plen;

		end = memchr(p, ',', (size_t)(s + len - p));
		if (!end)
			end = s + len;
		plen = (size_t)(end - p) < sizeof(part) ? (size_t)(end - p)
							: sizeof(part) - 1;
		memcpy(part, p, plen);
		part[plen] = '\0';
		parts++;
		brief += caption_words(part) <= 4;
		function += has_function_word(l, part);
	}
	return parts >= 4 && brief * 4 >= parts * 3 && function * 3 <= parts;
}

/* The longest tag a tag caption should hold, in words. */
#define TAG_MAX_WORDS 6

/*
 * One tag of a tag caption (at off, len bytes; index 0 is the trigger):
 * no sentence (a full stop, ';', '?', '!' or more than TAG_MAX_WORDS
 * words), its words joined as the recipe says.
 */
static void
lint_one_tag(const struct lint *l, const char *s, size_t off, size_t len,
	     size_t index, struct lint_result *r)
{
	char tag[256];
	size_t n = len < sizeof(tag) ? len : sizeof(tag) - 1;

	memcpy(tag, s + off, n);
	tag[n] = '\0';
	if (strpbrk(tag, ".;?!") || caption_words(tag) > TAG_MAX_WORDS)
		add(r, LINT_TAG_SENTENCE, LINT_WARN, off, len,
		    "'%.60s' is a sentence, not a tag", tag);
	if (index == 0)
		return; /* the trigger is kept as written */
	if (l->underscores && strchr(tag, ' '))
		add(r, LINT_TAG_JOINER, LINT_WARN, off, len,
		    "'%.60s' holds a space; the recipe joins tag words with '_'", tag);
	else if (!l->underscores && strchr(tag, '_'))
		add(r, LINT_TAG_JOINER, LINT_WARN, off, len,
		    "'%.60s' holds a '_'; the recipe joins tag words with spaces "
		    "(caption: underscores: true for '_')", tag);
}

/* A tag caption: each comma-separated tag, and none twice. */
static void
lint_tags(const struct lint *l, const char *s, struct lint_result *r)
{
	size_t starts[128], lens[128], n = 0;

	for (const char *p = s; *p && n < LM_ARRAY_LEN(starts); ) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		size_t len;
		const char *t = p;

		while (t < end && isspace((unsigned char)*t))
			t++;
		len = (size_t)(end - t);
		while (len && isspace((unsigned char)t[len - 1]))
			len--;
		if (len) {
			starts[n] = (size_t)(t - s);
			lens[n] = len;
			lint_one_tag(l, s, starts[n], len, n, r);
			for (size_t i = 0; i < n; i++)
				if (lens[i] == len &&
				    strncasecmp(s + starts[i], t, len) == 0) {
					add(r, LINT_TAG_DUPLICATE, LINT_WARN,
					    starts[n], len, "'%.*s' twice",
					    (int)(len < 60 ? len : 60), t);
					break;
				}
			n++;
		}
		p = comma ? comma + 1 : end;
	}
}

/* Words and tokens against the profile's bounds and windows. */
static void
check_length(const struct lint *l, const char *s, struct lint_result *r)
{
	const struct caption_profile *p = l->profile;

	if (r->words < l->min_words)
		add(r, LINT_SHORT, LINT_WARN, 0, 0,
		    "%zu words, fewer than %s's %u", r->words, p->label,
		    l->min_words);
	if (l->max_words && r->words > l->max_words)
		add(r, LINT_LONG, LINT_WARN, 0, 0, "%zu words, more than %s's %u",
		    r->words, p->label, l->max_words);
	if (p->clip_window && r->tokens > p->clip_window)
		add(r, LINT_CLIP, LINT_WARN, 0, 0,
		    "%zu CLIP tokens: CLIP reads %u, the rest is cut", r->tokens,
		    p->clip_window);
	if (p->text_window && r->tokens > p->text_window)
		add(r, LINT_TOKENS, LINT_FAIL, 0, 0,
		    "about %zu tokens: the text encoder reads %u", r->tokens,
		    p->text_window);
	(void)s;
}

void
lint_caption(const struct lint *l, const char *s, struct lint_result *r)
{
	size_t len = strlen(s), start, end;
	const char *nl = strpbrk(s, "\r\n"), *p;
	struct hits id = { r, LINT_IDENTITY, LINT_FAIL, "identity word", 0, 0 };
	struct hits st = { r, LINT_STYLE, LINT_WARN, "style word", 0, 0 };

	memset(r, 0, sizeof(*r));
	r->words = caption_words(s);
	if (!r->words) {
		add(r, LINT_EMPTY, LINT_FAIL, 0, 0, "the caption is empty");
		return;
	}
	if (!utf8_valid(s, len)) {
		add(r, LINT_UTF8, LINT_FAIL, 0, 0, "the caption is not valid UTF-8");
		return;
	}
	r->tokens = lint_tokens(l, s);
	if (nl && nl[strspn(nl, "\r\n")])
		add(r, LINT_MULTILINE, LINT_FAIL, (size_t)(nl - s), 1,
		    "a line break inside: trainers read the first line only");
	if (l->trigger)
		check_trigger(l, s, r);
	if (l->trigger && (p = strstr(s, l->trigger))) {
		id.skip_from = (size_t)(p - s);
		id.skip_to = id.skip_from + strlen(l->trigger);
	}
	if (l->identity)
		each_match(l->identity, s, len, on_hit, &id);
	each_match(l->style, s, len, on_hit, &st);
	if (l->tags)
		lint_tags(l, s, r);
	else if (l->profile->prose && tag_list(l, s))
		add(r, LINT_TAG_LIST, LINT_WARN, 0, 0,
		    "a comma tag list; %s reads sentences", l->profile->label);
	check_length(l, s, r);
	if (l->profile->motion && !find(l->motion, s, &start, &end))
		add(r, LINT_MOTION, LINT_WARN, 0, 0,
		    "no motion words; %s captions should say what moves",
		    l->profile->label);
}

void
lint_prompt(const struct lint *l, const char *s, struct lint_result *r)
{
	const struct caption_profile *p = l->profile;
	unsigned window = p->text_window ? p->text_window : p->clip_window;

	memset(r, 0, sizeof(*r));
	r->words = caption_words(s);
	if (!utf8_valid(s, strlen(s))) {
		add(r, LINT_UTF8, LINT_FAIL, 0, 0, "the prompt is not valid UTF-8");
		return;
	}
	r->tokens = lint_tokens(l, s);
	if (r->tokens > 512 && r->tokens > window)
		add(r, LINT_TOKENS, LINT_WARN, 0, 0,
		    "about %zu tokens: most edit models read 512", r->tokens);
}

void
lint_trigger(const struct lint *l, struct lint_result *r)
{
	char word[64];

	memset(r, 0, sizeof(*r));
	if (!l->trigger) {
		add(r, LINT_NO_TRIGGER, LINT_FAIL, 0, 0, "the recipe has no trigger");
		return;
	}
	if (lower(l->trigger, strlen(l->trigger), word, sizeof(word)) &&
	    words_common(word))
		add(r, LINT_COMMON_TRIGGER, LINT_WARN, 0, strlen(l->trigger),
		    "the trigger '%s' is a common English word: the base model "
		    "knows it already, and the LoRA may act without it; use a rare "
		    "token such as '%sCHAR'", l->trigger, l->trigger);
}

/* ---- scrubbing a model's words ---- */

/* Spans to cut out of one text: each pattern's matches in turn. */
struct cuts {
	size_t start[64], end[64];
	size_t n;
};

static bool
add_cut(void *ctx, const char *text, size_t start, size_t end)
{
	struct cuts *c = ctx;

	(void)text;
	if (c->n == LM_ARRAY_LEN(c->start))
		return false;
	c->start[c->n] = start;
	c->end[c->n++] = end;
	return true;
}

/* Is byte i of s inside one of the cuts? */
static bool
cut_at(const struct cuts *c, size_t i)
{
	for (size_t k = 0; k < c->n; k++)
		if (i >= c->start[k] && i < c->end[k])
			return true;
	return false;
}

/* A word a phrase must not end on once its object is cut (at_start: nor
 * start on: only the joining ones, an article still starts a phrase). */
static bool
dangling(const char *w, size_t len, bool at_start)
{
	static const char *const words[] = { "and", "with", "of", "in", "a", "an",
					     "the", "her", "his", "their" };
	size_t n = at_start ? 4 : LM_ARRAY_LEN(words);

	for (size_t i = 0; i < n; i++)
		if (strlen(words[i]) == len && strncasecmp(w, words[i], len) == 0)
			return true;
	return false;
}

/* Trim separators and dangling words off both ends of b. */
static void
tidy_ends(struct buf *b)
{
	for (bool again = true; again;) {
		size_t s = 0, e = b->len, ws, we;

		while (s < e && strchr(" ,;:-", b->data[s]))
			s++;
		while (e > s && strchr(" ,;:-", b->data[e - 1]))
			e--;
		again = false;
		for (ws = s; ws < e && b->data[ws] != ' ' && b->data[ws] != ','; ws++)
			;
		if (ws < e && dangling(b->data + s, ws - s, true)) {
			s = ws;
			again = true;
		}
		for (we = e; we > s && b->data[we - 1] != ' '; we--)
			;
		if (!again && we > s && dangling(b->data + we, e - we, false)) {
			e = we;
			again = true;
		}
		memmove(b->data, b->data + s, e - s);
		b->len = e - s;
		b->data[b->len] = 0;
	}
}

size_t
lint_scrub(const struct lint *l, const char *text, struct buf *out)
{
	const pcre2_code *res[] = { l->identity, l->traits, l->style };
	size_t len = strlen(text);
	struct cuts c = { .n = 0 };

	buf_reset(out);
	if (!utf8_valid(text, len))
		return 1; /* nothing of it is kept */
	for (size_t i = 0; i < LM_ARRAY_LEN(res); i++)
		if (res[i])
			each_match(res[i], text, len, add_cut, &c);
	for (size_t i = 0; i < len; i++) {
		char ch = cut_at(&c, i) ? ' ' : text[i];

		if (ch == ' ' && (!out->len || out->data[out->len - 1] == ' '))
			continue; /* one space, never two */
		if (ch == ',' && out->len && out->data[out->len - 1] == ' ' &&
		    out->len >= 2 && out->data[out->len - 2] == ',')
			continue; /* ", ," of a cut between commas */
		if (ch == ',' && out->len && out->data[out->len - 1] == ' ')
			out->len--; /* "smile , soft" */
		buf_addc(out, ch);
	}
	if (c.n)
		tidy_ends(out);
	return c.n;
}

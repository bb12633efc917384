/*
 * ytree: libyaml events -> a located tree. This file is the only includer
 * of yaml.h.
 *
 * The builder keeps a stack of open collections. A finished node is
 * appended to the collection on top of the stack; an anchor is registered
 * when its node is finished, so an alias can only name a finished node and
 * the tree has no cycles.
 */
#include <string.h>
#include <yaml.h>

#include "base/htab.h"
#include "base/text.h"
#include "ytree.h"

struct builder {
	struct arena *a;
	const struct source *src;
	struct diag *d;
	struct ynode *stack[YTREE_MAX_DEPTH + 1];
	size_t cap[YTREE_MAX_DEPTH + 1]; /* items allocated per open node */
	const char *anchor[YTREE_MAX_DEPTH + 1];
	int depth;
	struct htab anchors; /* name -> struct ynode * */
	struct ynode *root;
	size_t *lines;       /* byte offset where each line starts */
	size_t nlines;
	/* where the last mark_loc ended: marks come in order, so a long
	 * line is walked once, not once per scalar on it */
	size_t memo_line, memo_col;
	const char *memo_p;
};

/* Does text start with a UTF-8 byte order mark? */
static bool
has_bom(const struct source *src)
{
	return src->len >= 3 && memcmp(src->text, "\xef\xbb\xbf", 3) == 0;
}

/* Bytes in the UTF-8 character that starts with byte c. */
static size_t
utf8_width(unsigned char c)
{
	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Record where each line starts, so marks convert to byte columns. */
static void
index_lines(struct builder *b)
{
	const struct source *src = b->src;
	size_t n = 1;

	for (size_t i = 0; i < src->len; i++)
		n += src->text[i] == '\n';
	b->lines = arena_alloc(b->a, n * sizeof(*b->lines));
	b->lines[b->nlines++] = 0;
	for (size_t i = 0; i < src->len; i++)
		if (src->text[i] == '\n')
			b->lines[b->nlines++] = i + 1;
}

/*
 * The loc of a libyaml mark. libyaml counts columns in characters (and not
 * the byte order mark); a loc counts bytes, so walk the line's UTF-8.
 */
static struct loc
mark_loc(struct builder *b, yaml_mark_t m)
{
	struct loc l = { b->src, (uint32_t)m.line + 1, (uint32_t)m.column + 1 };
	const char *start, *p, *end = b->src->text + b->src->len;
	size_t c = 0;

	if (m.line >= b->nlines)
		return l;
	start = p = b->src->text + b->lines[m.line];
	if (m.line == 0 && has_bom(b->src))
		p += 3;
	if (b->memo_p && b->memo_line == m.line && b->memo_col <= m.column) {
		c = b->memo_col;
		p = b->memo_p;
	}
	for (; c < m.column && p < end && *p != '\n'; c++)
		p += utf8_width((unsigned char)*p);
	b->memo_line = m.line;
	b->memo_col = c;
	b->memo_p = p;
	l.col = (uint32_t)(p - start) + 1;
	return l;
}

/* The byte at loc l, or NUL past the end. */
static char
loc_byte(const struct builder *b, struct loc l)
{
	size_t off;

	if (l.line == 0 || l.line > b->nlines)
		return '\0';
	off = b->lines[l.line - 1] + l.col - 1;
	return off < b->src->len ? b->src->text[off] : '\0';
}

static struct loc
offset_loc(const struct source *src, size_t off)
{
	struct loc l = { src, 1, 1 };

	for (size_t i = 0; i < off && i < src->len; i++) {
		if (src->text[i] == '\n') {
			l.line++;
			l.col = 1;
		} else {
			l.col++;
		}
	}
	return l;
}

static size_t
add_weight(size_t a, size_t b)
{
	return a > SIZE_MAX / 2 - b ? SIZE_MAX / 2 : a + b;
}

static void
append(struct builder *b, struct ynode *parent, struct ynode *child)
{
	size_t *cap = &b->cap[b->depth - 1];

	if (parent->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct ynode **items = arena_alloc(b->a, ncap * sizeof(*items));

		if (parent->n)
			memcpy(items, parent->items, parent->n * sizeof(*items));
		parent->items = items;
		*cap = ncap;
	}
	parent->items[parent->n++] = child;
	parent->weight = add_weight(parent->weight, child->weight);
}

static int
finish(struct builder *b, struct ynode *n, const char *anchor)
{
	if (n->weight > YTREE_MAX_WEIGHT) {
		diag_error(b->d, n->loc,
			   "YAML aliases here expand to more than %d nodes",
			   YTREE_MAX_WEIGHT);
		return -1;
	}
	if (anchor)
		htab_put(&b->anchors, anchor, strlen(anchor), n);
	if (b->depth == 0)
		b->root = n;
	else
		append(b, b->stack[b->depth - 1], n);
	return 0;
}

static bool
is_merge_key(const struct ynode *k)
{
	return k->kind == Y_SCALAR && k->plain && strcmp(k->str, "<<") == 0;
}

static bool
map_has(const struct ynode *map, const struct ynode *key, size_t upto)
{
	for (size_t i = 0; i < upto; i += 2) {
		const struct ynode *k = map->items[i];

		if (k->kind == Y_SCALAR && k->len == key->len &&
		    memcmp(k->str, key->str, key->len) == 0)
			return true;
	}
	return false;
}

/*
 * Apply YAML merge keys: "<<: *base" (or a list of them) adds the entries
 * of base that the map does not set itself.
 */
static int
apply_merges(struct builder *b, struct ynode *map)
{
	size_t n = map->n;

	for (size_t i = 0; i < n; i += 2) {
		struct ynode *v = map->items[i + 1];
		struct ynode **src = &v;
		size_t nsrc = 1;

		if (!is_merge_key(map->items[i]))
			continue;
		if (v->kind == Y_SEQ) {
			src = v->items;
			nsrc = v->n;
		}
		for (size_t s = 0; s < nsrc; s++) {
			if (src[s]->kind != Y_MAP) {
				diag_error(b->d, src[s]->loc,
					   "a merge key (<<) takes a mapping (or a list of them), not %s",
					   ynode_kind_name(src[s]));
				return -1;
			}
			b->depth++; /* append() works on the top of the stack */
			b->stack[b->depth - 1] = map;
			for (size_t j = 0; j < src[s]->n; j += 2) {
				struct ynode *k = src[s]->items[j];

				if (map_has(map, k, map->n))
					continue;
				append(b, map, k);
				append(b, map, src[s]->items[j + 1]);
			}
			b->depth--;
		}
	}
	/* drop the merge entries themselves */
	size_t out = 0;
	for (size_t i = 0; i < map->n; i += 2) {
		if (i < n && is_merge_key(map->items[i]))
			continue;
		map->items[out++] = map->items[i];
		map->items[out++] = map->items[i + 1];
	}
	map->n = out;
	return 0;
}

static int
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n = arena_alloc(b->a, sizeof(*n));
	const char *anchor = (const char *)ev->data.scalar.anchor;

	n->kind = Y_SCALAR;
	n->loc = mark_loc(b, ev->start_mark);
	n->len = ev->data.scalar.length;
	n->str = arena_strndup(b->a, (const char *)ev->data.scalar.value, n->len);
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->weight = 1;
	return finish(b, n, anchor ? arena_strdup(b->a, anchor) : NULL);
}

static int
on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ynode *n = htab_get(&b->anchors, name, strlen(name));

	if (!n) {
		diag_error(b->d, mark_loc(b, ev->start_mark),
			   "unknown YAML alias '*%s'", name);
		return -1;
	}
	return finish(b, n, NULL);
}

static int
on_start(struct builder *b, const yaml_event_t *ev, enum ykind kind)
{
	struct ynode *n = arena_alloc(b->a, sizeof(*n));
	const yaml_char_t *anchor = kind == Y_MAP
		? ev->data.mapping_start.anchor
		: ev->data.sequence_start.anchor;

	if (b->depth == YTREE_MAX_DEPTH) {
		diag_error(b->d, mark_loc(b, ev->start_mark),
			   "YAML nested deeper than %d levels", YTREE_MAX_DEPTH);
		return -1;
	}
	n->kind = kind;
	n->loc = mark_loc(b, ev->start_mark);
	n->weight = 1;
	b->stack[b->depth] = n;
	b->cap[b->depth] = 0;
	b->anchor[b->depth] =
		anchor ? arena_strdup(b->a, (const char *)anchor) : NULL;
	b->depth++;
	return 0;
}

static int
on_end(struct builder *b)
{
	struct ynode *n = b->stack[--b->depth];

	if (n->kind == Y_MAP && apply_merges(b, n) < 0)
		return -1;
	return finish(b, n, b->anchor[b->depth]);
}

static int
on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, Y_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, Y_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	case YAML_DOCUMENT_START_EVENT:
		if (b->root) {
			diag_error(b->d, mark_loc(b, ev->start_mark),
				   "a recipe holds one YAML document; this is a second");
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

#define MAPPING_VALUES "mapping values are not allowed in this context"

/* libyaml's words for a syntax error, and what a recipe author reads. */
struct syntax_hint {
	const char *problem; /* libyaml's problem */
	const char *context; /* and its context, or NULL for any */
	bool at_context;     /* point at the context (the opening quote, ...) */
	const char *say;
};

static const struct syntax_hint syntax_hints[] = {
	{ "found unexpected end of stream", "while scanning a quoted scalar",
	  true, "this quoted text is never closed" },
	{ "found unexpected document indicator", "while scanning a quoted scalar",
	  true, "this quoted text is never closed" },
	{ "did not find expected ',' or ']'", "while parsing a flow sequence",
	  true, "this '[' is never closed by a ']' (or an item in it lacks a ',')" },
	{ "did not find expected ',' or '}'", "while parsing a flow mapping",
	  true, "this '{' is never closed by a '}' (or an entry in it lacks a ',')" },
	{ MAPPING_VALUES, NULL, false,
	  "unexpected ':' (put text that holds ': ' in quotes)" },
	{ "did not find expected key", "while parsing a block mapping", false,
	  "expected a key here; check this line's indentation" },
	{ "did not find expected '-' indicator", NULL, false,
	  "expected a '- ' list item here; check this line's indentation" },
	{ "could not find expected ':'", "while scanning a simple key", true,
	  "this key has no ':' after it" },
	{ "block sequence entries are not allowed in this context", NULL, false,
	  "a '- ' list item cannot start here; put the list on the lines below its key" },
};

static const struct syntax_hint *
find_hint(const yaml_parser_t *p)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(syntax_hints); i++) {
		const struct syntax_hint *h = &syntax_hints[i];

		if (p->problem && strcmp(h->problem, p->problem) == 0 &&
		    (!h->context ||
		     (p->context && strcmp(h->context, p->context) == 0)))
			return h;
	}
	return NULL;
}

/*
 * Is the ':' at l the first on its line, after one word at most? libyaml
 * refuses such a key when the line above ran on into it (it has no ':').
 */
static bool
key_line(const struct builder *b, struct loc l)
{
	const char *p, *colon;

	if (l.line == 0 || l.line > b->nlines || loc_byte(b, l) != ':')
		return false;
	p = b->src->text + b->lines[l.line - 1];
	colon = p + l.col - 1;
	while (p < colon && *p == ' ')
		p++;
	for (; p < colon; p++)
		if (*p == ':' || *p == ' ' || *p == '"' || *p == '\'')
			return false;
	return true;
}

/* Report libyaml's error as one located message (a note only if raw). */
static void
report_parser_error(struct builder *b, const yaml_parser_t *p)
{
	struct loc l = mark_loc(b, p->problem_mark);
	const struct syntax_hint *h = find_hint(p);

	if (p->error == YAML_READER_ERROR) {
		/* libyaml gives a byte offset for encoding errors */
		diag_error(b->d, offset_loc(b->src, p->problem_offset),
			   "not YAML text: %s (byte 0x%02x)",
			   p->problem ? p->problem : "bad input",
			   (unsigned)p->problem_value & 0xff);
		return;
	}
	if (loc_byte(b, l) == '\t') {
		diag_error(b->d, l,
			   "YAML syntax: a tab character; YAML indents with spaces only");
		return;
	}
	if (p->problem && strcmp(p->problem, MAPPING_VALUES) == 0 &&
	    key_line(b, l)) {
		diag_error(b->d, l,
			   "YAML syntax: unexpected ':'; is a ':' missing on the line above?");
		return;
	}
	if (h) {
		diag_error(b->d, h->at_context ? mark_loc(b, p->context_mark) : l,
			   "YAML syntax: %s", h->say);
		return;
	}
	diag_error(b->d, l, "YAML syntax: %s",
		   p->problem ? p->problem : "invalid document");
	if (p->context && (p->context_mark.line != p->problem_mark.line ||
			   p->context_mark.column != p->problem_mark.column))
		diag_note(b->d, mark_loc(b, p->context_mark), "%s", p->context);
}

/*
 * Refuse what is not UTF-8 text before libyaml sees it: a binary or UTF-16
 * file as a whole (at 1:1), a stray byte where it is.
 */
static int
check_text(const struct source *src, struct diag *d)
{
	struct loc top = { src, 1, 1 };
	const char *nul = memchr(src->text, '\0', src->len);
	size_t bad;

	if (src->len >= 2 && (memcmp(src->text, "\xff\xfe", 2) == 0 ||
			      memcmp(src->text, "\xfe\xff", 2) == 0)) {
		diag_error(d, top, "this file is UTF-16 text; save the recipe as UTF-8");
		return -1;
	}
	if (nul) {
		struct loc at = offset_loc(src, (size_t)(nul - src->text));

		diag_error(d, top,
			   "this is a binary file, not a YAML recipe (a NUL byte at line %u, column %u)",
			   at.line, at.col);
		return -1;
	}
	bad = utf8_bad_at(src->text, src->len);
	if (bad != src->len) {
		diag_error(d, offset_loc(src, bad),
			   "byte 0x%02x is not UTF-8; save the recipe as UTF-8 text",
			   (unsigned char)src->text[bad]);
		return -1;
	}
	return 0;
}

int
ytree_parse(struct arena *a, const struct source *src, struct diag *d,
	    struct ynode **root)
{
	struct builder b = { .a = a, .src = src, .d = d };
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	*root = NULL;
	if (check_text(src, d) < 0)
		return -1;
	index_lines(&b);
	htab_init(&b.anchors);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)src->text,
				     src->len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			report_parser_error(&b, &p);
			rc = -1;
			break;
		}
		rc = on_event(&b, &ev);
		bool done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (rc < 0 || done)
			break;
	}
	yaml_parser_delete(&p);
	htab_release(&b.anchors);
	*root = rc < 0 ? NULL : b.root;
	return rc;
}

bool
ynode_is_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->str, "~") == 0 ||
		strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
		strcmp(n->str, "NULL") == 0);
}

const char *
ynode_kind_name(const struct ynode *n)
{
	switch (n->kind) {
	case Y_MAP:
		return "a mapping";
	case Y_SEQ:
		return "a list";
	default:
		return "text";
	}
}

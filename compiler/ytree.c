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
};

static struct loc
mark_loc(const struct source *src, yaml_mark_t m)
{
	struct loc l = { src, (uint32_t)m.line + 1, (uint32_t)m.column + 1 };

	return l;
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
					   "a merge key (<<) takes a mapping");
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
	n->loc = mark_loc(b->src, ev->start_mark);
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
		diag_error(b->d, mark_loc(b->src, ev->start_mark),
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
		diag_error(b->d, mark_loc(b->src, ev->start_mark),
			   "YAML nested deeper than %d levels", YTREE_MAX_DEPTH);
		return -1;
	}
	n->kind = kind;
	n->loc = mark_loc(b->src, ev->start_mark);
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
			diag_error(b->d, mark_loc(b->src, ev->start_mark),
				   "a recipe holds one YAML document; this is a second");
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

static void
report_parser_error(struct builder *b, const yaml_parser_t *p)
{
	struct loc l = mark_loc(b->src, p->problem_mark);

	if (p->error == YAML_READER_ERROR) {
		/* libyaml gives a byte offset for encoding errors */
		l = offset_loc(b->src, p->problem_offset);
		diag_error(b->d, l, "not UTF-8 text (%s at byte %zu)",
			   p->problem ? p->problem : "bad input", p->problem_offset);
		return;
	}
	diag_error(b->d, l, "YAML syntax: %s",
		   p->problem ? p->problem : "invalid document");
	if (p->context && (p->context_mark.line != p->problem_mark.line ||
			   p->context_mark.column != p->problem_mark.column))
		diag_note(b->d, mark_loc(b->src, p->context_mark), "%s", p->context);
}

int
ytree_parse(struct arena *a, const struct source *src, struct diag *d,
	    struct ynode **root)
{
	struct builder b = { .a = a, .src = src, .d = d };
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	if (memchr(src->text, '\0', src->len)) {
		struct loc l = offset_loc(src, (size_t)((const char *)memchr(
						    src->text, '\0', src->len) - src->text));

		diag_error(d, l, "this is a binary file, not a YAML recipe");
		return -1;
	}
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

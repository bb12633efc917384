/*
 * lock: a sorted text file of nodes and picks, read with cache/record's
 * discipline: every field checked, a line taken whole or warned about,
 * and a git merge conflict merged (node lines are facts about content
 * keys; only picks can truly disagree).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/path.h"
#include "compiler/assign.h"
#include "compiler/recipe.h"
#include "lock.h"
#include "record.h"

#define HEADER_PREFIX "# loramake lock"
#define HEADER_TEXT "machine-written; commit it with the recipe"
#define MAX_FIELDS 32 /* fields a node line may have, known or not */

char *
lock_path_for(const char *recipe_path)
{
	const char *slash = strrchr(recipe_path, '/');
	const char *dot = strrchr(recipe_path, '.');

	if (dot && (!slash || dot > slash + 1))
		return xasprintf("%.*s.lock", (int)(dot - recipe_path), recipe_path);
	return xasprintf("%s.lock", recipe_path);
}

uint32_t
lock_facet(const struct hash *h)
{
	return (uint32_t)h->b[0] << 24 | (uint32_t)h->b[1] << 16 |
	       (uint32_t)h->b[2] << 8 | h->b[3];
}

static void
node_free(struct lock_node *e)
{
	while (e) {
		struct lock_node *alt = e->alt;

		free(e->id);
		free(e->outs);
		free(e->request);
		free(e);
		e = alt;
	}
}

static struct lock_node *
node_copy(const struct lock_node *e)
{
	struct lock_node *c = xcalloc(1, sizeof(*c));

	*c = *e;
	c->id = xstrdup(e->id);
	c->outs = xcalloc(e->nouts ? e->nouts : 1, sizeof(*c->outs));
	memcpy(c->outs, e->outs, e->nouts * sizeof(*c->outs));
	c->request = e->request ? xstrdup(e->request) : NULL;
	c->alt = NULL;
	return c;
}

/* Do two lines say the same about a node? */
static bool
node_same(const struct lock_node *a, const struct lock_node *b)
{
	return hash_eq(&a->key, &b->key) && a->nouts == b->nouts &&
	       !memcmp(a->outs, b->outs, a->nouts * sizeof(*a->outs)) &&
	       a->seed == b->seed && a->usd == b->usd &&
	       !memcmp(a->facets, b->facets, sizeof(a->facets)) &&
	       a->trained == b->trained &&
	       (!a->trained || (hash_eq(&a->package, &b->package) &&
				hash_eq(&a->sent, &b->sent))) &&
	       !a->request == !b->request &&
	       (!a->request || !strcmp(a->request, b->request));
}

/* ---- one node line ---- */

/* "engine:1a2b3c4d,model:...": six named 8-hex-digit facets, in order.
 * Parsed by hand: a lock of 10,000 nodes is read on every run. */
static const char *
parse_facets(struct lock_node *e, const char *v)
{
	for (int f = 0; f < FACET_COUNT; f++) {
		size_t n = strlen(facet_name(f));
		uint32_t x = 0;

		if (strncmp(v, facet_name(f), n) != 0 || v[n] != ':')
			return "facets= names the wrong facets";
		v += n + 1;
		for (int i = 0; i < 8; i++, v++) {
			int d = *v >= '0' && *v <= '9' ? *v - '0'
			      : *v >= 'a' && *v <= 'f' ? *v - 'a' + 10 : -1;

			if (d < 0)
				return "a facet is not 8 hex digits";
			x = x << 4 | (uint32_t)d;
		}
		e->facets[f] = x;
		if (*v != (f + 1 < FACET_COUNT ? ',' : '\0'))
			return "facets= is not six facets";
		v++;
	}
	return NULL;
}

static const char *
parse_key(struct lock_node *e, char *v)
{
	return hash_parse(v, &e->key) ? NULL : "key= is not a hash";
}

static const char *
parse_outs(struct lock_node *e, char *v)
{
	char *f[LOCK_MAX_OUTS];
	size_t n = record_split(v, ',', f, LOCK_MAX_OUTS);

	if (n > LOCK_MAX_OUTS)
		return "out= names too many objects";
	e->outs = xcalloc(n, sizeof(*e->outs));
	for (e->nouts = 0; e->nouts < n; e->nouts++)
		if (!hash_parse(f[e->nouts], &e->outs[e->nouts]))
			return "out= is not a list of hashes";
	return NULL;
}

static const char *
parse_seed(struct lock_node *e, char *v)
{
	return parse_int64(v, &e->seed) && e->seed >= 0 ? NULL
							: "seed= is not a seed";
}

static const char *
parse_usd(struct lock_node *e, char *v)
{
	return parse_double(v, &e->usd) && e->usd >= 0 ? NULL
						       : "usd= is not an amount";
}

/* Request ids as engines give them: [A-Za-z0-9._-]{1,128}, comma-joined
 * when a node made several requests. */
static bool
is_request_list(const char *s)
{
	size_t run = 0;

	for (; *s; s++) {
		bool word = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
			    *s == '-';

		if (word && ++run > 128)
			return false;
		if (!word && (*s != ',' || !run))
			return false;
		if (!word)
			run = 0;
	}
	return run > 0;
}

static const char *
parse_request(struct lock_node *e, char *v)
{
	if (!is_request_list(v))
		return "request= is not a list of request ids";
	e->request = xstrdup(v);
	return NULL;
}

/* trained=PACKAGE,SENT: two object hashes. */
static const char *
parse_trained(struct lock_node *e, char *v)
{
	char *f[2];

	if (record_split(v, ',', f, 2) != 2 || !hash_parse(f[0], &e->package) ||
	    !hash_parse(f[1], &e->sent))
		return "trained= is not two hashes";
	e->trained = true;
	return NULL;
}

static const char *
parse_facets_field(struct lock_node *e, char *v)
{
	return parse_facets(e, v);
}

/* The fields of a node line: each at most once, the required ones always.
 * A line without one is cut short or damaged, and is not used. */
static const struct lock_field {
	const char *name;
	bool required;
	const char *(*parse)(struct lock_node *e, char *value);
} lock_fields[] = {
	{ "key", true, parse_key },
	{ "out", true, parse_outs },
	{ "seed", true, parse_seed },
	{ "usd", true, parse_usd },
	{ "request", false, parse_request },
	{ "trained", false, parse_trained },
	{ "facets", true, parse_facets_field },
};

/* A node id as the compiler makes them: printable, no spaces. */
static bool
is_node_id(const char *s)
{
	if (!*s || strlen(s) > 1024)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Parse "ID key=... out=..." into *out; NULL, or why it cannot be read.
 * newer: the lock is of a newer format, whose unknown fields are let be. */
static const char *
parse_node(char *rest, bool newer, struct lock_node **out)
{
	char *tok[MAX_FIELDS];
	size_t n = record_split(rest, ' ', tok, MAX_FIELDS);
	bool seen[LM_ARRAY_LEN(lock_fields)] = { false };
	struct lock_node *e;
	const char *why = NULL;

	if (n > MAX_FIELDS)
		return "too many fields";
	if (!is_node_id(tok[0]))
		return "not a node id";
	e = xcalloc(1, sizeof(*e));
	e->id = xstrdup(tok[0]);
	for (size_t i = 1; i < n && !why; i++) {
		char *eq = strchr(tok[i], '=');
		size_t f;

		if (!eq) {
			why = "a field without '='";
			break;
		}
		*eq++ = '\0';
		for (f = 0; f < LM_ARRAY_LEN(lock_fields); f++)
			if (!strcmp(tok[i], lock_fields[f].name))
				break;
		if (f == LM_ARRAY_LEN(lock_fields))
			why = newer ? NULL : "a field this loramake does not know";
		else if (seen[f])
			why = "a field given twice";
		else {
			seen[f] = true;
			why = lock_fields[f].parse(e, eq);
		}
	}
	for (size_t f = 0; f < LM_ARRAY_LEN(lock_fields) && !why; f++)
		if (lock_fields[f].required && !seen[f])
			why = "cut short (a field is missing)";
	if (why) {
		node_free(e);
		return why;
	}
	*out = e;
	return NULL;
}

/*
 * Put e in the table. A second line for an id is another fact about it:
 * with the same key it replaces the first, with another key it is kept
 * beside it (two merged branches built the node differently; the recipe
 * decides which one a build uses).
 */
static void
add_node(struct lock *l, struct lock_node *e)
{
	struct lock_node *head = htab_get(&l->byid, e->id, strlen(e->id));

	if (!head) {
		htab_put(&l->byid, e->id, strlen(e->id), e);
		return;
	}
	for (struct lock_node **p = &head->alt; *p; p = &(*p)->alt)
		if (hash_eq(&(*p)->key, &e->key)) {
			e->alt = (*p)->alt;
			(*p)->alt = NULL;
			node_free(*p);
			*p = e;
			return;
		}
	if (hash_eq(&head->key, &e->key)) {
		/* the table's key is the head's id: swap the contents in */
		struct lock_node tmp = *head;

		*head = *e;
		head->id = tmp.id;
		head->alt = tmp.alt;
		e->outs = tmp.outs; /* e keeps its own id: freed with it */
		e->request = tmp.request;
		e->alt = NULL;
		node_free(e);
		return;
	}
	e->alt = head->alt;
	head->alt = e;
}

static const char *
parse_pick(char *rest, char **id, int *candidate)
{
	char *f[2];
	int64_t n;

	if (record_split(rest, ' ', f, 2) != 2 || !is_node_id(f[0]))
		return "not 'pick ID N'";
	if (!parse_int64(f[1], &n) || n < 1 || n > LOCK_MAX_OUTS)
		return "not a candidate number";
	*id = f[0];
	*candidate = (int)n;
	return NULL;
}

/* "env ID TAG": the pool entry an image was given (compiler/assign.h). */
static const char *
parse_env(char *rest, char **id, char **tag)
{
	char *f[2];

	if (record_split(rest, ' ', f, 2) != 2 || !is_node_id(f[0]))
		return "not 'env ID TAG'";
	if (strlen(f[1]) != ASSIGN_TAG_LEN ||
	    f[1][strspn(f[1], "0123456789abcdef")])
		return "not an environment tag (16 hex digits)";
	*id = f[0];
	*tag = f[1];
	return NULL;
}

/* "reroll ID N": the node was given a new seed N times. */
static const char *
parse_reroll(char *rest, char **id, int *times)
{
	char *f[2];
	int64_t n;

	if (record_split(rest, ' ', f, 2) != 2 || !is_node_id(f[0]))
		return "not 'reroll ID N'";
	if (!parse_int64(f[1], &n) || n < 1 || n > LOCK_MAX_REROLLS)
		return "not a reroll count";
	*id = f[0];
	*times = (int)n;
	return NULL;
}

/* "gate ID KEY pass|fail SCORE REASONS": the identity gate's verdict. */
static const char *
parse_gate(char *rest, char **id, char **text)
{
	char *sp = strchr(rest, ' ');

	if (!sp)
		return "not 'gate ID KEY pass|fail SCORE REASONS'";
	*sp = '\0';
	if (!is_node_id(rest) || !verdict_text_ok(sp + 1))
		return "not 'gate ID KEY pass|fail SCORE REASONS'";
	*id = rest;
	*text = sp + 1;
	return NULL;
}

/* ---- the file ---- */

/* Which side of a git merge conflict a line is on. */
enum side { SIDE_OURS, SIDE_BASE, SIDE_THEIRS, SIDE_COUNT };
enum { ALL_SIDES = 1 << SIDE_OURS | 1 << SIDE_BASE | 1 << SIDE_THEIRS };

/* A git conflict marker (diff3 style included): the sides the lines
 * after it are on, and the sides it may follow. */
static const struct marker {
	const char *text;
	int sides;       /* of the lines after it (bit mask) */
	int from[2];     /* the masks it may follow (0: none) */
} markers[] = {
	{ "<<<<<<<", 1 << SIDE_OURS, { ALL_SIDES, 0 } },
	{ "|||||||", 1 << SIDE_BASE, { 1 << SIDE_OURS, 0 } },
	{ "=======", 1 << SIDE_THEIRS, { 1 << SIDE_OURS, 1 << SIDE_BASE } },
	{ ">>>>>>>", ALL_SIDES, { 1 << SIDE_THEIRS, 0 } },
};

static const struct marker *
marker_of(const char *line)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(markers); i++)
		if (record_starts(line, markers[i].text) &&
		    (!line[7] || line[7] == ' '))
			return &markers[i];
	return NULL;
}

/* What one side of a conflicted lock says, and the lines of its picks. */
struct lock_side {
	struct lock lock;
	struct htab pick_line; /* id (owned) -> line number */
	bool present;          /* a conflict gave this side lines of its own */
};

static void
lock_empty(struct lock *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	l->path = xstrdup(path);
	htab_init(&l->byid);
	picks_init(&l->picks);
}

/* A conflict: on the pick of id (ours and theirs), or (id NULL) in the
 * markers themselves. */
static void
add_conflict(struct lock *l, const char *id, int ours, int theirs,
	     const char *fmt, ...) LM_PRINTF(5, 6);

static void
add_conflict(struct lock *l, const char *id, int ours, int theirs,
	     const char *fmt, ...)
{
	struct lock_conflict *c;
	va_list ap;

	LM_GROW(l->conflicts, l->nconflicts + 1, l->capconflicts);
	c = &l->conflicts[l->nconflicts++];
	c->id = id ? xstrdup(id) : NULL;
	c->ours = ours;
	c->theirs = theirs;
	va_start(ap, fmt);
	c->msg = xvasprintf(fmt, ap);
	va_end(ap);
}

static void
damaged(const struct lock *l, unsigned lineno, const char *why)
{
	warn("%s:%u: ignoring a line this loramake cannot read: %s", l->path,
	     lineno, why);
}

static void
set_pick_line(struct lock_side *s, const char *id, unsigned lineno)
{
	void *line = (void *)(uintptr_t)lineno;

	if (htab_get(&s->pick_line, id, strlen(id))) {
		htab_put(&s->pick_line, id, strlen(id), line); /* keeps its key */
		return;
	}
	char *copy = xstrdup(id);
	htab_put(&s->pick_line, copy, strlen(copy), line);
}

static void
side_release(struct lock_side *s)
{
	for (size_t i = 0; i < s->pick_line.cap; i++)
		free((char *)s->pick_line.slots[i].key);
	htab_release(&s->pick_line);
	lock_release(&s->lock);
}

/* One node or pick line, into every side in mask. */
static void
take_line(struct lock *l, struct lock_side *sides, int mask, char *line,
	  unsigned lineno)
{
	const char *why = "not a node, pick, reroll, env or gate line";
	bool newer = l->version > LOCK_VERSION;
	bool known = true;

	if (record_starts(line, "node ")) {
		struct lock_node *e = NULL;

		why = parse_node(line + 5, newer, &e);
		for (int s = 0; e && s < SIDE_COUNT; s++)
			if (mask & 1 << s)
				add_node(&sides[s].lock, node_copy(e));
		node_free(e);
	} else if (record_starts(line, "pick ")) {
		char *id;
		int cand;

		why = parse_pick(line + 5, &id, &cand);
		for (int s = 0; !why && s < SIDE_COUNT; s++) {
			if (!(mask & 1 << s))
				continue;
			picks_set(&sides[s].lock.picks, id, cand);
			set_pick_line(&sides[s], id, lineno);
		}
	} else if (record_starts(line, "reroll ")) {
		char *id;
		int times;

		why = parse_reroll(line + 7, &id, &times);
		for (int s = 0; !why && s < SIDE_COUNT; s++)
			if (mask & 1 << s)
				picks_set_reroll(&sides[s].lock.picks, id, times);
	} else if (record_starts(line, "gate ")) {
		char *id, *text;

		why = parse_gate(line + 5, &id, &text);
		for (int s = 0; !why && s < SIDE_COUNT; s++)
			if (mask & 1 << s)
				picks_put_verdict(&sides[s].lock.picks, id, text);
	} else if (record_starts(line, "env ")) {
		char *id, *tag;

		why = parse_env(line + 4, &id, &tag);
		for (int s = 0; !why && s < SIDE_COUNT; s++)
			if (mask & 1 << s)
				picks_set_env(&sides[s].lock.picks, id, tag);
	} else {
		known = false;
	}
	/* a newer lock's kinds of line are its own (the header said so once) */
	if (why && (known || !newer))
		damaged(l, lineno, why);
}

/* The header: which version wrote the lock. */
static void
take_header(struct lock *l, const char *line)
{
	l->version = record_version(line, HEADER_PREFIX);
	if (!l->version) {
		warn("%s:1: not a loramake lock header; reading on", l->path);
		l->version = LOCK_VERSION;
	} else if (l->version > LOCK_VERSION) {
		warn("%s: written by a newer loramake (lock v%u; this one knows v%u): "
		     "reading what it can, and it will not rewrite it", l->path,
		     l->version, LOCK_VERSION);
	}
}

static void merge_sides(struct lock *l, struct lock_side *sides, bool say);

int
lock_parse(struct lock *l, const char *path, char *text, size_t len)
{
	struct lock_side sides[SIDE_COUNT];
	struct record_reader r;
	enum record_kind kind;
	int mask = ALL_SIDES;
	bool conflict = false;
	unsigned opened = 0;
	char *line;

	lock_empty(l, path);
	for (int s = 0; s < SIDE_COUNT; s++) {
		lock_empty(&sides[s].lock, path);
		htab_init(&sides[s].pick_line);
		sides[s].present = false;
	}
	record_reader_init(&r, text, len);
	while ((kind = record_next(&r, &line, NULL)) != RECORD_END) {
		const struct marker *m;

		if (kind == RECORD_NUL) {
			damaged(l, r.lineno, "it holds a NUL byte");
			continue;
		}
		if (kind == RECORD_TORN) {
			damaged(l, r.lineno, "cut short (no newline at its end)");
			continue;
		}
		if (r.lineno == 1 && line[0] == '#') {
			take_header(l, line);
			continue;
		}
		if ((m = marker_of(line))) {
			if (mask != m->from[0] && mask != m->from[1]) {
				add_conflict(l, NULL, 0, 0,
					     "%s:%u: error: a git conflict marker out of order",
					     path, r.lineno);
				continue;
			}
			if (m->sides != ALL_SIDES) {
				if (mask == ALL_SIDES)
					opened = r.lineno;
				sides[__builtin_ctz((unsigned)m->sides)].present = true;
			}
			mask = m->sides;
			conflict = true;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		take_line(l, sides, mask, line, r.lineno);
	}
	if (mask != ALL_SIDES)
		add_conflict(l, NULL, 0, 0,
			     "%s:%u: error: a git conflict that never ends (no '>>>>>>>')",
			     path, opened);
	if (!l->version) /* empty, or no header */
		l->version = LOCK_VERSION;
	if (conflict)
		merge_sides(l, sides, true);
	else {
		struct lock *o = &sides[SIDE_OURS].lock;

		l->byid = o->byid;
		l->picks = o->picks;
		htab_init(&o->byid);
		picks_init(&o->picks);
	}
	for (int s = 0; s < SIDE_COUNT; s++)
		side_release(&sides[s]);
	/* gate lines under an older header (a v2 lock written before v3
	 * was): the next build writes v3, before a v2 loramake drops them */
	if (l->picks.verdicts.len && l->version < LOCK_VERSION_GATE)
		l->dirty = true;
	return 0;
}

int
lock_load(struct lock *l, const char *path, struct error *err)
{
	char *text;
	size_t len;

	if (read_file(path, &text, &len, err) < 0) {
		lock_empty(l, path);
		l->version = LOCK_VERSION;
		return errno == ENOENT ? 0 : -1;
	}
	lock_parse(l, path, text, len);
	free(text);
	return 0;
}

/* ---- merging two sides ---- */

static bool
lock_has_node(const struct lock *l, const struct lock_node *e)
{
	for (const struct lock_node *w = lock_get(l, e->id); w; w = w->alt)
		if (node_same(w, e))
			return true;
	return false;
}

/* Every node line of either side, unless the other side removed it (it is
 * in the base and not on that side). */
static void
merge_nodes(struct lock *out, struct lock_side *sides)
{
	const struct lock *base = sides[SIDE_BASE].present ? &sides[SIDE_BASE].lock : NULL;

	for (int s = SIDE_OURS; s <= SIDE_THEIRS; s += 2) {
		const struct lock *side = &sides[s].lock;
		const struct lock *other = &sides[SIDE_THEIRS - s].lock;

		for (size_t i = 0; i < side->byid.cap; i++) {
			for (const struct lock_node *e = side->byid.slots[i].value;
			     side->byid.slots[i].key && e; e = e->alt) {
				if (base && lock_has_node(base, e) && !lock_has_node(other, e))
					continue; /* removed on the other side */
				if (!lock_has_node(out, e))
					add_node(out, node_copy(e));
			}
		}
	}
}

static int
pick_of(const struct lock *l, const char *id)
{
	return (int)(uintptr_t)htab_get(&l->picks.byid, id, strlen(id));
}

static unsigned
pick_line(const struct lock_side *s, const char *id)
{
	return (unsigned)(uintptr_t)htab_get(&s->pick_line, id, strlen(id));
}

/* One id's pick: the same on both sides, or changed on one side only (the
 * other is the base's), merges; two different changes are a conflict. */
static void
merge_pick(struct lock *out, struct lock_side *sides, const char *id)
{
	int ours = pick_of(&sides[SIDE_OURS].lock, id);
	int theirs = pick_of(&sides[SIDE_THEIRS].lock, id);
	bool has_base = sides[SIDE_BASE].present;
	int base = pick_of(&sides[SIDE_BASE].lock, id);

	if (ours == theirs || (has_base && theirs == base)) {
		if (ours)
			picks_set(&out->picks, id, ours);
		return;
	}
	if (has_base && ours == base) {
		if (theirs)
			picks_set(&out->picks, id, theirs);
		return;
	}
	if (ours && theirs) {
		add_conflict(out, id, ours, theirs,
			     "%s:%u: error: the two sides of a git merge pick "
			     "differently for '%s': %d here, %d at line %u",
			     out->path, pick_line(&sides[SIDE_OURS], id), id, ours,
			     theirs, pick_line(&sides[SIDE_THEIRS], id));
		picks_set(&out->picks, id, ours);
		return;
	}
	/* one side picked, the other has no pick (and no base says it was
	 * dropped): a pick is a person's choice, keep it */
	picks_set(&out->picks, id, ours ? ours : theirs);
}

/* Rerolls and environment assignments of both sides: machine-made, so
 * ours wins where both have one (a later build records it again). */
static void
merge_made(struct lock *l, struct lock_side *sides)
{
	for (int s = SIDE_OURS; s <= SIDE_THEIRS; s += 2) {
		const struct picks *p = &sides[s].lock.picks;

		for (size_t i = 0; i < p->envs.cap; i++) {
			const char *id = p->envs.slots[i].key;

			if (id && !picks_env(&l->picks, id))
				picks_set_env(&l->picks, id, p->envs.slots[i].value);
		}
		for (size_t i = 0; i < p->rerolls.cap; i++) {
			const char *id = p->rerolls.slots[i].key;

			if (id && !picks_reroll(&l->picks, id))
				picks_set_reroll(&l->picks, id, picks_reroll(p, id));
		}
		for (size_t i = 0; i < p->verdicts.cap; i++) {
			const char *id = p->verdicts.slots[i].key;

			if (id && !picks_verdict_text(&l->picks, id))
				picks_put_verdict(&l->picks, id, p->verdicts.slots[i].value);
		}
	}
}

static void
merge_sides(struct lock *l, struct lock_side *sides, bool say)
{
	merge_nodes(l, sides);
	merge_made(l, sides);
	for (int s = SIDE_OURS; s <= SIDE_THEIRS; s += 2) {
		const struct htab *t = &sides[s].lock.picks.byid;

		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].key && !htab_get(&l->picks.byid, t->slots[i].key,
							 t->slots[i].keylen))
				merge_pick(l, sides, t->slots[i].key); /* once per id */
	}
	if (say && !l->nconflicts)
		warn("%s: merged the two sides of a git conflict; the next build "
		     "or pick writes the merged lock", l->path);
	l->dirty = true;
}

void
lock_merge(struct lock *out, const char *path, struct lock *base,
	   struct lock *ours, struct lock *theirs)
{
	struct lock_side sides[SIDE_COUNT];
	struct lock *in[SIDE_COUNT] = { ours, base, theirs };

	lock_empty(out, path);
	out->version = LOCK_VERSION;
	for (int s = 0; s < SIDE_COUNT; s++) {
		sides[s].lock = *in[s];
		htab_init(&sides[s].pick_line);
		sides[s].present = true;
		memset(in[s], 0, sizeof(*in[s]));
	}
	merge_sides(out, sides, false);
	for (int s = 0; s < SIDE_COUNT; s++)
		side_release(&sides[s]);
}

/* ---- in memory ---- */

void
lock_release(struct lock *l)
{
	for (size_t i = 0; i < l->byid.cap; i++)
		if (l->byid.slots[i].key)
			node_free(l->byid.slots[i].value);
	htab_release(&l->byid);
	picks_release(&l->picks);
	for (size_t i = 0; i < l->nconflicts; i++) {
		free(l->conflicts[i].id);
		free(l->conflicts[i].msg);
	}
	free(l->conflicts);
	free(l->path);
	memset(l, 0, sizeof(*l));
}

const struct lock_node *
lock_get(const struct lock *l, const char *id)
{
	return htab_get(&l->byid, id, strlen(id));
}

const struct lock_node *
lock_find(const struct lock *l, const char *id, const struct hash *key)
{
	const struct lock_node *head = lock_get(l, id);

	for (const struct lock_node *e = head; e; e = e->alt)
		if (hash_eq(&e->key, key))
			return e;
	return head;
}

void
lock_set(struct lock *l, const struct node *n, const struct hash *outs,
	 size_t nouts, double usd, const char *request)
{
	struct lock_node *e = htab_get(&l->byid, n->id, strlen(n->id));

	if (e) {
		/* update in place: the table's key is this entry's id; the
		 * node is built now, so other lines for it are history (what
		 * a training read stays while its key does) */
		if (!hash_eq(&e->key, &n->key))
			e->trained = false;
		free(e->outs);
		free(e->request);
		node_free(e->alt);
		e->alt = NULL;
	} else {
		e = xcalloc(1, sizeof(*e));
		e->id = xstrdup(n->id);
		htab_put(&l->byid, e->id, strlen(e->id), e);
	}
	e->key = n->key;
	for (int f = 0; f < FACET_COUNT; f++)
		e->facets[f] = lock_facet(&n->facets[f]);
	e->outs = xcalloc(nouts ? nouts : 1, sizeof(*e->outs));
	if (nouts)
		memcpy(e->outs, outs, nouts * sizeof(*outs));
	e->nouts = nouts;
	e->seed = n->seed;
	e->usd = usd;
	e->request = request ? xstrdup(request) : NULL;
	l->dirty = true;
}

void
lock_set_trained(struct lock *l, const char *id, const struct hash *package,
		 const struct hash *sent)
{
	struct lock_node *e = htab_get(&l->byid, id, strlen(id));

	if (!e)
		BUG("lock_set_trained: %s was not lock_set", id);
	e->trained = true;
	e->package = *package;
	e->sent = *sent;
	l->dirty = true;
}

void
lock_prune(struct lock *l, bool (*keep)(const char *id, void *ctx), void *ctx)
{
	struct htab kept;

	htab_init(&kept);
	for (size_t i = 0; i < l->byid.cap; i++) {
		struct lock_node *e = l->byid.slots[i].value;

		if (!l->byid.slots[i].key)
			continue;
		if (keep(e->id, ctx)) {
			htab_put(&kept, e->id, strlen(e->id), e);
		} else {
			node_free(e);
			l->dirty = true;
		}
	}
	htab_release(&l->byid);
	l->byid = kept;
}

/* ---- writing ---- */

static int
by_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
format_node(struct buf *b, const struct lock_node *e)
{
	char hex[HASH_HEX_LEN + 1], usd[32];

	hash_hex(&e->key, hex);
	buf_addf(b, "node %s key=%s out=", e->id, hex);
	for (size_t i = 0; i < e->nouts; i++) {
		hash_hex(&e->outs[i], hex);
		buf_addf(b, "%s%s", i ? "," : "", hex);
	}
	format_double(usd, sizeof(usd), e->usd);
	buf_addf(b, " seed=%lld usd=%s", (long long)e->seed, usd);
	if (e->request)
		buf_addf(b, " request=%s", e->request);
	if (e->trained) {
		hash_hex(&e->package, hex);
		buf_addf(b, " trained=%s,", hex);
		hash_hex(&e->sent, hex);
		buf_adds(b, hex);
	}
	buf_adds(b, " facets=");
	for (int f = 0; f < FACET_COUNT; f++)
		buf_addf(b, "%s%s:%08" PRIx32, f ? "," : "", facet_name(f),
			 e->facets[f]);
	buf_addc(b, '\n');
}

/* An id's lines in a stable order (by key), so that a merged lock reads
 * the same however it was merged. */
static int
by_key(const void *a, const void *b)
{
	const struct lock_node *x = *(const struct lock_node *const *)a;
	const struct lock_node *y = *(const struct lock_node *const *)b;

	return memcmp(x->key.b, y->key.b, sizeof(x->key.b));
}

static void
format_id(struct buf *b, const struct lock_node *head)
{
	const struct lock_node *v[64];
	size_t n = 0;

	for (const struct lock_node *e = head; e; e = e->alt) {
		if (n == LM_ARRAY_LEN(v)) {
			format_node(b, e);
			continue;
		}
		v[n++] = e;
	}
	qsort(v, n, sizeof(*v), by_key);
	for (size_t i = 0; i < n; i++)
		format_node(b, v[i]);
}

/* Sorted ids of a table whose keys are strings. Caller frees. */
static const char **
sorted_keys(const struct htab *t)
{
	const char **ids = xcalloc(t->len + 1, sizeof(*ids));
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key)
			ids[n++] = t->slots[i].key;
	if (n)
		qsort(ids, n, sizeof(*ids), by_id);
	return ids;
}

static const struct lock_conflict *
conflict_on(const struct lock *l, const char *id)
{
	for (size_t i = 0; i < l->nconflicts; i++)
		if (l->conflicts[i].id && !strcmp(l->conflicts[i].id, id))
			return &l->conflicts[i];
	return NULL;
}

/*
 * The version l's text needs: the oldest whose reader loses none of it.
 * A reader of an older version reads a newer lock but never rewrites it
 * (lock_writable), so a version raised only where it must be keeps every
 * lock without gate lines writable by the loramakes of v2. v2 is the
 * floor: every lock since trained= came (issue 14) was written v2, and
 * writing v1 again would change every committed lock's header.
 */
unsigned
lock_format_version(const struct lock *l)
{
	return l->picks.verdicts.len ? LOCK_VERSION_GATE : LOCK_VERSION_TRAINED;
}

void
lock_format(const struct lock *l, struct buf *b)
{
	const char **ids;

	buf_addf(b, "%s v%u: %s\n", HEADER_PREFIX, lock_format_version(l),
		 HEADER_TEXT);
	ids = sorted_keys(&l->picks.byid);
	for (size_t i = 0; ids[i]; i++) {
		const struct lock_conflict *c = conflict_on(l, ids[i]);
		int pick = pick_of(l, ids[i]);

		if (c) /* for a person to resolve, as git would show it */
			buf_addf(b, "<<<<<<< ours\npick %s %d\n=======\npick %s %d\n"
				 ">>>>>>> theirs\n", ids[i], c->ours, ids[i], c->theirs);
		else if (pick > 0) /* 0: a dropped pick */
			buf_addf(b, "pick %s %d\n", ids[i], pick);
	}
	free(ids);
	ids = sorted_keys(&l->picks.rerolls);
	for (size_t i = 0; ids[i]; i++) {
		int n = picks_reroll(&l->picks, ids[i]);

		if (n > 0) /* 0: undone */
			buf_addf(b, "reroll %s %d\n", ids[i], n);
	}
	free(ids);
	ids = sorted_keys(&l->picks.envs);
	for (size_t i = 0; ids[i]; i++)
		buf_addf(b, "env %s %s\n", ids[i], picks_env(&l->picks, ids[i]));
	free(ids);
	ids = sorted_keys(&l->picks.verdicts);
	for (size_t i = 0; ids[i]; i++)
		buf_addf(b, "gate %s %s\n", ids[i], picks_verdict_text(&l->picks, ids[i]));
	free(ids);
	ids = sorted_keys(&l->byid);
	for (size_t i = 0; ids[i]; i++)
		format_id(b, lock_get(l, ids[i]));
	free(ids);
}

void
lock_record_envs(struct lock *l, const struct dag *dag)
{
	char tag[ASSIGN_TAG_LEN + 1];

	for (size_t i = 0; i < dag->nnodes; i++) {
		const struct node *n = dag->nodes[i];
		const char *was;

		if (!n->env)
			continue;
		assign_tag(n->env, tag);
		was = picks_env(&l->picks, n->id);
		if (was && strcmp(was, tag) == 0)
			continue;
		picks_set_env(&l->picks, n->id, tag);
		l->dirty = true;
	}
}

int
lock_writable(const struct lock *l, struct error *err)
{
	if (l->version > LOCK_VERSION)
		return error_set(err, "%s was written by a newer loramake (lock v%u; "
				 "this one writes v%u): not rewriting it, which "
				 "would drop what this one cannot read; upgrade "
				 "loramake", l->path, l->version, LOCK_VERSION);
	if (l->nconflicts)
		return error_set(err, "%s holds a git merge conflict; not rewriting it",
				 l->path);
	return 0;
}

int
lock_write(struct lock *l, struct error *err)
{
	struct buf b;
	int rc;

	if (!l->dirty)
		return 0;
	if (lock_writable(l, err) < 0)
		return -1;
	buf_init(&b);
	lock_format(l, &b);
	rc = write_file_atomic(l->path, b.data, b.len, err);
	buf_release(&b);
	if (rc == 0)
		l->dirty = false;
	return rc;
}

void
lock_report(const struct lock *l)
{
	for (size_t i = 0; i < l->nconflicts; i++)
		fprintf(stderr, "%s\n", l->conflicts[i].msg);
	if (l->nconflicts)
		fprintf(stderr, "%s: note: loramake merges the rest itself; for each "
			"pick above, delete the pick line you do not want, then run "
			"loramake again (docs/cache-format.md: merging locks)\n",
			l->path);
}

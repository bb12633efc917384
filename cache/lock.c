/*
 * lock: a sorted text file of nodes and picks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/path.h"
#include "lock.h"

#define HEADER "# loramake lock v1: machine-written; commit it with the recipe\n"

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
	free(e->id);
	free(e->outs);
	free(e->request);
	free(e);
}

/* "engine:1a2b3c4d,model:...": six named 8-hex-digit facets, in order.
 * Parsed by hand: a lock of 10,000 nodes is read on every run. */
static int
parse_facets(struct lock_node *e, const char *v)
{
	for (int f = 0; f < FACET_COUNT; f++) {
		size_t n = strlen(facet_name(f));
		uint32_t x = 0;

		if (strncmp(v, facet_name(f), n) != 0 || v[n] != ':')
			return -1;
		v += n + 1;
		for (int i = 0; i < 8; i++, v++) {
			int d = *v >= '0' && *v <= '9' ? *v - '0'
			      : *v >= 'a' && *v <= 'f' ? *v - 'a' + 10 : -1;

			if (d < 0)
				return -1;
			x = x << 4 | (uint32_t)d;
		}
		e->facets[f] = x;
		if (*v == ',')
			v++;
	}
	return 0;
}

static int
parse_outs(struct lock_node *e, char *v)
{
	char *save;

	e->outs = xcalloc(strlen(v) / HASH_HEX_LEN + 1, sizeof(*e->outs));
	for (char *o = strtok_r(v, ",", &save); o; o = strtok_r(NULL, ",", &save))
		if (!hash_parse(o, &e->outs[e->nouts++]))
			return -1;
	return e->nouts ? 0 : -1;
}

static int
parse_field(struct lock_node *e, char *f)
{
	char *eq = strchr(f, '=');

	if (!eq)
		return -1;
	*eq++ = '\0';
	if (!strcmp(f, "key"))
		return hash_parse(eq, &e->key) ? 0 : -1;
	if (!strcmp(f, "out"))
		return parse_outs(e, eq);
	if (!strcmp(f, "seed"))
		return parse_int64(eq, &e->seed) ? 0 : -1;
	if (!strcmp(f, "usd"))
		return parse_double(eq, &e->usd) ? 0 : -1;
	if (!strcmp(f, "request")) {
		e->request = xstrdup(eq);
		return 0;
	}
	if (!strcmp(f, "facets"))
		return parse_facets(e, eq);
	return 0; /* a field of a newer loramake: ignore */
}

static int
parse_node(struct lock *l, char *rest)
{
	char *save, *tok = strtok_r(rest, " ", &save);
	struct lock_node *e;

	if (!tok)
		return -1;
	e = xcalloc(1, sizeof(*e));
	e->id = xstrdup(tok);
	while ((tok = strtok_r(NULL, " ", &save)))
		if (parse_field(e, tok) < 0) {
			node_free(e);
			return -1;
		}
	if (!e->nouts) {
		node_free(e);
		return -1;
	}
	struct lock_node *old = htab_get(&l->byid, e->id, strlen(e->id));
	if (old) {
		/* a repeated id: the later line wins, under the earlier key */
		free(e->id);
		e->id = old->id;
		old->id = NULL;
		node_free(old);
	}
	htab_put(&l->byid, e->id, strlen(e->id), e);
	return 0;
}

static int
parse_pick(struct lock *l, char *rest)
{
	char id[512];
	int n;

	if (sscanf(rest, "%511s %d", id, &n) != 2 || n < 1)
		return -1;
	picks_set(&l->picks, id, n);
	return 0;
}

int
lock_load(struct lock *l, const char *path, struct error *err)
{
	char *text, *line, *save;
	unsigned lineno = 0;

	memset(l, 0, sizeof(*l));
	l->path = xstrdup(path);
	htab_init(&l->byid);
	picks_init(&l->picks);
	if (read_file(path, &text, NULL, err) < 0)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		int rc = 0;

		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!strncmp(line, "node ", 5))
			rc = parse_node(l, line + 5);
		else if (!strncmp(line, "pick ", 5))
			rc = parse_pick(l, line + 5);
		else
			rc = -1;
		if (rc < 0)
			warn("%s:%u: ignoring a line this loramake cannot read",
			     path, lineno);
	}
	free(text);
	return 0;
}

void
lock_release(struct lock *l)
{
	for (size_t i = 0; i < l->byid.cap; i++)
		if (l->byid.slots[i].key)
			node_free(l->byid.slots[i].value);
	htab_release(&l->byid);
	picks_release(&l->picks);
	free(l->path);
	memset(l, 0, sizeof(*l));
}

const struct lock_node *
lock_get(const struct lock *l, const char *id)
{
	return htab_get(&l->byid, id, strlen(id));
}

void
lock_set(struct lock *l, const struct node *n, const struct hash *outs,
	 size_t nouts, double usd, const char *request)
{
	struct lock_node *e = htab_get(&l->byid, n->id, strlen(n->id));

	if (e) {
		/* update in place: the table's key is this entry's id */
		free(e->outs);
		free(e->request);
	} else {
		e = xcalloc(1, sizeof(*e));
		e->id = xstrdup(n->id);
		htab_put(&l->byid, e->id, strlen(e->id), e);
	}
	e->key = n->key;
	for (int f = 0; f < FACET_COUNT; f++)
		e->facets[f] = lock_facet(&n->facets[f]);
	e->outs = xcalloc(nouts ? nouts : 1, sizeof(*e->outs));
	memcpy(e->outs, outs, nouts * sizeof(*outs));
	e->nouts = nouts;
	e->seed = n->seed;
	e->usd = usd;
	e->request = request ? xstrdup(request) : NULL;
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
	buf_adds(b, " facets=");
	for (int f = 0; f < FACET_COUNT; f++)
		buf_addf(b, "%s%s:%08" PRIx32, f ? "," : "", facet_name(f),
			 e->facets[f]);
	buf_addc(b, '\n');
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
	qsort(ids, n, sizeof(*ids), by_id);
	return ids;
}

void
lock_format(const struct lock *l, struct buf *b)
{
	const char **ids;

	buf_adds(b, HEADER);
	ids = sorted_keys(&l->picks.byid);
	for (size_t i = 0; ids[i]; i++) {
		int pick = (int)(uintptr_t)htab_get(&l->picks.byid, ids[i],
						    strlen(ids[i]));

		if (pick > 0) /* 0: a dropped pick */
			buf_addf(b, "pick %s %d\n", ids[i], pick);
	}
	free(ids);
	ids = sorted_keys(&l->byid);
	for (size_t i = 0; ids[i]; i++)
		format_node(b, lock_get(l, ids[i]));
	free(ids);
}

int
lock_write(struct lock *l, struct error *err)
{
	struct buf b;
	int rc;

	if (!l->dirty)
		return 0;
	buf_init(&b);
	lock_format(l, &b);
	rc = write_file_atomic(l->path, b.data, b.len, err);
	buf_release(&b);
	if (rc == 0)
		l->dirty = false;
	return rc;
}

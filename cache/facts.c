/*
 * facts: the check's per-image measurements, by the image's hash
 * (cache/facts.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "facts.h"
#include "record.h"

#define HEADER_PREFIX "# loramake facts"
#define HEADER_LINE "# loramake facts v1"
/* Sides beyond what a PNG or a JPEG header can say are no image's. */
#define FACTS_MAX_SIDE 65535

static void
add(struct facts *f, struct fact *x)
{
	struct fact *old = htab_get(&f->byobj, x->hex, HASH_HEX_LEN);

	if (old) { /* a later line wins; the table keeps one per OBJ */
		old->v = x->v;
		free(x);
		return;
	}
	htab_put(&f->byobj, x->hex, HASH_HEX_LEN, x);
	LM_GROW(f->all, f->n + 1, f->cap);
	f->all[f->n++] = x;
}

/* A side: 1..FACTS_MAX_SIDE, decimal digits only. */
static bool
parse_side(const char *s, int *out)
{
	int64_t v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || !parse_int64(s, &v) ||
	    v < 1 || v > FACTS_MAX_SIDE)
		return false;
	*out = (int)v;
	return true;
}

/* Exactly 16 lowercase hex digits. */
static bool
parse_dhash(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
		return false;
	for (; *s; s++)
		v = v << 4 | (uint64_t)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
	*out = v;
	return true;
}

/* One line, or NULL if it is not a whole, valid fact. */
static struct fact *
parse_line(char *line)
{
	char *fld[4];
	struct fact *x;
	struct hash h;

	if (record_split(line, '\t', fld, 4) != 4 || !hash_parse(fld[0], &h))
		return NULL;
	x = xcalloc(1, sizeof(*x));
	hash_hex(&h, x->hex);
	if (!parse_side(fld[1], &x->v.w) || !parse_side(fld[2], &x->v.h) ||
	    !parse_dhash(fld[3], &x->v.dhash)) {
		free(x);
		return NULL;
	}
	return x;
}

static void
parse(struct facts *f, char *text, size_t len)
{
	struct record_reader r;
	enum record_kind kind;
	char *line;

	f->rewrite = len == 0;
	record_reader_init(&r, text, len);
	while ((kind = record_next(&r, &line, NULL)) != RECORD_END) {
		struct fact *x;

		if (r.lineno == 1) {
			if (kind != RECORD_LINE || strcmp(line, HEADER_LINE) != 0) {
				/* another version, or damaged: start over */
				f->rewrite = true;
				return;
			}
			continue;
		}
		f->torn = kind == RECORD_TORN; /* a cut append: end it first */
		if (kind == RECORD_LINE && (x = parse_line(line)))
			add(f, x);
	}
	f->saved = f->n;
}

int
facts_load(struct facts *f, const char *path, struct error *err)
{
	char *text;
	size_t len;

	memset(f, 0, sizeof(*f));
	htab_init(&f->byobj);
	if (!path)
		return 0; /* no cache: an empty table, never saved */
	f->path = xstrdup(path);
	if (read_file(path, &text, &len, err) < 0) {
		f->rewrite = true;
		return errno == ENOENT ? 0 : -1;
	}
	parse(f, text, len);
	free(text);
	return 0;
}

void
facts_release(struct facts *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->all[i]);
	free(f->all);
	htab_release(&f->byobj);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

const struct image_facts *
facts_get(const struct facts *f, const struct hash *obj)
{
	char hex[HASH_HEX_LEN + 1];
	const struct fact *x;

	hash_hex(obj, hex);
	x = htab_get(&f->byobj, hex, HASH_HEX_LEN);
	return x ? &x->v : NULL;
}

void
facts_put(struct facts *f, const struct hash *obj, const struct image_facts *v)
{
	struct fact *x = xcalloc(1, sizeof(*x));

	hash_hex(obj, x->hex);
	x->v = *v;
	add(f, x);
}

static void
format_fact(struct buf *b, const struct fact *x)
{
	buf_addf(b, "%s\t%d\t%d\t%016llx\n", x->hex, x->v.w, x->v.h,
		 (unsigned long long)x->v.dhash);
}

/* The whole file: header and the facts keep accepts. */
static void
format_all(const struct facts *f, bool (*keep)(const char *, void *), void *ctx,
	   struct buf *b, long *dropped)
{
	buf_addf(b, "%s\n", HEADER_LINE);
	for (size_t i = 0; i < f->n; i++) {
		if (keep && !keep(f->all[i]->hex, ctx))
			(*dropped)++;
		else
			format_fact(b, f->all[i]);
	}
}

int
facts_save(struct facts *f, struct error *err)
{
	struct buf b;
	long dropped = 0;
	int rc;

	if (!f->path || (f->saved == f->n && !f->rewrite))
		return 0;
	buf_init(&b);
	if (f->rewrite) {
		format_all(f, NULL, NULL, &b, &dropped);
		rc = write_file_atomic(f->path, b.data, b.len, err);
	} else {
		if (f->torn)
			buf_addc(&b, '\n');
		for (size_t i = f->saved; i < f->n; i++)
			format_fact(&b, f->all[i]);
		rc = path_append(f->path, b.data, b.len, false, err);
	}
	buf_release(&b);
	if (rc == 0) {
		f->saved = f->n;
		f->rewrite = f->torn = false;
	}
	return rc;
}

long
facts_compact(struct facts *f, bool (*keep)(const char *hex, void *ctx),
	      void *ctx, struct error *err)
{
	struct buf b;
	long dropped = 0;
	int rc;

	if (!f->path)
		return 0;
	buf_init(&b);
	format_all(f, keep, ctx, &b, &dropped);
	rc = write_file_atomic(f->path, b.data, b.len, err);
	buf_release(&b);
	return rc < 0 ? -1 : dropped;
}

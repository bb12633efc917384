/*
 * failures: why each key's node last failed (cache/failures.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/path.h"
#include "base/text.h"
#include "failures.h"
#include "record.h"

#define HEADER_LINE "# loramake failures v1"

/* Keep x: a later failure of the same key replaces the earlier one. */
static void
add(struct failures *f, struct failure *x)
{
	struct failure *old = htab_get(&f->bykey, x->hex, HASH_HEX_LEN);

	if (old) {
		free(old->why);
		old->why = x->why;
		old->when = x->when;
		old->cleared = false;
		free(x);
		return;
	}
	htab_put(&f->bykey, x->hex, HASH_HEX_LEN, x);
	LM_GROW(f->all, f->n + 1, f->cap);
	f->all[f->n++] = x;
}

/* A WHY as a build writes it: 1..FAILURES_MAX_WHY bytes that text_clean
 * leaves as they are (no control, nothing that is not UTF-8). */
static bool
why_ok(const char *why)
{
	char copy[FAILURES_MAX_WHY * 5 + 1];
	size_t len = strlen(why);

	if (len == 0 || len > FAILURES_MAX_WHY)
		return false;
	memcpy(copy, why, len + 1);
	text_clean(copy, sizeof(copy), NULL);
	return strcmp(copy, why) == 0;
}

/* Unix seconds: decimal digits only, not before 1970. */
static bool
parse_when(const char *s, long long *out)
{
	int64_t v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || !parse_int64(s, &v))
		return false;
	*out = v;
	return true;
}

/* One line, or NULL if it is not a whole, valid failure. */
static struct failure *
parse_line(char *line)
{
	char *fld[3];
	struct failure *x;
	struct hash h;
	long long when;

	if (record_split(line, '\t', fld, 3) != 3 || !hash_parse(fld[0], &h) ||
	    !parse_when(fld[1], &when) || !why_ok(fld[2]))
		return NULL;
	x = xcalloc(1, sizeof(*x));
	hash_hex(&h, x->hex);
	x->when = when;
	x->why = xstrdup(fld[2]);
	return x;
}

static void
parse(struct failures *f, char *text, size_t len)
{
	struct record_reader r;
	enum record_kind kind;
	char *line;

	f->rewrite = len == 0;
	record_reader_init(&r, text, len);
	while ((kind = record_next(&r, &line, NULL)) != RECORD_END) {
		struct failure *x;

		if (r.lineno == 1) {
			if (kind != RECORD_LINE || strcmp(line, HEADER_LINE) != 0) {
				f->rewrite = true; /* another version, or damaged */
				return;
			}
			continue;
		}
		if (r.lineno > FAILURES_MAX_ROWS + 1) {
			f->rewrite = true; /* keep what was read, newest last */
			break;
		}
		f->lines++;
		f->torn = kind == RECORD_TORN;
		if (kind == RECORD_LINE && (x = parse_line(line)))
			add(f, x);
	}
}

void
failures_load(struct failures *f, const char *path)
{
	struct error err;
	char *text;
	size_t len;

	memset(f, 0, sizeof(*f));
	htab_init(&f->bykey);
	if (!path)
		return;
	f->path = xstrdup(path);
	if (read_file(path, &text, &len, &err) < 0) {
		f->rewrite = true; /* missing (or unreadable): written anew */
		return;
	}
	parse(f, text, len);
	free(text);
}

void
failures_release(struct failures *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->all[i]->why);
		free(f->all[i]);
	}
	free(f->all);
	htab_release(&f->bykey);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

static struct failure *
find(const struct failures *f, const struct hash *key)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(key, hex);
	return htab_get(&f->bykey, hex, HASH_HEX_LEN);
}

const struct failure *
failures_get(const struct failures *f, const struct hash *key)
{
	const struct failure *x = find(f, key);

	return x && !x->cleared ? x : NULL;
}

static void
format_line(struct buf *b, const struct failure *x)
{
	buf_addf(b, "%s\t%lld\t%s\n", x->hex, x->when, x->why);
}

/* The whole file: the header and every failure not cleared, oldest
 * first, at most FAILURES_MAX_ROWS (the newest). */
static int
rewrite(struct failures *f, struct error *err)
{
	size_t keep = 0, skip;
	struct buf b;
	int rc;

	for (size_t i = 0; i < f->n; i++)
		keep += !f->all[i]->cleared;
	skip = keep > FAILURES_MAX_ROWS ? keep - FAILURES_MAX_ROWS : 0;
	buf_init(&b);
	buf_addf(&b, "%s\n", HEADER_LINE);
	for (size_t i = 0; i < f->n; i++) {
		if (f->all[i]->cleared)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		format_line(&b, f->all[i]);
	}
	rc = write_file_atomic(f->path, b.data, b.len, err);
	buf_release(&b);
	if (rc == 0) {
		f->lines = keep < FAILURES_MAX_ROWS ? keep : FAILURES_MAX_ROWS;
		f->rewrite = f->torn = false;
	}
	return rc;
}

int
failures_add(struct failures *f, const struct hash *key, const char *why,
	     struct error *err)
{
	struct failure *x = xcalloc(1, sizeof(*x));
	struct buf b;
	int rc;

	hash_hex(key, x->hex);
	x->when = (long long)time(NULL);
	/* a build's words are cleaned already; cleaning again keeps a line
	 * whatever a caller passes (an empty message says so) */
	x->why = xmalloc(FAILURES_MAX_WHY + 1);
	snprintf(x->why, FAILURES_MAX_WHY + 1, "%s", *why ? why : "failed");
	text_clean(x->why, FAILURES_MAX_WHY + 1, NULL);
	add(f, x);
	x = find(f, key);
	if (!f->path)
		return 0;
	/* a torn last line is dropped, never ended: ended, a message cut
	 * short would read as a whole one */
	if (f->rewrite || f->torn)
		return rewrite(f, err);
	buf_init(&b);
	format_line(&b, x);
	rc = path_append(f->path, b.data, b.len, false, err);
	buf_release(&b);
	if (rc == 0)
		f->lines += 1;
	return rc;
}

void
failures_clear(struct failures *f, const struct hash *key)
{
	struct failure *x = find(f, key);

	if (x)
		x->cleared = true;
}

int
failures_save(struct failures *f, struct error *err)
{
	size_t live = 0;

	if (!f->path)
		return 0;
	for (size_t i = 0; i < f->n; i++)
		live += !f->all[i]->cleared;
	if (!f->rewrite && !f->torn && f->lines == live)
		return 0; /* every line is a live failure: nothing to drop */
	if (f->rewrite && f->n == 0 && !path_exists(f->path))
		return 0; /* no failures and no file: none is made */
	return rewrite(f, err);
}

/*
 * pending: an append-only log of in-flight remote requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/path.h"
#include "compiler/recipe.h"
#include "pending.h"
#include "record.h"

#define HEADER "# loramake pending v1\n"

static void format_entry(struct buf *b, const struct pending_entry *e);

static void
push(struct pending *p, const struct hash *key, int candidate, const char *info)
{
	struct pending_entry *e;

	LM_GROW(p->v, p->n + 1, p->cap);
	e = &p->v[p->n++];
	e->key = *key;
	e->candidate = candidate;
	e->info = xstrdup(info);
}

/* Drop the entries of key's candidate from memory. */
static void
drop(struct pending *p, const struct hash *key, int candidate)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (hash_eq(&p->v[i].key, key) && p->v[i].candidate == candidate) {
			free(p->v[i].info);
			continue;
		}
		p->v[k++] = p->v[i];
	}
	p->n = k;
}

static void
pending_empty(struct pending *p, const char *path)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->path = xstrdup(path);
}

int
pending_parse(struct pending *p, const char *path, char *text, size_t len)
{
	struct record_reader r;
	enum record_kind kind;
	char *line;

	pending_empty(p, path);
	record_reader_init(&r, text, len);
	while ((kind = record_next(&r, &line, NULL)) != RECORD_END) {
		char *f[3];
		struct hash key;
		int64_t cand;

		/* a torn line (a crash mid-append) or a NUL: not a whole entry */
		if (kind != RECORD_LINE || line[0] == '#')
			continue;
		if (record_split(line, '\t', f, 3) != 3 || !hash_parse(f[0], &key) ||
		    !parse_int64(f[1], &cand) || cand < 1 || cand > RECIPE_MAX_COUNT)
			continue;
		if (!f[2][0])
			drop(p, &key, (int)cand); /* forgotten (pending_forget) */
		else
			push(p, &key, (int)cand, f[2]);
	}
	return 0;
}

int
pending_load(struct pending *p, const char *path, struct error *err)
{
	char *text;
	size_t len;

	if (read_file(path, &text, &len, err) < 0) {
		pending_empty(p, path);
		return errno == ENOENT ? 0 : -1;
	}
	pending_parse(p, path, text, len);
	free(text);
	return 0;
}

void
pending_release(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].info);
	free(p->v);
	free(p->path);
	if (p->fd >= 0)
		close(p->fd);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

void
pending_format(const struct pending *p, struct buf *b)
{
	buf_adds(b, HEADER);
	for (size_t i = 0; i < p->n; i++)
		format_entry(b, &p->v[i]);
}

static void
format_entry(struct buf *b, const struct pending_entry *e)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(&e->key, hex);
	buf_addf(b, "%s\t%d\t%s\n", hex, e->candidate, e->info);
}

int
pending_compact(struct pending *p, const struct actions *acts,
		struct error *err)
{
	struct buf b;
	size_t k = 0;
	int rc;

	buf_init(&b);
	buf_adds(&b, HEADER);
	for (size_t i = 0; i < p->n; i++) {
		if (actions_get(acts, &p->v[i].key)) {
			free(p->v[i].info);
			continue;
		}
		p->v[k++] = p->v[i];
		format_entry(&b, &p->v[i]);
	}
	p->n = k;
	rc = write_file_atomic(p->path, b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* Append the line for key's candidate (info "" forgets it) in one
 * write: a killed build leaves it whole or not at all (a torn line is
 * skipped by the reader); pending_sync makes it durable. */
static int
append(struct pending *p, const struct hash *key, int candidate,
       const char *info, struct error *err)
{
	struct pending_entry e = { *key, candidate, (char *)info };
	struct buf b;
	int rc = 0;

	if (strpbrk(info, "\t\n"))
		BUG("pending info holds a tab or newline");
	if (p->fd < 0) {
		bool fresh = !path_exists(p->path);

		/* never through a link (path.h) */
		p->fd = path_open(p->path, O_WRONLY | O_CREAT | O_APPEND, 0666, err);
		if (p->fd < 0)
			return -1;
		if (fresh && write(p->fd, HEADER, strlen(HEADER)) < 0)
			return error_set(err, "cannot write '%s':", p->path);
	}
	buf_init(&b);
	format_entry(&b, &e);
	if (write(p->fd, b.data, b.len) != (ssize_t)b.len)
		rc = error_set(err, "cannot append to '%s':", p->path);
	else
		p->written++;
	buf_release(&b);
	return rc;
}

int
pending_sync(const struct pending *p, struct error *err)
{
	if (p->fd >= 0 && fdatasync(p->fd) < 0)
		return error_set(err, "cannot sync '%s':", p->path);
	return 0;
}

int
pending_add(struct pending *p, const struct hash *key, int candidate,
	    const char *info, struct error *err)
{
	if (!*info)
		BUG("pending info is empty");
	if (append(p, key, candidate, info, err) < 0)
		return -1;
	push(p, key, candidate, info);
	return 0;
}

int
pending_forget(struct pending *p, const struct hash *key, int candidate,
	       struct error *err)
{
	drop(p, key, candidate);
	return append(p, key, candidate, "", err);
}

size_t
pending_for(const struct pending *p, const struct hash *key,
	    const struct pending_entry **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n && n < max; i++)
		if (hash_eq(&p->v[i].key, key))
			out[n++] = &p->v[i];
	return n;
}

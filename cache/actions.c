/*
 * actions: an append-only text log read once into a hash table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "base/buf.h"
#include "base/path.h"

#define HEADER "# loramake actions v1\n"

static void
add(struct actions *a, struct action *rec)
{
	/* a superseded record stays in all[] and is freed with the rest */
	htab_put(&a->bykey, rec->keyhex, HASH_HEX_LEN, rec);
	LM_GROW(a->all, a->n + 1, a->cap);
	a->all[a->n++] = rec;
}

static void
action_free(struct action *rec)
{
	free(rec->outs);
	free(rec->request);
	free(rec);
}

/* Parse one line; NULL if it is not a whole, valid record. */
static struct action *
parse_line(char *line)
{
	char *f[5] = { 0 }, *p = line, *save;
	struct action *rec;
	int nf = 0;

	while (nf < 5) {
		f[nf++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (nf != 5)
		return NULL;
	rec = xcalloc(1, sizeof(*rec));
	if (!hash_parse(f[0], &rec->key))
		goto bad;
	memcpy(rec->keyhex, f[0], HASH_HEX_LEN + 1);
	size_t commas = 0;
	for (const char *c = f[1]; *c; c++)
		commas += *c == ',';
	if (commas >= ACTIONS_MAX_OUTS)
		goto bad;
	rec->outs = xcalloc(commas + 1, sizeof(*rec->outs));
	for (char *o = strtok_r(f[1], ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (rec->nouts == ACTIONS_MAX_OUTS || !hash_parse(o, &rec->outs[rec->nouts]))
			goto bad;
		rec->nouts++;
	}
	if (!rec->nouts || !parse_double(f[2], &rec->usd) ||
	    !parse_int64(f[3], &rec->seed))
		goto bad;
	if (strcmp(f[4], "-") != 0)
		rec->request = xstrdup(f[4]);
	return rec;
bad:
	action_free(rec);
	return NULL;
}

int
actions_load(struct actions *a, const char *path, struct error *err)
{
	char *text, *line, *nl;
	size_t len;

	memset(a, 0, sizeof(*a));
	htab_init(&a->bykey);
	a->path = xstrdup(path);
	if (read_file(path, &text, &len, err) < 0)
		return errno == ENOENT ? 0 : -1;
	line = text;
	if (strncmp(text, HEADER, strlen(HEADER)) != 0) {
		/* another version: start over rather than misread it */
		free(text);
		return 0;
	}
	line += strlen(HEADER);
	while ((nl = memchr(line, '\n', (size_t)(text + len - line)))) {
		struct action *rec;

		*nl = '\0';
		a->lines++;
		if ((rec = parse_line(line)))
			add(a, rec);
		line = nl + 1;
	}
	/* anything after the last newline is a torn append: ignored */
	free(text);
	return 0;
}

void
actions_release(struct actions *a)
{
	for (size_t i = 0; i < a->n; i++)
		action_free(a->all[i]);
	free(a->all);
	htab_release(&a->bykey);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

const struct action *
actions_get(const struct actions *a, const struct hash *key)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(key, hex);
	return htab_get(&a->bykey, hex, HASH_HEX_LEN);
}

static void
format_record(struct buf *b, const struct action *rec)
{
	char hex[HASH_HEX_LEN + 1], usd[32];

	hash_hex(&rec->key, hex);
	buf_addf(b, "%s\t", hex);
	for (size_t i = 0; i < rec->nouts; i++) {
		hash_hex(&rec->outs[i], hex);
		buf_addf(b, "%s%s", i ? "," : "", hex);
	}
	format_double(usd, sizeof(usd), rec->usd);
	buf_addf(b, "\t%s\t%lld\t%s\n", usd, (long long)rec->seed,
		 rec->request ? rec->request : "-");
}

static struct action *
copy_record(const struct action *rec)
{
	struct action *c = xcalloc(1, sizeof(*c));

	*c = *rec;
	c->outs = xcalloc(rec->nouts ? rec->nouts : 1, sizeof(*c->outs));
	memcpy(c->outs, rec->outs, rec->nouts * sizeof(*c->outs));
	c->request = rec->request ? xstrdup(rec->request) : NULL;
	hash_hex(&c->key, c->keyhex);
	return c;
}

int
actions_start(const char *path, struct error *err)
{
	if (path_exists(path))
		return 0;
	return write_file_atomic(path, HEADER, strlen(HEADER), err);
}

int
actions_write(const char *path, const struct action *rec, struct error *err)
{
	struct buf b;
	int fd, rc = 0;

	/* no O_CREAT: a log without its header would be read as another
	 * version and thrown away; actions_start made it */
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "cannot open '%s':", path);
	buf_init(&b);
	format_record(&b, rec);
	/* one write: appends never interleave mid-line */
	if (write(fd, b.data, b.len) != (ssize_t)b.len || fdatasync(fd) < 0)
		rc = error_set(err, "cannot append to '%s':", path);
	close(fd);
	buf_release(&b);
	return rc;
}

void
actions_add(struct actions *a, const struct action *rec)
{
	add(a, copy_record(rec));
}

int
actions_append(struct actions *a, const struct action *rec, struct error *err)
{
	if (actions_start(a->path, err) < 0 || actions_write(a->path, rec, err) < 0)
		return -1;
	actions_add(a, rec);
	return 0;
}

long
actions_compact(struct actions *a, int (*keep)(const struct action *, void *),
		void *ctx, struct error *err)
{
	struct buf b;
	long dropped = 0;

	buf_init(&b);
	buf_adds(&b, HEADER);
	for (size_t i = 0; i < a->n; i++) {
		const struct action *rec = a->all[i];

		if (actions_get(a, &rec->key) != rec)
			continue; /* superseded by a later line */
		if (keep && !keep(rec, ctx)) {
			dropped++;
			continue;
		}
		format_record(&b, rec);
	}
	if (write_file_atomic(a->path, b.data, b.len, err) < 0)
		dropped = -1;
	buf_release(&b);
	return dropped;
}

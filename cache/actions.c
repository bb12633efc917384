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
#include "record.h"

#define HEADER_PREFIX "# loramake actions"
#define HEADER_LINE HEADER_PREFIX " v1"
#define HEADER HEADER_LINE "\n"

static void
add(struct actions *a, struct action *rec)
{
	/* a superseded record stays in all[] and is freed with the rest */
	htab_put(&a->bykey, rec->keyhex, HASH_HEX_LEN, rec);
	LM_GROW(a->all, a->n + 1, a->cap);
	a->all[a->n++] = rec;
}

void
actions_free_record(struct action *rec)
{
	free(rec->outs);
	free(rec->request);
	free(rec);
}

/* A request id as engines give them ([A-Za-z0-9._-]{1,128}, comma-joined
 * for several candidates), or "-" for none. */
static bool
is_request_field(const char *s)
{
	size_t run = 0;

	if (!strcmp(s, "-"))
		return true;
	for (; *s; s++) {
		bool word = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
			    *s == '-';

		if (word ? ++run > 128 : *s != ',' || !run)
			return false;
		if (!word)
			run = 0;
	}
	return run > 0;
}

struct action *
actions_parse_record(char *line)
{
	char *f[5], *o[ACTIONS_MAX_OUTS];
	struct action *rec;
	size_t nouts;

	if (record_split(line, '\t', f, 5) != 5)
		return NULL;
	nouts = record_split(f[1], ',', o, ACTIONS_MAX_OUTS);
	if (nouts > ACTIONS_MAX_OUTS || !is_request_field(f[4]))
		return NULL;
	rec = xcalloc(1, sizeof(*rec));
	if (!hash_parse(f[0], &rec->key))
		goto bad;
	memcpy(rec->keyhex, f[0], HASH_HEX_LEN + 1);
	rec->outs = xcalloc(nouts, sizeof(*rec->outs));
	for (; rec->nouts < nouts; rec->nouts++)
		if (!hash_parse(o[rec->nouts], &rec->outs[rec->nouts]))
			goto bad;
	if (!parse_double(f[2], &rec->usd) || rec->usd < 0 ||
	    !parse_int64(f[3], &rec->seed) || rec->seed < 0)
		goto bad;
	if (strcmp(f[4], "-") != 0)
		rec->request = xstrdup(f[4]);
	return rec;
bad:
	actions_free_record(rec);
	return NULL;
}

/* The header: what to make of the lines after it. */
static void
take_header(struct actions *a, char *line)
{
	unsigned v = record_version(line, HEADER_PREFIX);

	if (v == ACTIONS_VERSION && !strcmp(line, HEADER_LINE))
		return;
	a->rewrite = true;
	if (v && v != ACTIONS_VERSION) {
		/* records of another format: start over rather than misread */
		a->other_version = v;
		return;
	}
	/* damaged: its records are still this format's, each checked */
}

int
actions_parse(struct actions *a, const char *path, char *text, size_t len)
{
	struct record_reader r;
	enum record_kind kind;
	char *line;

	memset(a, 0, sizeof(*a));
	htab_init(&a->bykey);
	a->path = xstrdup(path);
	a->rewrite = len == 0; /* an empty file: the header is missing */
	record_reader_init(&r, text, len);
	while ((kind = record_next(&r, &line, NULL)) != RECORD_END) {
		struct action *rec;

		if (r.lineno == 1 && kind == RECORD_LINE && line[0] == '#') {
			take_header(a, line);
			continue;
		}
		if (r.lineno == 1)
			a->rewrite = true; /* no header at all */
		if (a->other_version)
			break;
		a->lines++;
		if (kind == RECORD_TORN)
			a->torn = true; /* a crash mid-append: ignored */
		else if (kind == RECORD_LINE && (rec = actions_parse_record(line)))
			add(a, rec);
	}
	return 0;
}

int
actions_load(struct actions *a, const char *path, struct error *err)
{
	char *text;
	size_t len;

	if (read_file(path, &text, &len, err) < 0) {
		memset(a, 0, sizeof(*a));
		htab_init(&a->bykey);
		a->path = xstrdup(path);
		return errno == ENOENT ? 0 : -1;
	}
	actions_parse(a, path, text, len);
	free(text);
	return 0;
}

void
actions_release(struct actions *a)
{
	for (size_t i = 0; i < a->n; i++)
		actions_free_record(a->all[i]);
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

void
actions_format_record(const struct action *rec, struct buf *b)
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

/* Records the table holds, superseded ones not counted. */
static size_t
live_records(const struct actions *a)
{
	return a->bykey.len;
}

/* End a torn last line, so the next append starts a line of its own
 * instead of being read as the rest of the torn one. */
static int
close_torn_line(struct actions *a, struct error *err)
{
	int rc = path_append(a->path, "\n", 1, true, err);

	if (rc == 0)
		a->torn = false;
	return rc;
}

int
actions_start(struct actions *a, struct error *err)
{
	if (!path_exists(a->path))
		return write_file_atomic(a->path, HEADER, strlen(HEADER), err);
	if (a->rewrite) {
		/* as samurai does with an old .ninja_log: rewrite, never ignore
		 * forever (every build would rerun everything) */
		if (a->other_version)
			warn("%s: a log of another format (v%u; this loramake writes "
			     "v%d): starting it over (outputs stay in the store, and "
			     "recipe.lock still names them)", a->path, a->other_version,
			     ACTIONS_VERSION);
		else
			warn("%s: its header is damaged or missing: rewrote it with the "
			     "%zu records it holds", a->path, live_records(a));
		if (actions_compact(a, NULL, NULL, err) < 0)
			return -1;
		a->rewrite = a->torn = false;
		a->other_version = 0;
		return 0;
	}
	return a->torn ? close_torn_line(a, err) : 0;
}

int
actions_write(const char *path, const struct action *rec, struct error *err)
{
	struct buf b;
	int rc;

	/* never made here: a log without its header would be read as another
	 * version and thrown away; actions_start made it */
	buf_init(&b);
	actions_format_record(rec, &b);
	rc = path_append(path, b.data, b.len, true, err);
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
	if (actions_start(a, err) < 0 || actions_write(a->path, rec, err) < 0)
		return -1;
	actions_add(a, rec);
	return 0;
}

/* The log's text with one line per key, of the records keep passes
 * (NULL: all), appended to b. Returns how many keep dropped. */
static long
format_log(const struct actions *a, int (*keep)(const struct action *, void *),
	   void *ctx, struct buf *b)
{
	long dropped = 0;

	buf_adds(b, HEADER);
	for (size_t i = 0; i < a->n; i++) {
		const struct action *rec = a->all[i];

		if (actions_get(a, &rec->key) != rec)
			continue; /* superseded by a later line */
		if (keep && !keep(rec, ctx)) {
			dropped++;
			continue;
		}
		actions_format_record(rec, b);
	}
	return dropped;
}

void
actions_format(const struct actions *a, struct buf *b)
{
	format_log(a, NULL, NULL, b);
}

long
actions_compact(struct actions *a, int (*keep)(const struct action *, void *),
		void *ctx, struct error *err)
{
	struct buf b;
	long dropped;

	buf_init(&b);
	dropped = format_log(a, keep, ctx, &b);
	if (write_file_atomic(a->path, b.data, b.len, err) < 0)
		dropped = -1;
	buf_release(&b);
	return dropped;
}

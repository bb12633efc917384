/*
 * times: the build's own history of how long jobs take (cache/times.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/path.h"
#include "compiler/recipe.h"
#include "record.h"
#include "times.h"

#define HEADER_LINE "# loramake times v1"

/* A name field: 1..TIMES_MAX_NAME printable bytes, no spaces. */
static bool
is_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TIMES_MAX_NAME)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

static bool
is_seconds(double s)
{
	return isfinite(s) && s >= 0 && s < TIMES_MAX_SECONDS;
}

static struct time_row *
row(struct times *t, const char *engine, const char *model, const char *kind)
{
	char *name = xasprintf("%s\t%s\t%s", engine, model ? model : "-", kind);
	struct time_row *r = htab_get(&t->byname, name, strlen(name));

	if (r) {
		free(name);
		return r;
	}
	r = xcalloc(1, sizeof(*r));
	r->name = name;
	htab_put(&t->byname, r->name, strlen(r->name), r);
	LM_GROW(t->rows, t->n + 1, t->cap);
	t->rows[t->n++] = r;
	return r;
}

/* One line into the table, or false if it is not a whole, valid row. */
static bool
parse_line(struct times *t, char *line)
{
	char *f[5];
	double secs;
	int64_t count;
	struct time_row *r;

	if (record_split(line, '\t', f, 5) != 5 || !is_name(f[0]) ||
	    !is_name(f[1]) || !is_name(f[2]) || !parse_double(f[3], &secs) ||
	    !is_seconds(secs) || !parse_int64(f[4], &count) || count < 1 ||
	    count > 1000000000)
		return false;
	r = row(t, f[0], f[1], f[2]); /* a later line for a name wins */
	r->seconds = secs;
	r->count = (unsigned long)count;
	return true;
}

void
times_load(struct times *t, const char *path)
{
	struct record_reader rd;
	enum record_kind kind;
	struct error err;
	char *text, *line;
	size_t len;

	memset(t, 0, sizeof(*t));
	htab_init(&t->byname);
	if (!path)
		return;
	t->path = xstrdup(path);
	if (read_file(path, &text, &len, &err) < 0)
		return; /* missing, or unreadable: learnt again */
	record_reader_init(&rd, text, len);
	while ((kind = record_next(&rd, &line, NULL)) != RECORD_END &&
	       t->n < TIMES_MAX_ROWS) {
		if (rd.lineno == 1) {
			if (kind != RECORD_LINE || strcmp(line, HEADER_LINE) != 0)
				break; /* another version, or damaged: start over */
			continue;
		}
		if (kind == RECORD_LINE)
			parse_line(t, line);
	}
	free(text);
}

void
times_release(struct times *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->rows[i]->name);
		free(t->rows[i]);
	}
	free(t->rows);
	htab_release(&t->byname);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

bool
times_get(const struct times *t, const char *engine, const char *model,
	  const char *kind, double *seconds)
{
	char *name = xasprintf("%s\t%s\t%s", engine, model ? model : "-", kind);
	const struct time_row *r = htab_get(&t->byname, name, strlen(name));

	free(name);
	if (!r || !r->count)
		return false;
	*seconds = r->seconds;
	return true;
}

void
times_add(struct times *t, const char *engine, const char *model,
	  const char *kind, double seconds)
{
	struct time_row *r;

	if (!is_seconds(seconds) || !is_name(engine) || !is_name(kind) ||
	    (model && !is_name(model)) || t->n >= TIMES_MAX_ROWS)
		return; /* a model name with a space is not learnt from */
	r = row(t, engine, model, kind);
	r->new_sum += seconds;
	r->new_count++;
}

void
times_add_node(struct times *t, const struct node *n, double seconds)
{
	times_add(t, n->engine_type, n->model, kind_name(n->kind), seconds);
}

bool
times_get_node(const struct times *t, const struct node *n, double *seconds)
{
	return times_get(t, n->engine_type, n->model, kind_name(n->kind), seconds);
}

/* The old mean weighs as at most TIMES_MEMORY jobs, so a machine or a
 * service that got faster shows in the next plan, not the fiftieth. */
static void
merge(struct time_row *r)
{
	double old = r->count < TIMES_MEMORY ? (double)r->count : TIMES_MEMORY;

	if (!r->new_count)
		return;
	r->seconds = (r->seconds * old + r->new_sum) / (old + (double)r->new_count);
	r->count += r->new_count;
	r->new_sum = 0;
	r->new_count = 0;
}

int
times_save(struct times *t, struct error *err)
{
	bool learnt = false;
	struct buf b;
	int rc;

	for (size_t i = 0; i < t->n; i++)
		learnt |= t->rows[i]->new_count > 0;
	if (!t->path || !learnt)
		return 0;
	buf_init(&b);
	buf_addf(&b, "%s\n", HEADER_LINE);
	for (size_t i = 0; i < t->n; i++) {
		struct time_row *r = t->rows[i];

		merge(r);
		if (r->count) /* milliseconds are all a plan shows */
			buf_addf(&b, "%s\t%.3f\t%lu\n", r->name, r->seconds, r->count);
	}
	rc = write_file_atomic(t->path, b.data, b.len, err);
	buf_release(&b);
	return rc;
}

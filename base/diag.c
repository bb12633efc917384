/*
 * diag: file:line:col diagnostics with the quoted line and a caret.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define MAX_FILE (64u << 20) /* a recipe bigger than this is a mistake */

int
source_load(struct source *src, const char *path, struct error *err)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, len = 0;
	char *text;

	if (!f)
		return error_set(err, "cannot open '%s':", path);
	text = xmalloc(cap + 1);
	for (;;) {
		size_t n = fread(text + len, 1, cap - len, f);

		len += n;
		if (len < cap)
			break;
		if (cap >= MAX_FILE) {
			fclose(f);
			free(text);
			return error_set(err, "'%s' is larger than %u MiB", path,
					 MAX_FILE >> 20);
		}
		cap *= 2;
		text = xreallocarray(text, cap + 1, 1);
	}
	if (ferror(f)) {
		fclose(f);
		free(text);
		return error_set(err, "cannot read '%s':", path);
	}
	fclose(f);
	text[len] = '\0';
	src->path = xstrdup(path);
	src->text = text;
	src->len = len;
	return 0;
}

void
source_release(struct source *src)
{
	free(src->path);
	free(src->text);
	memset(src, 0, sizeof(*src));
}

void
diag_init(struct diag *d, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
}

/* Is c a control character (other than tab) that a terminal might obey? */
static bool
is_control(char c)
{
	return ((unsigned char)c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * Pad under byte i of line p so the caret lines up: a tab stays a tab, a
 * UTF-8 character takes one cell (its continuation bytes none), and a
 * byte order mark none.
 */
static void
caret_pad(FILE *out, const char *p, uint32_t i)
{
	unsigned char c = (unsigned char)p[i];

	if ((c & 0xc0) == 0x80 || (c == 0xef && (unsigned char)p[i + 1] == 0xbb &&
				   (unsigned char)p[i + 2] == 0xbf))
		return;
	fputc(c == '\t' ? '\t' : ' ', out);
}

/* Print line `line` of src with a caret under column col. */
static void
quote_line(FILE *out, const struct source *src, uint32_t line, uint32_t col)
{
	const char *p = src->text, *end = src->text + src->len, *eol;
	int width;

	for (uint32_t l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return;
		p = nl + 1;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	if (eol > p && eol[-1] == '\r')
		eol--;
	if (eol - p > 200 || memchr(src->text, '\0', src->len))
		return; /* not a line a person can read (or a binary file) */
	width = fprintf(out, " %5u", line) - 1;
	fputs(" | ", out);
	for (const char *q = p; q < eol; q++) /* no terminal escapes */
		fputc(is_control(*q) ? '?' : *q, out);
	fprintf(out, "\n %*s | ", width, "");
	for (uint32_t c = 1; c < col && p + c - 1 < eol; c++)
		caret_pad(out, p, c - 1);
	fputs("^\n", out);
}

static void
report(struct diag *d, struct loc loc, const char *what, const char *fmt,
       va_list ap)
{
	if (loc.src && loc.line)
		fprintf(d->out, "%s:%u:%u: %s: ", loc.src->path, loc.line,
			loc.col, what);
	else if (loc.src)
		fprintf(d->out, "%s: %s: ", loc.src->path, what);
	else
		fprintf(d->out, "%s: %s: ", lm_progname, what);
	vfprintf(d->out, fmt, ap);
	fputc('\n', d->out);
	if (loc.src && loc.line)
		quote_line(d->out, loc.src, loc.line, loc.col);
}

void
diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
{
	va_list ap;

	if (++d->nerrors > DIAG_MAX_SHOWN) {
		if (d->nerrors == DIAG_MAX_SHOWN + 1)
			fprintf(d->out, "%s: too many errors, stopping here\n",
				lm_progname);
		return;
	}
	va_start(ap, fmt);
	report(d, loc, "error", fmt, ap);
	va_end(ap);
}

void
diag_warning(struct diag *d, struct loc loc, const char *fmt, ...)
{
	va_list ap;

	d->nwarnings++;
	va_start(ap, fmt);
	report(d, loc, "warning", fmt, ap);
	va_end(ap);
}

void
diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
{
	va_list ap;

	if (d->nerrors > DIAG_MAX_SHOWN)
		return;
	va_start(ap, fmt);
	report(d, loc, "note", fmt, ap);
	va_end(ap);
}

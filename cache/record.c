/*
 * record: lines and fields of a state file, cut by length, not by NUL.
 */
#include <string.h>

#include "record.h"

void
record_reader_init(struct record_reader *r, char *text, size_t len)
{
	r->text = text;
	r->len = len;
	r->pos = 0;
	r->lineno = 0;
}

enum record_kind
record_next(struct record_reader *r, char **line, size_t *len)
{
	char *start = r->text + r->pos, *nl;
	size_t left = r->len - r->pos, n;
	enum record_kind kind = RECORD_LINE;

	if (r->pos >= r->len)
		return RECORD_END;
	nl = memchr(start, '\n', left);
	if (nl) {
		n = (size_t)(nl - start);
		*nl = '\0';
		r->pos += n + 1;
	} else {
		/* the text's own terminator (read_file adds one) ends it */
		n = left;
		r->pos = r->len;
		kind = RECORD_TORN;
	}
	r->lineno++;
	if (memchr(start, '\0', n))
		kind = RECORD_NUL;
	*line = start;
	if (len)
		*len = n;
	return kind;
}

size_t
record_split(char *line, char sep, char **f, size_t max)
{
	size_t n = 0;

	for (char *p = line;;) {
		char *q = strchr(p, sep);

		if (n == max)
			return max + 1; /* one field more than wanted */
		f[n++] = p;
		if (!q)
			return n;
		*q = '\0';
		p = q + 1;
	}
}

bool
record_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

unsigned
record_version(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned v = 0;
	const char *p;

	if (strncmp(line, prefix, n) != 0 || line[n] != ' ' || line[n + 1] != 'v')
		return 0;
	for (p = line + n + 2; *p >= '0' && *p <= '9'; p++) {
		if (v > 100000)
			return 0;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (p == line + n + 2 || (*p && *p != ':' && *p != ' '))
		return 0;
	return v;
}

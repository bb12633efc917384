#ifndef LM_RECORD_H
#define LM_RECORD_H
/*
 * record: the one way loramake reads its state files (recipe.lock, the
 * action log, the pending log, the stamp). They are text, one record a
 * line, and nothing in them is trusted: a lock comes from a git clone, a
 * cache from a crash. So the reader is length-delimited (a NUL byte is
 * a damaged line, never the end of the file), tells a whole line from a
 * torn one (no newline after it), counts lines for messages, and splits
 * a line into exactly as many fields as a record has. What a field holds
 * is checked by its parser; a record is taken whole or not at all.
 */
#include <stdbool.h>
#include <stddef.h>

enum record_kind {
	RECORD_END,  /* no more text */
	RECORD_LINE, /* a whole line (it ended in '\n') */
	RECORD_TORN, /* the last line, with no '\n': a write cut short */
	RECORD_NUL,  /* a line holding a NUL byte: damaged */
};

struct record_reader {
	char *text;      /* borrowed; lines are cut in place */
	size_t len;
	size_t pos;      /* where the next line starts */
	unsigned lineno; /* of the line last returned, from 1 */
};

/* Read text[0..len) (modified in place: each '\n' becomes '\0'). */
void record_reader_init(struct record_reader *r, char *text, size_t len);
/*
 * The next line, NUL-terminated, without its '\n', in *line (and its
 * length in *len, if len is not NULL). RECORD_NUL and RECORD_TORN lines
 * are returned too, so that a reader can name them; never use their
 * fields.
 */
enum record_kind record_next(struct record_reader *r, char **line,
			     size_t *len);
/*
 * Split line in place at each sep into fields f[0..max). Returns how many
 * fields the line has, which is max + 1 when there are more than max (and
 * then f holds only the first max): a caller that wants exactly n fields
 * asks for n and compares.
 */
size_t record_split(char *line, char sep, char **f, size_t max);
/* Does s start with prefix? */
bool record_starts(const char *s, const char *prefix);
/*
 * The N of a header "PREFIX vN" (followed by the end, ':' or ' '), or 0
 * if line is not such a header.
 */
unsigned record_version(const char *line, const char *prefix);

#endif

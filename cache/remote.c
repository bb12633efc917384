/*
 * remote: the team cache's action record (remote.h).
 */
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "remote.h"

#define HEADER_PREFIX "loramake action"
#define HEADER_LINE HEADER_PREFIX " v1"

void
remote_record_format(const struct action *rec, struct buf *b)
{
	buf_adds(b, HEADER_LINE "\n");
	actions_format_record(rec, b);
}

/* The two lines of a record, or -1 with err. Cuts copy in place. */
static int
split_record(char *copy, size_t len, char **record, struct error *err)
{
	struct record_reader r;
	enum record_kind kind;
	char *line;

	record_reader_init(&r, copy, len);
	kind = record_next(&r, &line, NULL);
	if (kind != RECORD_LINE || strcmp(line, HEADER_LINE) != 0) {
		unsigned v = kind == RECORD_LINE ? record_version(line, HEADER_PREFIX) : 0;

		if (v && v != REMOTE_RECORD_VERSION)
			return error_set(err, "a record of another version (v%u; this "
					 "loramake reads v%d)", v, REMOTE_RECORD_VERSION);
		return error_set(err, "not a loramake action record (its first line "
				 "is not '" HEADER_LINE "')");
	}
	kind = record_next(&r, record, NULL);
	if (kind == RECORD_END || kind == RECORD_TORN)
		return error_set(err, "the record is cut short");
	if (kind == RECORD_NUL)
		return error_set(err, "the record holds a NUL byte");
	if (record_next(&r, &line, NULL) != RECORD_END)
		return error_set(err, "the record has more than one action line");
	return 0;
}

struct action *
remote_record_parse(const char *text, size_t len, const struct hash *key,
		    struct error *err)
{
	struct action *rec = NULL;
	char *copy, *line;

	if (len > REMOTE_RECORD_MAX) {
		error_set(err, "the record is %zu bytes, more than %d", len,
			  REMOTE_RECORD_MAX);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		error_set(err, "the record holds a NUL byte");
		return NULL;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (split_record(copy, len, &line, err) == 0) {
		if (!(rec = actions_parse_record(line)))
			error_set(err, "its action line is not a whole, valid record");
		else if (!hash_eq(&rec->key, key)) {
			error_set(err, "it is the record of another key (%s)", rec->keyhex);
			actions_free_record(rec);
			rec = NULL;
		}
	}
	free(copy);
	return rec;
}

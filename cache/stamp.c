/*
 * stamp: hash two files, stat a few paths, compare with what was written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/path.h"
#include "record.h"
#include "stamp.h"

/* v2: the "end N" line, so that a stamp cut short is never whole */
#define HEADER "# loramake stamp v2\n"
/* Bump with the key format: a new loramake must not trust an old stamp. */
#define STAMP_VERSION "loramake-key/1 0.1.0"

void
stamp_init(struct stamp *s)
{
	memset(s, 0, sizeof(*s));
}

void
stamp_release(struct stamp *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->paths[i]);
	free(s->paths);
	stamp_init(s);
}

void
stamp_watch(struct stamp *s, const char *path)
{
	if (strchr(path, '\n'))
		return; /* cannot be written on one line; never trusted */
	LM_GROW(s->paths, s->n + 1, s->cap);
	s->paths[s->n++] = xstrdup(path);
}

/* "HASH" of a file's bytes, or "-" if it does not exist. */
static void
file_digest(const char *path, char out[HASH_HEX_LEN + 1])
{
	struct hash h;

	if (hash_file(path, &h, NULL) < 0)
		strcpy(out, "-");
	else
		hash_hex(&h, out);
}

/* The stat line of path, as written and compared. */
static void
stat_line(struct buf *b, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		buf_addf(b, "absent %s\n", path);
		return;
	}
	buf_addf(b, "stat %lld %lld%09ld %lld%09ld %llu %s\n",
		 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
		 st.st_ctim.tv_nsec, (unsigned long long)st.st_ino, path);
}

static void
head(struct buf *b, const char *recipe, const char *lock, const char *options)
{
	char rh[HASH_HEX_LEN + 1], lh[HASH_HEX_LEN + 1];

	file_digest(recipe, rh);
	file_digest(lock, lh);
	buf_adds(b, HEADER);
	buf_addf(b, "version %s\noptions %s\nrecipe %s\nlock %s\n", STAMP_VERSION,
		 options, rh, lh);
}

int
stamp_write(const struct stamp *s, const char *path, const char *recipe,
	    const char *lock, const char *options, const char *say,
	    struct error *err)
{
	struct buf b;
	int rc;

	buf_init(&b);
	head(&b, recipe, lock, options);
	buf_adds(&b, "say ");
	for (const char *p = say; *p; p++) {
		if (*p == '\n')
			buf_adds(&b, "\\n");
		else if (*p == '\\')
			buf_adds(&b, "\\\\");
		else
			buf_addc(&b, *p);
	}
	buf_addc(&b, '\n');
	for (size_t i = 0; i < s->n; i++)
		stat_line(&b, s->paths[i]);
	buf_addf(&b, "end %zu\n", s->n);
	rc = write_file_atomic(path, b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* Where the path starts in "absent PATH" or "stat SIZE MTIME CTIME INO
 * PATH" (paths may hold spaces), or NULL. */
static const char *
line_path(const char *p)
{
	int fields = 5;

	if (record_starts(p, "absent "))
		return p + 7;
	if (!record_starts(p, "stat "))
		return NULL;
	for (; *p && fields; p++)
		fields -= *p == ' ';
	return fields ? NULL : p;
}

/* Does this "stat"/"absent" line match its path as it is now? */
static bool
path_holds(const char *line, size_t len, struct buf *now)
{
	const char *path = line_path(line);

	if (!path || !*path)
		return false;
	buf_reset(now);
	stat_line(now, path);
	return now->len == len + 1 && !memcmp(now->data, line, len);
}

/* The stat lines from r on, then "end N" for as many, then nothing: the
 * stamp is whole, and every path is as it was. */
static bool
paths_hold(struct record_reader *r)
{
	struct buf now;
	size_t n = 0, len;
	char *line;
	bool ok = false;

	buf_init(&now);
	while (record_next(r, &line, &len) == RECORD_LINE) {
		int64_t want;

		if (record_starts(line, "end ")) {
			ok = parse_int64(line + 4, &want) && want == (int64_t)n &&
			     record_next(r, &line, NULL) == RECORD_END;
			break;
		}
		if (!path_holds(line, len, &now))
			break;
		n++;
	}
	buf_release(&now);
	return ok;
}

/* Undo the escaping of a say line (from p up to its newline). */
static char *
unescape_say(const char *p, const char *nl)
{
	struct buf b;

	buf_init(&b);
	for (; p < nl; p++) {
		if (*p == '\\' && p + 1 < nl) {
			p++;
			buf_addc(&b, *p == 'n' ? '\n' : *p);
		} else {
			buf_addc(&b, *p);
		}
	}
	return buf_detach(&b);
}

bool
stamp_check(char *text, size_t len, const char *head_text, size_t head_len,
	    char **say)
{
	struct record_reader r;
	char *line;
	size_t n;

	if (len < head_len || memcmp(text, head_text, head_len) != 0)
		return false;
	record_reader_init(&r, text + head_len, len - head_len);
	if (record_next(&r, &line, &n) != RECORD_LINE || !record_starts(line, "say ") ||
	    !paths_hold(&r))
		return false;
	*say = unescape_say(line + 4, line + n);
	return true;
}

bool
stamp_holds(const char *path, const char *recipe, const char *lock,
	    const char *options, char **say)
{
	struct buf want;
	char *text;
	size_t len;
	bool ok;

	if (read_file(path, &text, &len, NULL) < 0)
		return false;
	buf_init(&want);
	head(&want, recipe, lock, options);
	ok = stamp_check(text, len, want.data, want.len, say);
	buf_release(&want);
	free(text);
	return ok;
}

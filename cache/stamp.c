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
#include "stamp.h"

#define HEADER "# loramake stamp v1\n"
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
	rc = write_file_atomic(path, b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* Where the path starts in "absent PATH" or "stat SIZE MTIME CTIME INO
 * PATH" (paths may hold spaces), or NULL. */
static const char *
line_path(const char *p, const char *nl)
{
	int fields = 5;

	if (!strncmp(p, "absent ", 7))
		return p + 7;
	if (strncmp(p, "stat ", 5))
		return NULL;
	for (; p < nl && fields; p++)
		fields -= *p == ' ';
	return fields ? NULL : p;
}

/* Does each "stat"/"absent" line from p on match the path as it is now? */
static bool
paths_hold(const char *p)
{
	struct buf now;
	bool ok = true;

	buf_init(&now);
	while (*p && ok) {
		const char *nl = strchr(p, '\n'), *path;

		if (!nl)
			break;
		path = line_path(p, nl);
		if (!path) {
			ok = false;
			break;
		}
		char *name = xstrndup(path, (size_t)(nl - path));
		buf_reset(&now);
		stat_line(&now, name);
		free(name);
		ok = now.len == (size_t)(nl - p + 1) &&
		     !memcmp(now.data, p, now.len);
		p = nl + 1;
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
stamp_holds(const char *path, const char *recipe, const char *lock,
	    const char *options, char **say)
{
	struct buf want;
	char *text, *rest, *nl;
	bool ok = false;

	if (read_file(path, &text, NULL, NULL) < 0)
		return false;
	buf_init(&want);
	head(&want, recipe, lock, options);
	rest = text + want.len;
	if (!strncmp(text, want.data, want.len) && !strncmp(rest, "say ", 4) &&
	    (nl = strchr(rest, '\n')) && paths_hold(nl + 1)) {
		*say = unescape_say(rest + 4, nl);
		ok = true;
	}
	buf_release(&want);
	free(text);
	return ok;
}

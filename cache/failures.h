#ifndef LM_FAILURES_H
#define LM_FAILURES_H
/*
 * failures: why a node's last try failed, by the node's key, so that
 * plan, explain and the review page can say "failed: <the engine's
 * words>" after the build that failed has ended.
 *
 *   .loramake/failures
 *   # loramake failures v1
 *   KEY<TAB>UNIX_SECONDS<TAB>WHY
 *
 * KEY is the node's key (xxh3-128, 32 hex digits), UNIX_SECONDS when it
 * failed, WHY the message the build printed for it (already cleaned by
 * text_clean: the key redacted, controls escaped). A failure belongs to
 * a key, not a node id: an edit that changes the key makes the old
 * failure irrelevant, and a later success for the key clears it.
 *
 * A build appends each failure as it happens, in one write() (so a
 * review page open during the build shows it at once; an O_APPEND write
 * never interleaves with another's; a torn last line is dropped by a
 * rewrite first, since ended it would read as a whole message), and rewrites the file atomically at
 * its end without the failures of keys that have since succeeded. The
 * file is advice, not state: nothing is fsynced, and it is read with the
 * state files' discipline (cache/record.h): a torn or malformed line, a
 * WHY that would need escaping (the cache may be a stranger's), or a
 * header of another version is skipped; the last line of a key wins.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/hash.h"
#include "base/htab.h"
#include "base/util.h"

#define FAILURES_VERSION 1
#define FAILURES_MAX_WHY 1024   /* bytes of WHY kept (the build's own is 512) */
#define FAILURES_MAX_ROWS 4096  /* more are not read; a rewrite keeps the newest */

struct failure {
	char hex[HASH_HEX_LEN + 1]; /* KEY, the table's key */
	long long when;             /* unix seconds */
	char *why;
	bool cleared;               /* the key succeeded since: not rewritten */
};

struct failures {
	char *path;           /* NULL: no cache, nothing is written */
	struct htab bykey;    /* hex -> struct failure * */
	struct failure **all; /* in the order they failed */
	size_t n, cap;
	size_t lines;         /* lines in the file (a rewrite drops the superseded) */
	bool torn;            /* the last line has no newline: a rewrite drops it */
	bool rewrite;         /* missing, damaged or another version */
};

/* Read path (missing or damaged: empty; NULL: an empty table that is
 * never written). Never fails: the file is advice. */
void failures_load(struct failures *f, const char *path);
void failures_release(struct failures *f);

/* Why the node of this key last failed, or NULL (also when a success
 * cleared it). Borrowed. */
const struct failure *failures_get(const struct failures *f,
				   const struct hash *key);

/* The node of key failed now, saying why (a cleaned one-line message):
 * kept, and appended to the file at once. -1 with err if the append
 * failed (the failure is still kept in memory). */
int failures_add(struct failures *f, const struct hash *key, const char *why,
		 struct error *err);
/* The node of key succeeded: its failure is forgotten. */
void failures_clear(struct failures *f, const struct hash *key);

/* Rewrite the file if a failure was cleared, a line is superseded or the
 * file needs it; else nothing. 0, or -1 with err. */
int failures_save(struct failures *f, struct error *err);

#endif

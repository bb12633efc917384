#ifndef LM_PENDING_H
#define LM_PENDING_H
/*
 * pending: remote requests submitted but not yet finished, so a build
 * that dies never pays for them twice.
 *
 *   # loramake pending v1
 *   KEY<TAB>CANDIDATE<TAB>INFO
 *   KEY<TAB>CANDIDATE<TAB>           (empty INFO: forget that candidate)
 *
 * A line is appended (one write(2)) the moment a request is accepted,
 * before the build waits on it, so a build that is killed leaves it in
 * the file; pending_sync makes the lines durable against a machine crash
 * too, on a worker thread (the build's loop never waits on the disk), at
 * most one sync in flight and one after it for lines written meanwhile.
 * The next build hands the lines for a key back to
 * its engine, which polls them instead of submitting again. A later line
 * for the same key and candidate replaces an earlier one. A request that
 * ended without an output the service will ever give (the model failed,
 * the input was rejected) is forgotten with an empty line, so the next
 * build submits it anew instead of replaying the failure forever. Lines
 * whose node has finished (its key is in the action log), and forgotten
 * ones, are dropped when the file is compacted at the start of a build.
 */
#include <stddef.h>

#include "actions.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/util.h"

struct pending_entry {
	struct hash key;
	int candidate;
	char *info;
};

struct pending {
	char *path;
	struct pending_entry *v;
	size_t n, cap;
	int fd; /* open for appends, or -1 */
	unsigned long written; /* lines appended (the loop thread's count) */
};

/* Read path (missing: empty). A line that is not a whole entry (torn, a
 * NUL byte, a field missing or malformed) is skipped. -1 with err. */
int pending_load(struct pending *p, const char *path, struct error *err);
/* pending_load from text[0..len) (cut in place); path is where it lives. */
int pending_parse(struct pending *p, const char *path, char *text, size_t len);
/* The file's text as pending_compact would write it (all entries). */
void pending_format(const struct pending *p, struct buf *b);
void pending_release(struct pending *p);
/*
 * Rewrite the file without entries whose key acts has finished. Call with
 * the build lock held. -1 with err.
 */
int pending_compact(struct pending *p, const struct actions *acts,
		    struct error *err);
/* Append a line (not synced: pending_sync); thread-unsafe (the loop
 * thread only). -1 with err. */
int pending_add(struct pending *p, const struct hash *key, int candidate,
		const char *info, struct error *err);
/* Forget key's candidate (an empty line, not synced); the loop thread
 * only. -1 with err. */
int pending_forget(struct pending *p, const struct hash *key, int candidate,
		   struct error *err);
/*
 * fdatasync the lines appended so far. Safe on a worker thread while the
 * loop thread appends: it reads only fd, which is opened by the first
 * append and closed by pending_release (call that after the last sync
 * returned). 0 if nothing was appended. -1 with err.
 */
int pending_sync(const struct pending *p, struct error *err);
/* Fill out[] (up to max) with the entries for key; returns how many.
 * Borrowed: valid until the next pending_add, pending_forget or
 * pending_release. */
size_t pending_for(const struct pending *p, const struct hash *key,
		   const struct pending_entry **out, size_t max);

#endif

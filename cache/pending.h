#ifndef LM_PENDING_H
#define LM_PENDING_H
/*
 * pending: remote requests submitted but not yet finished, so a build
 * that dies never pays for them twice.
 *
 *   # loramake pending v1
 *   KEY<TAB>CANDIDATE<TAB>INFO
 *
 * A line is appended and fsynced the moment a request is accepted, before
 * the build waits on it. The next build hands the lines for a key back to
 * its engine, which polls them instead of submitting again. Lines whose
 * node has finished (its key is in the action log) are dropped when the
 * file is compacted at the start of a build.
 */
#include <stddef.h>

#include "actions.h"
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
};

/* Read path (missing: empty). -1 with err. */
int pending_load(struct pending *p, const char *path, struct error *err);
void pending_release(struct pending *p);
/*
 * Rewrite the file without entries whose key acts has finished. Call with
 * the build lock held. -1 with err.
 */
int pending_compact(struct pending *p, const struct actions *acts,
		    struct error *err);
/* Append durably; thread-unsafe (the loop thread only). -1 with err. */
int pending_add(struct pending *p, const struct hash *key, int candidate,
		const char *info, struct error *err);
/* Fill out[] (up to max) with the entries for key; returns how many.
 * Borrowed: valid until the next pending_add or pending_release. */
size_t pending_for(const struct pending *p, const struct hash *key,
		   const struct pending_entry **out, size_t max);

#endif

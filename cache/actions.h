#ifndef LM_ACTIONS_H
#define LM_ACTIONS_H
/*
 * actions: the action log, node key -> the objects it made.
 *
 *   # loramake actions v1
 *   KEY<TAB>OBJ[,OBJ...]<TAB>USD<TAB>SEED<TAB>REQUEST
 *
 * One line per finished node, appended with a single write() and fsynced
 * before the build moves on, so a killed build keeps every node it
 * finished. The whole log is read once at start into a hash table: a
 * no-op check of 10,000 nodes is one open and a few reads, not 10,000
 * stats. A torn last line (a crash mid-append) is ignored, and closed
 * with a newline before the next append; a line that is not a whole,
 * valid record (a NUL byte, a field missing or malformed) is skipped;
 * later lines for a key win. A header of another version, or a damaged
 * one, is rewritten (not ignored forever). docs/cache-format.md is the
 * reference.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/htab.h"
#include "base/util.h"

#define ACTIONS_VERSION 1
#define ACTIONS_MAX_OUTS 100

struct action {
	struct hash key;
	struct hash *outs; /* one per candidate */
	size_t nouts;
	double usd;        /* what making it cost */
	int64_t seed;
	char *request;     /* the engine's request id, or NULL */
	char keyhex[HASH_HEX_LEN + 1];
};

struct actions {
	char *path;
	struct htab bykey;   /* keyhex -> struct action * */
	struct action **all;
	size_t n, cap;
	size_t lines;        /* lines read, to decide on compaction */
	bool torn;           /* the last line has no newline (a crash) */
	bool rewrite;        /* the header is damaged, missing or of another
			      * version: actions_start rewrites the log */
	unsigned other_version; /* that version (its records were not read) */
};

/*
 * One record line (without its newline, cut in place): NULL if it is not
 * a whole, valid record. The remote cache's records use the same line
 * (cache/remote.h). Free with actions_free_record.
 */
struct action *actions_parse_record(char *line);
void actions_free_record(struct action *rec);
/* rec as one log line, newline included, appended to b. */
void actions_format_record(const struct action *rec, struct buf *b);

/* Read path (a missing file is an empty log). -1 with err on I/O errors. */
int actions_load(struct actions *a, const char *path, struct error *err);
/* actions_load from text[0..len) (cut in place); path is where it lives. */
int actions_parse(struct actions *a, const char *path, char *text, size_t len);
void actions_release(struct actions *a);
/* The record for key, or NULL. Borrowed; valid until actions_release. */
const struct action *actions_get(const struct actions *a, const struct hash *key);
/*
 * Append rec durably (write + fsync) and add it to the table; the record
 * is copied. -1 with err.
 */
int actions_append(struct actions *a, const struct action *rec,
		   struct error *err);
/*
 * The parts of actions_append, for a build whose loop must not wait on a
 * disk: actions_start makes the log ready for appends (call it once, with
 * the build lock held, before any writer): it creates the log with its
 * header if it is missing, rewrites one whose header is wrong (and says
 * so), and ends a torn last line; actions_write appends durably and may
 * run on any thread (one write() to an O_APPEND file never interleaves
 * with another); actions_add puts the record (copied) in the table, on the
 * thread that owns it.
 */
int actions_start(struct actions *a, struct error *err);
int actions_write(const char *path, const struct action *rec,
		  struct error *err);
void actions_add(struct actions *a, const struct action *rec);
/*
 * Rewrite the log atomically with one line per key, keeping only records
 * whose outputs pass keep (NULL: keep all). Returns records dropped, or
 * -1 with err. The in-memory table is left as it was: reload to use it.
 */
/* The compacted log's text (one line per key), appended to b. */
void actions_format(const struct actions *a, struct buf *b);
long actions_compact(struct actions *a,
		     int (*keep)(const struct action *, void *), void *ctx,
		     struct error *err);

#endif

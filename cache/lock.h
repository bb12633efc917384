#ifndef LM_LOCK_H
#define LM_LOCK_H
/*
 * lock: the lock file beside the recipe (recipe.yaml -> recipe.lock).
 *
 *   # loramake lock v3: machine-written; commit it with the recipe
 *   node ID key=HEX out=HEX[,HEX] seed=N usd=X request=ID trained=HEX,HEX facets=...
 *   pick ID N
 *   reroll ID N     the node was given a new seed N times (loramake reroll)
 *   env ID TAG      the environment entry an image was given, by its tag
 *                   (compiler/assign.h): kept when lists are edited
 *   gate ID KEY pass|fail SCORE REASONS
 *                   the identity gate's verdict on image ID as made with
 *                   key KEY (16 hex digits of its key; docs/vision.md):
 *                   picks_verdict reads it, for the package, check and
 *                   the review page
 *
 * (request= and trained= are optional; every other field is required,
 * once. trained= is a training's provenance: the package's tree object it
 * read, and the object of the request it sent. v2 added it, v3 the gate
 * lines; a lock is written in the oldest version that holds what it says
 * (lock_format_version), and v1 and v2 locks read as before.)
 * One line per node, sorted by id, so `git diff` shows exactly which nodes
 * changed and (through facets, 8 hex digits per key facet) what about
 * them. With a shared cache it lets a teammate rebuild nothing. It is
 * rewritten atomically (tmp + rename), never edited in place.
 */
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/htab.h"
#include "compiler/dag.h"

struct lock_node {
	char *id;
	struct hash key;
	uint32_t facets[FACET_COUNT]; /* first 32 bits of each facet hash */
	struct hash *outs;
	size_t nouts;
	int64_t seed;
	double usd;
	char *request;                /* NULL if none */
	bool trained;                 /* a training: what it read and sent */
	struct hash package;          /* the package's tree object it read */
	struct hash sent;             /* the request it sent (JSON), an object */
	struct lock_node *alt;        /* another line for this id, with
				       * another key (two merged branches
				       * built it differently), or NULL */
};

/* A pick the two sides of a git merge disagree on, or (id NULL) a
 * conflict marker out of place. */
struct lock_conflict {
	char *id;
	int ours, theirs;   /* the two picks */
	char *msg;          /* "recipe.lock:LINE: error: ..." */
};

/* The newest format this loramake reads and writes, and the versions
 * that brought what a lock may hold: a lock of a version above
 * LOCK_VERSION is read for what this one knows and never rewritten. */
#define LOCK_VERSION 3
#define LOCK_VERSION_TRAINED 2 /* trained= on a training's line */
#define LOCK_VERSION_GATE 3    /* gate lines (an older reader drops them) */
#define LOCK_MAX_REROLLS 1000000 /* reroll counts a lock may hold */
/* Objects a node line may name: one per candidate. */
#define LOCK_MAX_OUTS RECIPE_MAX_COUNT

struct lock {
	char *path;
	struct htab byid;   /* id -> struct lock_node * (the head of its lines) */
	struct picks picks; /* what a person picked */
	bool dirty;         /* changed since loaded or written */
	unsigned version;   /* of the file read; > LOCK_VERSION: never rewritten */
	struct lock_conflict *conflicts; /* of a git merge, unresolved */
	size_t nconflicts, capconflicts;
};

/* recipe.yaml -> recipe.lock. Caller frees. */
char *lock_path_for(const char *recipe_path);

/*
 * Read the lock at path (missing: empty). A line that does not parse
 * whole (a NUL byte, a field missing, repeated or malformed, no newline)
 * is warned about with its line number and skipped. A git merge conflict
 * is merged: node lines of both sides are kept, picks merge three-way
 * when git wrote the base (diff3), and picks that still disagree go to
 * l->conflicts (see lock_report). -1 with err on I/O error only.
 */
int lock_load(struct lock *l, const char *path, struct error *err);
/* lock_load from text[0..len) (cut in place); path names it in messages. */
int lock_parse(struct lock *l, const char *path, char *text, size_t len);
/*
 * Merge three locks as a git merge driver does (base: the common
 * ancestor): node lines are unioned (a line one side removed from the base
 * stays removed), picks merge three-way, and picks both sides changed
 * differently go to out->conflicts, which lock_format writes between git
 * conflict markers. The three inputs are consumed (left empty).
 */
void lock_merge(struct lock *out, const char *path, struct lock *base,
		struct lock *ours, struct lock *theirs);
/* Print l's conflicts and how to resolve them, to stderr. */
void lock_report(const struct lock *l);
/* 0, or -1 with err if l must not be rewritten: it is of a newer
 * format (its unknown fields would be lost) or holds a conflict. */
int lock_writable(const struct lock *l, struct error *err);
void lock_release(struct lock *l);
/* The entry for a node id (the first of its lines), or NULL. */
const struct lock_node *lock_get(const struct lock *l, const char *id);
/* The line for id whose key is key, else lock_get's. */
const struct lock_node *lock_find(const struct lock *l, const char *id,
				  const struct hash *key);
/* Record what a finished node made. */
void lock_set(struct lock *l, const struct node *n, const struct hash *outs,
	      size_t nouts, double usd, const char *request);
/* Record what the training id (already lock_set with its key) read and
 * sent: the package's tree object and the object of its request. */
void lock_set_trained(struct lock *l, const char *id, const struct hash *package,
		      const struct hash *sent);
/* Drop the entries of nodes keep() rejects (nodes gone from the recipe). */
void lock_prune(struct lock *l, bool (*keep)(const char *id, void *ctx),
		void *ctx);
/*
 * Record the environment entry every node of dag was given (env lines),
 * so that later edits of the recipe's lists move no image. Lines of
 * images no longer in the recipe are kept: an item removed and added back
 * gets its old entry, and its cached image.
 */
void lock_record_envs(struct lock *l, const struct dag *dag);
/* The version lock_format writes l in: v3 with gate lines, else v2. */
unsigned lock_format_version(const struct lock *l);
/* The lock's text, appended to b (for writers that write it elsewhere). */
void lock_format(const struct lock *l, struct buf *b);
/* Write atomically if dirty (and lock_writable). -1 with err. */
int lock_write(struct lock *l, struct error *err);
/* The first 32 bits of a facet hash, as stored. */
uint32_t lock_facet(const struct hash *h);

#endif

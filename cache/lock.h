#ifndef LM_LOCK_H
#define LM_LOCK_H
/*
 * lock: the lock file beside the recipe (recipe.yaml -> recipe.lock).
 *
 *   # loramake lock v1: machine-written; commit it with the recipe
 *   node ID key=HEX out=HEX[,HEX] seed=N usd=X request=ID facets=...
 *   pick ID N
 *
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
};

struct lock {
	char *path;
	struct htab byid;   /* id -> struct lock_node * */
	struct picks picks; /* what a person picked */
	bool dirty;         /* changed since loaded or written */
};

/* recipe.yaml -> recipe.lock. Caller frees. */
char *lock_path_for(const char *recipe_path);

/*
 * Read the lock at path (missing: empty). A line that does not parse is
 * reported with its line number and skipped. -1 with err on I/O error.
 */
int lock_load(struct lock *l, const char *path, struct error *err);
void lock_release(struct lock *l);
/* The entry for a node id, or NULL. */
const struct lock_node *lock_get(const struct lock *l, const char *id);
/* Record what a finished node made. */
void lock_set(struct lock *l, const struct node *n, const struct hash *outs,
	      size_t nouts, double usd, const char *request);
/* Drop the entries of nodes keep() rejects (nodes gone from the recipe). */
void lock_prune(struct lock *l, bool (*keep)(const char *id, void *ctx),
		void *ctx);
/* The lock's text, appended to b (for writers that write it elsewhere). */
void lock_format(const struct lock *l, struct buf *b);
/* Write atomically if dirty. -1 with err. */
int lock_write(struct lock *l, struct error *err);
/* The first 32 bits of a facet hash, as stored. */
uint32_t lock_facet(const struct hash *h);

#endif

#ifndef LM_STORE_H
#define LM_STORE_H
/*
 * store: the content-addressed cache in .loramake/ beside the recipe.
 *
 *   .loramake/objects/ab/cdef...   outputs, named by the xxh3-128 of
 *                                  their bytes (32 hex digits, fanned out)
 *   .loramake/tmp/                 where outputs are written first
 *   .loramake/actions              the action log (actions.h)
 *   .loramake/pending              remote requests in flight (pending.h)
 *   .loramake/build.lock           held (flock) while a build runs
 *
 * Every object enters by hashing a finished temp file, fsyncing it, and
 * renaming it to its name: a reader sees a whole object or none, and an
 * object that already exists is simply kept (same name, same bytes).
 * docs/cache-format.md is the reference.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/hash.h"
#include "base/util.h"

struct store {
	char *root;     /* .loramake */
	char *objects;  /* .loramake/objects */
	char *tmp;      /* .loramake/tmp */
	int lockfd;     /* build lock, or -1 */
	unsigned seq;   /* for unique temp names */
};

/*
 * Open the store in dir/.loramake. With create, make its folders; without,
 * a missing store is an empty one (plan must not create anything).
 */
int store_open(struct store *s, const char *dir, bool create, struct error *err);
void store_close(struct store *s);

/*
 * Take the build lock. If another build holds it, say so on stderr and
 * wait for it. -1 with err if the lock cannot be taken at all.
 */
int store_lock(struct store *s, struct error *err);

/* A fresh temp path in .loramake/tmp ending in suffix. Caller frees. */
char *store_tmp_path(struct store *s, const char *suffix);

/*
 * Move the finished file at tmp into the store under its content hash
 * (filled into *out). tmp is gone afterwards in every case. -1 with err.
 */
int store_put_file(struct store *s, const char *tmp, struct hash *out,
		   struct error *err);
/* Store bytes as an object. -1 with err. */
int store_put_bytes(struct store *s, const void *data, size_t len,
		    struct hash *out, struct error *err);
/* The path of object h (it may not exist). Caller frees. */
char *store_object_path(const struct store *s, const struct hash *h);
bool store_has(const struct store *s, const struct hash *h);
/*
 * Remove leftover temp files of builds that died: all of tmp/ (call with
 * the build lock held), and the NAME.tmp.PID.XXXXXX of a process that is
 * gone beside the recipe and in .loramake/ (path_clean_stale_tmps).
 */
void store_clean_tmp(struct store *s);

#endif

#ifndef LM_PATH_H
#define LM_PATH_H
/*
 * path: joining and checking paths, creating folders, and the one way
 * loramake writes a file that matters: atomically (temp file in the same
 * folder, fsync, rename), so a reader sees the old file or the new one,
 * never half of either.
 */
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* "a" + "b" -> "a/b"; b absolute is returned as is. Caller frees. */
char *path_join(const char *a, const char *b);
/* The folder part of path ("." if none). Caller frees. */
char *path_dir(const char *path);
/*
 * Is rel (relative to nothing yet) free of ways out: not absolute, no
 * ".." component that climbs above its start? Symlinks are checked by
 * path_resolve_inside.
 */
bool path_is_contained(const char *rel);
/*
 * Resolve dir/rel through symlinks and check the result stays inside dir.
 * Returns a path the caller frees, or NULL with err (missing, escapes).
 */
char *path_resolve_inside(const char *dir, const char *rel, struct error *err);
/* mkdir -p; 0 or -1 with err. */
int mkdirs(const char *path, struct error *err);
/* Write data to path atomically (tmp + fsync + rename); -1 with err. */
int write_file_atomic(const char *path, const void *data, size_t len,
		      struct error *err);
/*
 * Finish an atomic write. With ok, rename the finished (fsynced) tmp onto
 * path and fsync the folder; otherwise, or if the rename fails, remove
 * tmp. Returns 0, or -1 (err filled by the rename; callers that pass
 * ok = false have filled err already).
 */
int path_rename_atomic(const char *tmp, const char *path, bool ok,
		       struct error *err);
/*
 * Read path in chunks, handing each to fn(ctx, data, len): a file of any
 * size in constant memory. 0, or -1 with err.
 */
int read_chunks(const char *path, void (*fn)(void *ctx, const void *data,
					     size_t len),
		void *ctx, struct error *err);
/* Read a whole file; caller frees *out (NUL-terminated). -1 with err. */
int read_file(const char *path, char **out, size_t *len, struct error *err);
/* fsync a folder so a rename in it survives a crash. */
void fsync_dir(const char *dir);
/* rm -r path (symlinks are removed, not followed); 0 when it is gone. */
int path_remove_tree(const char *path);
/* Does path exist (any type)? */
bool path_exists(const char *path);

#endif

#ifndef LM_PATH_H
#define LM_PATH_H
/*
 * path: joining and checking paths, and the one way loramake opens,
 * creates, writes and removes anything in the recipe's folder.
 *
 * The recipe's folder is the root (path_confine). Every path below it is
 * walked from there one component at a time with openat and O_NOFOLLOW:
 * a symlink anywhere below the root is refused, whatever it points at,
 * so ".." is resolved by its spelling and one that climbs above the root
 * is refused too. Folders are made relative to a folder descriptor. A
 * file that matters is written atomically: an unpredictable temp beside
 * it (NAME.tmp.PID.XXXXXX, O_EXCL|O_NOFOLLOW), fsync, renameat, fsync of
 * the folder, so a reader sees the old file or the new one, never half.
 * docs/security.md says why.
 *
 * Not confined (unit tests), the folders of a path are trusted and only
 * its last component is checked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "util.h"

/*
 * From now on every path given to the functions below must lie under dir
 * (as spelled: "dir/..." or, for ".", any relative path). Call once, with
 * the recipe's folder, before anything is read or written; NULL undoes.
 */
void path_confine(const char *dir);
/*
 * open(2) path walked as above: flags as for open (O_NOFOLLOW, O_CLOEXEC
 * added; O_CREAT also makes missing folders). Only a regular file opens.
 * Returns the fd, or -1 with err and errno (ELOOP for a link).
 */
int path_open(const char *path, int flags, mode_t mode, struct error *err);
/*
 * Append data to the existing file path (walked as above; never made: a
 * state file's reader wants its header first) in one write(2), so that
 * appends never interleave mid-line; with sync, fdatasync'd. 0, or -1
 * with err.
 */
int path_append(const char *path, const void *data, size_t len, bool sync,
		struct error *err);
/* lstat(2) of path walked as above (a link in its folders is refused; a
 * link at its end is described, not followed). 0, or -1 with err. */
int path_lstat(const char *path, struct stat *st, struct error *err);
/* rel with "." and ".." resolved by spelling, "" for the start itself, or
 * NULL if it is absolute or climbs above its start. Caller frees. */
char *path_normal(const char *rel);
/* Is normal path a equal to, or below, normal path b ("" holds all)? */
bool path_within(const char *a, const char *b);
/* The folder at path as an fd (made, with its parents, with create). */
int path_open_dir(const char *path, bool create, struct error *err);
/*
 * A fresh temp file beside path, "NAME.tmp.PID.XXXXXX", opened for
 * writing; its path into *tmp (caller frees). Finish with
 * path_rename_atomic. Returns the fd, or -1 with err.
 */
int path_tmp_create(const char *path, char **tmp, struct error *err);
/* The same for a folder (a package built whole before it is swapped in).
 * Returns its path (caller frees), or NULL with err. */
char *path_tmp_mkdir(const char *path, struct error *err);
/*
 * Is name (a folder entry) a temp made by path_tmp_* of a process that
 * no longer runs? Only that exact shape counts, never another name.
 */
bool path_is_stale_tmp(const char *name);
/* Remove the stale temps (files or folders) in dir; how many. */
int path_clean_stale_tmps(const char *dir);

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
 * The input file dir/rel, checked: rel stays inside dir, no component is
 * a link, the file opens. Returns dir/rel (caller frees), or NULL with err.
 */
char *path_resolve_inside(const char *dir, const char *rel, struct error *err);
/* mkdir -p, walked; 0 or -1 with err. */
int mkdirs(const char *path, struct error *err);
/* Write every byte of data to fd (through EINTR). 0, or -1 with errno. */
int write_all(int fd, const void *data, size_t len);
/* Write data to path atomically (tmp + fsync + rename); -1 with err. */
int write_file_atomic(const char *path, const void *data, size_t len,
		      struct error *err);
/*
 * Copy the file src to dst atomically (tmp + fsync + rename), in the
 * kernel where it can (copy_file_range: no pass through memory, a clone
 * on filesystems that share extents). -1 with err.
 */
int copy_file_atomic(const char *src, const char *dst, struct error *err);
/*
 * Make dst, which must not exist, a hard link to the regular file src
 * (both walked as above; missing folders of dst made; a link is neither
 * followed nor linked to). -1 with err and errno (EXDEV: src is on
 * another filesystem).
 */
int path_link(const char *src, const char *dst, struct error *err);
/*
 * Create path, which must not exist (O_EXCL, walked), and write data, not
 * synced: a scratch file that its reader syncs, such as a package's file
 * that the scheduler moves into the store. -1 with err.
 */
int write_file_new(const char *path, const void *data, size_t len,
		   struct error *err);
/*
 * Finish an atomic write. With ok, rename the finished (fsynced) tmp, in
 * path's folder, onto path and fsync the folder; otherwise, or if the rename fails, remove
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
/* rm -r path (symlinks are removed, not followed; a path through one
 * is refused); 0 when it is gone, else -1 with errno. */
int path_remove_tree(const char *path);
/* Does path exist (any type; a link counts, followed or not)? */
bool path_exists(const char *path);

#endif

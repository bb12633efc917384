#ifndef LM_STAMP_H
#define LM_STAMP_H
/*
 * stamp: the no-op shortcut. After a build that left every node up to
 * date, loramake writes a stamp of everything that decided it:
 *
 *   # loramake stamp v1
 *   version KEY_VERSION
 *   options --engine preview --pick first
 *   recipe HASH        (its bytes)
 *   lock HASH          (its bytes, or "-" when absent)
 *   say TEXT           (what a build that did nothing printed, \n as \\n)
 *   stat SIZE MTIME_NS CTIME_NS INODE PATH   (or: absent PATH)
 *   end N              (N: the number of stat/absent lines)
 *
 * with a stat line for the action log, every source file, every folder a
 * files: glob reads (its mtime moves when a file is added or removed), any
 * metadata.json, and the package output. The next build reads the stamp,
 * hashes the recipe and the lock, stats those paths, and if nothing moved
 * says "nothing to do" without compiling: a few system calls for any size
 * of recipe. Anything that differs, or a stamp it cannot read whole (the
 * end line closes it: a stamp cut short after its say line holds no
 * stat lines to compare, and must not pass), means the full check runs,
 * so the stamp can only save time, never hide work.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct stamp {
	char **paths; /* files and folders whose stat decides the stamp */
	size_t n, cap;
};

void stamp_init(struct stamp *s);
void stamp_release(struct stamp *s);
/* Add a path (copied) whose stat (or absence) the stamp records. */
void stamp_watch(struct stamp *s, const char *path);

/*
 * Write the stamp file at path for recipe and lock (paths; the lock may be
 * missing), the options text, what to say on a no-op (one or more lines),
 * and every watched path. -1 with err.
 */
int stamp_write(const struct stamp *s, const char *path, const char *recipe,
		const char *lock, const char *options, const char *say,
		struct error *err);

/*
 * Does the stamp at path still hold? On true, *say is what to print (the
 * caller frees it). Any doubt is false.
 */
bool stamp_holds(const char *path, const char *recipe, const char *lock,
		 const char *options, char **say);
/*
 * The check of stamp_holds on text[0..len) (cut in place), given the head
 * it must start with (what the recipe, the lock and the options make
 * now). For tests and the fuzzer.
 */
bool stamp_check(char *text, size_t len, const char *head_text,
		 size_t head_len, char **say);

#endif

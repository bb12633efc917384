#ifndef LM_TREE_H
#define LM_TREE_H
/*
 * tree: an object that lists other objects by path, for outputs that are
 * more than one file (a package: a ZIP, or a trainer's folder).
 *
 *   HEX<TAB>relative/path\n   (sorted by path)
 *
 * The cache stores the tree as an object like any other; gc follows it.
 */
#include <stddef.h>

#include "base/hash.h"

struct tree_entry {
	struct hash obj;
	char *path;
};

/* Parse text; -1 if a line is malformed. Caller frees with tree_free. */
int tree_parse(const char *text, struct tree_entry **out, size_t *n);
void tree_free(struct tree_entry *v, size_t n);

#endif

#ifndef LM_YTREE_H
#define LM_YTREE_H
/*
 * ytree: a YAML document as a tree of nodes that remember where they came
 * from (line and column), so every later error can point at the text.
 *
 * Aliases share the anchored node (no copy). A document whose aliases
 * would expand past YTREE_MAX_WEIGHT nodes is refused (the "billion laughs"
 * attack), as is nesting deeper than YTREE_MAX_DEPTH. Merge keys (<<) are
 * applied while parsing. All memory belongs to the arena given to
 * ytree_parse.
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/diag.h"

#define YTREE_MAX_WEIGHT 2000000
#define YTREE_MAX_DEPTH 64

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ykind kind;
	struct loc loc;        /* where the node starts */
	const char *str;       /* scalar text, NUL-terminated (scalars only) */
	size_t len;            /* its length in bytes (may hold NULs) */
	bool plain;            /* unquoted scalar: may be null, bool, number */
	struct ynode **items;  /* seq: items; map: key, value, key, value ... */
	size_t n;              /* number of entries in items */
	size_t weight;         /* nodes this expands to, aliases counted fully */
};

/*
 * Parse src into *root (NULL for an empty document). Returns 0, or -1 after
 * reporting the error to d with its location.
 */
int ytree_parse(struct arena *a, const struct source *src, struct diag *d,
		struct ynode **root);

/* Is n a plain scalar that YAML reads as null ("", "~", "null")? */
bool ynode_is_null(const struct ynode *n);
/* A short name for n's kind, for messages: "a mapping", "a list", "text". */
const char *ynode_kind_name(const struct ynode *n);

#endif

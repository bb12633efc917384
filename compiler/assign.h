#ifndef LM_ASSIGN_H
#define LM_ASSIGN_H
/*
 * assign: which entry of a pool (environment: rotate:) each image gets,
 * in a way that never depends on the position of other items or entries,
 * so reordering a list, or adding or removing an item, moves no image.
 *
 *   1. An image the lock assigned to an entry still in the pool keeps it
 *      (recipe.lock "env ID TAG" lines, written by every build).
 *   2. Every other image, taken in the order of a hash of its id, gets
 *      the least-used entry; ties go to the entry with the highest
 *      rendezvous score hash(image id, entry tag). On a fresh recipe this
 *      spreads the images so that counts differ by at most one.
 *   3. An entry no image has (one just added) takes floor(images/entries)
 *      images from the fullest entries, each the image that scores
 *      highest for it: only the images needed to balance it move, and
 *      they are marked moved ("environment reassigned" in plan).
 *
 * An entry is known by its tag, a hash of its words (place, light), not
 * by its position. docs/keys.md describes this for users.
 */
#include <stdbool.h>
#include <stddef.h>

#include "recipe.h"

#define ASSIGN_TAG_LEN 16 /* hex digits of an entry tag */

/* The tag of entry e, ASSIGN_TAG_LEN hex digits and a NUL, into out. */
void assign_tag(const struct env_entry *e, char out[ASSIGN_TAG_LEN + 1]);

struct assignment {
	size_t entry;   /* index into the pool */
	bool moved;     /* the lock had it on another entry still present */
};

/*
 * Assign one of the npool entries (npool > 0) to each of the nids image
 * ids. locked(id, ctx) returns the tag the lock records for id, or NULL.
 * out has nids slots.
 */
void assign_pool(const char *const *ids, size_t nids,
		 const struct env_entry *pool, size_t npool,
		 const char *(*locked)(const char *id, void *ctx), void *ctx,
		 struct assignment *out);

#endif

#ifndef LM_MIX_H
#define LM_MIX_H
/*
 * mix: the recipe's target shares of an attribute's values (mix: {
 * category: { portrait: 40, ... } }), measured on a set of images. The
 * compiler warns when the planned set misses a target by more than
 * MIX_TOLERANCE points, before anything is paid; `loramake check`
 * reports each share against its target (quality/check.c).
 */
#include <stdbool.h>
#include <stddef.h>

#include "dag.h"

/* Points a share may miss its target by before plan and check warn. */
#define MIX_TOLERANCE 5.0

/* The attribute slot (dag.h's ATTR_*) a mix: key names, or -1. */
int mix_slot(const char *attr);

/*
 * Does an image whose attribute m->attr is value (NULL: unset) count for
 * m->value? An expression counts by its emotion ("confident smirk" of
 * "confident smirk — ..."), and an image with none as "neutral", as
 * check's expressions rule counts them; other values whole, any case.
 */
bool mix_matches(const struct mix_target *m, const char *value);

/* The percent of attrs[0..n) (each an image's ATTR_COUNT attributes)
 * that count for m; 0 for an empty set. *count gets how many. */
double mix_share(const struct mix_target *m, const char *const *const *attrs,
		 size_t n, size_t *count);

#endif

#ifndef LM_ESTIMATE_H
#define LM_ESTIMATE_H
/*
 * estimate: what a plan will cost in dollars and wall time, before a cent
 * is spent. Prices and typical times per engine model come from the
 * engine type table (compiler/engine_type.c); a recipe overrides a price with
 * engines: NAME: prices: { MODEL: USD }.
 */
#include <stdbool.h>

#include "dag.h"

/* Dollars for one image of model on engine e (e may be NULL). */
double estimate_price(const struct engine_decl *e, const char *type,
		      const char *model);
/* Typical seconds one job of this engine type and model takes. */
/* One job of n from its model's price or time per_model: a trainer's
 * are per 1,000 steps (engine_type.h), so scaled by steps / 1000. */
double estimate_per_job(const struct node *n, double per_model);
double estimate_seconds(const char *type, const char *model);

/*
 * Wall-clock seconds to run the nodes with runs[idx] set, scheduling them
 * in topological order onto -j jobs slots and each engine's concurrency
 * (greedy list scheduling: every job starts as soon as its inputs are
 * done and a slot is free).
 */
double estimate_wall(const struct dag *dag, const bool *runs, int jobs);

/* The concurrency an engine runs at (the recipe's, or its default). */
int engine_concurrency(const struct engine_decl *e, const char *type);

#endif

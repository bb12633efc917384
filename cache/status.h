#ifndef LM_STATUS_H
#define LM_STATUS_H
/*
 * status: what a build would do with each node, and why. Shared by plan,
 * explain and the build itself, so that they can never disagree.
 *
 *   input    a source file: nothing to run
 *   cached   its key has an output (action log, or the lock with the object
 *            in the store)
 *   new      never built
 *   stale    built before with another key; reason names the facet
 *   waiting  its key needs a pick a person has not made
 *   unasked  it would run, but lies beyond the build's target: the
 *            training and its validations, which only `loramake RECIPE
 *            train` runs
 *   remote   not here, but the team cache holds it (only plan asks it:
 *            session_probe_remote); a build fetches it for $0
 */
#include <stdbool.h>
#include <stddef.h>

#include "actions.h"
#include "compiler/dag.h"
#include "lock.h"
#include "store.h"

enum state { STATE_INPUT, STATE_CACHED, STATE_NEW, STATE_STALE, STATE_WAITING,
	     STATE_UNASKED, STATE_REMOTE };

struct status {
	enum state state;
	char reason[160];       /* "prompt changed", "needs a pick of hero" */
	const struct action *action; /* cached: its record (borrowed) */
	const struct lock_node *was; /* the lock entry, if any (borrowed) */
	bool from_lock;         /* cached through the lock, not the log */
};

const char *state_name(enum state s);

/*
 * Aim st at a target (make's): a training that would run becomes
 * unasked unless train_asked, and says why; everything else a build runs
 * leads to the package. Called after every status_compute.
 */
void status_aim(const struct dag *dag, bool train_asked, struct status *st);

/*
 * Fill st[dag->nnodes]. A node whose output is cached only through the
 * lock (a teammate's build with a shared store) counts as cached.
 */
void status_compute(const struct dag *dag, const struct actions *acts,
		    const struct lock *lock, const struct store *store,
		    struct status *st);

/*
 * The objects a cached node made, one per candidate (from the action log,
 * else the lock); NULL with *n = 0 when it is not cached. Borrowed from
 * the log or the lock.
 */
const struct hash *status_outs(const struct status *st, size_t *n);

/*
 * Why node n's key differs from the lock entry e: the changed facets,
 * "prompt changed, input changed". Empty when e is NULL or identical.
 */
void status_why(const struct node *n, const struct lock_node *e, char *out,
		size_t outsz);

#endif

/*
 * status: compare each node's key with the action log and the lock.
 */
#include <stdio.h>
#include <string.h>

#include "status.h"

static const char *const names[] = { "input", "cached", "new", "stale",
				     "waiting", "unasked",
				     "remote" };

const char *
state_name(enum state s)
{
	return names[s];
}

void
status_aim(const struct dag *dag, bool train_asked, struct status *st)
{
	for (size_t i = 0; !train_asked && i < dag->nnodes; i++) {
		struct status *t = &st[i];
		size_t len = strlen(t->reason);

		if (!node_after_package(dag->nodes[i]) || t->state == STATE_CACHED)
			continue;
		snprintf(t->reason + len, sizeof(t->reason) - len, "%s%s",
			 len ? "; " : "", dag->nodes[i]->kind == KIND_TRAIN
			 ? "only 'loramake RECIPE train' trains"
			 : "only 'loramake RECIPE train' validates");
		t->state = STATE_UNASKED;
	}
}

void
status_why(const struct node *n, const struct lock_node *e, char *out,
	   size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	if (!e)
		return;
	for (int f = 0; f < FACET_COUNT && len < outsz; f++) {
		const char *why = NULL;

		if (lock_facet(&n->facets[f]) == e->facets[f])
			continue;
		/* say what the user did, not only which facet moved */
		if (f == FACET_PROMPT && n->env_moved)
			why = "environment reassigned";
		else if (f == FACET_SEED && n->reroll)
			why = "rerolled";
		if (why)
			len += (size_t)snprintf(out + len, outsz - len, "%s%s",
						len ? ", " : "", why);
		else
			len += (size_t)snprintf(out + len, outsz - len,
						"%s%s changed", len ? ", " : "",
						facet_name(f));
	}
	if (!out[0] && !hash_eq(&n->key, &e->key))
		snprintf(out, outsz, "key format changed");
}

static bool
all_stored(const struct store *store, const struct hash *outs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!store_has(store, &outs[i]))
			return false;
	return true;
}

static void
one(const struct node *n, const struct actions *acts,
    const struct lock *lock, const struct store *store, struct status *st)
{
	memset(st, 0, sizeof(*st));
	st->was = lock ? lock_find(lock, n->id, &n->key) : NULL;
	if (!node_has_job(n)) {
		st->state = STATE_INPUT;
		return;
	}
	if (!n->keyed) {
		st->state = STATE_WAITING;
		snprintf(st->reason, sizeof(st->reason), "needs a pick of %s",
			 n->waits_on ? n->waits_on->id : "an input");
		return;
	}
	if (acts && (st->action = actions_get(acts, &n->key))) {
		st->state = STATE_CACHED;
		return;
	}
	if (st->was && hash_eq(&st->was->key, &n->key) && store &&
	    all_stored(store, st->was->outs, st->was->nouts)) {
		st->state = STATE_CACHED;
		st->from_lock = true;
		return;
	}
	if (!st->was) {
		st->state = STATE_NEW;
		snprintf(st->reason, sizeof(st->reason), "new");
		return;
	}
	st->state = STATE_STALE;
	status_why(n, st->was, st->reason, sizeof(st->reason));
	if (!st->reason[0])
		snprintf(st->reason, sizeof(st->reason), "output missing");
}

const struct hash *
status_outs(const struct status *st, size_t *n)
{
	if (st->action) {
		*n = st->action->nouts;
		return st->action->outs;
	}
	if (st->from_lock && st->was) {
		*n = st->was->nouts;
		return st->was->outs;
	}
	*n = 0;
	return NULL;
}

void
status_compute(const struct dag *dag, const struct actions *acts,
	       const struct lock *lock, const struct store *store,
	       struct status *st)
{
	for (size_t i = 0; i < dag->nnodes; i++)
		one(dag->nodes[i], acts, lock, store, &st[i]);
}

/*
 * reroll: give nodes a new seed (docs/cli.md, docs/keys.md "Rerolls").
 *
 * The reroll count lives in recipe.lock ("reroll ID N") and is part of
 * the node's seed facet, so the node and what hangs below it change key
 * and nothing else does. The earlier image stays in the cache under its
 * old key: --undo takes the count back and costs nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "cli.h"

bool
node_rerollable(const struct node *n)
{
	return n->image && node_has_job(n);
}

size_t
reroll_cost(const struct dag *dag, const struct node *n, double *usd)
{
	bool *hit = xcalloc(dag->nnodes + 1, sizeof(*hit));
	size_t count = 0;

	*usd = 0;
	hit[n->idx] = true;
	for (size_t i = n->idx; i < dag->nnodes; i++) {
		const struct node *m = dag->nodes[i];

		for (size_t j = 0; j < m->nin && !hit[i]; j++)
			hit[i] = hit[m->in[j]->idx];
		count += hit[i];
		if (hit[i])
			*usd += m->usd;
	}
	free(hit);
	return count;
}

/* What apply_rerolls does: these nodes, one more reroll or one less. */
struct reroll_edit {
	const struct session *s;
	const char *const *ids;
	int nids;
	bool undo;
};

/* Apply rerolls (or undos) to the lock (a lock_edit_fn; arg is a
 * struct reroll_edit). */
static int
apply_rerolls(struct lock *fresh, void *arg)
{
	const struct reroll_edit *e = arg;

	for (int i = 0; i < e->nids; i++) {
		const char *id = e->ids[i];
		int times = picks_reroll(&fresh->picks, id);

		if (e->undo && times == 0) {
			warn("'%s' was never rerolled; nothing to undo", id);
			return EXIT_USAGE;
		}
		times += e->undo ? -1 : 1;
		if (times > LOCK_MAX_REROLLS) {
			warn("'%s' was rerolled %d times already", id, times - 1);
			return EXIT_USAGE;
		}
		picks_set_reroll(&fresh->picks, id, times);
		if (e->undo) {
			printf("undid a reroll of %s (now reroll %d): its earlier image is in the cache\n",
			       id, times);
		} else {
			double usd;
			size_t n = reroll_cost(e->s->dag, dag_find(e->s->dag, id), &usd);

			printf("rerolled %s (reroll %d): %zu node%s to run again\n",
			       id, times, n, n == 1 ? "" : "s");
		}
	}
	return EXIT_OK;
}

int
reroll_apply(const struct session *s, const char *const *ids, int nids,
	     bool undo)
{
	struct reroll_edit e = { s, ids, nids, undo };

	return session_edit_lock(s, apply_rerolls, &e);
}

int
cmd_reroll(const struct cli *cli)
{
	struct session s;
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	for (int i = 0; i < cli->nargs; i++) {
		const struct node *n = dag_find(s.dag, cli->args[i]);

		if (!n || !node_rerollable(n)) {
			warn("'%s' is not an image node of %s that a seed decides (see loramake plan)",
			     cli->args[i], cli->recipe);
			session_close(&s);
			return EXIT_USAGE;
		}
	}
	rc = reroll_apply(&s, (const char *const *)cli->args, cli->nargs, cli->undo);
	session_close(&s);
	return rc;
}

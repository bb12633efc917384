/*
 * estimate: prices (engine_type.c's table, a recipe's prices:) and a
 * list-scheduling simulation of a build.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_type.h"
#include "estimate.h"

/* CPU seconds a package spends on each image (decode, resize, crop, PNG,
 * ZIP), measured (docs/bench.md, "What a preview build costs"). */
#define PACKAGE_SECONDS_PER_IMAGE 0.08

double
estimate_price(const struct engine_decl *e, const char *type,
	       const char *model)
{
	const struct engine_type *t = engine_type_find(type);
	const struct engine_model *m = engine_type_model(t, model);

	if (e && model)
		for (size_t i = 0; i < e->nprices; i++)
			if (strcmp(e->prices[i].model, model) == 0)
				return e->prices[i].usd;
	if (!t)
		BUG("engine type '%s' is not in engine_type.c's table", type);
	return m ? m->usd : t->usd;
}

double
estimate_seconds(const char *type, const char *model)
{
	const struct engine_type *t = engine_type_find(type);
	const struct engine_model *m = engine_type_model(t, model);

	if (!t)
		BUG("engine type '%s' is not in engine_type.c's table", type);
	return m ? m->seconds : t->seconds;
}

int
engine_concurrency(const struct engine_decl *e, const char *type)
{
	const struct engine_type *t = engine_type_find(type);

	if (e && e->concurrency)
		return e->concurrency;
	return t ? t->concurrency : 0;
}

double
estimate_per_job(const struct node *n, double per_model)
{
	/* steps first: 3.0 * 1400 / 1000 is 4.2, 3.0 * 1.4 is not */
	return n->steps ? per_model * n->steps / 1000.0 : per_model;
}

void
dag_estimate(struct dag *dag)
{
	for (size_t i = 0; i < dag->nnodes; i++) {
		struct node *n = dag->nodes[i];

		n->usd = n->candidates *
			 estimate_per_job(n, estimate_price(n->engine, n->engine_type,
							    n->model));
		n->seconds = estimate_per_job(n, estimate_seconds(n->engine_type,
								  n->model));
		if (n->kind == KIND_PACKAGE) /* inputs: an image and its caption */
			n->seconds += PACKAGE_SECONDS_PER_IMAGE * (double)n->nin / 2;
	}
}

/* A pool of slots: each holds the time it becomes free. */
struct pool {
	const char *name;
	double *free_at;
	int n;
};

static int
earliest(const struct pool *p)
{
	int best = 0;

	for (int i = 1; i < p->n; i++)
		if (p->free_at[i] < p->free_at[best])
			best = i;
	return best;
}

static struct pool *
pool_for(struct pool *pools, int *npools, const struct node *n, int cpus)
{
	const char *name = n->engine ? n->engine->name : n->engine_type;
	int conc = engine_concurrency(n->engine, n->engine_type);

	if (!conc) /* CPU work: one job per core, as runtime/sched.c runs it */
		conc = cpus;
	for (int i = 0; i < *npools; i++)
		if (strcmp(pools[i].name, name) == 0)
			return &pools[i];
	pools[*npools].name = name;
	pools[*npools].n = conc;
	pools[*npools].free_at = xcalloc((size_t)conc, sizeof(double));
	return &pools[(*npools)++];
}

double
estimate_wall(const struct dag *dag, const bool *runs, int jobs)
{
	double *done = xcalloc(dag->nnodes + 1, sizeof(double)), end = 0;
	struct pool global = { "-j", xcalloc((size_t)jobs, sizeof(double)), jobs };
	struct pool *pools = xcalloc(dag->nnodes + 1, sizeof(*pools));
	int npools = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN); /* reads a file: once */

	for (size_t i = 0; i < dag->nnodes; i++) {
		const struct node *n = dag->nodes[i];
		double ready = 0;

		for (size_t j = 0; j < n->nin; j++)
			if (done[n->in[j]->idx] > ready)
				ready = done[n->in[j]->idx];
		if (!runs[i]) {
			done[i] = ready;
			continue;
		}
		struct pool *p = pool_for(pools, &npools, n, cpus > 0 ? (int)cpus : 2);

		/* each candidate is a job of its own */
		for (int c = 0; c < n->candidates; c++) {
			int g = earliest(&global), s = p ? earliest(p) : 0;
			double start = ready, fin;

			if (global.free_at[g] > start)
				start = global.free_at[g];
			if (p && p->free_at[s] > start)
				start = p->free_at[s];
			fin = start + n->seconds;
			global.free_at[g] = fin;
			if (p)
				p->free_at[s] = fin;
			if (fin > done[i])
				done[i] = fin;
		}
		if (done[i] > end)
			end = done[i];
	}
	for (int i = 0; i < npools; i++)
		free(pools[i].free_at);
	free(pools);
	free(global.free_at);
	free(done);
	return end;
}

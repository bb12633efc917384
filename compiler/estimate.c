/*
 * estimate: price table and a list-scheduling simulation of a build.
 */
#include <stdlib.h>
#include <string.h>

#include "estimate.h"

/* The seeds' figures (DOMAIN.md, "Costs and times the seeds quote"). */
static const struct {
	const char *model;
	double usd, seconds;
} table[] = {
	{ "fal-ai/flux-pro/v1.1-ultra", 0.04, 12 },
	{ "fal-ai/flux-pro/v1.1", 0.04, 10 },
	{ "fal-ai/flux/dev/image-to-image", 0.03, 8 },
	{ "fal-ai/flux/dev", 0.025, 8 },
	{ "fal-ai/qwen-image-edit-2511-multiple-angles", 0.035, 22 },
	{ "fal-ai/nano-banana-pro/edit", 0.065, 30 },
	{ "fal-ai/nano-banana-pro", 0.065, 30 },
	{ "fal-ai/seedvr/upscale/image", 0.001, 7.5 },
};

#define UNKNOWN_REMOTE_USD 0.04
#define UNKNOWN_REMOTE_SECONDS 20

double
estimate_price(const struct engine_decl *e, const char *type,
	       const char *model)
{
	if (e && model)
		for (size_t i = 0; i < e->nprices; i++)
			if (strcmp(e->prices[i].model, model) == 0)
				return e->prices[i].usd;
	if (!strcmp(type, "local") || !strcmp(type, "preview") ||
	    !strcmp(type, "file") || !strcmp(type, "loramake") ||
	    !strcmp(type, "comfyui") || !strcmp(type, "a1111"))
		return 0; /* runs on the user's own machine */
	for (size_t i = 0; model && i < LM_ARRAY_LEN(table); i++)
		if (strcmp(table[i].model, model) == 0)
			return table[i].usd;
	return UNKNOWN_REMOTE_USD;
}

double
estimate_seconds(const char *type, const char *model)
{
	if (!strcmp(type, "file"))
		return 0;
	if (!strcmp(type, "loramake"))
		return 0.01;
	if (!strcmp(type, "preview"))
		return 0.05;
	if (!strcmp(type, "local"))
		return 0.3;
	for (size_t i = 0; model && i < LM_ARRAY_LEN(table); i++)
		if (strcmp(table[i].model, model) == 0)
			return table[i].seconds;
	return UNKNOWN_REMOTE_SECONDS;
}

int
engine_concurrency(const struct engine_decl *e, const char *type)
{
	if (e && e->concurrency)
		return e->concurrency;
	if (!strcmp(type, "local") || !strcmp(type, "preview") ||
	    !strcmp(type, "loramake") || !strcmp(type, "file"))
		return 0; /* bounded by -j only */
	return 4;
}

void
dag_estimate(struct dag *dag)
{
	for (size_t i = 0; i < dag->nnodes; i++) {
		struct node *n = dag->nodes[i];

		n->usd = n->candidates *
			 estimate_price(n->engine, n->engine_type, n->model);
		n->seconds = estimate_seconds(n->engine_type, n->model);
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
pool_for(struct pool *pools, int *npools, const struct node *n)
{
	const char *name = n->engine ? n->engine->name : n->engine_type;
	int conc = engine_concurrency(n->engine, n->engine_type);

	if (!conc)
		return NULL;
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
		struct pool *p = pool_for(pools, &npools, n);

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

/*
 * eta: a plan's seconds from the build's own history. A job a build has
 * timed on this machine (cache/times.h: same engine type, model and kind)
 * is expected to take what it took; the rest take what the engine table
 * says (compiler/estimate.c). A package is timed by its parts: assembling
 * each image, and normalising those that are not normalised yet.
 */
#include <unistd.h>

#include "cli.h"
#include "runtime/normalise.h"

static bool
runs(const struct status *st)
{
	return st->state == STATE_NEW || st->state == STATE_STALE ||
	       st->state == STATE_WAITING;
}

/* Is input `in` of package pkg normalised already (by an earlier build)? */
static bool
normalised(const struct session *s, const struct norm_spec *spec,
	   const struct node *in)
{
	const struct hash *outs;
	struct hash img, key, obj;
	size_t nouts;

	if (runs(&s->st[in->idx]))
		return false; /* made anew, so normalised anew */
	outs = status_outs(&s->st[in->idx], &nouts);
	if (!norm_image_hash(in, outs, nouts, node_pick(in, s->dag->picks), &img))
		return false;
	key = norm_key(&img, spec);
	return norm_cached(&s->acts, &s->store, &key, &obj);
}

static void
learn_package(const struct session *s, struct node *pkg, long cpus)
{
	double assemble, normalise;
	struct norm_spec spec;
	size_t images = 0, todo = 0;

	if (!times_get(&s->times, "package", "assemble", "package", &assemble) ||
	    !times_get(&s->times, "package", "normalise", "package", &normalise))
		return; /* never built here: the table's figure stands */
	for (size_t i = 0; i < pkg->nin; i++) {
		const struct node *in = pkg->in[i];

		if (in->kind == KIND_CAPTION)
			continue;
		norm_spec_of(pkg, in, &spec); /* its sides: its aspect's */
		images++;
		todo += !normalised(s, &spec, in);
	}
	/* normalising runs on every core; assembling is one stream */
	pkg->seconds = assemble * (double)images +
		       normalise * (double)todo / (double)cpus;
	pkg->timed = true;
}

void
session_learn_times(struct session *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		cpus = 1;
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		struct node *n = s->dag->nodes[i];
		double secs;

		if (n->kind == KIND_PACKAGE) {
			learn_package(s, n, cpus);
		} else if (times_get_node(&s->times, n, &secs)) {
			n->seconds = secs;
			n->timed = true;
		}
	}
}

/*
 * gate: the identity gate at build time (docs/vision.md). Each gate/IMAGE
 * node's answer (a score and reasons) becomes a verdict line in the lock,
 * the image's failing it keeps the image out of the package unless a
 * person kept it (compiler/key.c's dag_selected), and --reroll-failed N
 * rerolls what failed, at most N times each in one build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "quality/vision.h"

/* The node a reroll of a gated image gives a new seed: the image, or
 * what its upscale refines (an upscale cannot change who it shows). */
const struct node *
gate_target(const struct node *img)
{
	while (img->kind == KIND_UPSCALE && img->nin)
		img = img->in[0];
	return img;
}

/* Was img kept by hand (a pick on it, or on what its upscale refines)? */
bool
gate_kept(const struct picks *p, const struct node *img)
{
	for (const struct node *n = img; n;
	     n = n->kind == KIND_UPSCALE && n->nin ? n->in[0] : NULL)
		if (htab_get(&p->byid, n->id, strlen(n->id)))
			return true;
	return false;
}

/* The cached answer file of gate node g, or NULL. Caller frees. */
static char *
answer_path(const struct session *s, const struct node *g)
{
	const struct status *st = &s->st[g->idx];

	if (st->state != STATE_CACHED || !st->action || st->action->nouts < 1)
		return NULL;
	return store_object_path(&s->store, &st->action->outs[0]);
}

/*
 * Record g's verdict on its image in the lock's picks, its word by the
 * recipe's min: as it is now; true if the line changed (a new answer, or
 * a min: edited since it was written). *passes_now: the line had failed
 * this same image, and it passes now.
 */
static bool
record_one(struct session *s, const struct node *g, bool *passes_now)
{
	char *path = answer_path(s, g), *old = NULL;
	const char *now, *was;
	struct buf reasons;
	struct error err;
	double score;
	bool changed = false;

	*passes_now = false;
	if (!path)
		return false;
	buf_init(&reasons);
	if (vision_read_verdict(path, &score, &reasons, &err) < 0) {
		warn("%s: %s", g->id, err.msg);
	} else {
		was = picks_verdict_text(&s->lock.picks, g->subject->id);
		old = was ? xstrdup(was) : NULL;
		picks_set_verdict(&s->lock.picks, g->subject->id, &g->subject->key,
				  verdict_fails(score, &s->dag->recipe), score,
				  reasons.data);
		now = picks_verdict_text(&s->lock.picks, g->subject->id);
		changed = !old || strcmp(old, now) != 0;
		/* "KEY16 fail ..." -> "KEY16 pass ...": the same image */
		*passes_now = changed && old && !strncmp(old, now, 16) &&
			      old[17] == 'f' && now[17] == 'p';
	}
	free(old);
	buf_release(&reasons);
	free(path);
	return changed;
}

int
gate_record(struct session *s, size_t *nfailed)
{
	double min = recipe_gate_min(&s->dag->recipe);
	bool changed = false;
	struct verdict v;
	struct error err;

	*nfailed = 0;
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *g = s->dag->nodes[i];

		if (g->kind != KIND_GATE)
			continue;
		bool passes_now, now = record_one(s, g, &passes_now);

		changed |= now;
		if (!picks_verdict(&s->lock.picks, g->subject, &v))
			continue;
		if (v.failed) {
			(*nfailed)++;
			if (now)
				printf("gate: %s failed (%.2f < %.2f): %s%s\n",
				       g->subject->id, v.score, min, v.reasons,
				       gate_kept(&s->lock.picks, g->subject)
					       ? " (kept by hand)" : "");
		} else if (passes_now) { /* min: lowered */
			printf("gate: %s passes now (%.2f >= %.2f)\n", g->subject->id,
			       v.score, min);
		}
	}
	if (!changed)
		return 0;
	s->lock.dirty = true;
	if (lock_write(&s->lock, &err) < 0) {
		warn("%s", err.msg);
		return -1;
	}
	session_refresh(s); /* the package's selection changed */
	return 0;
}

bool
gate_pending(const struct session *s)
{
	for (size_t i = 0; i < s->dag->nnodes; i++)
		if (s->dag->nodes[i]->kind == KIND_GATE &&
		    (s->st[i].state == STATE_NEW || s->st[i].state == STATE_STALE))
			return true;
	return false;
}

/* Is n below the package (the package itself, the training)? */
static bool
after_package(const struct dag *dag, const struct node *n)
{
	if (n == dag->package)
		return true;
	for (size_t i = 0; i < n->nin; i++)
		if (after_package(dag, n->in[i]))
			return true;
	return false;
}

bool
gate_hold(struct session *s)
{
	bool held = false;

	if (!s->dag->package || !gate_pending(s))
		return false;
	for (size_t i = s->dag->package->idx; i < s->dag->nnodes; i++) {
		struct status *st = &s->st[i];

		if ((st->state == STATE_NEW || st->state == STATE_STALE) &&
		    after_package(s->dag, s->dag->nodes[i])) {
			st->state = STATE_UNASKED;
			snprintf(st->reason, sizeof(st->reason),
				 "waits for the identity gate's verdicts");
			held = true;
		}
	}
	return held;
}

size_t
gate_failed(const struct session *s, const struct node **targets, size_t max)
{
	size_t n = 0;
	struct verdict v;

	for (size_t i = 0; i < s->dag->nnodes && n < max; i++) {
		const struct node *g = s->dag->nodes[i];

		if (g->kind == KIND_GATE &&
		    picks_verdict(&s->lock.picks, g->subject, &v) && v.failed &&
		    !gate_kept(&s->lock.picks, g->subject))
			targets[n++] = gate_target(g->subject);
	}
	return n;
}

int
gate_reroll(struct session *s, const struct node *const *targets, size_t n,
	    int round)
{
	struct error err;

	for (size_t i = 0; i < n; i++) {
		int times = picks_reroll(&s->lock.picks, targets[i]->id) + 1;

		picks_set_reroll(&s->lock.picks, targets[i]->id, times);
		printf("gate: rerolling %s (--reroll-failed round %d, reroll %d)\n",
		       targets[i]->id, round, times);
	}
	fflush(stdout);
	s->lock.dirty = true;
	if (lock_write(&s->lock, &err) < 0) {
		warn("%s", err.msg);
		return -1;
	}
	return 0;
}

double
gate_reroll_cost(const struct session *s, int rounds, size_t *nfailed,
		 size_t *nunjudged)
{
	double total = 0, usd;
	struct verdict v;

	*nfailed = *nunjudged = 0;
	for (size_t i = 0; rounds > 0 && i < s->dag->nnodes; i++) {
		const struct node *g = s->dag->nodes[i];
		bool judged;

		if (g->kind != KIND_GATE || gate_kept(&s->lock.picks, g->subject))
			continue;
		judged = s->st[i].state == STATE_CACHED &&
			 picks_verdict(&s->lock.picks, g->subject, &v);
		if (judged && !v.failed)
			continue;
		*(judged ? nfailed : nunjudged) += 1;
		reroll_cost(s->dag, gate_target(g->subject), &usd);
		total += usd * rounds;
	}
	return total;
}

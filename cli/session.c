/*
 * session: compile + lock + cache + status, shared by the commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/path.h"
#include "cli.h"
#include "compiler/trust.h"

/* The environment's list, then the command line's, joined with ','.
 * Caller frees. */
static char *
allowed(const char *env, const char *flags)
{
	const char *e = getenv(env);

	return xasprintf("%s,%s", e ? e : "", flags ? flags : "");
}

/*
 * A training the cache holds names its LoRA file, and validations are
 * keyed by that file (compiler/key.c): key them again and look them up.
 * (A training that runs in this build tells runtime/sched.c instead.)
 */
static void
session_learn_lora(struct session *s)
{
	struct node *t = s->dag->train;
	const struct hash *outs;
	size_t n = 0;

	if (!t || !s->dag->nvalidate || s->st[t->idx].state != STATE_CACHED ||
	    !(outs = status_outs(&s->st[t->idx], &n)) || !n)
		return;
	node_set_made(t, outs, n);
	dag_key(s->dag);
	status_compute(s->dag, &s->acts, &s->lock, &s->store, s->st);
}

int
session_open(struct session *s, const struct cli *cli)
{
	struct compile_opts opts = { 0 };
	struct trust trust;
	struct diag d;
	struct error err;
	char *dir, *path;

	memset(s, 0, sizeof(*s));
	s->cli = cli;
	if (rcache_conf_load(&s->rcache, cli->remote_cache, &err) < 0) {
		warn("%s", err.msg);
		return EXIT_USAGE;
	}
	s->lock_path = lock_path_for(cli->recipe);
	if (lock_load(&s->lock, s->lock_path, &err) < 0) {
		warn("%s", err.msg);
		session_close(s);
		return EXIT_USAGE;
	}
	if (s->lock.nconflicts) {
		/* picks decide keys: guessing one side would build the wrong set */
		lock_report(&s->lock);
		session_close(s);
		return EXIT_USAGE;
	}
	s->lock.picks.first = cli->pick_first;
	opts.engine_override = cli->engine;
	opts.picks = &s->lock.picks;
	trust.hosts = allowed("LORAMAKE_ALLOW_HOSTS", cli->allow_hosts);
	trust.key_envs = allowed("LORAMAKE_ALLOW_KEY_ENV", cli->allow_key_envs);
	opts.trust = &trust;
	diag_init(&d, stderr);
	s->dag = compile(cli->recipe, &opts, &d);
	free((char *)trust.hosts);
	free((char *)trust.key_envs);
	if (!s->dag) {
		session_close(s);
		return EXIT_USAGE;
	}
	dir = path_dir(cli->recipe);
	store_open(&s->store, dir, false, NULL);
	path = xasprintf("%s/actions", s->store.root);
	if (actions_load(&s->acts, path, &err) < 0)
		warn("%s (treating the cache as empty)", err.msg);
	free(path);
	path = xasprintf("%s/times", s->store.root);
	times_load(&s->times, path);
	free(path);
	path = xasprintf("%s/failures", s->store.root);
	failures_load(&s->fails, path);
	free(path);
	free(dir);
	s->st = xcalloc(s->dag->nnodes + 1, sizeof(*s->st));
	if (cli->target && !strcmp(cli->target, "train") && !s->dag->train) {
		warn("%s has no train: section, so no target 'train'", cli->recipe);
		session_close(s);
		return EXIT_USAGE;
	}
	if (cli->target && !strcmp(cli->target, "train") && cli->engine) {
		/* --engine moves the images, never the training: a trainer
		 * would be paid to learn placeholders */
		warn("--engine %s makes the dataset's images on %s, but a training "
		     "runs on its trainer, which would be paid for those images; "
		     "nothing was run (build without --engine to train)",
		     cli->engine, cli->engine);
		session_close(s);
		return EXIT_USAGE;
	}
	status_compute(s->dag, &s->acts, &s->lock, &s->store, s->st);
	session_learn_lora(s);
	session_aim(s);
	session_learn_times(s);
	return EXIT_OK;
}

const struct failure *
session_failure(const struct session *s, const struct node *n)
{
	enum state st = s->st[n->idx].state;

	if (!n->keyed || (st != STATE_NEW && st != STATE_STALE &&
			  st != STATE_UNASKED))
		return NULL;
	return failures_get(&s->fails, &n->key);
}

void
session_aim(struct session *s)
{
	status_aim(s->dag, s->cli->target && !strcmp(s->cli->target, "train"),
		   s->st);
}

void
session_refresh(struct session *s)
{
	dag_key(s->dag);
	status_compute(s->dag, &s->acts, &s->lock, &s->store, s->st);
	session_learn_lora(s);
	session_aim(s);
	session_learn_times(s);
}

void
session_close(struct session *s)
{
	dag_free(s->dag);
	lock_release(&s->lock);
	store_close(&s->store);
	actions_release(&s->acts);
	times_release(&s->times);
	failures_release(&s->fails);
	free(s->st);
	free(s->lock_path);
	rcache_conf_release(&s->rcache);
	memset(s, 0, sizeof(*s));
}

/* A plan waits at most this for the team cache's answers: an unreachable
 * cache must not slow it by more than a second. */
#define PROBE_BUDGET_MS 600

void
session_probe_remote(struct session *s)
{
	size_t n = s->dag->nnodes, k = 0;
	struct hash *keys;
	size_t *idx;
	bool *found;
	struct error err;

	if (s->rcache.mode == RCACHE_OFF)
		return;
	keys = xcalloc(n + 1, sizeof(*keys));
	idx = xcalloc(n + 1, sizeof(*idx));
	found = xcalloc(n + 1, sizeof(*found));
	for (size_t i = 0; i < n; i++)
		if ((s->st[i].state == STATE_NEW || s->st[i].state == STATE_STALE) &&
		    rcache_holds(s->dag->nodes[i])) {
			keys[k] = s->dag->nodes[i]->key;
			idx[k++] = i;
		}
	if (rcache_probe(&s->rcache, keys, k, found, PROBE_BUDGET_MS,
			 s->cli->verbose, &err) < 0)
		warn("%s; the plan counts nothing from it", err.msg);
	for (size_t i = 0; i < k; i++)
		if (found[i]) {
			s->st[idx[i]].state = STATE_REMOTE;
			snprintf(s->st[idx[i]].reason, sizeof(s->st[idx[i]].reason),
				 "in the remote cache");
		}
	free(found);
	free(idx);
	free(keys);
}

int
session_jobs(const struct session *s)
{
	long n;

	if (s->cli->jobs > 0)
		return s->cli->jobs;
	if (s->dag && s->dag->recipe.concurrency > 0)
		return s->dag->recipe.concurrency;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	/* remote jobs wait on the network, not the CPU: allow plenty */
	return n > 0 ? (int)n * 8 : 16;
}

void
session_bill(const struct session *s, struct bill *b)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *n = s->dag->nodes[i];

		switch (s->st[i].state) {
		case STATE_NEW:
		case STATE_STALE:
			b->jobs++;
			b->kinds[n->kind]++;
			b->usd += n->usd;
			break;
		case STATE_WAITING:
			b->waiting++;
			b->waiting_kinds[n->kind]++;
			b->waiting_usd += n->usd;
			break;
		case STATE_CACHED:
			b->cached++;
			break;
		case STATE_UNASKED:
			b->unasked++;
			break;
		case STATE_REMOTE:
			b->remote++;
			break;
		case STATE_INPUT:
			break;
		}
	}
}

int
session_edit_lock(const struct session *s, lock_edit_fn *edit, void *arg)
{
	char *dir = path_dir(s->cli->recipe);
	struct store st;
	struct lock fresh = { 0 };
	struct error err;
	int rc;

	if (store_open(&st, dir, true, &err) < 0 || store_lock(&st, &err) < 0 ||
	    lock_load(&fresh, s->lock_path, &err) < 0 ||
	    lock_writable(&fresh, &err) < 0) {
		lock_report(&fresh);
		warn("%s", err.msg);
		rc = EXIT_FAILED;
		goto out;
	}
	rc = edit(&fresh, arg);
	fresh.dirty = true;
	if (rc == EXIT_OK && lock_write(&fresh, &err) < 0) {
		warn("%s", err.msg);
		rc = EXIT_FAILED;
	}
out:
	lock_release(&fresh);
	store_close(&st); /* releases the build lock */
	free(dir);
	return rc;
}

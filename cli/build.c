/*
 * build: run what the plan says, then show where the dataset is.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/path.h"
#include "cache/tree.h"
#include "cli.h"
#include "compiler/estimate.h"
#include "runtime/sched.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL); /* a second Ctrl-C stops at once */
}

static double
plan_cost(const struct session *s, size_t *jobs)
{
	double usd = 0;

	*jobs = 0;
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		enum state st = s->st[i].state;

		if (st == STATE_NEW || st == STATE_STALE) {
			usd += s->dag->nodes[i]->usd;
			(*jobs)++;
		}
	}
	return usd;
}

/* Write the package's out: from its cached tree (a copy, not a link:
 * the user may move or change it). Returns the path, or NULL. */
static char *
materialize(const struct session *s)
{
	const struct node *pkg = s->dag->package;
	const struct section *sec = &s->dag->recipe.sec[KIND_PACKAGE];
	const struct status *st;
	const struct hash *outs = NULL;
	struct tree_entry *v = NULL;
	struct error err;
	char *tree = NULL, *obj, *out = NULL;
	size_t n = 0;

	if (!pkg)
		return NULL;
	st = &s->st[pkg->idx];
	if (st->action)
		outs = st->action->outs;
	else if (st->from_lock && st->was)
		outs = st->was->outs;
	if (!outs)
		return NULL;
	obj = store_object_path(&s->store, &outs[0]);
	if (read_file(obj, &tree, NULL, &err) < 0 || tree_parse(tree, &v, &n) < 0 || !n) {
		warn("the cached package is unreadable: %s", obj);
		goto done;
	}
	char *dflt = xasprintf("dist/%s", v[0].path);
	const char *rel = sec->out ? sec->out : dflt;
	out = path_join(s->dag->dir, rel);
	free(dflt);
	char *src = store_object_path(&s->store, &v[0].obj), *data;
	size_t len;
	char *dir = path_dir(out);
	if (mkdirs(dir, &err) < 0 || read_file(src, &data, &len, &err) < 0) {
		warn("%s", err.msg);
		free(out);
		out = NULL;
	} else {
		if (write_file_atomic(out, data, len, &err) < 0) {
			warn("%s", err.msg);
			free(out);
			out = NULL;
		}
		free(data);
	}
	free(dir);
	free(src);
done:
	tree_free(v, n);
	free(tree);
	free(obj);
	return out;
}

/* List the picks that block nodes, each once, with the command. */
static size_t
list_waiting(const struct session *s)
{
	bool *shown = xcalloc(s->dag->nnodes + 1, sizeof(*shown));
	size_t n = 0;

	for (size_t i = 0; i < s->dag->nnodes; i++)
		n += s->st[i].state == STATE_WAITING;
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *w = s->dag->nodes[i]->waits_on;

		if (s->st[i].state != STATE_WAITING || !w || shown[w->idx])
			continue;
		if (!shown[s->dag->nnodes]) {
			fprintf(stderr, "\n%zu node%s wait for a pick; look at the candidates "
				"in build/ and run:\n", n, n == 1 ? "" : "s");
			shown[s->dag->nnodes] = true;
		}
		fprintf(stderr, "  loramake pick %s %s N    (N: 1 to %d, in build/%s/)\n",
			s->cli->recipe, w->id, w->candidates, w->id);
		shown[w->idx] = true;
	}
	free(shown);
	return n;
}

static int
run(struct session *s, const struct cli *cli, struct sched_result *res)
{
	struct sched_opts o = { .jobs = session_jobs(s), .fail_fast = cli->fail_fast,
				.max_cost = cli->max_cost, .verbose = cli->verbose,
				.interrupted = &interrupted };
	struct error err;
	char *dir = path_dir(cli->recipe), *acts;

	o.tty = isatty(2);
	o.color = o.tty && !getenv("NO_COLOR");
	store_close(&s->store);
	if (store_open(&s->store, dir, true, &err) < 0 || store_lock(&s->store, &err) < 0) {
		free(dir);
		warn("%s", err.msg);
		return EXIT_FAILED;
	}
	free(dir);
	store_clean_tmp(&s->store);
	/* another build may have finished nodes while we waited: reload */
	acts = xstrdup(s->acts.path);
	actions_release(&s->acts);
	if (actions_load(&s->acts, acts, &err) < 0)
		warn("%s", err.msg);
	free(acts);
	session_refresh(s);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	sched_run(s->dag, s->st, &s->store, &s->acts, &s->lock, &o, res);
	session_refresh(s);
	return EXIT_OK;
}

int
cmd_build(const struct cli *cli)
{
	struct session s;
	struct sched_result res = { 0 };
	size_t jobs;
	double usd;
	int64_t t0 = now_ms();
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	usd = plan_cost(&s, &jobs);
	if (cli->max_cost >= 0 && usd > cli->max_cost + 1e-9) {
		warn("the plan costs $%.2f, more than --max-cost %.2f; nothing was run "
		     "(see loramake plan)", usd, cli->max_cost);
		session_close(&s);
		return EXIT_FAILED;
	}
	if (jobs && (rc = run(&s, cli, &res))) {
		session_close(&s);
		return rc;
	}
	char *zip = materialize(&s);
	size_t waiting = list_waiting(&s);
	if (!jobs || (!res.ran && !res.failed && !res.skipped && !res.interrupted))
		printf("nothing to do: all %zu nodes are up to date\n", s.dag->nnodes);
	else
		printf("%zu node%s built in %.1fs, $%.2f spent%s%zu failed\n", res.ran,
		       res.ran == 1 ? "" : "s", (now_ms() - t0) / 1000.0, res.spent,
		       ", ", res.failed + res.skipped);
	if (zip)
		printf("dataset: %s\n", zip);
	free(zip);
	rc = res.interrupted ? EXIT_INTERRUPTED
	   : res.failed || res.skipped ? EXIT_FAILED
	   : waiting ? EXIT_NEEDS_PICK : EXIT_OK;
	session_close(&s);
	return rc;
}

int
cmd_check(const struct cli *cli)
{
	(void)cli;
	warn("check comes with dataset quality rules");
	return EXIT_FAILED;
}

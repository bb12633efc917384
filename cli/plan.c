/*
 * plan, graph, explain: look at what a build would do, spending nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli.h"
#include "compiler/estimate.h"

static bool
will_run(const struct status *st)
{
	return st->state == STATE_NEW || st->state == STATE_STALE;
}

/* "fal fal-ai/nano-banana-pro/edit", "file keystones/hero.png" */
static void
engine_words(const struct dag *dag, const struct node *n, char *out, size_t sz)
{
	if (n->file) {
		size_t dl = strlen(dag->dir);
		const char *f = n->file;

		if (strcmp(dag->dir, ".") && !strncmp(f, dag->dir, dl) && f[dl] == '/')
			f += dl + 1;
		snprintf(out, sz, "file %s", f);
	} else if (n->model) {
		snprintf(out, sz, "%s %s", n->engine ? n->engine->name : n->engine_type,
			 n->model);
	} else if (n->size) {
		snprintf(out, sz, "%s %dpx", n->engine_type, n->size);
	} else {
		snprintf(out, sz, "%s", n->engine_type);
	}
}

static void
format_duration(char *out, size_t sz, double secs)
{
	long s = (long)(secs + 0.5);

	if (s < 60)
		snprintf(out, sz, "%lds", s);
	else if (s < 3600)
		snprintf(out, sz, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(out, sz, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

struct totals {
	size_t jobs, cached, waiting, per_kind[KIND_COUNT];
	double usd, seconds;
};

static void
sum(const struct session *s, struct totals *t)
{
	bool *runs = xcalloc(s->dag->nnodes + 1, sizeof(*runs));

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *n = s->dag->nodes[i];

		if (s->st[i].state == STATE_CACHED)
			t->cached++;
		if (s->st[i].state == STATE_WAITING)
			t->waiting++;
		if (!will_run(&s->st[i]))
			continue;
		runs[i] = true;
		t->jobs++;
		t->per_kind[n->kind]++;
		t->usd += n->usd;
	}
	t->seconds = estimate_wall(s->dag, runs, session_jobs(s));
	free(runs);
}

static void
print_table(const struct session *s)
{
	char eng[160];

	printf("%-40s %-11s %-50s %-8s %-22s %s\n", "NODE", "KIND",
	       "ENGINE/MODEL", "STATE", "REASON", "COST");
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *n = s->dag->nodes[i];
		const struct status *st = &s->st[i];

		engine_words(s->dag, n, eng, sizeof(eng));
		printf("%-40s %-11s %-50s %-8s %-22s", n->id, kind_name(n->kind),
		       eng, state_name(st->state), st->reason);
		if (will_run(st))
			printf(" $%.3f", n->usd);
		putchar('\n');
	}
}

static void
print_totals(const struct session *s, const struct totals *t)
{
	char dur[32];
	struct buf kinds;

	buf_init(&kinds);
	for (int k = 0; k < KIND_COUNT; k++)
		if (t->per_kind[k])
			buf_addf(&kinds, "%s%zu %s", kinds.len ? ", " : "",
				 t->per_kind[k], kind_name(k));
	format_duration(dur, sizeof(dur), t->seconds);
	printf("\n%zu job%s to run%s%s%s, %zu cached", t->jobs,
	       t->jobs == 1 ? "" : "s", kinds.len ? " (" : "", kinds.data,
	       kinds.len ? ")" : "", t->cached);
	if (t->waiting)
		printf(", %zu waiting for a pick", t->waiting);
	printf("\nestimated cost $%.2f, about %s at -j %d\n", t->usd, dur,
	       session_jobs(s));
	buf_release(&kinds);
}

static json_t *
node_json(const struct session *s, size_t i)
{
	const struct node *n = s->dag->nodes[i];
	const struct status *st = &s->st[i];
	json_t *o = json_object(), *deps = json_array();
	char hex[HASH_HEX_LEN + 1];

	hash_hex(&n->key, hex);
	for (size_t j = 0; j < n->nin; j++)
		json_array_append_new(deps, json_string(n->in[j]->id));
	json_object_set_new(o, "id", json_string(n->id));
	json_object_set_new(o, "kind", json_string(kind_name(n->kind)));
	json_object_set_new(o, "key", n->keyed ? json_string(hex) : json_null());
	json_object_set_new(o, "state", json_string(state_name(st->state)));
	json_object_set_new(o, "reason", json_string(st->reason));
	json_object_set_new(o, "engine", json_string(n->engine ? n->engine->name
							    : n->engine_type));
	json_object_set_new(o, "model", n->model ? json_string(n->model) : json_null());
	json_object_set_new(o, "deps", deps);
	json_object_set_new(o, "candidates", json_integer(n->candidates));
	json_object_set_new(o, "cost_usd", json_real(will_run(st) ? n->usd : 0));
	if (n->prompt)
		json_object_set_new(o, "prompt", json_string(n->prompt));
	if (n->caption)
		json_object_set_new(o, "caption", json_string(n->caption));
	return o;
}

/* One job object a line, dumped as it is made: a 10,000-node plan never
 * holds more than one node's JSON in memory. */
static void
print_json(const struct session *s, const struct totals *t)
{
	json_t *tot = json_object();

	fputs("{\"jobs\": [\n", stdout);
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		json_t *o = node_json(s, i);

		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputs(i + 1 < s->dag->nnodes ? ",\n" : "\n", stdout);
		json_decref(o);
	}
	json_object_set_new(tot, "jobs", json_integer((json_int_t)t->jobs));
	json_object_set_new(tot, "cached", json_integer((json_int_t)t->cached));
	json_object_set_new(tot, "waiting", json_integer((json_int_t)t->waiting));
	json_object_set_new(tot, "cost_usd", json_real(t->usd));
	json_object_set_new(tot, "seconds", json_real(t->seconds));
	fputs("], \"totals\": ", stdout);
	json_dumpf(tot, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputs("}\n", stdout);
	json_decref(tot);
}

int
cmd_plan(const struct cli *cli)
{
	struct session s;
	struct totals t;
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	sum(&s, &t);
	if (cli->json) {
		print_json(&s, &t);
	} else {
		print_table(&s);
		print_totals(&s, &t);
	}
	session_close(&s);
	return EXIT_OK;
}

int
cmd_graph(const struct cli *cli)
{
	static const char *const colour[] = { "lightgrey", "palegreen", "lightblue",
					      "orange", "khaki" };
	const char *fmt = cli->format ? cli->format : "dot";
	bool mermaid = !strcmp(fmt, "mermaid");
	struct session s;
	int rc;

	if (!mermaid && strcmp(fmt, "dot"))
		fatal(EXIT_USAGE, "--format takes dot or mermaid, not '%s'", fmt);
	if ((rc = session_open(&s, cli)))
		return rc;
	puts(mermaid ? "flowchart LR" : "digraph loramake {\n\trankdir=LR;\n\tnode [shape=box, style=filled];");
	for (size_t i = 0; i < s.dag->nnodes; i++) {
		const struct node *n = s.dag->nodes[i];

		if (mermaid)
			printf("  n%zu[\"%s\"]:::%s\n", i, n->id,
			       state_name(s.st[i].state));
		else
			printf("\t\"%s\" [fillcolor=%s];\n", n->id,
			       colour[s.st[i].state]);
		for (size_t j = 0; j < n->nin; j++) {
			if (mermaid)
				printf("  n%zu --> n%zu\n", n->in[j]->idx, i);
			else
				printf("\t\"%s\" -> \"%s\";\n", n->in[j]->id, n->id);
		}
	}
	if (mermaid)
		for (int k = 0; k <= STATE_WAITING; k++)
			printf("  classDef %s fill:%s\n", state_name(k), colour[k]);
	else
		puts("}");
	session_close(&s);
	return EXIT_OK;
}

static void
explain_inputs(const struct session *s, const struct node *n)
{
	for (size_t j = 0; j < n->nin; j++) {
		const struct node *in = n->in[j];
		const struct status *st = &s->st[in->idx];

		printf("  input %s: %s%s%s%s\n", in->id, state_name(st->state),
		       st->reason[0] ? " (" : "", st->reason,
		       st->reason[0] ? ")" : "");
	}
}

int
cmd_explain(const struct cli *cli)
{
	struct session s;
	const struct node *n;
	const struct status *st;
	char hex[HASH_HEX_LEN + 1], eng[160];
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	if (!(n = dag_find(s.dag, cli->args[0]))) {
		warn("'%s' is not a node of %s (see loramake plan)", cli->args[0],
		     cli->recipe);
		session_close(&s);
		return EXIT_USAGE;
	}
	st = &s.st[n->idx];
	hash_hex(&n->key, hex);
	engine_words(s.dag, n, eng, sizeof(eng));
	printf("%s: %s%s%s\n", n->id, state_name(st->state),
	       st->reason[0] ? ", " : "", st->reason);
	printf("  defined at %s:%u:%u\n", n->loc.src->path, n->loc.line, n->loc.col);
	printf("  engine %s\n", eng);
	if (n->keyed)
		printf("  key %s\n", hex);
	if (st->was && st->state == STATE_STALE) {
		hash_hex(&st->was->key, hex);
		printf("  was %s\n", hex);
	}
	printf("  seed %lld (%s)\n", (long long)n->seed,
	       n->seed_fixed ? "set in the recipe" : "derived from the key");
	if (n->prompt)
		printf("  prompt: %s\n", n->prompt);
	if (n->caption)
		printf("  caption: %s\n", n->caption);
	explain_inputs(&s, n);
	session_close(&s);
	return EXIT_OK;
}

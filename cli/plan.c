/*
 * plan, graph, explain: look at what a build would do, spending nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/path.h"
#include "base/text.h"
#include "cache/tree.h"
#include "cli.h"
#include "compiler/engine_type.h"
#include "compiler/estimate.h"
#include "compiler/trust.h"
#include "runtime/engine.h"
#include "runtime/pack.h"

static bool
will_run(const struct status *st)
{
	return st->state == STATE_NEW || st->state == STATE_STALE;
}

/* Is the node on the bill: run now, or once the pick it waits on is made? */
static bool
priced(const struct status *st)
{
	return will_run(st) || st->state == STATE_WAITING;
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

/* The bill (cli.h) and the wall time of each of its parts. */
struct totals {
	struct bill bill;
	double seconds;          /* this build */
	double waiting_seconds;  /* the build after the picks: the waiting work */
	size_t timed;            /* jobs to run whose seconds a build here
				  * measured (cli/eta.c) */
};

static void
sum(const struct session *s, struct totals *t)
{
	size_t n = s->dag->nnodes;
	bool *runs = xcalloc(n + 1, sizeof(*runs));

	session_bill(s, &t->bill);
	t->timed = 0;
	for (size_t i = 0; i < n; i++) {
		runs[i] = will_run(&s->st[i]);
		t->timed += runs[i] && s->dag->nodes[i]->timed;
	}
	t->seconds = estimate_wall(s->dag, runs, session_jobs(s));
	t->waiting_seconds = 0;
	if (t->bill.waiting) {
		/* by then what runs now is done, and only the waiting work runs */
		for (size_t i = 0; i < n; i++)
			runs[i] = s->st[i].state == STATE_WAITING;
		t->waiting_seconds = estimate_wall(s->dag, runs, session_jobs(s));
	}
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
		if (priced(st))
			printf(" $%.3f", n->usd);
		putchar('\n');
	}
}

/* ", fal 6 at once": the remote engines that will run, and their limits,
 * since they decide the wall time more than -j does. */
static void
print_pools(const struct session *s)
{
	const struct recipe *r = &s->dag->recipe;

	for (size_t e = 0; e < r->nengines; e++) {
		bool used = false;

		for (size_t i = 0; i < s->dag->nnodes && !used; i++)
			used = s->dag->nodes[i]->engine == &r->engines[e] &&
			       node_is_remote(s->dag->nodes[i]) &&
			       will_run(&s->st[i]);
		if (used)
			printf(", %s %d at once", r->engines[e].name,
			       engine_concurrency(&r->engines[e], r->engines[e].type));
	}
}

/* Does a node of the plan run on remote engine e? */
static bool
remote_used(const struct session *s, const struct engine_decl *e)
{
	for (size_t i = 0; i < s->dag->nnodes; i++)
		if (s->dag->nodes[i]->engine == e && node_is_remote(s->dag->nodes[i]))
			return true;
	return false;
}

/* "engine fal sends $FAL_KEY to https://queue.fal.run": what secret each
 * remote engine sends where (compiler/trust.c allowed it), so that a
 * recipe from elsewhere shows what it would do with the user's keys. */
static void
print_keys(const struct session *s)
{
	const struct recipe *r = &s->dag->recipe;
	char host[300];

	for (size_t e = 0; e < r->nengines; e++) {
		const struct engine_decl *d = &r->engines[e];

		if (!remote_used(s, d))
			continue;
		trust_host(d, host, sizeof(host));
		if (d->key_env && engine_type_find(d->type) &&
		    engine_type_find(d->type)->own_server)
			printf("engine %s sends $%s, when it is set, to %s\n", d->name,
			       d->key_env, host);
		else if (d->key_env)
			printf("engine %s sends $%s to %s\n", d->name, d->key_env, host);
		else
			printf("engine %s sends no key, to %s\n", d->name, host);
	}
}

/* The recipe's remote_cache: a suggestion the user takes by naming it
 * (a cloned recipe must not choose where a build reads its images). */
static void
print_suggested_cache(const struct session *s)
{
	const char *url = s->dag->recipe.remote_cache;

	size_t n = s->rcache.base ? strlen(s->rcache.base) : 0;

	if (!url || (n && !strncmp(url, s->rcache.base, n) &&
		     strspn(url + n, "/") == strlen(url + n)))
		return; /* the one in use */
	printf("the recipe suggests the team cache %s; it is used only once you "
	       "name it: LORAMAKE_REMOTE_CACHE=%s\n", url, url);
}

/* " (8 anchor, 20 caption)": jobs by kind, or nothing. */
static void
add_kinds(struct buf *b, const size_t *kinds)
{
	size_t start = b->len;

	for (int k = 0; k < KIND_COUNT; k++)
		if (kinds[k])
			buf_addf(b, "%s%zu %s", b->len > start ? ", " : " (", kinds[k],
				 kind_name(k));
	if (b->len > start)
		buf_adds(b, ")");
}

/* The nodes that failed when last tried, with the engine's words: they
 * run (and, on a paid engine, are paid for) again. */
#define PLAN_MAX_FAILURES 10

static void
print_failures(const struct session *s)
{
	size_t shown = 0, more = 0;

	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *n = s->dag->nodes[i];
		const struct failure *f = session_failure(s, n);

		if (!f)
			continue;
		if (shown == PLAN_MAX_FAILURES) {
			more++;
			continue;
		}
		if (!shown++)
			printf("failed when last tried (they run again):\n");
		printf("  %s: %s\n", n->id, f->why);
	}
	if (more)
		printf("  and %zu more (loramake plan --json names them all)\n", more);
}

/* "not asked for: train/tr and 2 validation images, $4.27, about 42m10s":
 * what only the target train runs (the validations after the training,
 * side by side). */
static void
print_unasked(const struct session *s)
{
	const struct node *t = s->dag->train;
	bool train = s->st[t->idx].state == STATE_UNASKED;
	double usd = 0, after = 0;
	size_t nval = 0;
	char dur[32], what[96];

	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *n = s->dag->nodes[i];

		if (s->st[i].state != STATE_UNASKED)
			continue;
		usd += n->usd;
		if (n->kind == KIND_VALIDATE) {
			nval++;
			after = n->seconds > after ? n->seconds : after;
		}
	}
	format_duration(dur, sizeof(dur), (train ? t->seconds : 0) + after);
	if (!nval)
		snprintf(what, sizeof(what), "%s", t->id);
	else
		snprintf(what, sizeof(what), "%s%s%zu validation image%s",
			 train ? t->id : "", train ? " and " : "", nval,
			 nval == 1 ? "" : "s");
	printf("not asked for: %s, $%.2f, about %s (loramake plan %s train)\n",
	       what, usd, dur, s->cli->recipe);
}

/* --reroll-failed N: what rerolling the images the identity gate fails
 * may cost at most (each failed or not yet judged image, N times). */
static void
print_rerolls(const struct session *s)
{
	size_t failed, unjudged;
	double usd;

	if (!s->cli->reroll_failed)
		return;
	usd = gate_reroll_cost(s, s->cli->reroll_failed, &failed, &unjudged);
	printf("--reroll-failed %d: up to $%.2f more (%zu image%s failed the "
	       "identity gate, %zu not judged yet; each rerolled at most %d time%s)\n",
	       s->cli->reroll_failed, usd, failed, failed == 1 ? "" : "s",
	       unjudged, s->cli->reroll_failed,
	       s->cli->reroll_failed == 1 ? "" : "s");
}

static void
print_totals(const struct session *s, const struct totals *t)
{
	const struct bill *b = &t->bill;
	char dur[32];
	struct buf line;

	buf_init(&line);
	add_kinds(&line, b->kinds);
	format_duration(dur, sizeof(dur), t->seconds);
	printf("\n%zu job%s to run%s, %zu cached", b->jobs, b->jobs == 1 ? "" : "s",
	       line.len ? line.data : "", b->cached);
	if (s->rcache.mode != RCACHE_OFF)
		printf(", %zu remote ($0, from %s)", b->remote, s->rcache.base);
	printf("\nestimated cost $%.2f, about %s at -j %d", b->usd, dur,
	       session_jobs(s));
	print_pools(s);
	if (t->timed)
		printf(" (%zu of the %zu jobs timed by earlier builds here)",
		       t->timed, b->jobs);
	putchar('\n');
	if (b->waiting) {
		buf_reset(&line);
		add_kinds(&line, b->waiting_kinds);
		format_duration(dur, sizeof(dur), t->waiting_seconds);
		printf("waiting on a pick: %zu job%s%s, $%.2f, about %s once picked\n",
		       b->waiting, b->waiting == 1 ? "" : "s", line.data,
		       b->waiting_usd, dur);
		format_duration(dur, sizeof(dur), t->seconds + t->waiting_seconds);
		printf("in all, with the waiting work: $%.2f, about %s\n",
		       b->usd + b->waiting_usd, dur);
	}
	if (b->unasked && s->dag->train)
		print_unasked(s);
	print_failures(s);
	print_rerolls(s);
	print_keys(s);
	print_suggested_cache(s);
	buf_release(&line);
}

/*
 * JSON out by hand: a general library's dump was most of the time of
 * plan --json on 10,000 nodes. Every string here is UTF-8 already (recipe
 * text passed libyaml's reader), so only quotes, backslashes and control
 * characters need escapes; spans between them go out in one fwrite.
 */
static void
put_str(FILE *f, const char *s)
{
	putc('"', f);
	for (;;) {
		size_t n = strcspn(s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r"
				   "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
				   "\x1b\x1c\x1d\x1e\x1f");

		fwrite(s, 1, n, f);
		s += n;
		if (!*s)
			break;
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fprintf(f, "\\u%04x", (unsigned char)*s);
		s++;
	}
	putc('"', f);
}

static void
put_field(FILE *f, const char *name, const char *value, bool first)
{
	fprintf(f, "%s\"%s\":", first ? "" : ",", name);
	if (value)
		put_str(f, value);
	else
		fputs("null", f);
}

static void
put_num(FILE *f, const char *name, double v)
{
	char tmp[32];

	format_double(tmp, sizeof(tmp), v);
	fprintf(f, ",\"%s\":%s", name, tmp);
}

/*
 * The image a consumer of in is sent: a source file's bytes, or the
 * picked candidate's object once it is cached; NULL while it is not made
 * (or waits on a pick). Borrowed.
 */
static const struct hash *
input_hash(const struct session *s, const struct node *in)
{
	const struct hash *outs;
	size_t nouts;
	int pick;

	if (in->file)
		return &in->file_hash;
	outs = status_outs(&s->st[in->idx], &nouts);
	pick = node_pick(in, s->dag->picks);
	return outs && pick >= 1 && (size_t)pick <= nouts ? &outs[pick - 1] : NULL;
}

/*
 * The request n's first candidate sends, from its engine's describe (the
 * code a build sends it with), each input image written "<input ID>".
 * 1 when its engine sends none (local, preview, built-ins); else 0, or
 * -1 with err.
 */
static int
describe(const struct node *n, struct engine_request *rq, struct error *err)
{
	const struct engine *e = engine_find(n->engine_type);
	char **refs;
	size_t nrefs = 0;
	int rc;

	if (!e || !e->describe || !n->model)
		return 1;
	refs = xcalloc(n->nin * TRAINER_MAX_FILES + 1, sizeof(*refs));
	for (size_t j = 0; j < n->nin; j++) {
		const struct trainer *t = node_trainer(n->in[j]);

		/* a validation sends each LoRA file of a training: WAN 2.2's two */
		for (int k = 0; t && t->nfiles > 1 && k < t->nfiles; k++)
			refs[nrefs++] = xasprintf("<input %s %s>", n->in[j]->id,
						  t->files[k].name);
		if (!t || t->nfiles < 2)
			refs[nrefs++] = xasprintf("<input %s>", n->in[j]->id);
	}
	rc = e->describe(n, n->engine, (const char *const *)refs, nrefs, 1, rq,
			 err);
	for (size_t j = 0; j < nrefs; j++)
		free(refs[j]);
	free(refs);
	return rc;
}

/* ,"request":{...}: what n sends (docs/cli.md), when it sends one. */
static void
put_request(FILE *f, const struct session *s, const struct node *n)
{
	struct engine_request rq;
	struct error err;
	char hex[HASH_HEX_LEN + 1];
	int rc = describe(n, &rq, &err);

	if (rc > 0)
		return;
	fputs(",\"request\":{", f);
	if (rc < 0) {
		put_field(f, "error", err.msg, true);
		putc('}', f);
		return;
	}
	put_field(f, "method", rq.method, true);
	put_field(f, "url", rq.url, false);
	put_field(f, "key_env", rq.key_header && n->engine ? n->engine->key_env : NULL,
		  false);
	fputs(",\"headers\":[", f);
	if (rq.key_header)
		put_str(f, rq.key_header);
	fprintf(f, "],\"body\":%s", rq.body);
	if (!n->keyed) /* its derived seed comes from a key not known yet */
		put_field(f, "waits_on", n->waits_on ? n->waits_on->id : NULL, false);
	fputs(",\"inputs\":[", f);
	for (size_t j = 0; j < n->nin; j++) {
		const struct hash *h = input_hash(s, n->in[j]);

		if (h)
			hash_hex(h, hex);
		fputs(j ? ",{" : "{", f);
		put_field(f, "node", n->in[j]->id, true);
		put_field(f, "hash", h ? hex : NULL, false);
		putc('}', f);
	}
	fputs("]}", f);
	engine_request_release(&rq);
}

/* One node as a JSON object (docs/cli.md lists the fields). */
static void
put_node(FILE *f, const struct session *s, size_t i)
{
	const struct node *n = s->dag->nodes[i];
	const struct status *st = &s->st[i];
	const struct failure *fail = session_failure(s, n);
	char hex[HASH_HEX_LEN + 1];

	hash_hex(&n->key, hex);
	putc('{', f);
	put_field(f, "id", n->id, true);
	put_field(f, "kind", kind_name(n->kind), false);
	put_field(f, "key", n->keyed ? hex : NULL, false);
	put_field(f, "state", state_name(st->state), false);
	put_field(f, "reason", st->reason, false);
	put_field(f, "failed", fail ? fail->why : NULL, false);
	put_field(f, "engine", n->engine ? n->engine->name : n->engine_type, false);
	put_field(f, "model", n->model, false);
	fputs(",\"deps\":[", f);
	for (size_t j = 0; j < n->nin; j++) {
		if (j)
			putc(',', f);
		put_str(f, n->in[j]->id);
	}
	putc(']', f);
	if (n->nrefs) {
		fputs(",\"refs\":[", f);
		for (size_t j = n->nin - n->nrefs; j < n->nin; j++) {
			if (j > n->nin - n->nrefs)
				putc(',', f);
			put_str(f, n->in[j]->id);
		}
		putc(']', f);
	}
	put_num(f, "candidates", n->candidates);
	put_num(f, "cost_usd", priced(st) ? n->usd : 0);
	put_num(f, "seconds", n->seconds);
	fprintf(f, ",\"timed\":%s", n->timed ? "true" : "false");
	if (n->prompt)
		put_field(f, "prompt", n->prompt, false);
	if (n->prompt && n->negative && *n->negative)
		put_field(f, "negative", n->negative, false);
	if (n->caption)
		put_field(f, "caption", n->caption, false);
	if (n->env) {
		fputs(",\"environment\":{", f);
		put_field(f, "place", n->env->place, true);
		put_field(f, "light", n->env->light, false);
		putc('}', f);
	}
	put_request(f, s, n);
	putc('}', f);
}

/* The remote engines a node uses: name, type, key variable, host. */
static void
put_engines(FILE *f, const struct session *s)
{
	const struct recipe *r = &s->dag->recipe;
	char host[300];
	bool first = true;

	for (size_t e = 0; e < r->nengines; e++) {
		const struct engine_decl *d = &r->engines[e];

		if (!remote_used(s, d))
			continue;
		trust_host(d, host, sizeof(host));
		fputs(first ? "\n{" : ",\n{", f);
		put_field(f, "name", d->name, true);
		put_field(f, "type", d->type, false);
		put_field(f, "key_env", d->key_env, false);
		put_field(f, "url", host, false);
		fputc('}', f);
		first = false;
	}
	if (!first)
		fputc('\n', f);
}

/* One job object a line: a plan of any size streams out in flat memory. */
static void
print_json(const struct session *s, const struct totals *t)
{
	fputs("{\"jobs\": [\n", stdout);
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		put_node(stdout, s, i);
		fputs(i + 1 < s->dag->nnodes ? ",\n" : "\n", stdout);
	}
	fprintf(stdout, "], \"totals\": {\"jobs\":%zu,\"cached\":%zu,\"remote\":%zu,"
		"\"waiting\":%zu", t->bill.jobs, t->bill.cached, t->bill.remote,
		t->bill.waiting);
	put_num(stdout, "cost_usd", t->bill.usd);
	put_num(stdout, "seconds", t->seconds);
	put_num(stdout, "waiting_usd", t->bill.waiting_usd);
	put_num(stdout, "waiting_seconds", t->waiting_seconds);
	put_num(stdout, "total_usd", t->bill.usd + t->bill.waiting_usd);
	put_num(stdout, "total_seconds", t->seconds + t->waiting_seconds);
	if (s->cli->reroll_failed) {
		size_t failed, unjudged;

		put_num(stdout, "reroll_failed_usd",
			gate_reroll_cost(s, s->cli->reroll_failed, &failed, &unjudged));
	}
	fputs("}, \"engines\": [", stdout);
	put_engines(stdout, s);
	fputs("]}\n", stdout);
}

int
cmd_plan(const struct cli *cli)
{
	struct session s;
	struct totals t;
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	session_probe_remote(&s);
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
					      "orange", "khaki", "white",
					      "aquamarine" };
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
		for (int k = 0; k <= STATE_UNASKED; k++)
			printf("  classDef %s fill:%s\n", state_name(k), colour[k]);
	else
		puts("}");
	session_close(&s);
	return EXIT_OK;
}

/* "  input angle/front: cached, image 3fa2…": each input's state and the
 * hash of the image it gives (once there is one); "  ref anchor/front:
 * ..." for the images sent beside the source (refs:). */
static void
explain_inputs(const struct session *s, const struct node *n)
{
	char hex[HASH_HEX_LEN + 1];

	for (size_t j = 0; j < n->nin; j++) {
		const struct node *in = n->in[j];
		const struct status *st = &s->st[in->idx];
		const struct hash *h = input_hash(s, in);

		if (h)
			hash_hex(h, hex);
		printf("  %s %s: %s%s%s%s%s%s\n", j >= n->nin - n->nrefs ? "ref" : "input",
		       in->id, state_name(st->state),
		       st->reason[0] ? " (" : "", st->reason,
		       st->reason[0] ? ")" : "", h ? ", image " : "", h ? hex : "");
	}
}

/* The request the node sends, as `ninja -t commands` shows a command. */
static void
explain_request(const struct node *n)
{
	struct engine_request rq;
	struct error err;
	int rc = describe(n, &rq, &err);

	if (rc > 0)
		return;
	if (rc < 0) {
		printf("  request: cannot be built: %s\n", err.msg);
		return;
	}
	printf("  request: %s %s\n", rq.method, rq.url);
	if (rq.key_header)
		printf("    %s%s%s%s\n", rq.key_header,
		       n->engine && n->engine->key_env ? " (the key from $" : "",
		       n->engine && n->engine->key_env ? n->engine->key_env : "",
		       n->engine && n->engine->key_env ? ")" : "");
	printf("    %s\n", rq.body);
	if (!n->keyed && !n->seed_fixed)
		printf("    (its seed is derived from its key, known once %s is picked)\n",
		       n->waits_on ? n->waits_on->id : "its input");
	if (n->candidates > 1)
		printf("    (candidate 1 of %d; candidate i sends seed + i - 1)\n",
		       n->candidates);
	engine_request_release(&rq);
}

/* ---- explain of a training: what the lock says trained its LoRA ---- */

/* An object of the store as JSON (the cache is not trusted: anything
 * that does not parse is NULL). Caller json_decrefs. */
static json_t *
object_json(const struct session *s, const struct hash *h)
{
	char *path = store_object_path(&s->store, h), *text = NULL;
	size_t len = 0;
	json_t *j = NULL;

	if (read_file(path, &text, &len, NULL) == 0)
		j = json_loadb(text, len, 0, NULL);
	free(text);
	free(path);
	return j;
}

/* A package's manifest.json is at most this big (it comes from the cache) */
#define MANIFEST_MAX (64u << 20)

/* The manifest.json bytes of the package tree at h onto out: its own
 * entry (folder layouts) or the ZIP's (fal-zip). 0, or -1. */
static int
tree_manifest(const struct session *s, const struct hash *h, struct buf *out)
{
	char *path = store_object_path(&s->store, h), *text = NULL, *obj;
	struct tree_entry *v = NULL;
	size_t n = 0;
	int rc = -1;

	if (read_file(path, &text, NULL, NULL) == 0 && tree_parse(text, &v, &n) == 0)
		for (size_t i = 0; i < n && rc < 0; i++) {
			const char *dot = strrchr(v[i].path, '.');
			char *data = NULL;
			size_t len = 0;
			const char *slash = strrchr(v[i].path, '/');

			obj = store_object_path(&s->store, &v[i].obj);
			if (!strcmp(slash ? slash + 1 : v[i].path, "manifest.json")) {
				if (read_file(obj, &data, &len, NULL) == 0)
					rc = buf_add(out, data, len);
			} else if (dot && !strcmp(dot, ".zip")) {
				rc = pack_read_entry(obj, "manifest.json", out, NULL) == 0 ? 0 : -1;
			}
			free(data);
			free(obj);
		}
	tree_free(v, n);
	free(text);
	free(path);
	return rc;
}

/* A text of the cache's, on one line, its controls escaped. */
static void
print_clean(const char *before, const char *text, const char *after)
{
	struct buf b;

	buf_init(&b);
	text_clean_add(&b, text ? text : "", text ? strlen(text) : 0, NULL);
	printf("%s%s%s", before, b.data, after);
	buf_release(&b);
}

/* What the trainer was sent (the object trained= names). */
static void
explain_sent(const struct session *s, const struct lock_node *e)
{
	json_t *j = object_json(s, &e->sent);
	const char *url = json_string_value(json_object_get(j, "url"));
	char *input = json_dumps(json_object_get(j, "input"),
				 ENGINE_JSON_FLAGS | JSON_SORT_KEYS);
	char hex[HASH_HEX_LEN + 1];

	hash_hex(&e->sent, hex);
	if (!url || !input)
		printf("  sent: object %s is missing or damaged\n", hex);
	else {
		print_clean("  trainer: ", url, "\n");
		print_clean("  parameters: ", input, "\n");
	}
	free(input);
	json_decref(j);
}

/* Each image of the manifest, its node and hash, and its caption. */
static void
explain_files(json_t *files)
{
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f) {
		print_clean("    ", json_string_value(json_object_get(f, "image")), " ");
		print_clean("(", json_string_value(json_object_get(f, "node")), "), image ");
		print_clean("", json_string_value(json_object_get(f, "image_xxh128")), "\n");
		print_clean("      caption: ", json_string_value(json_object_get(f, "caption")),
			    "\n");
	}
}

/* The package it read: its key, the manifest's hash, images, captions. */
static void
explain_package(const struct session *s, const struct lock_node *e)
{
	char hex[HASH_HEX_LEN + 1];
	struct hash mh;
	struct buf b;
	json_t *m = NULL, *files;

	hash_hex(&e->package, hex);
	buf_init(&b);
	b.max = MANIFEST_MAX;
	if (tree_manifest(s, &e->package, &b) < 0 ||
	    !(m = json_loadb(b.data, b.len, 0, NULL))) {
		printf("  package: tree %s, its manifest is not in the cache\n", hex);
		buf_release(&b);
		return;
	}
	mh = hash_bytes(b.data, b.len);
	buf_release(&b);
	files = json_object_get(m, "files");
	print_clean("  package: key ", json_string_value(json_object_get(m, "key")), "");
	printf(", tree %s\n", hex);
	hash_hex(&mh, hex);
	printf("  manifest.json %s: %zu images\n", hex, json_array_size(files));
	explain_files(files);
	json_decref(m);
}

/*
 * A training's provenance from the lock, not from the recipe as it is
 * now: the request, its cost, the LoRA file, what was sent, and the
 * package it read (seed 002: which images, which captions).
 */
static void
explain_training(const struct session *s, const struct node *n)
{
	const struct lock_node *e = lock_find(&s->lock, n->id, &n->key);
	const struct trainer *t = node_trainer(n);
	char hex[HASH_HEX_LEN + 1];

	if (!e) {
		printf("  trained: never (no line in %s)\n", s->lock_path);
		return;
	}
	hash_hex(&e->key, hex);
	printf("  trained (%s): key %s%s\n", s->lock_path, hex,
	       hash_eq(&e->key, &n->key) ? "" : ", not the recipe's now");
	printf("    request %s, $%.2f\n", e->request ? e->request : "-", e->usd);
	for (size_t i = 0; i < e->nouts; i++) {
		hash_hex(&e->outs[i], hex);
		if (t && t->nfiles > 1 && e->nouts == (size_t)t->nfiles)
			printf("    LoRA file %s (%s)\n", hex, t->files[i].name);
		else
			printf("    LoRA file %s\n", hex);
	}
	if (!e->trained) {
		printf("  what it read and sent is not in the lock\n");
		return;
	}
	explain_sent(s, e);
	explain_package(s, e);
}

int
cmd_explain(const struct cli *cli)
{
	struct session s;
	const struct node *n;
	const struct status *st;
	const struct failure *fail;
	char hex[HASH_HEX_LEN + 1], eng[160];
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	n = dag_find(s.dag, cli->args[0]);
	if (!n && !strcmp(cli->args[0], "train"))
		n = s.dag->train; /* the target's name for its node */
	if (!n) {
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
	if ((fail = session_failure(&s, n)))
		printf("  failed when last tried: %s\n", fail->why);
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
	if (n->env)
		printf("  environment: %s, %s%s\n", n->env->place,
		       n->env->light ? n->env->light : "",
		       n->env_moved ? " (reassigned to balance a new entry)" : "");
	explain_inputs(&s, n);
	explain_request(n);
	if (n->kind == KIND_TRAIN)
		explain_training(&s, n);
	session_close(&s);
	return EXIT_OK;
}

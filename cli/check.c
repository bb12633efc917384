/*
 * check: judge the packaged set against the dataset rules.
 *
 *   loramake check [--json] [OPTIONS] RECIPE
 *
 * The set is the package's selected inputs (every dataset image with
 * select: all; those a person picked with select: picked). Its pixels are
 * what the last build made: the outputs of each node's key when cached,
 * else the outputs the lock records for the node (a build with other
 * options, such as --engine preview, or of an older recipe), so check
 * needs no options to find a preview build. Images made by the preview
 * engine are marked as placeholders (the lock's engine facet says so).
 * Rules on the recipe's words (framing, angles, expressions, wardrobe,
 * backgrounds, captions, trigger, prompts) need nothing built; rules on
 * pixels (resolution, duplicates) warn about images not built yet, so
 * check can run before money is spent. What is measured of an image
 * (sides, dHash) is cached by its bytes' hash (cache/facts.h), so a check
 * after a one-image edit decodes one image.
 * Exit 1 when a rule fails, else 0 (2: bad recipe or usage).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/path.h"
#include "cache/facts.h"
#include "cli.h"
#include "compiler/caption.h"
#include "quality/check.h"
#include "runtime/image.h"

/* Everything check_run needs, gathered from a session; owns its arrays. */
struct gathered {
	struct check_image *v;
	size_t n;
	struct check_prompt *prompts;
	size_t nprompts;
	struct lint *lint;
	struct facts facts;   /* measurements by image hash (cache/facts.h) */
	size_t measured;      /* images decoded by this check */
	size_t known;         /* images whose facts were cached */
	int size, width, height; /* the package's sides (check_input) */
	bool package_built;
	size_t earlier;       /* images made with other keys than this plan's */
	const char *why;      /* how the first of them differs: "engine changed" */
	char **texts;         /* captions read from the cache (vision ones) */
	size_t ntexts;
	struct check_verdict *verdicts; /* the identity gate's, per gated image */
	size_t nverdicts;
};

/* Are all of a lock entry's outputs in the store? */
static bool
lock_outputs_stored(const struct session *s, const struct lock_node *e)
{
	for (size_t i = 0; e && i < e->nouts; i++)
		if (!store_has(&s->store, &e->outs[i]))
			return false;
	return e && e->nouts > 0;
}

/*
 * What the last build made for n: the outputs of n's key when cached,
 * else those the lock records for n's id (a build with other options,
 * --engine preview, or of an older recipe), when they are still in the
 * store. Sets *earlier in the second case.
 */
static const struct hash *
last_outputs(const struct session *s, const struct node *n, size_t *nouts,
	     bool *earlier)
{
	const struct status *st = &s->st[n->idx];

	*earlier = false;
	*nouts = 0;
	if (st->state == STATE_CACHED && st->action) {
		*nouts = st->action->nouts;
		return st->action->outs;
	}
	if (!lock_outputs_stored(s, st->was))
		return NULL;
	*earlier = st->state != STATE_CACHED;
	*nouts = st->was->nouts;
	return st->was->outs;
}

/* The cached file of n's picked output, or NULL; *h the hash of its
 * bytes. Caller frees. */
static char *
output_path(const struct session *s, const struct node *n, struct hash *h,
	    bool *earlier)
{
	size_t nouts;
	const struct hash *outs = last_outputs(s, n, &nouts, earlier);
	int pick = node_pick(n, s->dag->picks);

	if (n->file) {
		*h = n->file_hash;
		return xstrdup(n->file);
	}
	if (!outs || pick < 1 || (size_t)pick > nouts)
		return NULL;
	*h = outs[pick - 1];
	return store_object_path(&s->store, h);
}

/*
 * Was n made by the preview engine, or from an image that was? The lock
 * entry's engine facet says which engine made what it records, whatever
 * options this check runs with.
 */
static bool
placeholder(const struct session *s, const struct node *n)
{
	const struct lock_node *e = s->st[n->idx].was;
	struct hash preview = key_engine_facet("preview");

	if (e ? e->facets[FACET_ENGINE] == lock_facet(&preview)
	      : s->st[n->idx].state == STATE_CACHED &&
			strcmp(n->engine_type, "preview") == 0)
		return true;
	for (size_t i = 0; i < n->nin; i++)
		if (placeholder(s, n->in[i]))
			return true;
	return false;
}

/*
 * The sides and dHash of the image at path, whose bytes hash to h: from
 * the facts of an earlier check, else decoded and learned. false (warned)
 * when it is broken.
 */
static bool
image_facts_of(const struct node *n, const char *path, const struct hash *h,
	       struct gathered *g, struct image_facts *v)
{
	const struct image_facts *known = facts_get(&g->facts, h);
	struct error err;

	if (known) {
		*v = *known;
		g->known++;
		return true;
	}
	if (image_probe(path, &v->w, &v->h, &err) < 0 ||
	    image_dhash(path, &v->dhash, &err) < 0) {
		warn("%s: %s", n->id, err.msg);
		return false;
	}
	g->measured++;
	facts_put(&g->facts, h, v);
	return true;
}

/* Measure one image: sides and dHash. A broken file counts as unbuilt. */
static void
measure(const struct session *s, const struct node *n, struct check_image *ci,
	struct gathered *g)
{
	struct image_facts v;
	struct hash h;
	bool earlier;
	char *path = output_path(s, n, &h, &earlier);

	if (!path)
		return;
	if (image_facts_of(n, path, &h, g, &v)) {
		ci->built = true;
		ci->w = v.w;
		ci->h = v.h;
		ci->dhash = v.dhash;
	}
	free(path);
	ci->placeholder = ci->built && placeholder(s, n);
	if (ci->built && earlier && !g->earlier++)
		g->why = s->st[n->idx].reason;
}

/* The caption file the last build wrote for caption node c, or NULL
 * (not built, unreadable, or more than a caption could be). */
static const char *
built_caption(const struct session *s, const struct node *c, struct gathered *g)
{
	struct hash h;
	bool earlier;
	char *path = output_path(s, c, &h, &earlier), *text = NULL;
	struct stat st;
	struct error err;

	if (path && stat(path, &st) == 0 && st.st_size <= 65536 &&
	    read_file(path, &text, NULL, &err) == 0)
		g->texts[g->ntexts++] = text;
	free(path);
	return text;
}

/* img's caption: the recipe's, or what a vision caption's build wrote. */
static const char *
caption_of(const struct session *s, const struct node *img, struct gathered *g)
{
	char *id = xasprintf("caption/%s", img->suffix[0] ? img->suffix : img->id);
	const struct node *c = dag_find(s->dag, id);

	free(id);
	if (c && c->nin) /* written from the answers when it ran */
		return built_caption(s, c, g);
	return c ? c->caption : NULL;
}

/* The dataset images: the package's selected inputs, else every leaf. */
static void
gather_images(const struct session *s, struct gathered *g)
{
	const struct dag *dag = s->dag;
	const struct node *pkg = dag->package;

	g->v = xcalloc(dag->nnodes + 1, sizeof(*g->v));
	g->texts = xcalloc(dag->nnodes + 1, sizeof(*g->texts));
	for (size_t i = 0; i < dag->nnodes; i++) {
		const struct node *n = dag->nodes[i];
		struct check_image *ci = &g->v[g->n];

		if (!n->leaf || (pkg && !dag_selected(pkg, n, dag->picks)))
			continue;
		g->n++;
		ci->id = n->id;
		memcpy(ci->attrs, n->attrs, sizeof(ci->attrs));
		ci->caption = caption_of(s, n, g);
		if (pkg) {
			struct sides sd = dag_package_sides(pkg, n);

			ci->pw = sd.w;
			ci->ph = sd.h;
		}
		measure(s, n, ci, g);
	}
}

/* The identity gate's verdicts from the lock (gate lines), one per
 * gated image, whether it is in the package or not. */
static void
gather_verdicts(const struct session *s, struct gathered *g)
{
	const struct dag *dag = s->dag;
	struct verdict v;

	g->verdicts = xcalloc(dag->nnodes + 1, sizeof(*g->verdicts));
	for (size_t i = 0; i < dag->nnodes; i++) {
		const struct node *n = dag->nodes[i];
		struct check_verdict *cv = &g->verdicts[g->nverdicts];

		if (n->kind != KIND_GATE)
			continue;
		g->nverdicts++;
		cv->id = n->subject->id;
		cv->kept = gate_kept(dag->picks, n->subject);
		if (picks_verdict(dag->picks, n->subject, &v))
			*cv = (struct check_verdict){ cv->id, true, v.score, v.failed,
						      cv->kept, v.reasons };
	}
}

static void
gather_prompts(const struct dag *dag, struct gathered *g)
{
	g->prompts = xcalloc(dag->nnodes + 1, sizeof(*g->prompts));
	for (size_t i = 0; i < dag->nnodes; i++) {
		const struct node *n = dag->nodes[i];

		if (n->prompt && node_has_job(n))
			g->prompts[g->nprompts++] = (struct check_prompt){ n->id,
									   n->prompt };
	}
}

/* .loramake/facts, when there is a cache (check creates none). */
static char *
facts_path(const struct session *s)
{
	return path_exists(s->store.root) ? path_join(s->store.root, "facts") : NULL;
}

static void
load_facts(const struct session *s, struct gathered *g)
{
	char *path = facts_path(s);
	struct error err;

	if (facts_load(&g->facts, path, &err) < 0)
		warn("%s; every image is decoded", err.msg);
	free(path);
}

/* Keep what this check learned; a failure costs only the next check's time. */
static void
save_facts(struct gathered *g)
{
	struct error err;

	if (g->measured && facts_save(&g->facts, &err) < 0)
		warn("%s", err.msg);
}

static int
gather(const struct session *s, struct gathered *g)
{
	const struct recipe *r = &s->dag->recipe;
	const struct caption_profile *p = caption_profile(r->target);
	struct lint_opts lo;
	const struct node *pkg = s->dag->package;
	struct error err;

	memset(g, 0, sizeof(*g));
	lint_opts_of(r, &lo);
	if (!(g->lint = lint_new(&lo, &err))) {
		warn("%s", err.msg);
		return -1;
	}
	if (pkg) {
		struct sides base = dag_package_base(pkg);

		g->size = base.w;
		g->width = base.w != base.h ? base.w : 0;
		g->height = base.w != base.h ? base.h : 0;
	} else {
		g->size = p->size;
	}
	g->package_built = pkg && (s->st[pkg->idx].state == STATE_CACHED ||
				   lock_outputs_stored(s, s->st[pkg->idx].was));
	load_facts(s, g);
	gather_images(s, g);
	save_facts(g);
	gather_prompts(s->dag, g);
	gather_verdicts(s, g);
	return 0;
}

static void
gathered_release(struct gathered *g)
{
	for (size_t i = 0; i < g->ntexts; i++)
		free(g->texts[i]);
	free(g->texts);
	free(g->verdicts);
	free(g->v);
	free(g->prompts);
	lint_free(g->lint);
	facts_release(&g->facts);
}

static void
print_text(const struct session *s, const struct gathered *g,
	   const struct check_report *rep)
{
	const struct recipe *r = &s->dag->recipe;
	const struct caption_profile *p = caption_profile(r->target);
	const struct section *ps = &r->sec[KIND_PACKAGE];

	printf("check %s: %s (%s), %zu images, package %s%s\n", r->name,
	       p->target, p->label, g->n, ps->format ? ps->format : "fal-zip",
	       !s->dag->package ? " (none)" : g->package_built ? ""
								: " (not built yet)");
	if (s->cli->verbose)
		printf("  (%zu image%s decoded, %zu measured before: .loramake/facts)\n",
		       g->measured, g->measured == 1 ? "" : "s", g->known);
	if (g->earlier)
		printf("  (the images are the last build's: %zu of %zu differ from "
		       "what this plan would build: %s)\n", g->earlier, g->n,
		       g->why);
	for (size_t i = 0; i < rep->n; i++) {
		const struct check_result *c = &rep->v[i];
		size_t shown = s->cli->verbose ? c->ndetails : 5;

		printf("  %s  %-12s %s\n", check_status_name(c->status), c->rule,
		       c->figure);
		if (c->status != CHECK_PASS && c->advice[0])
			printf("        -> %s\n", c->advice);
		for (size_t j = 0; c->status != CHECK_PASS && j < c->ndetails &&
				   j < shown; j++)
			printf("           %s\n", c->details[j]);
		if (c->status != CHECK_PASS && c->ndetails > shown)
			printf("           ... %zu more (-v shows all)\n",
			       c->ndetails - shown);
	}
	printf("check: %u pass, %u warn, %u fail\n", rep->count[CHECK_PASS],
	       rep->count[CHECK_WARN], rep->count[CHECK_FAIL]);
}

/* The report as JSON text (check --json, the review page). Caller frees. */
static char *
report_json(const struct session *s, const struct gathered *g,
	    const struct check_report *rep)
{
	const struct recipe *r = &s->dag->recipe;
	json_t *root = json_object(), *rules = json_array();
	char *text;

	for (size_t i = 0; i < rep->n; i++) {
		const struct check_result *c = &rep->v[i];
		json_t *o = json_object(), *d = json_array();

		for (size_t j = 0; j < c->ndetails; j++)
			json_array_append_new(d, json_string(c->details[j]));
		json_object_set_new(o, "rule", json_string(c->rule));
		json_object_set_new(o, "status", json_string(check_status_name(c->status)));
		json_object_set_new(o, "figure", json_string(c->figure));
		json_object_set_new(o, "advice", json_string(c->advice));
		json_object_set_new(o, "details", d);
		json_array_append_new(rules, o);
	}
	json_object_set_new(root, "recipe", json_string(r->name));
	json_object_set_new(root, "target", json_string(r->target));
	json_object_set_new(root, "images", json_integer((json_int_t)g->n));
	json_object_set_new(root, "package_built", json_boolean(g->package_built));
	json_object_set_new(root, "earlier_keys", json_integer((json_int_t)g->earlier));
	json_object_set_new(root, "rules", rules);
	json_object_set_new(root, "pass", json_integer(rep->count[CHECK_PASS]));
	json_object_set_new(root, "warn", json_integer(rep->count[CHECK_WARN]));
	json_object_set_new(root, "fail", json_integer(rep->count[CHECK_FAIL]));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		fatal(EXIT_FAILED, "out of memory");
	return text;
}

/* Run every rule on the session's set into *rep. -1 if it cannot start. */
static int
judge(const struct session *s, struct gathered *g, struct check_report *rep)
{
	struct check_input in;

	if (gather(s, g) < 0)
		return -1;
	in = (struct check_input){ .profile = caption_profile(s->dag->recipe.target),
				   .size = g->size, .width = g->width,
				   .height = g->height, .v = g->v, .n = g->n,
				   .prompts = g->prompts, .nprompts = g->nprompts,
				   .lint = g->lint, .mix = s->dag->recipe.mix,
				   .nmix = s->dag->recipe.nmix,
				   .verdicts = g->verdicts, .nverdicts = g->nverdicts,
				   .gate_min = recipe_gate_min(&s->dag->recipe) };
	check_run(&in, rep);
	return 0;
}

int
cmd_check(const struct cli *cli)
{
	struct session s;
	struct gathered g;
	struct check_report rep;
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	if (judge(&s, &g, &rep) < 0) {
		session_close(&s);
		return EXIT_FAILED;
	}
	if (cli->json) {
		char *text = report_json(&s, &g, &rep);

		printf("%s\n", text);
		free(text);
	} else
		print_text(&s, &g, &rep);
	rc = rep.count[CHECK_FAIL] ? EXIT_FAILED : EXIT_OK;
	check_report_release(&rep);
	gathered_release(&g);
	session_close(&s);
	return rc;
}

char *
check_json(const struct session *s)
{
	struct gathered g;
	struct check_report rep;
	char *text;

	if (judge(s, &g, &rep) < 0)
		return NULL;
	text = report_json(s, &g, &rep);
	check_report_release(&rep);
	gathered_release(&g);
	return text;
}

void
check_after_build(const struct session *s)
{
	struct gathered g;
	struct check_report rep;
	char fails[256] = "";

	if (judge(s, &g, &rep) < 0)
		return;
	for (size_t i = 0; i < rep.n; i++)
		if (rep.v[i].status == CHECK_FAIL)
			snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails),
				 "%s%s", *fails ? ", " : " (", rep.v[i].rule);
	/* no --engine: check finds what this build made through the lock;
	 * --pick first is not recorded there, so it is named */
	printf("check: %u pass, %u warn, %u fail%s%s; see loramake check%s %s\n",
	       rep.count[CHECK_PASS], rep.count[CHECK_WARN],
	       rep.count[CHECK_FAIL], fails, *fails ? ")" : "",
	       s->cli->pick_first ? " --pick first" : "", s->cli->recipe);
	check_report_release(&rep);
	gathered_release(&g);
}

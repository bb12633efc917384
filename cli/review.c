/*
 * review: a local web page to see, pick, reroll and cull a dataset.
 *
 *   loramake review RECIPE [--port N] [--no-open]   serve it on 127.0.0.1
 *   loramake review RECIPE --html DIR              write it as static files
 *
 * The page (cli/review/page.html, built into the binary) asks this server
 * for the state of the recipe as JSON and for images by object hash; the
 * server (runtime/httpd.c) admits only requests with the token and the
 * loopback Host, and changes the lock only on a POST with the token in a
 * header. Every decision goes through the code of `loramake pick` and
 * `loramake reroll` (pick_apply, reroll_apply), so it takes the build
 * lock and is a line of recipe.lock like theirs.
 *
 * The state is the session of the recipe (compile + lock + cache +
 * status), opened again whenever the recipe, the lock or the action log
 * changed on disk: a build in another terminal shows up at the page's
 * next poll. Thumbnails are cached steps like a package's normalised
 * images (runtime/normalise.h), objects in the store.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/imgtype.h"
#include "base/path.h"
#include "cli.h"
#include "runtime/httpd.h"
#include "runtime/normalise.h"

extern char **environ;

/* The page, built in from cli/review/page.html (cli/review_page.c). */
extern const char review_page[];
extern const char review_page_end[];

/* The longest side of a thumbnail: a grid cell at 2x. */
#define THUMB_SIDE 256
/* Lines of one check rule the page is sent: a set of look-alike
 * placeholders has a pair for every two images (500,000 for 1,000). */
#define CHECK_MAX_DETAILS 200
/* What a change of is news to the page: the recipe, the lock, the
 * action log and the failures file. */
#define MARKS 4
/* Where the page's state goes in the static (--html) page. */
#define STATE_MARK "<!--STATE-->"

/* What a file looked like when the session was opened. */
struct file_mark {
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* A thumbnail made or found: the key of its table lives here. */
struct thumb {
	char src[HASH_HEX_LEN + 1];
	struct hash obj;
};

/* A decision the page made, so that u can take it back. */
struct decision {
	char *id;
	bool reroll;     /* else a pick */
	int before;      /* a pick: the candidate before (0: none) */
};

struct review {
	const struct cli *cli;
	struct session *s;         /* heap: its dag points into it */
	bool open;
	unsigned version;          /* bumped on every reload */
	struct file_mark marks[MARKS]; /* recipe, lock, action log, failures */
	char *state;               /* the state's JSON of this version */
	char *check;               /* check's report as JSON, of check_version */
	unsigned check_version;
	struct htab known;         /* object hex -> its hex (owned): the
				      objects the state shows, may be served */
	struct htab thumbs;        /* object hex -> struct thumb (owned) */
	struct store rw;           /* for thumbnails, opened when first needed */
	bool rw_open;
	struct decision *undo;
	size_t nundo, capundo;
	bool readonly;             /* --html: no actions */
};

static void
mark_of(const char *path, struct file_mark *m)
{
	struct stat st;

	memset(m, 0, sizeof(*m));
	if (stat(path, &st) == 0)
		*m = (struct file_mark){ st.st_ino, st.st_size, st.st_mtim };
}

static void
marks_now(const struct review *r, struct file_mark m[MARKS])
{
	const struct session *s = r->open ? r->s : NULL;
	const char *dir = s ? s->dag->dir : ".";
	char *actions = xasprintf("%s/.loramake/actions", dir);
	char *failures = xasprintf("%s/.loramake/failures", dir);

	mark_of(r->cli->recipe, &m[0]);
	mark_of(s ? s->lock_path : "", &m[1]);
	mark_of(actions, &m[2]);
	mark_of(failures, &m[3]); /* a build's failure is news at once */
	free(failures);
	free(actions);
}

/* ---- the state, as JSON ---- */

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void
known_add(struct review *r, const struct hash *h)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(h, hex);
	if (!htab_get(&r->known, hex, HASH_HEX_LEN)) {
		char *own = xstrdup(hex);

		htab_put(&r->known, own, HASH_HEX_LEN, own);
	}
}

/* Free every value of t (which own their keys) and empty it. */
static void
htab_free_all(struct htab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key)
			free(t->slots[i].value);
	htab_release(t);
	htab_init(t);
}

/* The images of n to show: its key's outputs when cached, else what the
 * lock says the last build made (all in the store), else none. */
static const struct hash *
outs_of(const struct session *s, const struct node *n, size_t *nouts,
	bool *earlier)
{
	const struct status *st = &s->st[n->idx];
	const struct hash *v = status_outs(st, nouts);

	*earlier = false;
	if (v && *nouts)
		return v;
	if (!st->was || !st->was->nouts)
		return NULL;
	for (size_t i = 0; i < st->was->nouts; i++)
		if (!store_has(&s->store, &st->was->outs[i]))
			return NULL;
	*earlier = true;
	*nouts = st->was->nouts;
	return st->was->outs;
}

/* built / new / stale / waiting / input, or failed (its last try did,
 * and it is not built since): the page's words for a state. */
static const char *
shown_state(const struct status *st, const struct failure *fail)
{
	if (fail)
		return "failed";
	return st->state == STATE_CACHED ? "built" : state_name(st->state);
}

static const char *const attr_names[ATTR_COUNT] = {
	[ATTR_ANGLE] = "angle", [ATTR_FRAMING] = "framing",
	[ATTR_EXPRESSION] = "expression", [ATTR_PLACE] = "place",
	[ATTR_LIGHT] = "light", [ATTR_POSE] = "pose",
	[ATTR_WARDROBE] = "wardrobe",
};

/* The identity gate's verdict on n as it is now (its key), or null:
 * none, or one about an earlier image of that id (docs/vision.md). */
static json_t *
gate_json(const struct picks *p, const struct node *n)
{
	struct verdict v;

	if (!n->image || !picks_verdict(p, n, &v))
		return json_null();
	return json_pack("{s:b, s:f, s:s}", "failed", v.failed, "score", v.score,
			 "reasons", v.reasons ? v.reasons : "");
}

static json_t *
node_json(struct review *r, const struct node *n, const char *caption)
{
	const struct session *s = r->s;
	const struct picks *p = &s->lock.picks;
	json_t *o = json_object(), *outs = json_array(), *in = json_array(),
	       *attrs = json_object();
	size_t nouts, below;
	bool earlier;
	const struct hash *v = outs_of(s, n, &nouts, &earlier);
	int pick = (int)(uintptr_t)htab_get(&p->byid, n->id, strlen(n->id));
	double reroll_usd = 0;
	char hex[HASH_HEX_LEN + 1];
	const struct failure *fail = session_failure(s, n);

	for (size_t i = 0; i < nouts; i++) {
		hash_hex(&v[i], hex);
		json_array_append_new(outs, json_string(hex));
		known_add(r, &v[i]);
	}
	for (size_t i = 0; i < n->nin; i++)
		if (n->in[i]->image)
			json_array_append_new(in, json_string(n->in[i]->id));
	for (int a = 0; a < ATTR_COUNT; a++)
		if (n->attrs[a])
			json_object_set_new(attrs, attr_names[a], json_string(n->attrs[a]));
	below = node_rerollable(n) ? reroll_cost(s->dag, n, &reroll_usd) : 0;
	json_object_set_new(o, "id", json_string(n->id));
	json_object_set_new(o, "kind", json_string(kind_name(n->kind)));
	json_object_set_new(o, "item", jstr(n->item));
	json_object_set_new(o, "engine", jstr(n->engine_type));
	json_object_set_new(o, "state", json_string(shown_state(&s->st[n->idx], fail)));
	json_object_set_new(o, "failed", jstr(fail ? fail->why : NULL));
	json_object_set_new(o, "gate", gate_json(p, n));
	json_object_set_new(o, "reason", json_string(s->st[n->idx].reason));
	json_object_set_new(o, "earlier", json_boolean(earlier));
	json_object_set_new(o, "usd", json_real(n->usd));
	json_object_set_new(o, "spent_usd", json_real(s->st[n->idx].was ? s->st[n->idx].was->usd : 0));
	json_object_set_new(o, "candidates", json_integer(n->candidates));
	json_object_set_new(o, "pick", json_integer(pick));
	json_object_set_new(o, "rerolls", json_integer(picks_reroll(p, n->id)));
	json_object_set_new(o, "rerollable", json_boolean(node_rerollable(n)));
	json_object_set_new(o, "reroll_nodes", json_integer((json_int_t)below));
	json_object_set_new(o, "reroll_usd", json_real(reroll_usd));
	json_object_set_new(o, "leaf", json_boolean(n->leaf));
	json_object_set_new(o, "selected", json_boolean(s->dag->package && n->leaf &&
		dag_selected(s->dag->package, n, p)));
	json_object_set_new(o, "caption", jstr(caption));
	json_object_set_new(o, "prompt", jstr(n->prompt));
	json_object_set_new(o, "outs", outs);
	json_object_set_new(o, "in", in);
	json_object_set_new(o, "attrs", attrs);
	return o;
}

/* done / total, spend and what is left, for the status line. */
static json_t *
totals_json(const struct session *s)
{
	struct bill b;
	struct verdict v;
	size_t images = 0, built = 0, failed = 0, gate_failed = 0;
	double spent = 0, left_s = 0;

	session_bill(s, &b);
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *n = s->dag->nodes[i];
		const struct status *st = &s->st[i];

		if (st->was)
			spent += st->was->usd;
		if (!n->image || !node_has_job(n))
			continue;
		images++;
		built += st->state == STATE_CACHED;
		failed += session_failure(s, n) != NULL;
		gate_failed += picks_verdict(&s->lock.picks, n, &v) && v.failed;
		if (st->state == STATE_NEW || st->state == STATE_STALE)
			left_s += n->seconds;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f}",
			 "images", (json_int_t)images, "built", (json_int_t)built,
			 "failed", (json_int_t)failed,
			 "gate_failed", (json_int_t)gate_failed,
			 "waiting", (json_int_t)b.waiting, "spent_usd", spent,
			 "to_run_usd", b.usd, "waiting_usd", b.waiting_usd,
			 "eta_s", left_s / (session_jobs(s) > 0 ? session_jobs(s) : 1));
}

/* The whole state, as the page reads it. Caller frees. */
static char *
state_json(struct review *r)
{
	const struct dag *dag = r->s->dag;
	const char **captions = xcalloc(dag->nnodes + 1, sizeof(*captions));
	json_t *root = json_object(), *nodes = json_array();
	char *text;

	for (size_t i = 0; i < dag->nnodes; i++)
		if (dag->nodes[i]->subject)
			captions[dag->nodes[i]->subject->idx] = dag->nodes[i]->caption;
	for (size_t i = 0; i < dag->nnodes; i++)
		if (dag->nodes[i]->image)
			json_array_append_new(nodes, node_json(r, dag->nodes[i], captions[i]));
	json_object_set_new(root, "version", json_integer(r->version));
	json_object_set_new(root, "recipe", json_string(dag->recipe.name));
	json_object_set_new(root, "readonly", json_boolean(r->readonly));
	json_object_set_new(root, "can_undo", json_boolean(r->nundo > 0));
	json_object_set_new(root, "totals", totals_json(r->s));
	json_object_set_new(root, "nodes", nodes);
	/* JSON_ESCAPE_SLASH: "</script>" in a caption cannot end the static
	 * page's script element */
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ESCAPE_SLASH);
	json_decref(root);
	free(captions);
	if (!text)
		fatal(EXIT_FAILED, "out of memory");
	return text;
}

/* check's report, as the page reads it: each rule's details cut at
 * CHECK_MAX_DETAILS ("more": how many were left out); null when check
 * could not run (it said why). */
static json_t *
check_report(struct review *r)
{
	char *text = check_json(r->s);
	json_t *rep = text ? json_loads(text, 0, NULL) : NULL, *rule;
	size_t i;

	free(text);
	if (!rep)
		return json_null();
	json_array_foreach(json_object_get(rep, "rules"), i, rule) {
		json_t *d = json_object_get(rule, "details");
		size_t n = json_array_size(d);

		while (json_array_size(d) > CHECK_MAX_DETAILS)
			json_array_remove(d, json_array_size(d) - 1);
		json_object_set_new(rule, "more", json_integer((json_int_t)(n - json_array_size(d))));
	}
	return rep;
}

/* ---- the session, kept up to date ---- */

/* Open the session again if the recipe, the lock or the log changed (or
 * force). A recipe that no longer compiles keeps the last good state. */
static void
refresh(struct review *r, bool force)
{
	struct file_mark now[MARKS];
	struct session *fresh;

	marks_now(r, now);
	if (r->open && !force && !memcmp(now, r->marks, sizeof(now)))
		return;
	/* not opened in place: the last good state stays if this fails */
	fresh = xmalloc(sizeof(*fresh));
	if (session_open(fresh, r->cli) != EXIT_OK) {
		free(fresh);
		warn("review: %s does not compile now; showing it as it was",
		     r->cli->recipe);
		memcpy(r->marks, now, sizeof(now));
		return;
	}
	if (r->open) {
		session_close(r->s);
		free(r->s);
	}
	r->s = fresh;
	r->open = true;
	r->version++;
	marks_now(r, r->marks);
	htab_free_all(&r->known);
	free(r->state);
	r->state = state_json(r);
}

/* ---- thumbnails ---- */

static struct store *
rw_store(struct review *r, struct error *err)
{
	if (!r->rw_open) {
		if (store_open(&r->rw, r->s->dag->dir, true, err) < 0)
			return NULL;
		r->rw_open = true;
	}
	return &r->rw;
}

/* The thumbnail of object src into *out: cached in the log and the store
 * like a normalised image, made once. -1 with err. */
static int
thumb_of(struct review *r, const struct hash *src, struct hash *out,
	 struct error *err)
{
	struct norm_spec spec = { .width = THUMB_SIDE, .height = THUMB_SIDE,
				  .crop = IMAGE_CROP_NONE };
	struct hash key = norm_key(src, &spec);
	char hex[HASH_HEX_LEN + 1];
	struct thumb *seen;
	struct store *st;
	char *in, *actions;
	int rc;

	hash_hex(src, hex);
	if ((seen = htab_get(&r->thumbs, hex, HASH_HEX_LEN))) {
		*out = seen->obj;
		return 0;
	}
	if (!norm_cached(&r->s->acts, &r->s->store, &key, out)) {
		if (!(st = rw_store(r, err)))
			return -1;
		struct file_mark before;

		in = store_object_path(&r->s->store, src);
		actions = xasprintf("%s/actions", st->root);
		mark_of(actions, &before);
		/* a build that starts meanwhile empties .loramake/tmp/ (its
		 * store_clean_tmp) and may take the temp: once more, then */
		if ((rc = norm_make(st, actions, in, &spec, &key, out, err)) < 0)
			rc = norm_make(st, actions, in, &spec, &key, out, err);
		/* our own line in the log is no news: the state is the same
		 * (a build's line written meanwhile is seen at its next one) */
		if (rc == 0 && !memcmp(&before, &r->marks[2], sizeof(before)))
			mark_of(actions, &r->marks[2]);
		free(actions);
		free(in);
		if (rc < 0)
			return -1;
	}
	seen = xmalloc(sizeof(*seen));
	memcpy(seen->src, hex, sizeof(hex));
	seen->obj = *out;
	htab_put(&r->thumbs, seen->src, HASH_HEX_LEN, seen);
	return 0;
}

/* ---- answers ---- */

/* Send object h from the store, with its image type. */
static void
send_object(struct review *r, const struct hash *h, struct httpd_answer *a)
{
	char *path = store_object_path(&r->s->store, h);
	char head[IMGTYPE_HEAD];
	struct error err;
	struct stat st;
	const char *type;
	int fd = path_open(path, O_RDONLY, 0, &err);
	ssize_t got;

	free(path);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		httpd_text(a, 404, "the object is not in the cache\n");
		return;
	}
	got = pread(fd, head, sizeof(head), 0);
	if (!(type = image_type(head, got > 0 ? (size_t)got : 0))) {
		close(fd);
		httpd_text(a, 415, "the object is not an image\n");
		return;
	}
	a->status = 200;
	a->type = type;
	a->fd = fd;
	a->fd_size = (uint64_t)st.st_size;
	a->immutable = true; /* named by its bytes */
}

/* The object the request names after prefix: 32 hex digits of an object
 * the state shows. Never a path: anything else is refused. */
static bool
object_named(struct review *r, const struct httpd_request *rq,
	     const char *prefix, struct hash *h, struct httpd_answer *a)
{
	const char *hex = rq->path + strlen(prefix);

	if (!httpd_is_hex32(hex) || !hash_parse(hex, h)) {
		httpd_text(a, 400, "images are named by their object hash "
			   "(32 hex digits), never by a path\n");
		return false;
	}
	if (!htab_get(&r->known, hex, HASH_HEX_LEN)) {
		httpd_text(a, 404, "no image of this recipe has that hash\n");
		return false;
	}
	return true;
}

static void
serve_object(struct review *r, const struct httpd_request *rq,
	     struct httpd_answer *a)
{
	struct hash h;

	if (object_named(r, rq, "/obj/", &h, a))
		send_object(r, &h, a);
}

static void
serve_thumb(struct review *r, const struct httpd_request *rq,
	    struct httpd_answer *a)
{
	struct hash h, t;
	struct error err;

	if (!object_named(r, rq, "/thumb/", &h, a))
		return;
	if (thumb_of(r, &h, &t, &err) < 0) {
		warn("review: cannot make a thumbnail of %s: %s", rq->path + 7, err.msg);
		httpd_text(a, 500, "cannot make the thumbnail: %s\n", err.msg);
		return;
	}
	send_object(r, &t, a);
}

static void
send_json(struct httpd_answer *a, char *text)
{
	a->status = 200;
	a->type = "application/json";
	a->body = text;
	a->len = strlen(text);
}

static void
serve_page(struct review *r, const struct httpd_request *rq,
	   struct httpd_answer *a)
{
	a->status = 200;
	a->type = "text/html; charset=utf-8";
	a->len = (size_t)(review_page_end - review_page);
	a->body = xmalloc(a->len + 1);
	memcpy(a->body, review_page, a->len);
}

/* GET /api/state[?since=V]: the state, or only {"version":V} when the
 * page has it already. */
static void
serve_state(struct review *r, const struct httpd_request *rq,
	    struct httpd_answer *a)
{
	const char *since = httpd_arg(rq, "since");
	int64_t v;

	refresh(r, false);
	if (since && parse_int64(since, &v) && v == r->version)
		send_json(a, xasprintf("{\"version\":%u}", r->version));
	else
		send_json(a, xstrdup(r->state));
}

/* GET /api/check: check's report on this version of the state. Apart
 * from the state: on a large set it takes seconds, and the page asks
 * only while it shows it. */
static void
serve_check(struct review *r, const struct httpd_request *rq,
	    struct httpd_answer *a)
{
	json_t *o;
	char *text;

	refresh(r, false);
	if (!r->check || r->check_version != r->version) {
		o = json_pack("{s:I, s:o}", "version", (json_int_t)r->version,
			      "check", check_report(r));
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ESCAPE_SLASH);
		json_decref(o);
		if (!text)
			fatal(EXIT_FAILED, "out of memory");
		free(r->check);
		r->check = text;
		r->check_version = r->version;
	}
	send_json(a, xstrdup(r->check));
}

/* The node the request's node= names, an image a person decides on. */
static const struct node *
node_named(struct review *r, const struct httpd_request *rq,
	   struct httpd_answer *a)
{
	const char *id = httpd_arg(rq, "node");
	const struct node *n = id ? dag_find(r->s->dag, id) : NULL;

	if (!n || !n->image || !node_has_job(n)) {
		httpd_text(a, 404, "node= must name a generated image of this recipe\n");
		return NULL;
	}
	return n;
}

static void
remember(struct review *r, const char *id, bool reroll, int before)
{
	LM_GROW(r->undo, r->nundo + 1, r->capundo);
	r->undo[r->nundo++] = (struct decision){ xstrdup(id), reroll, before };
}

static int
current_pick(const struct review *r, const struct node *n)
{
	const struct htab *t = &r->s->lock.picks.byid;

	return (int)(uintptr_t)htab_get(t, n->id, strlen(n->id));
}

/* The state after an action: read again from disk (the action wrote the
 * lock; a build may have too). */
static void
answer_done(struct review *r, int rc, struct httpd_answer *a)
{
	fflush(stdout);
	refresh(r, true);
	if (rc != EXIT_OK)
		httpd_text(a, 409, "the lock could not be changed (see the terminal)\n");
	else
		send_json(a, xstrdup(r->state));
}

static void
decide_pick(struct review *r, const struct node *n, int candidate,
	    struct httpd_answer *a)
{
	int before = current_pick(r, n);
	int rc = pick_apply(r->s, n, candidate);

	if (rc == EXIT_OK)
		remember(r, n->id, false, before);
	answer_done(r, rc, a);
}

/* POST /api/pick?node=ID&n=N: candidate N of a node with candidates. */
static void
act_pick(struct review *r, const struct httpd_request *rq,
	 struct httpd_answer *a)
{
	const struct node *n = node_named(r, rq, a);
	const char *v = httpd_arg(rq, "n");
	int64_t want;

	if (!n)
		return;
	if (!v || !parse_int64(v, &want) || want < 1 || want > n->candidates) {
		httpd_text(a, 400, "%s has %d candidate%s; n= must be 1 to %d\n", n->id,
			   n->candidates, n->candidates == 1 ? "" : "s", n->candidates);
		return;
	}
	decide_pick(r, n, (int)want, a);
}

/* POST /api/keep?node=ID: keep a one-candidate image for the package. */
static void
act_keep(struct review *r, const struct httpd_request *rq,
	 struct httpd_answer *a)
{
	const struct node *n = node_named(r, rq, a);

	if (!n)
		return;
	if (n->candidates > 1) {
		httpd_text(a, 400, "%s has %d candidates: pick one (1-9)\n", n->id,
			   n->candidates);
		return;
	}
	decide_pick(r, n, 1, a);
}

/* POST /api/drop?node=ID: forget the pick (or the keep) of a node. */
static void
act_drop(struct review *r, const struct httpd_request *rq,
	 struct httpd_answer *a)
{
	const struct node *n = node_named(r, rq, a);

	if (n)
		decide_pick(r, n, 0, a);
}

/* POST /api/reroll?node=ID: a new seed (the page showed the cost). */
static void
act_reroll(struct review *r, const struct httpd_request *rq,
	   struct httpd_answer *a)
{
	const struct node *n = node_named(r, rq, a);
	int rc;

	if (!n)
		return;
	if (!node_rerollable(n)) {
		httpd_text(a, 400, "%s is not an image a seed decides\n", n->id);
		return;
	}
	rc = reroll_apply(r->s, &n->id, 1, false);
	if (rc == EXIT_OK)
		remember(r, n->id, true, 0);
	answer_done(r, rc, a);
}

/* POST /api/undo: take the page's last decision back. */
static void
act_undo(struct review *r, const struct httpd_request *rq,
	 struct httpd_answer *a)
{
	struct decision d;
	const struct node *n;
	int rc;

	if (!r->nundo) {
		httpd_text(a, 409, "nothing to undo\n");
		return;
	}
	d = r->undo[--r->nundo];
	if (!(n = dag_find(r->s->dag, d.id)))
		rc = EXIT_USAGE; /* the recipe lost the node since */
	else if (d.reroll)
		rc = reroll_apply(r->s, &n->id, 1, true);
	else
		rc = pick_apply(r->s, n, d.before);
	free(d.id);
	answer_done(r, rc, a);
}

typedef void route_fn(struct review *, const struct httpd_request *,
		      struct httpd_answer *);

/* What the server answers: a path (or, ending in '/', its prefix) and
 * the one method it takes. */
static const struct route {
	const char *path;
	bool post;
	route_fn *fn;
} routes[] = {
	{ "/", false, serve_page },
	{ "/api/state", false, serve_state },
	{ "/api/check", false, serve_check },
	{ "/obj/", false, serve_object },
	{ "/thumb/", false, serve_thumb },
	{ "/api/pick", true, act_pick },
	{ "/api/keep", true, act_keep },
	{ "/api/drop", true, act_drop },
	{ "/api/reroll", true, act_reroll },
	{ "/api/undo", true, act_undo },
};

static bool
route_matches(const struct route *rt, const char *path)
{
	size_t len = strlen(rt->path);

	if (len > 1 && rt->path[len - 1] == '/')
		return !strncmp(path, rt->path, len);
	return !strcmp(path, rt->path);
}

static void
on_request(void *ctx, const struct httpd_request *rq, struct httpd_answer *a)
{
	struct review *r = ctx;

	for (size_t i = 0; i < LM_ARRAY_LEN(routes); i++) {
		const struct route *rt = &routes[i];

		if (!route_matches(rt, rq->path))
			continue;
		if (rt->post != rq->post)
			httpd_text(a, 405, rt->post ? "%s changes the lock: POST only\n"
						    : "%s is read with GET\n", rt->path);
		else
			rt->fn(r, rq, a);
		return;
	}
	httpd_text(a, 404, "no such page\n");
}

/* ---- --html DIR: the page as static files ---- */

/* The file name extension of an image type. */
static const char *
type_ext(const char *type)
{
	static const struct { const char *type, *ext; } exts[] = {
		{ "image/png", ".png" }, { "image/jpeg", ".jpg" },
		{ "image/webp", ".webp" }, { "image/gif", ".gif" },
	};

	for (size_t i = 0; type && i < LM_ARRAY_LEN(exts); i++)
		if (!strcmp(type, exts[i].type))
			return exts[i].ext;
	return "";
}

/* The file that marks DIR as a static review page loramake wrote. */
#define HTML_MARK ".loramake-review"

/* Is the folder dir empty? */
static bool
dir_empty(const char *dir, struct error *err)
{
	int fd = path_open_dir(dir, false, err);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	bool empty = d != NULL;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return empty;
}

/* May loramake write its page into dir: missing, empty, or its own? */
static int
html_dir_check(const char *dir, struct error *err)
{
	char *mark = path_join(dir, HTML_MARK);
	struct stat st;
	bool ours = path_lstat(mark, &st, err) == 0;

	free(mark);
	if (ours)
		return 0;
	if (path_lstat(dir, &st, err) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return error_set(err, "'%s' is not a folder", dir);
	if (!dir_empty(dir, err))
		return error_set(err, "'%s' holds files loramake did not write there "
				 "(no %s): give an empty or a new folder", dir, HTML_MARK);
	return 0;
}

/* Copy object h to dir/sub/NAME.EXT; its extension into *ext. */
static int
html_copy(struct review *r, const char *dir, const char *sub,
	  const struct hash *h, const char *name, const char **ext,
	  struct error *err)
{
	char *src = store_object_path(&r->s->store, h), *dst;
	const char *type = image_type_of(src, err);
	int rc;

	*ext = type_ext(type);
	dst = xasprintf("%s/%s/%s%s", dir, sub, name, *ext);
	rc = type ? copy_file_atomic(src, dst, err) : -1;
	free(src);
	free(dst);
	return rc;
}

/* Every image the state shows (obj/HEX.EXT) and its thumbnail
 * (thumb/HEX.png, named by the image) into dir; their extensions into
 * files (hex -> ".png"). */
static int
html_images(struct review *r, const char *dir, json_t *files, struct error *err)
{
	for (size_t i = 0; i < r->known.cap; i++) {
		const char *hex = r->known.slots[i].key, *ext, *text;
		struct hash h, t;

		if (!hex)
			continue;
		hash_parse(hex, &h);
		if (html_copy(r, dir, "obj", &h, hex, &ext, err) < 0 ||
		    thumb_of(r, &h, &t, err) < 0 ||
		    html_copy(r, dir, "thumb", &t, hex, &text, err) < 0)
			return -1;
		json_object_set_new(files, hex, json_string(ext));
	}
	return 0;
}

/* The state for the static page: with check's report and its files, and
 * every '<' written \u003c, so no text of the recipe can end or open a
 * script element. */
static char *
html_state(struct review *r, json_t *files)
{
	json_t *root = json_loads(r->state, 0, NULL);
	struct buf b;
	char *text;

	if (!root)
		fatal(EXIT_FAILED, "out of memory");
	json_object_set_new(root, "files", files);
	json_object_set_new(root, "check", check_report(r));
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ESCAPE_SLASH);
	json_decref(root);
	if (!text)
		fatal(EXIT_FAILED, "out of memory");
	buf_init(&b);
	for (const char *p = text; *p; p++)
		if (*p == '<')
			buf_adds(&b, "\\u003c");
		else
			buf_addc(&b, *p);
	free(text);
	return buf_detach(&b);
}

/* index.html: the page with the state in a script element. */
static int
html_index(const char *dir, const char *state, struct error *err)
{
	const char *page = review_page, *mark = strstr(page, STATE_MARK);
	char *path = path_join(dir, "index.html");
	struct buf b;
	int rc;

	if (!mark)
		BUG("the review page has no " STATE_MARK);
	buf_init(&b);
	buf_add(&b, page, (size_t)(mark - page));
	buf_addf(&b, "<script id=\"state\" type=\"application/json\">%s</script>", state);
	buf_adds(&b, mark + strlen(STATE_MARK));
	rc = write_file_atomic(path, b.data, b.len, err);
	buf_release(&b);
	free(path);
	return rc;
}

static int
write_html(struct review *r, const char *dir)
{
	json_t *files = json_object();
	struct error err;
	char *state = NULL, *sub[2] = { path_join(dir, "obj"), path_join(dir, "thumb") };
	char *mark = path_join(dir, HTML_MARK);
	int rc = -1;

	if (html_dir_check(dir, &err) == 0 && mkdirs(sub[0], &err) == 0 &&
	    mkdirs(sub[1], &err) == 0 &&
	    write_file_atomic(mark, "loramake review --html\n", 23, &err) == 0 &&
	    html_images(r, dir, files, &err) == 0) {
		state = html_state(r, files);
		files = NULL;
		rc = html_index(dir, state, &err);
	}
	json_decref(files);
	if (rc < 0)
		warn("review: %s", err.msg);
	else
		printf("review: %s/index.html (%zu images, read-only)\n", dir, r->known.len);
	free(state);
	free(mark);
	free(sub[0]);
	free(sub[1]);
	return rc < 0 ? EXIT_FAILED : EXIT_OK;
}

/* ---- the command ---- */

/* xdg-open url when there is a display to show it on (and not --no-open). */
static void
open_browser(const struct cli *cli, const char *url)
{
	char *argv[] = { (char *)"xdg-open", (char *)url, NULL };
	pid_t pid;

	if (cli->no_open || (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")))
		return;
	if (posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ) != 0)
		warn("review: cannot run xdg-open; open the address above yourself");
}

static void
review_release(struct review *r)
{
	if (r->open) {
		session_close(r->s);
		free(r->s);
	}
	if (r->rw_open)
		store_close(&r->rw);
	htab_free_all(&r->thumbs);
	htab_free_all(&r->known);
	for (size_t i = 0; i < r->nundo; i++)
		free(r->undo[i].id);
	free(r->undo);
	free(r->state);
	free(r->check);
}

static int
serve(struct review *r)
{
	sigset_t stop;
	struct httpd *h;
	struct error err;
	char token[33];
	int sig;

	/* the server's thread inherits the mask: the signals come here */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (!(h = httpd_start(r->cli->port, on_request, r, token, &err))) {
		warn("review: %s", err.msg);
		return EXIT_FAILED;
	}
	char *url = xasprintf("http://127.0.0.1:%d/?token=%s", httpd_port(h), token);

	printf("review: %s\n", url);
	printf("review: %s, %zu nodes; Ctrl-C stops\n", r->cli->recipe, r->s->dag->nnodes);
	fflush(stdout);
	open_browser(r->cli, url);
	free(url);
	sigwait(&stop, &sig);
	httpd_stop(h);
	printf("review: stopped\n");
	return EXIT_OK;
}

int
cmd_review(const struct cli *cli)
{
	struct review r = { .cli = cli, .readonly = cli->html != NULL };
	int rc;

	htab_init(&r.known);
	htab_init(&r.thumbs);
	refresh(&r, true);
	if (!r.open) {
		review_release(&r);
		return EXIT_USAGE;
	}
	rc = cli->html ? write_html(&r, cli->html) : serve(&r);
	review_release(&r);
	return rc;
}

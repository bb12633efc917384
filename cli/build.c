/*
 * build: run what the plan says, then show where the dataset is.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "base/buf.h"
#include "base/hash.h"
#include "cache/stamp.h"
#include "cache/tree.h"
#include "cli.h"
#include "compiler/engine_type.h"
#include "compiler/estimate.h"
#include "quality/vision.h"
#include "runtime/sched.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig; /* SIGINT may ask about a training, SIGTERM never */
	signal(sig, SIG_DFL); /* a second Ctrl-C stops at once */
}

/* May out be replaced: missing, an empty folder, or a package we wrote? */
static bool
replaceable(const char *out)
{
	char *manifest = path_join(out, "manifest.json");
	bool ok = !path_exists(out) || path_exists(manifest);
	DIR *d;

	free(manifest);
	if (!ok && (d = opendir(out))) {
		struct dirent *e;

		ok = true;
		while (ok && (e = readdir(d)))
			ok = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
		closedir(d);
	}
	return ok;
}

/* Does dst hold object h's bytes already? Sizes first: a package is
 * big, and one that changed seldom keeps its size. */
static bool
holds_object(const struct store *st, const struct hash *h, const char *dst)
{
	char *src = store_object_path(st, h);
	struct stat a, b;
	struct hash have;
	bool same = stat(src, &a) == 0 && lstat(dst, &b) == 0 &&
		    S_ISREG(b.st_mode) && a.st_size == b.st_size &&
		    hash_file(dst, &have, NULL) == 0 && hash_eq(&have, h);

	free(src);
	return same;
}

/* Copy object h of the store to dst, making its folders. -1 with err. */
static int
copy_object(const struct store *st, const struct hash *h, const char *dst,
	    struct error *err)
{
	char *src, *dir;
	int rc;

	/* a no-op build rewrites nothing: same bytes, same file */
	if (holds_object(st, h, dst))
		return 0;
	src = store_object_path(st, h);
	dir = path_dir(dst);
	rc = mkdirs(dir, err);
	if (rc == 0)
		rc = copy_file_atomic(src, dst, err);
	free(dir);
	free(src);
	return rc;
}

/*
 * Put object h at dst in a folder being built: a hard link to the same
 * file of the folder it replaces (old) when that one holds the same
 * bytes, so a one-image edit writes one image, not the set; else a copy.
 * The old folder is removed once the new one is in place, so each file
 * ends with one name again, and none is the store's own (a person who
 * edits a package file edits the package, never the cache).
 */
static int
place_object(const struct store *st, const struct hash *h, const char *old,
	     const char *dst, struct error *err)
{
	if (old && holds_object(st, h, old) && path_link(old, dst, NULL) == 0)
		return 0;
	return copy_object(st, h, dst, err);
}

/*
 * A trainer folder: every tree entry under out, built beside it in
 * OUT.tmp.PID.XXXXXX and swapped in whole, so a package never mixes two builds
 * (an image dropped from the set is gone from the folder too).
 */
/* Does folder out hold exactly the tree's files already? */
static bool
folder_holds(const struct store *st, const struct tree_entry *v, size_t n,
	     const char *out)
{
	(void)st;
	for (size_t i = 0; i < n; i++) {
		char *p = path_join(out, v[i].path);
		struct hash have;
		bool same = hash_file(p, &have, NULL) == 0 && hash_eq(&have, &v[i].obj);

		free(p);
		if (!same)
			return false;
	}
	return true;
}

static int
write_folder(const struct store *st, const struct tree_entry *v, size_t n,
	     const char *out, struct error *err)
{
	char *tmp = NULL, *old = NULL;
	int rc = 0;

	if (folder_holds(st, v, n, out))
		return 0;
	if (!replaceable(out))
		return error_set(err, "'%s' exists and is not a package loramake wrote "
				 "(no manifest.json); move it away", out);
	if (!(tmp = path_tmp_mkdir(out, err)) ||
	    (path_exists(out) && !(old = path_tmp_mkdir(out, err))))
		rc = -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *dst = path_join(tmp, v[i].path);
		char *was = old ? path_join(out, v[i].path) : NULL;

		rc = place_object(st, &v[i].obj, was, dst, err);
		free(dst);
		free(was);
	}
	/* both temps sit beside out and were just made: plain renames */
	if (rc == 0 && old && rename(out, old) < 0)
		rc = error_set(err, "cannot move '%s' aside:", out);
	if (rc == 0 && rename(tmp, out) < 0)
		rc = error_set(err, "cannot rename '%s' to '%s':", tmp, out);
	if (old)
		path_remove_tree(old);
	if (rc < 0 && tmp)
		path_remove_tree(tmp);
	free(tmp);
	free(old);
	return rc;
}

/* The package's cached outputs, from this build or the lock; NULL if none. */
static const struct hash *
package_outs(const struct session *s)
{
	size_t n;

	if (!s->dag->package)
		return NULL;
	return status_outs(&s->st[s->dag->package->idx], &n);
}

/* Read the package's cached tree into *v, *n. 0, or -1 (warned). */
static int
package_tree(const struct session *s, const struct hash *outs,
	     struct tree_entry **v, size_t *n)
{
	char *obj = store_object_path(&s->store, &outs[0]), *tree = NULL;
	struct error err;
	int rc = 0;

	*v = NULL;
	*n = 0;
	if (read_file(obj, &tree, NULL, &err) < 0 || tree_parse(tree, v, n) < 0 || !*n) {
		warn("the cached package is unreadable: %s", obj);
		rc = -1;
	}
	free(tree);
	free(obj);
	return rc;
}

static bool
zip_format(const struct section *sec)
{
	return !sec->format || strcmp(sec->format, "fal-zip") == 0;
}

char *
package_out_rel(const struct session *s, const struct tree_entry *v, size_t n)
{
	const struct recipe *r = &s->dag->recipe;
	const struct section *sec = &r->sec[KIND_PACKAGE];

	if (sec->out)
		return xstrdup(sec->out);
	if (!zip_format(sec))
		return xasprintf("dist/%s", sec->stem ? sec->stem : r->name);
	return n ? xasprintf("dist/%s", v[0].path) : NULL;
}

/* The recipe-relative path of the node's input file (n->file is dir/rel). */
static const char *
input_rel(const struct dag *dag, const char *file)
{
	size_t n = strlen(dag->dir);

	if (!strcmp(dag->dir, ".") || strncmp(file, dag->dir, n) || file[n] != '/')
		return file;
	return file + n + 1;
}

/*
 * Is rel among what a package may never be, or hold: the recipe's folder,
 * loramake's own build/ and .loramake/, or a folder holding an input, the
 * recipe or its lock (clean would delete it, a build replace it)? The
 * names are compared by spelling: no link below the folder is followed.
 */
static int
forbidden_out(const struct session *s, const char *rel, struct error *err)
{
	static const char *const own[] = { "build", ".loramake" };
	const char *recipe = strrchr(s->cli->recipe, '/');
	const char *lock = strrchr(s->lock_path, '/');
	char *out = path_normal(rel);
	int rc = 0;

	if (!out)
		return error_set(err, "the package out: '%s' is outside the recipe's folder", rel);
	if (!*out)
		rc = error_set(err, "the package out: '%s' is the recipe's folder itself", rel);
	for (size_t i = 0; !rc && i < LM_ARRAY_LEN(own); i++)
		if (path_within(out, own[i]) || path_within(own[i], out))
			rc = error_set(err, "the package out: '%s' is loramake's own %s/",
				       rel, own[i]);
	if (!rc && (path_within(recipe ? recipe + 1 : s->cli->recipe, out) ||
		    path_within(lock ? lock + 1 : s->lock_path, out)))
		rc = error_set(err, "the package out: '%s' holds the recipe", rel);
	for (size_t i = 0; !rc && i < s->dag->nnodes; i++) {
		const char *file = s->dag->nodes[i]->file;
		char *in = file ? path_normal(input_rel(s->dag, file)) : NULL;

		if (in && path_within(in, out))
			rc = error_set(err, "the package out: '%s' holds the input '%s'",
				       rel, in);
		free(in);
	}
	free(out);
	return rc;
}

/* What is at out already: may a package replace it (clean: remove it)? */
static int
replaceable_at(const struct section *sec, const char *out, bool writing,
	       struct error *err)
{
	char *manifest = path_join(out, "manifest.json");
	struct stat st, mst;
	int rc = 0;

	if (path_lstat(out, &st, err) < 0)
		rc = errno == ENOENT ? 0 : -1;
	else if (S_ISLNK(st.st_mode))
		rc = error_set(err, "'%s' is a symbolic link; loramake writes no "
			       "package through a link", out);
	else if (zip_format(sec) && !S_ISREG(st.st_mode))
		rc = error_set(err, "'%s' is not a file (the package is a ZIP); "
			       "move it away", out);
	else if (!zip_format(sec) && !S_ISDIR(st.st_mode))
		rc = error_set(err, "'%s' is not a folder (the package is a folder "
			       "of files); move it away", out);
	else if (!zip_format(sec) && (path_lstat(manifest, &mst, NULL) < 0 ||
				      !S_ISREG(mst.st_mode)) &&
		 !(writing && replaceable(out)))
		rc = error_set(err, "'%s' exists and is not a package loramake wrote "
			       "(no manifest.json); move it away", out);
	free(manifest);
	return rc;
}

int
package_out_check(const struct session *s, const char *rel, bool writing,
		  struct error *err)
{
	const struct section *sec = &s->dag->recipe.sec[KIND_PACKAGE];
	char *out = path_join(s->dag->dir, rel);
	int rc = forbidden_out(s, rel, err);

	if (rc == 0)
		rc = replaceable_at(sec, out, writing, err);
	free(out);
	return rc;
}

/*
 * Write the package's out: from its cached tree (a copy, not a link: the
 * user may move or change it). Returns the path, or NULL: no package was
 * made, or (*failed, warned) it could not be written.
 */
static char *
materialize(const struct session *s, struct stamp *watch, bool *failed)
{
	const struct section *sec = &s->dag->recipe.sec[KIND_PACKAGE];
	const struct hash *outs = package_outs(s);
	struct tree_entry *v = NULL;
	struct error err;
	char *out = NULL, *rel;
	bool zip = zip_format(sec);
	size_t n = 0;
	int rc;

	*failed = false;
	if (!outs)
		return NULL;
	if (package_tree(s, outs, &v, &n) < 0 || !(rel = package_out_rel(s, v, n))) {
		*failed = true;
		goto done;
	}
	out = path_join(s->dag->dir, rel);
	rc = package_out_check(s, rel, true, &err);
	free(rel);
	if (rc == 0) {
		/* what a killed build left beside out (OUT.tmp.PID.XXXXXX) */
		char *dir = path_dir(out);

		path_clean_stale_tmps(dir);
		free(dir);
	}
	if (rc == 0)
		rc = zip ? copy_object(&s->store, &v[0].obj, out, &err)
			 : write_folder(&s->store, v, n, out, &err);
	stamp_watch(watch, out);
	for (size_t i = 0; !zip && i < n; i++) {
		char *p = path_join(out, v[i].path);

		stamp_watch(watch, p);
		free(p);
	}
	if (rc < 0) {
		warn("cannot write the package: %s", err.msg);
		*failed = true;
		free(out);
		out = NULL;
	}
done:
	tree_free(v, n);
	return out;
}

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

/* One pass of the scheduler. spent: dollars earlier passes of this
 * build spent (--max-cost is for the whole build); hold: the package
 * waits while identity gates run (cli/gate.c), *held says it did. */
static int
run(struct session *s, const struct cli *cli, struct sched_result *res,
    double spent, bool hold, bool *held)
{
	struct sched_opts o = { .jobs = session_jobs(s), .fail_fast = cli->fail_fast,
				.max_cost = cli->max_cost < 0 ? -1
					  : cli->max_cost > spent ? cli->max_cost - spent : 0,
				.verbose = cli->verbose,
				.interrupted = &interrupted,
				.rcache = &s->rcache };
	struct vision_captions vc;
	struct error err;
	char *dir = path_dir(cli->recipe), *acts;
	size_t nfailed;

	o.tty = isatty(2);
	o.color = o.tty && !getenv("NO_COLOR");
	o.ask = o.tty && isatty(0);
	store_close(&s->store);
	if (store_open(&s->store, dir, true, &err) < 0 || store_lock(&s->store, &err) < 0) {
		free(dir);
		warn("%s", err.msg);
		return EXIT_FAILED;
	}
	free(dir);
	store_clean_tmp(&s->store);
	/* another build may have finished nodes, or a pick been made, while
	 * we waited for the lock: read both again */
	acts = xstrdup(s->acts.path);
	actions_release(&s->acts);
	if (actions_load(&s->acts, acts, &err) < 0)
		warn("%s", err.msg);
	free(acts);
	lock_release(&s->lock);
	if (lock_load(&s->lock, s->lock_path, &err) < 0)
		warn("%s", err.msg);
	if (lock_writable(&s->lock, &err) < 0) {
		lock_report(&s->lock);
		warn("%s; nothing was run", err.msg);
		return EXIT_USAGE;
	}
	s->lock.picks.first = cli->pick_first;
	session_refresh(s);
	/* verdicts of answers cached already (a min: changed, another
	 * build judged): the package's selection is known before it runs */
	if (gate_record(s, &nfailed) < 0)
		return EXIT_FAILED;
	*held = hold && gate_hold(s);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	o.times = &s->times;
	o.failures = &s->fails;
	vc.lint = NULL;
	if (s->dag->recipe.sec[KIND_CAPTION].engine) { /* captions from answers */
		if (vision_captions_init(&vc, &s->dag->recipe, &err) < 0) {
			warn("%s", err.msg);
			return EXIT_FAILED;
		}
		o.captions = &vc.writer;
	}
	sched_run(s->dag, s->st, &s->store, &s->acts, &s->lock, &o, res);
	vision_captions_release(&vc);
	if (times_save(&s->times, &err) < 0) /* advice for the next plan */
		warn("%s", err.msg);
	if (failures_save(&s->fails, &err) < 0)
		warn("%s", err.msg);
	session_refresh(s);
	return EXIT_OK;
}

static void
add_result(struct sched_result *to, const struct sched_result *r)
{
	to->ran += r->ran;
	to->failed += r->failed;
	to->skipped += r->skipped;
	to->spent += r->spent;
	to->interrupted |= r->interrupted;
	to->rcache_down |= r->rcache_down;
}

/*
 * The build, in passes when an identity gate judges the images
 * (docs/vision.md): the images and their gates first, the package held
 * back; the verdicts into the lock; with --reroll-failed N, what failed
 * rerolled (a new session: rerolls are compiled in) and judged again, at
 * most N rounds; then the package, without what still fails.
 */
static int
gated(struct session *s, const struct cli *cli, struct sched_result *res)
{
	const struct node **targets;
	size_t nfailed, n;
	bool held;
	int rc;

	for (int round = 0;; round++) {
		struct sched_result r = { 0 };

		if ((rc = run(s, cli, &r, res->spent, true, &held)))
			return rc;
		add_result(res, &r);
		if (r.interrupted || gate_record(s, &nfailed) < 0)
			return EXIT_OK;
		targets = xcalloc(s->dag->nnodes + 1, sizeof(*targets));
		n = round < cli->reroll_failed && !r.failed
			? gate_failed(s, targets, s->dag->nnodes) : 0;
		if (n && gate_reroll(s, targets, n, round + 1) == 0) {
			free(targets);
			session_close(s);
			if ((rc = session_open(s, cli)))
				return rc;
			continue;
		}
		free(targets);
		break;
	}
	if (held) { /* the package, now that the verdicts are in */
		struct sched_result r = { 0 };

		rc = run(s, cli, &r, res->spent, false, &held);
		add_result(res, &r);
	}
	return rc;
}

/* Will the build run a node of engine d? */
static bool
engine_runs(const struct session *s, const struct engine_decl *d)
{
	for (size_t i = 0; i < s->dag->nnodes; i++)
		if (s->dag->nodes[i]->engine == d &&
		    (s->st[i].state == STATE_NEW || s->st[i].state == STATE_STALE))
			return true;
	return false;
}

/*
 * A key is in use from here on: no core file may hold it (a crash, an
 * abort, a sanitizer's report), and no other process of the user may
 * read this one's memory (PR_SET_DUMPABLE 0 also stops ptrace and
 * /proc/PID/mem). Never undone: the process ends with the build.
 */
static void
guard_keys(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		warn("cannot turn off core files:");
	if (prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) < 0)
		warn("cannot make the process undumpable:");
}

/*
 * Every remote engine that will run must have its API key: say so once,
 * before anything runs, rather than fail each of its nodes. Once one
 * will be used, guard_keys().
 */
static bool
keys_present(const struct session *s)
{
	bool ok = true, loaded = false;

	for (size_t e = 0; e < s->dag->recipe.nengines; e++) {
		const struct engine_decl *d = &s->dag->recipe.engines[e];
		const char *v = d->key_env ? getenv(d->key_env) : NULL;
		const struct engine_type *t = engine_type_find(d->type);

		if (!d->key_env || !engine_runs(s, d))
			continue;
		if (t && t->own_server && !(v && *v))
			continue; /* its server may want no key */
		if (v && *v) {
			loaded = true;
			continue;
		}
		warn("engine '%s' needs its API key in $%s, which is not set; nothing "
		     "was run (loramake plan works without it; --engine preview "
		     "builds offline)", d->name, d->key_env);
		ok = false;
	}
	/* the team cache's header is a secret too */
	if (ok && (loaded || s->rcache.header))
		guard_keys();
	return ok;
}

/* .loramake/stamp-RECIPE: one per recipe file, as several may share a
 * folder and its cache. Caller frees. */
static char *
stamp_path(const struct cli *cli)
{
	const char *base = strrchr(cli->recipe, '/');
	char *dir = path_dir(cli->recipe);
	char *p = xasprintf("%s/.loramake/stamp-%s", dir, base ? base + 1 : cli->recipe);

	free(dir);
	return p;
}

/* The options that change keys, the target (the package's up-to-date
 * says nothing of the training) and the team cache (one newly named is
 * offered the local hits); -j, -v and --max-cost do not. */
static char *
stamp_options(const struct cli *cli)
{
	const char *url = getenv("LORAMAKE_REMOTE_CACHE");
	char *cache = xasprintf("%s %s", url ? url : "",
				cli->remote_cache ? cli->remote_cache : "-");
	struct hash h = hash_bytes(cache, strlen(cache));
	char hex[HASH_HEX_LEN + 1], *opts;

	hash_hex(&h, hex); /* the team cache named, as a hash: the URL is any text */
	opts = xasprintf("engine=%s pick=%s target=%s cache=%s",
			 cli->engine ? cli->engine : "-",
			 cli->pick_first ? "first" : "-",
			 cli->target ? cli->target : "package", hex);
	free(cache);
	return opts;
}

/* A no-op decided by the stamp alone (cache/stamp.h): nothing compiled. */
static bool
noop_by_stamp(const struct cli *cli)
{
	char *path = stamp_path(cli), *lock = lock_path_for(cli->recipe);
	char *opts = stamp_options(cli), *say = NULL;
	bool ok = stamp_holds(path, cli->recipe, lock, opts, &say);

	if (ok && cli->verbose)
		fprintf(stderr, "%s: %s holds: nothing compiled\n", lm_progname, path);
	if (ok)
		fputs(say, stdout);
	free(say);
	free(opts);
	free(lock);
	free(path);
	return ok;
}

/* The source files and folders a recipe read, for the stamp. */
static void
watch_inputs(const struct session *s, struct stamp *watch)
{
	const struct section *anchor = &s->dag->recipe.sec[KIND_ANCHOR];

	stamp_watch(watch, s->acts.path);
	for (size_t i = 0; i < s->dag->nnodes; i++)
		if (s->dag->nodes[i]->file)
			stamp_watch(watch, s->dag->nodes[i]->file);
	for (size_t e = 0; e < s->dag->recipe.nengines; e++)
		if (s->dag->recipe.engines[e].workflow_path) /* comfyui */
			stamp_watch(watch, s->dag->recipe.engines[e].workflow_path);
	if (anchor->files) {
		/* a file added to or removed from a globbed folder moves its mtime */
		char *gdir = path_dir(anchor->files), *dir = path_join(s->dag->dir, gdir);
		char *meta = path_join(dir, "metadata.json");

		stamp_watch(watch, dir);
		stamp_watch(watch, meta);
		free(meta);
		free(dir);
		free(gdir);
	}
}

/* After a build that left everything up to date, remember why. */
static void
write_stamp(const struct session *s, struct stamp *watch, const char *say)
{
	char *path = stamp_path(s->cli), *opts = stamp_options(s->cli);
	struct error err;

	watch_inputs(s, watch);
	if (stamp_write(watch, path, s->cli->recipe, s->lock_path, opts, say, &err) < 0)
		warn("%s (the next no-op build will be slower)", err.msg);
	free(opts);
	free(path);
}

/* A package that could not be written is known before anything is paid
 * for: its out: is checked now (a ZIP's default name is known later). */
static bool
package_writable(const struct session *s)
{
	char *rel = s->dag->package ? package_out_rel(s, NULL, 0) : NULL;
	char *dist = path_join(s->dag->dir, "dist");
	struct error err;
	struct stat st;
	bool ok = !rel || package_out_check(s, rel, true, &err) == 0;

	/* a ZIP named later goes into dist/, which must be a folder */
	if (ok && !rel && s->dag->package && path_lstat(dist, &st, &err) == 0 &&
	    !S_ISDIR(st.st_mode))
		ok = !error_set(&err, "'%s' is %s", dist, S_ISLNK(st.st_mode)
				? "a symbolic link; loramake writes no package through a link"
				: "not a folder; move it away");
	free(dist);
	if (!ok)
		warn("cannot write the package: %s; nothing was run", err.msg);
	free(rel);
	return ok;
}

/* May this build start? The money and the keys, checked before anything
 * runs. The money is the whole bill: what waits on a pick is paid for by
 * the build after the pick, and --max-cost is about the recipe's cost, so
 * it counts too. */
static int
preflight(const struct session *s, const struct cli *cli, size_t *jobs)
{
	struct bill b;
	double usd;

	session_bill(s, &b);
	*jobs = b.jobs;
	usd = b.usd + b.waiting_usd;
	if (cli->max_cost >= 0 && usd > cli->max_cost + 1e-9) {
		if (b.waiting)
			warn("the plan costs $%.2f with the $%.2f that waits on a pick "
			     "($%.2f now), more than --max-cost %.2f; nothing was run "
			     "(see loramake plan)", usd, b.waiting_usd, b.usd,
			     cli->max_cost);
		else
			warn("the plan costs $%.2f, more than --max-cost %.2f; nothing "
			     "was run (see loramake plan)", usd, cli->max_cost);
		return EXIT_FAILED;
	}
	if (!package_writable(s))
		return EXIT_FAILED;
	return keys_present(s) ? EXIT_OK : EXIT_FAILED;
}

/*
 * The nodes a build makes: every node but the source files (state input),
 * so "37 nodes built" and "all 37 nodes are up to date" count the same.
 */
static size_t
buildable_nodes(const struct session *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->dag->nnodes; i++)
		n += s->st[i].state != STATE_INPUT;
	return n;
}

/* What the build says it did, and its exit code; writes the package out,
 * runs check after a new package, and leaves a stamp when all is done. */
static int
finish(struct session *s, const struct sched_result *res, bool ran,
       bool packaging, int64_t t0)
{
	struct stamp watch;
	struct buf say;
	char *zip;
	size_t waiting;
	bool unwritten;
	int rc;

	stamp_init(&watch);
	buf_init(&say);
	zip = materialize(s, &watch, &unwritten);
	waiting = list_waiting(s);
	if ((!ran || (!res->ran && !res->failed && !res->skipped &&
		      !res->interrupted)) && waiting)
		buf_addf(&say, "nothing to do until the picks: %zu of %zu nodes are up to date\n",
			 buildable_nodes(s) - waiting, buildable_nodes(s));
	else if (!ran || (!res->ran && !res->failed && !res->skipped &&
			  !res->interrupted))
		buf_addf(&say, "nothing to do: all %zu nodes are up to date\n",
			 buildable_nodes(s));
	else
		printf("%zu node%s built in %.1fs, $%.2f spent, %zu failed\n", res->ran,
		       res->ran == 1 ? "" : "s", (now_ms() - t0) / 1000.0, res->spent,
		       res->failed + res->skipped);
	if (zip)
		buf_addf(&say, "dataset: %s\n", zip);
	fputs(say.data, stdout);
	if (zip && packaging)
		check_after_build(s);
	rc = res->interrupted ? EXIT_INTERRUPTED
	   : res->failed || res->skipped || unwritten ? EXIT_FAILED
	   : waiting ? EXIT_NEEDS_PICK : EXIT_OK;
	if (rc == EXIT_OK && !res->rcache_down && (!s->dag->package || zip)) {
		buf_reset(&say);
		buf_addf(&say, "nothing to do: all %zu nodes are up to date\n%s%s%s",
			 buildable_nodes(s), zip ? "dataset: " : "", zip ? zip : "",
			 zip ? "\n" : "");
		write_stamp(s, &watch, say.data);
	}
	free(zip);
	stamp_release(&watch);
	buf_release(&say);
	return rc;
}

int
cmd_build(const struct cli *cli)
{
	struct session s;
	struct sched_result res = { 0 };
	int64_t t0 = now_ms();
	size_t jobs;
	bool packaging;
	int rc;

	if (noop_by_stamp(cli))
		return EXIT_OK;
	if ((rc = session_open(&s, cli)))
		return rc;
	if ((rc = preflight(&s, cli, &jobs))) {
		session_close(&s);
		return rc;
	}
	packaging = s.dag->package &&
		    (s.st[s.dag->package->idx].state == STATE_NEW ||
		     s.st[s.dag->package->idx].state == STATE_STALE);
	/* state files to repair (a lock merged from a git conflict, an action
	 * log with a wrong header) are rewritten even when nothing runs: the
	 * run does it under the build lock; with a team cache to write to, the
	 * run offers it the local hits (rcache_offer) */
	if ((jobs || s.lock.dirty || s.acts.rewrite || rcache_shares(&s.rcache)) &&
	    (rc = gated(&s, cli, &res))) {
		session_close(&s);
		return rc;
	}
	rc = finish(&s, &res, jobs > 0, packaging, t0);
	session_close(&s);
	return rc;
}

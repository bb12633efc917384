/*
 * pick, clean, gc: the commands that change the lock or the cache by hand.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "cache/facts.h"
#include "cache/tree.h"
#include "runtime/normalise.h"
#include "cli.h"

/* One pick to write (0: drop it). */
struct pick_edit {
	const char *id;
	int candidate;
};

/* Write one pick into the lock (a lock_edit_fn). */
static int
apply_pick(struct lock *fresh, void *arg)
{
	const struct pick_edit *e = arg;

	if (e->candidate)
		picks_set(&fresh->picks, e->id, e->candidate);
	else if (htab_get(&fresh->picks.byid, e->id, strlen(e->id)))
		htab_put(&fresh->picks.byid, e->id, strlen(e->id), NULL);
	return EXIT_OK;
}

int
pick_apply(const struct session *s, const struct node *n, int candidate)
{
	int rc = session_edit_lock(s, apply_pick,
				   &(struct pick_edit){ n->id, candidate });

	if (rc == EXIT_OK && !candidate)
		printf("%s: pick dropped\n", n->id);
	else if (rc == EXIT_OK && n->candidates > 1)
		printf("%s: candidate %d of %d picked\n", n->id, candidate,
		       n->candidates);
	else if (rc == EXIT_OK)
		printf("%s: kept for the package\n", n->id);
	fflush(stdout);
	return rc;
}

/* loramake pick RECIPE: every node a person can pick or keep, and its
 * pick; the candidates wait in build/NODE/. */
static int
list_picks(const struct session *s)
{
	const struct picks *p = &s->lock.picks;
	size_t shown = 0;

	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct node *n = s->dag->nodes[i];
		int pick = (int)(uintptr_t)htab_get(&p->byid, n->id, strlen(n->id));

		if (!node_has_job(n) || !n->image || (n->candidates < 2 && !pick))
			continue;
		if (n->candidates > 1 && pick)
			printf("%-40s candidate %d of %d\n", n->id, pick, n->candidates);
		else if (n->candidates > 1)
			printf("%-40s not picked: %d candidates in build/%s/\n", n->id,
			       n->candidates, n->id);
		else
			printf("%-40s kept\n", n->id);
		shown++;
	}
	if (!shown)
		printf("nothing to pick: no node of %s has candidates, and none is kept\n",
		       s->cli->recipe);
	return EXIT_OK;
}

int
cmd_pick(const struct cli *cli)
{
	struct session s;
	const struct node *n;
	int64_t want = 1;
	int rc = session_open(&s, cli);

	if (rc)
		return rc;
	if (cli->nargs == 0) {
		rc = list_picks(&s);
		session_close(&s);
		return rc;
	}
	if (!(n = dag_find(s.dag, cli->args[0])) || !n->image || !node_has_job(n)) {
		warn("'%s' is not a generated image of %s (see loramake plan)",
		     cli->args[0], cli->recipe);
		session_close(&s);
		return EXIT_USAGE;
	}
	if (cli->nargs == 1 && n->candidates > 1 && !cli->drop) {
		warn("%s has %d candidates; say which (look in build/%s/): "
		     "loramake pick %s %s N", n->id, n->candidates, n->id,
		     cli->recipe, n->id);
		session_close(&s);
		return EXIT_USAGE;
	}
	if (cli->nargs == 2 && (!parse_int64(cli->args[1], &want) || want < 1 ||
				want > n->candidates)) {
		warn("%s has %d candidate%s; pick a number from 1 to %d", n->id,
		     n->candidates, n->candidates == 1 ? "" : "s", n->candidates);
		session_close(&s);
		return EXIT_USAGE;
	}
	rc = pick_apply(&s, n, cli->drop ? 0 : (int)want);
	session_close(&s);
	return rc;
}

/* build/: node outputs and links, loramake's own folder (never a link). */
static int
clean_build(const struct session *s)
{
	char *build = path_join(s->dag->dir, "build");
	struct error err;
	struct stat st;
	int rc = EXIT_OK, there = path_lstat(build, &st, &err) == 0;

	if (!there && errno != ENOENT) {
		warn("%s; build/ is kept", err.msg);
		rc = EXIT_FAILED;
	} else if (there && !S_ISDIR(st.st_mode)) {
		warn("'%s' is not the folder loramake writes node outputs to (%s); "
		     "it is kept", build, S_ISLNK(st.st_mode) ? "a symbolic link"
							      : "not a folder");
		rc = EXIT_FAILED;
	} else if (path_remove_tree(build) < 0) {
		warn("cannot remove '%s':", build);
		rc = EXIT_FAILED;
	}
	free(build);
	return rc;
}

/* The package, if it is one loramake wrote and sits where one may. */
static int
clean_package(const struct session *s, const char **removed)
{
	const struct node *pkg = s->dag->package;
	const struct lock_node *ln = pkg ? lock_get(&s->lock, pkg->id) : NULL;
	struct tree_entry *v = NULL;
	struct error err;
	char *rel = NULL, *out, *text;
	size_t n = 0;
	int rc = EXIT_OK;

	*removed = NULL;
	if (!pkg)
		return EXIT_OK;
	/* a ZIP's name comes from the tree the last build made */
	if (ln && ln->nouts) {
		char *obj = store_object_path(&s->store, &ln->outs[0]);

		if (read_file(obj, &text, NULL, NULL) == 0) {
			tree_parse(text, &v, &n);
			free(text);
		}
		free(obj);
	}
	if (!(rel = package_out_rel(s, v, n))) {
		tree_free(v, n);
		return EXIT_OK;
	}
	out = path_join(s->dag->dir, rel);
	if (package_out_check(s, rel, false, &err) < 0) {
		warn("%s; it is kept", err.msg);
		rc = EXIT_FAILED;
	} else if (path_exists(out) && path_remove_tree(out) < 0) {
		warn("cannot remove '%s':", out);
		rc = EXIT_FAILED;
	} else {
		*removed = "the package";
	}
	free(out);
	free(rel);
	tree_free(v, n);
	return rc;
}

int
cmd_clean(const struct cli *cli)
{
	struct session s;
	const char *pkg;
	int rc = session_open(&s, cli), brc, prc;

	/* only a recipe says what loramake wrote: without one, remove nothing */
	if (rc)
		return rc;
	/* the cache is paid-for work: clean removes only what rebuilds free */
	brc = clean_build(&s);
	prc = clean_package(&s, &pkg);
	printf("%s%s%s; the cache (.loramake/) is kept: `loramake gc` trims it, "
	       "`rm -r .loramake` drops it\n", brc ? "kept build/" : "removed build/",
	       pkg ? " and " : "", pkg ? pkg : "");
	session_close(&s);
	return brc ? brc : prc;
}

/* gc: the objects that a node, the lock or a pick still reaches. */
static void
mark(struct htab *live, const struct hash *outs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *hex = xmalloc(HASH_HEX_LEN + 1);

		hash_hex(&outs[i], hex);
		if (htab_get(live, hex, HASH_HEX_LEN))
			free(hex);
		else
			htab_put(live, hex, HASH_HEX_LEN, hex);
	}
}

/* Mark outs; a tree (a package) also keeps every object it lists. */
static void
mark_outs(const struct store *st, struct htab *live, const struct hash *outs,
	  size_t n, bool tree)
{
	mark(live, outs, n);
	for (size_t i = 0; tree && i < n; i++) {
		char *path = store_object_path(st, &outs[i]), *text;
		struct tree_entry *v;
		size_t nv;

		if (read_file(path, &text, NULL, NULL) == 0) {
			if (tree_parse(text, &v, &nv) == 0) {
				for (size_t j = 0; j < nv; j++)
					mark(live, &v[j].obj, 1);
				tree_free(v, nv);
			}
			free(text);
		}
		free(path);
	}
}

/*
 * The normalised images the recipe's package reads now (their keys
 * computed as the scheduler does, runtime/normalise.h): kept, with their
 * log lines, so the package after an edit makes only what changed. Those
 * of earlier packages go; they cost nothing to make again.
 */
static void
mark_normalised(const struct session *s, struct htab *live)
{
	const struct node *pkg = s->dag->package;
	struct norm_spec spec;

	if (!pkg)
		return;
	for (size_t i = 0; i < pkg->nin; i++) {
		const struct node *in = pkg->in[i];
		const struct status *st = &s->st[in->idx];
		const struct hash *outs = NULL;
		struct hash img, key, obj;
		size_t n = 0;

		if (in->kind == KIND_CAPTION || !dag_selected(pkg, in, s->dag->picks))
			continue;
		if (st->action)
			outs = st->action->outs, n = st->action->nouts;
		else if (st->from_lock && st->was)
			outs = st->was->outs, n = st->was->nouts;
		if (!norm_image_hash(in, outs, n, node_pick(in, s->dag->picks), &img))
			continue;
		norm_spec_of(pkg, in, &spec);
		key = norm_key(&img, &spec);
		if (norm_cached(&s->acts, &s->store, &key, &obj))
			mark(live, &obj, 1);
	}
}

static bool
fact_live(const char *hex, void *live)
{
	return htab_get(live, hex, HASH_HEX_LEN) != NULL;
}

/*
 * After the sweep: keep check's facts (cache/facts.h) of the objects
 * kept and of the recipe's source files (marked into live for this).
 */
static void
compact_facts(const struct session *s, struct htab *live)
{
	char *path = path_join(s->store.root, "facts");
	struct facts f;
	struct error err;

	for (size_t i = 0; i < s->dag->nnodes; i++)
		if (s->dag->nodes[i]->file)
			mark(live, &s->dag->nodes[i]->file_hash, 1);
	if (path_exists(path)) {
		if (facts_load(&f, path, &err) < 0 ||
		    facts_compact(&f, fact_live, live, &err) < 0)
			warn("%s", err.msg);
		facts_release(&f);
	}
	free(path);
}

static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* A lock line's objects: its outputs, and what a training read and sent
 * (the package it trained on may be long rebuilt; explain reads it). */
static void
mark_line(const struct store *st, struct htab *live, const struct lock_node *ln,
	  bool tree)
{
	mark_outs(st, live, ln->outs, ln->nouts, tree);
	if (ln->trained) {
		mark_outs(st, live, &ln->package, 1, true);
		mark(live, &ln->sent, 1);
	}
}

/*
 * Other recipes in the same folder share .loramake/: what their locks
 * name is paid-for work too, and gc of one recipe must not drop it.
 */
static void
mark_sibling_locks(const struct session *s, struct htab *live)
{
	DIR *d = opendir(s->dag->dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct lock other;
		char *path;

		if (n < 6 || strcmp(e->d_name + n - 5, ".lock"))
			continue;
		path = path_join(s->dag->dir, e->d_name);
		if (!same_file(path, s->lock_path) && lock_load(&other, path, NULL) == 0) {
			for (size_t i = 0; i < other.byid.cap; i++) {
				const struct lock_node *ln = other.byid.slots[i].value;

				for (; other.byid.slots[i].key && ln; ln = ln->alt)
					mark_line(&s->store, live, ln,
						  !strcmp(ln->id, "package"));
			}
			lock_release(&other);
		}
		free(path);
	}
	if (d)
		closedir(d);
}

static int
is_live(const struct action *a, void *ctx)
{
	const struct htab *live = ctx;
	char hex[HASH_HEX_LEN + 1];

	for (size_t i = 0; i < a->nouts; i++) {
		hash_hex(&a->outs[i], hex);
		if (!htab_get(live, hex, HASH_HEX_LEN))
			return 0;
	}
	return 1;
}

/* Drop the objects of fan-out folder d (named sub) that live does not name. */
static long
sweep_fanout(DIR *d, const char *sub, const struct htab *live, long *kept)
{
	long dropped = 0;
	struct dirent *e;

	while ((e = readdir(d))) {
		char hex[600];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(hex, sizeof(hex), "%s%s", sub, e->d_name);
		if (htab_get(live, hex, strlen(hex)))
			(*kept)++;
		else if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			 !S_ISDIR(st.st_mode) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			dropped++;
	}
	return dropped;
}

/*
 * Remove every object live does not name. The folders are opened through
 * the walk and one another, never a link: a planted objects/ or ab/ link
 * leads gc nowhere (docs/security.md).
 */
static long
sweep(const struct store *st, const struct htab *live, long *kept)
{
	int fd = path_open_dir(st->objects, false, NULL);
	DIR *top = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *d;
	long dropped = 0;

	if (!top) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((d = readdir(top))) {
		int sfd;
		DIR *dd;

		if (d->d_name[0] == '.')
			continue;
		sfd = openat(dirfd(top), d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		if (sfd < 0)
			continue;
		if (!(dd = fdopendir(sfd))) {
			close(sfd);
			continue;
		}
		dropped += sweep_fanout(dd, d->d_name, live, kept);
		closedir(dd);
	}
	closedir(top);
	return dropped;
}

/*
 * Take the build lock in lk before anything is read: what gc marks live
 * must be what the last build recorded, not what it recorded before it
 * paid for more (gc beside a build dropped 25 of its 27 new objects).
 */
static int
lock_first(const struct cli *cli, struct store *lk)
{
	char *dir = path_dir(cli->recipe), *cache = path_join(dir, ".loramake");
	struct error err;
	int rc = EXIT_OK;

	store_open(lk, dir, false, NULL);
	if (path_exists(cache) && store_lock(lk, &err) < 0) {
		warn("%s", err.msg);
		rc = EXIT_FAILED;
	}
	free(cache);
	free(dir);
	return rc;
}

int
cmd_gc(const struct cli *cli)
{
	struct session s;
	struct store lk;
	struct htab live;
	long kept = 0, dropped;
	int rc = lock_first(cli, &lk);

	if (rc == EXIT_OK)
		rc = session_open(&s, cli);
	if (rc) {
		store_close(&lk);
		return rc;
	}
	htab_init(&live);
	for (size_t i = 0; i < s.dag->nnodes; i++) {
		const struct status *st = &s.st[i];
		bool tree = s.dag->nodes[i]->kind == KIND_PACKAGE;

		if (st->action)
			mark_outs(&s.store, &live, st->action->outs,
				  st->action->nouts, tree);
		/* every line of the node: a merged lock may hold two */
		for (const struct lock_node *w = lock_get(&s.lock, s.dag->nodes[i]->id);
		     w; w = w->alt)
			mark_line(&s.store, &live, w, tree);
	}
	mark_sibling_locks(&s, &live);
	mark_normalised(&s, &live);
	if (lk.lockfd >= 0) {
		struct error err;

		dropped = sweep(&s.store, &live, &kept);
		compact_facts(&s, &live);
		if (actions_compact(&s.acts, is_live, &live, &err) < 0 &&
		    path_exists(s.acts.path))
			warn("%s", err.msg);
		store_clean_tmp(&s.store);
	} else {
		dropped = 0; /* no cache: nothing to collect */
	}
	printf("gc: %ld object%s dropped, %ld kept\n", dropped,
	       dropped == 1 ? "" : "s", kept);
	for (size_t i = 0; i < live.cap; i++)
		free((char *)live.slots[i].key);
	htab_release(&live);
	session_close(&s);
	store_close(&lk); /* releases the build lock */
	return rc;
}

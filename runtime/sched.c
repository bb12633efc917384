/*
 * sched: the build loop.
 *
 * Every node to run gets a struct sjob. nblock counts its inputs that are
 * still to run; a node with nblock 0 is queued on the ready FIFO. The loop
 * starts ready nodes while the limits allow, waits in loop_run_once, and
 * collects finished work. All bookkeeping happens on this thread; workers
 * only run engines and move outputs into the cache.
 *
 * A job's life: start -> engine (worker or HTTP) -> finalize on a worker
 * (check each image, move outputs into the store) -> record on the loop
 * thread (action log, lock, build/ copy, unblock dependents). A package's
 * images are normalised each as a cached step of its own on the workers
 * (runtime/normalise.h), as soon as each is made; the package waits for
 * them, and its engine only assembles.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/path.h"
#include "base/safetensors.h"
#include "base/text.h"
#include "cache/pending.h"
#include "cache/tree.h"
#include "compiler/engine_type.h"
#include "compiler/estimate.h"
#include "engine.h"
#include "image.h"
#include "loop.h"
#include "normalise.h"
#include "pack.h"
#include "sched.h"
#include "workers.h"

#define LOCK_WRITE_INTERVAL_MS 200
#define MAX_OUTPUT_BYTES (64.0 * 1024 * 1024)
/* A LoRA file: a Flux LoRA of rank 128 is about 1.2 GB */
#define MAX_LORA_BYTES (4.0 * 1024 * 1024 * 1024)
#define MAX_PENDING_PER_NODE 128
#define MAX_FETCHING 32 /* team cache reads at once */

enum sj_state { SJ_WAIT, SJ_READY, SJ_FETCHING, SJ_RUNNING, SJ_DONE, SJ_FAILED,
		SJ_SKIPPED };

struct pool {
	const char *name;
	int limit, running;
	const struct node *down;   /* its server took no connection: this
				      node failed saying so; the rest wait
				      no more, they are skipped */
};

struct sjob {
	struct job job;            /* what the engine sees; first member */
	struct sched *s;
	struct node *node;
	const struct engine *engine;
	struct pool *pool;
	enum sj_state state;
	int nblock;                /* inputs still to run */
	char *workdir;             /* package outputs, or NULL */
	struct hash *outs;         /* cached outputs, after finalize */
	size_t nouts;
	struct job_pending *pend;  /* earlier submissions of this key */
	struct hash *in_objs;      /* a package: its images, normalised */
	size_t norm_waiting;       /* a package: its images still in flight */
	size_t norm_made, norm_reused;
	bool norm_failed;          /* one failed: job.err says why */
	double reserved;           /* dollars held by job_may_spend */
	bool remote_asked;         /* the team cache was asked (a miss) */
	bool from_remote;          /* its outputs came from the team cache
				      (or, a validation, from the cache) */
	bool rekeyed;              /* a validation: keyed by the LoRA file */
	char progress[96];         /* its service's last words (job_progress),
				      cleaned; "" when none */
	bool in_pool;              /* holds a place in its engine's pool */
	int64_t started;
	int64_t launched;          /* handed to its engine (a package: after
				    * its images were normalised) */
	char why[512];             /* failure or skip reason */
};

struct sched {
	struct dag *dag;
	struct status *st;
	struct store *store;
	struct actions *acts;
	struct lock *lock;
	struct sched_opts opts;
	struct loop *loop;
	struct workers *workers;
	struct pending pending;
	struct sjob **byidx;       /* NULL for nodes not to run */
	struct sjob **ready;       /* FIFO */
	size_t rhead, rtail, rcap;
	struct pool *pools;
	size_t npools;
	size_t total, finished, failed, skipped;
	int running;
	double spent, reserved, planned;
	int64_t started, lock_written;
	bool lock_writing;         /* a lock rewrite is on a worker */
	bool journal_syncing;      /* a pending_sync is on a worker */
	unsigned long journal_synced; /* pending.written when it began */
	bool stopping, cancelled;
	bool failures_unkept;      /* the failures file refused a line: said once */
	bool build_refused;        /* build/ cannot be written: said once */
	signed char *decoded;      /* per source file node: 0 not yet, 1 an
				    * image, -1 not one (probed once) */
	struct sjob **failures;
	size_t nfailures, capfailures;
	/* the package this build makes: its images' normalisations */
	struct norm_slot *norms;   /* by node index, or NULL: no package */
	bool *norm_wanted;         /* by node index: a selected image */
	size_t norm_running;       /* on the workers */
	struct rcache *rcache;     /* the team cache, or NULL */
	size_t fetching;           /* nodes it is asked for now */
};

/* ---- outputs of nodes, wherever they come from ---- */

/* The cached outputs of n: this build's, the action log's or the lock's. */
static const struct hash *
outputs_of(const struct sched *s, const struct node *n, size_t *count)
{
	const struct sjob *j = s->byidx[n->idx];
	const struct status *st = &s->st[n->idx];

	if (j && j->state == SJ_DONE) {
		*count = j->nouts;
		return j->outs;
	}
	return status_outs(st, count);
}

/* The package's ZIP in the store: its tree's .zip entry, or NULL. */
static char *
package_zip(const struct sched *s, const struct hash *tree_obj)
{
	char *path = store_object_path(s->store, tree_obj), *text = NULL, *zip = NULL;
	struct tree_entry *v = NULL;
	size_t n = 0;

	if (read_file(path, &text, NULL, NULL) == 0 && tree_parse(text, &v, &n) == 0)
		for (size_t i = 0; i < n && !zip; i++) {
			const char *dot = strrchr(v[i].path, '.');

			if (dot && !strcmp(dot, ".zip"))
				zip = store_object_path(s->store, &v[i].obj);
		}
	tree_free(v, n);
	free(text);
	free(path);
	return zip;
}

/* The file a consumer reads for input `in` (the picked candidate; a
 * package's ZIP). */
static char *
input_path(const struct sched *s, const struct node *in)
{
	const struct hash *outs;
	size_t n;
	int pick;

	if (in->file)
		return xstrdup(in->file);
	outs = outputs_of(s, in, &n);
	if (in->kind == KIND_PACKAGE)
		return outs && n ? package_zip(s, &outs[0]) : NULL;
	pick = node_pick(in, s->dag->picks);
	if (!outs || pick < 1 || (size_t)pick > n)
		return NULL;
	return store_object_path(s->store, &outs[pick - 1]);
}

char *
sched_build_path(const struct dag *dag, const struct node *n, int candidate,
		 const char *ext)
{
	if (candidate > 0)
		return xasprintf("%s/build/%s/candidate-%02d%s", dag->dir, n->id,
				 candidate, ext);
	return xasprintf("%s/build/%s%s", dag->dir, n->id, ext);
}

/* ---- progress ---- */

static void
format_eta(char *out, size_t sz, double secs)
{
	long s = (long)(secs + 0.5);

	if (s >= 3600)
		snprintf(out, sz, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, sz, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(out, sz, "%lds", s);
}

static void
status_line(struct sched *s, const struct node *n)
{
	char eta[32];
	double elapsed = (now_ms() - s->started) / 1000.0;
	size_t done = s->finished + s->failed + s->skipped;
	const struct sjob *j = s->byidx[n->idx];
	const char *said = j && j->state == SJ_RUNNING ? j->progress : "";

	if (!s->opts.tty)
		return;
	format_eta(eta, sizeof(eta), done ? elapsed * (double)(s->total - done) / (double)done
					  : s->planned);
	fprintf(stderr, "\r\033[K[%zu/%zu] %.48s  %s  $%.2f spent  ETA %s%s%s", done,
		s->total, n->id, n->engine ? n->engine->name : n->engine_type,
		s->spent, eta, *said ? "  " : "", said);
	fflush(stderr);
}

static void
clear_status(const struct sched *s)
{
	if (s->opts.tty)
		fputs("\r\033[K", stderr);
}

/* A plain line: when not on a terminal, one per finished node. */
static void
say_done(struct sched *s, const struct sjob *j)
{
	size_t done = s->finished + s->failed + s->skipped;

	if (s->opts.tty && !s->opts.verbose)
		return;
	clear_status(s);
	if (j->from_remote) {
		fprintf(stderr, "[%zu/%zu] %s (remote cache, %.1fs)\n", done, s->total,
			j->node->id, (now_ms() - j->started) / 1000.0);
		return;
	}
	fprintf(stderr, "[%zu/%zu] %s (%s, %.1fs%s", done, s->total, j->node->id,
		j->node->engine ? j->node->engine->name : j->node->engine_type,
		(now_ms() - j->started) / 1000.0, j->job.usd > 0 ? ", $" : "");
	if (j->job.usd > 0)
		fprintf(stderr, "%.3f", j->job.usd);
	fputs(")\n", stderr);
	if (j->node->kind == KIND_PACKAGE)
		fprintf(stderr, "package: %zu image%s normalised, %zu from the cache\n",
			j->norm_made, j->norm_made == 1 ? "" : "s", j->norm_reused);
}

static void
say_failed(struct sched *s, const struct sjob *j)
{
	clear_status(s);
	fprintf(stderr, "%sFAILED%s %s: %s\n", s->opts.color ? "\033[31m" : "",
		s->opts.color ? "\033[0m" : "", j->node->id, j->why);
}

/* ---- the ready queue and limits ---- */

static void
push_ready(struct sched *s, struct sjob *j)
{
	if (s->rtail == s->rcap) {
		s->rcap = s->rcap ? s->rcap * 2 : 64;
		s->ready = xreallocarray(s->ready, s->rcap, sizeof(*s->ready));
	}
	j->state = SJ_READY;
	s->ready[s->rtail++] = j;
}

static struct pool *
pool_for(struct sched *s, const struct node *n)
{
	const char *name = n->engine ? n->engine->name : n->engine_type;
	int limit = engine_concurrency(n->engine, n->engine_type);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	for (size_t i = 0; i < s->npools; i++)
		if (!strcmp(s->pools[i].name, name))
			return &s->pools[i];
	if (!limit)
		limit = cpus > 0 ? (int)cpus : 2; /* CPU work: one per core */
	s->pools[s->npools] = (struct pool){ .name = name, .limit = limit };
	return &s->pools[s->npools++];
}

/* ---- finishing ---- */

static void skip_below(struct sched *s, struct sjob *j);
static void norm_begin(struct sched *s, const struct node *n);

/* A lock rewrite in flight on a worker: its text and how it went. */
struct lock_write {
	struct sched *s;
	char *path;
	struct buf text;
	struct error err;
	int rc;
};

static void
lock_write_work(void *ctx)
{
	struct lock_write *w = ctx;

	w->rc = write_file_atomic(w->path, w->text.data, w->text.len, &w->err);
}

static void write_lock(struct sched *s, bool force);

/* Loop thread: one write finished; if the lock moved on, write again. */
static void
lock_write_done(void *ctx)
{
	struct lock_write *w = ctx;
	struct sched *s = w->s;

	if (w->rc < 0)
		warn("%s", w->err.msg);
	buf_release(&w->text);
	free(w->path);
	free(w);
	s->lock_writing = false;
	if (s->lock->dirty)
		write_lock(s, true);
}

/*
 * Rewrite the lock: its text is made here, written and fsynced on a
 * worker, one write at a time (a newer text waits for the older to land,
 * so an old lock can never replace a new one). force: now, else at most
 * every LOCK_WRITE_INTERVAL_MS.
 */
static void
write_lock(struct sched *s, bool force)
{
	struct lock_write *w;
	int64_t now = now_ms();

	if (!s->lock->dirty || s->lock_writing ||
	    (!force && now - s->lock_written < LOCK_WRITE_INTERVAL_MS))
		return;
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->path = xstrdup(s->lock->path);
	buf_init(&w->text);
	lock_format(s->lock, &w->text);
	s->lock->dirty = false;
	s->lock_writing = true;
	s->lock_written = now;
	workers_submit(s->workers, lock_write_work, lock_write_done, w);
}

/* The end of a build: let a write in flight land, then write what is left
 * here, so the last word is the newest lock. */
static void
flush_lock(struct sched *s)
{
	struct error err;

	while (s->lock_writing) {
		loop_run_once(s->loop, 100);
		workers_collect(s->workers);
	}
	if (lock_write(s->lock, &err) < 0)
		warn("%s", err.msg);
}

/* A sync of the journal (.loramake/pending) on a worker. */
struct journal_sync {
	struct sched *s;
	struct error err;
	int rc;
};

static void
journal_sync_work(void *ctx)
{
	struct journal_sync *w = ctx;

	w->rc = pending_sync(&w->s->pending, &w->err);
}

static void sync_journal(struct sched *s);

static void
journal_sync_done(void *ctx)
{
	struct journal_sync *w = ctx;
	struct sched *s = w->s;

	if (w->rc < 0)
		warn("%s", w->err.msg);
	free(w);
	s->journal_syncing = false;
	sync_journal(s); /* the lines written meanwhile */
}

/*
 * Make the journal's new lines durable, on a worker: each line is in the
 * file already (a killed build keeps it), the sync is for a machine that
 * crashes, and the loop thread must not wait on the disk for every
 * request (cache/pending.h). One sync at a time.
 */
static void
sync_journal(struct sched *s)
{
	struct journal_sync *w;

	if (s->journal_syncing || s->pending.written == s->journal_synced)
		return;
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	s->journal_synced = s->pending.written;
	s->journal_syncing = true;
	workers_submit(s->workers, journal_sync_work, journal_sync_done, w);
}

/* The end of a build: the sync in flight lands, then the last lines. */
static void
flush_journal(struct sched *s)
{
	struct error err;

	while (s->journal_syncing) {
		loop_run_once(s->loop, 100);
		workers_collect(s->workers);
	}
	if (s->pending.written != s->journal_synced &&
	    pending_sync(&s->pending, &err) < 0)
		warn("%s", err.msg);
}

/* j's place in its engine's pool is free (once). */
static void
leave_pool(struct sjob *j)
{
	if (j->in_pool)
		j->pool->running--;
	j->in_pool = false;
}

static void
release_slot(struct sched *s, struct sjob *j)
{
	s->running--;
	leave_pool(j);
	s->reserved -= j->reserved;
	j->reserved = 0;
	s->spent += j->job.usd;
}

/* Keep why j failed for plan, explain and review (cache/failures.h);
 * a job cut off by Ctrl-C did not fail. */
static void
remember_failure(struct sched *s, const struct sjob *j)
{
	struct error err;

	if (!s->opts.failures || s->cancelled)
		return;
	if (failures_add(s->opts.failures, &j->node->key, j->why, &err) < 0 &&
	    !s->failures_unkept) {
		warn("%s (a failure's words are not kept for plan and review)",
		     err.msg);
		s->failures_unkept = true;
	}
}

static void
fail(struct sched *s, struct sjob *j)
{
	j->state = SJ_FAILED;
	s->failed++;
	LM_GROW(s->failures, s->nfailures + 1, s->capfailures);
	s->failures[s->nfailures++] = j;
	say_failed(s, j);
	remember_failure(s, j);
	skip_below(s, j);
	if (s->opts.fail_fast)
		s->stopping = true;
}

static void
skip_below(struct sched *s, struct sjob *j)
{
	for (size_t i = 0; i < j->node->nout; i++) {
		struct sjob *d = s->byidx[j->node->out[i]->idx];

		if (!d || d->state == SJ_SKIPPED || d->state == SJ_FAILED ||
		    d->state == SJ_DONE)
			continue;
		d->state = SJ_SKIPPED;
		snprintf(d->why, sizeof(d->why), "input %s did not finish",
			 j->node->id);
		s->skipped++;
		skip_below(s, d);
	}
}

/* j's engine server is down (pool->down says where it was found):
 * skipped, not failed, so the reason is said once, by that node. */
static void
skip_engine_down(struct sched *s, struct sjob *j)
{
	j->state = SJ_SKIPPED;
	snprintf(j->why, sizeof(j->why), "engine '%s' does not answer (%s)",
		 j->pool->name, j->pool->down->id);
	s->skipped++;
	skip_below(s, j);
}

static const char *
out_ext(const struct node *n)
{
	if (n->kind == KIND_CAPTION)
		return ".txt";
	if (n->kind == KIND_PACKAGE)
		return ".list";
	if (n->kind == KIND_TRAIN)
		return ".safetensors";
	if (n->kind == KIND_VISION || n->kind == KIND_GATE)
		return ".json";
	return ".png";
}

/* Where output i of n's nouts is shown: a candidate's folder, or a
 * trainer's file by its name (build/train/NAME.high_noise.safetensors). */
static char *
shown_path(const struct dag *dag, const struct node *n, size_t i,
	   size_t nouts, const char *ext)
{
	const struct trainer *t = node_trainer(n);

	if (t && t->nfiles > 1 && nouts == (size_t)t->nfiles)
		return xasprintf("%s/build/%s.%s%s", dag->dir, n->id,
				 t->files[i].name, ext);
	return sched_build_path(dag, n, nouts > 1 ? (int)i + 1 : 0, ext);
}

/* Copy n's outputs into build/ for people to look at (hard links: objects
 * are read-only, so an edit there cannot change the cache). */
static void
show_in_build(struct sched *s, const struct node *n, const struct hash *outs,
	      size_t nouts)
{
	const char *ext = out_ext(n);

	if (n->kind == KIND_PACKAGE)
		return;
	for (size_t i = 0; i < nouts; i++) {
		char *dst = shown_path(s->dag, n, i, nouts, ext);
		char *src = store_object_path(s->store, &outs[i]);
		char *dir = path_dir(dst);
		struct error err;

		/* walked (path.h): a planted build/ link leads nowhere */
		if (mkdirs(dir, &err) == 0) {
			unlink(dst);
			if (link(src, dst) < 0 && symlink(src, dst) < 0)
				warn("cannot show '%s' in build/:", dst);
		} else if (!s->build_refused) {
			warn("%s; no output is shown in build/", err.msg);
			s->build_refused = true;
		}
		free(dir);
		free(src);
		free(dst);
	}
}

/* The action record of a finished job. */
static struct action
action_of(const struct sjob *j)
{
	struct action rec = { .key = j->node->key, .outs = j->outs,
			      .nouts = j->nouts, .usd = j->job.usd,
			      .seed = j->node->seed, .request = j->job.request };

	return rec;
}

/* The package's images that are not captions. */
static size_t
package_images(const struct node *pkg)
{
	size_t n = 0;

	for (size_t i = 0; i < pkg->nin; i++)
		n += pkg->in[i]->kind != KIND_CAPTION;
	return n;
}

/* What j took, for the next plan's ETA (cache/times.h): a package by the
 * image, since the next one may hold more or fewer. */
static void
learn_time(struct sched *s, const struct sjob *j)
{
	double secs = (double)(now_ms() - j->started) / 1000.0;
	size_t images;

	if (!s->opts.times || j->from_remote) /* a fetch says nothing of the engine */
		return;
	if (j->node->kind != KIND_PACKAGE) {
		times_add_node(s->opts.times, j->node, secs);
		return;
	}
	images = package_images(j->node);
	if (images)
		times_add(s->opts.times, "package", "assemble", "package",
			  (double)(now_ms() - j->launched) / 1000.0 / (double)images);
}

/*
 * A training's provenance into the lock (cache/lock.h's trained=): the
 * package's tree object it read, and the request it sent, stored as an
 * object: {"url": ..., "input": ...} from its engine's describe (the code
 * that sent it; the package's URL written "<input package>"). explain reads them, not the recipe as
 * it is now.
 */
static void
record_training(struct sched *s, const struct sjob *j)
{
	const struct node *n = j->node, *pkg = n->nin ? n->in[0] : NULL;
	const char *in = "<input package>";
	struct engine_request rq = { 0 };
	const struct hash *tree;
	struct hash sent;
	struct error err;
	size_t ntree = 0;
	struct buf b;
	int rc = -1;

	if (!pkg || !(tree = outputs_of(s, pkg, &ntree)) || !ntree)
		return;
	buf_init(&b);
	if (j->engine->describe &&
	    j->engine->describe(n, n->engine, &in, 1, 1, &rq, &err) == 0) {
		buf_adds(&b, "{\"url\":");
		recipe_json_string(&b, rq.url);
		buf_addf(&b, ",\"input\":%s}\n", rq.body);
		rc = store_put_bytes(s->store, b.data, b.len, &sent, &err);
	}
	if (rc == 0)
		lock_set_trained(s->lock, n->id, &tree[0], &sent);
	else
		warn("%s: what it was trained on is not recorded", n->id);
	engine_request_release(&rq);
	buf_release(&b);
}

/* Loop thread: finalize() made the node durable; now the rest learn. */
static void
record(struct sched *s, struct sjob *j)
{
	struct action rec = action_of(j);

	learn_time(s, j);
	if (s->opts.failures)
		failures_clear(s->opts.failures, &j->node->key);
	actions_add(s->acts, &rec);
	if (!j->from_remote)
		rcache_upload(s->rcache, j->node, &rec);
	lock_set(s->lock, j->node, j->outs, j->nouts, j->job.usd, j->job.request);
	if (j->node->kind == KIND_TRAIN)
		record_training(s, j);
	/* a paid node is in the lock at once; free ones at most every 200 ms */
	write_lock(s, node_is_remote(j->node));
	show_in_build(s, j->node, j->outs, j->nouts);
	j->state = SJ_DONE;
	s->finished++;
	say_done(s, j);
	if (s->norms && s->norm_wanted[j->node->idx] && !s->stopping)
		norm_begin(s, j->node); /* while the rest is built */
	for (size_t i = 0; i < j->node->nout; i++) {
		struct sjob *d = s->byidx[j->node->out[i]->idx];

		if (d && d->state == SJ_WAIT && --d->nblock == 0)
			push_ready(s, d);
	}
}

/*
 * Is the file at path the store's object h itself (a hard link to it)?
 * The package names the objects it linked (runtime/engines/builtin.c);
 * the inodes, not its word, decide.
 */
static bool
is_object(const struct store *st, const char *path, const struct hash *h)
{
	char *obj = store_object_path(st, h);
	struct stat a, b;
	bool same = lstat(path, &a) == 0 && lstat(obj, &b) == 0 &&
		    S_ISREG(a.st_mode) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;

	free(obj);
	return same;
}

/*
 * Worker: move every file of a folder package into the store and cache
 * its tree. The listing has a line per file, "PATH" or "PATH<TAB>OBJ"
 * for a hard link to a cached object (a normalised image, a caption):
 * that one is not hashed and fsynced again (480 images are 700 MB).
 */
static int
store_tree(struct sjob *j, struct hash *out, struct error *err)
{
	struct store *st = j->s->store;
	char *list, *save;
	struct buf tree;
	int rc = 0;

	if (read_file(j->job.outs[0], &list, NULL, err) < 0)
		return -1;
	buf_init(&tree);
	for (char *p = strtok_r(list, "\n", &save); p && rc == 0;
	     p = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(p, '\t'), *src, hex[HASH_HEX_LEN + 1];
		struct hash h;
		bool linked;

		if (tab)
			*tab++ = '\0';
		src = path_join(j->workdir, p);
		linked = tab && hash_parse(tab, &h) && is_object(st, src, &h);
		if (!path_is_contained(p)) {
			rc = error_set(err, "package lists '%s', outside its folder", p);
		} else if (linked || (rc = store_put_file(st, src, &h, err)) == 0) {
			hash_hex(&h, hex);
			buf_addf(&tree, "%s\t%s\n", hex, p);
			if (linked)
				unlink(src); /* the store has it by its name */
		}
		free(src);
	}
	free(list);
	if (rc == 0)
		rc = store_put_bytes(st, tree.data, tree.len, out, err);
	buf_release(&tree);
	return rc;
}

/* Does the file at path start as a ZIP or a tar ("ustar" at 257)? */
static bool
is_archive(const char *path)
{
	unsigned char head[262];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;

	if (fd >= 0)
		close(fd);
	return (n >= 4 && !memcmp(head, "PK\3\4", 4)) ||
	       (n == (ssize_t)sizeof(head) && !memcmp(head + 257, "ustar", 5));
}

/*
 * A trainer's weights may come as an archive holding the LoRA
 * (Replicate's trained_model.tar): the first .safetensors inside takes
 * the download's place, written chunk by chunk. 0, or -1 with err.
 */
static int
unpack_weights(const char *path, struct error *err)
{
	char *x = xasprintf("%s.x", path);
	int rc = pack_extract_suffix(path, ".safetensors", x, err);

	if (rc == 1)
		error_set(err, "the trainer's archive holds no .safetensors file");
	else if (rc == 0 && rename(x, path) < 0)
		rc = error_set(err, "cannot rename %s:", x);
	if (rc != 0)
		unlink(x);
	free(x);
	return rc == 0 ? 0 : -1;
}

/* Worker: decode every image output, check every LoRA file's frame (a
 * broken one fails the node). */
static int
check_images(struct sjob *j, struct error *err)
{
	char why[sizeof(err->msg)];

	for (int i = 0; j->node->kind == KIND_TRAIN && i < j->job.nouts; i++) {
		if (is_archive(j->job.outs[i]) && unpack_weights(j->job.outs[i], err) < 0)
			return -1;
		if (safetensors_check_file(j->job.outs[i], err) == 0)
			continue;
		memcpy(why, err->msg, sizeof(why));
		return error_set(err, "the trainer's LoRA file is broken, not cached (%.400s)",
				 why);
	}

	for (int i = 0; j->node->image && i < j->job.nouts; i++) {
		if (image_probe(j->job.outs[i], NULL, NULL, err) == 0)
			continue;
		memcpy(why, err->msg, sizeof(why));
		return error_set(err, "the engine's image is broken, not cached (%.400s)",
				 why);
	}
	return 0;
}

/*
 * Worker: check the outputs, move them into the store, and append the
 * action durably (its fsync here, not on the loop thread).
 */
static void
finalize(struct sjob *j)
{
	struct error *err = &j->job.err;
	struct action rec;
	int rc;

	j->outs = xcalloc((size_t)j->job.nouts, sizeof(*j->outs));
	if (j->workdir) {
		rc = store_tree(j, &j->outs[0], err);
		j->nouts = rc == 0;
	} else {
		rc = check_images(j, err);
		for (int i = 0; rc == 0 && i < j->job.nouts; i++)
			if ((rc = store_put_file(j->s->store, j->job.outs[i],
						 &j->outs[i], err)) == 0)
				j->nouts++;
	}
	if (rc == 0) {
		rec = action_of(j);
		rc = actions_write(j->s->acts->path, &rec, err);
	}
	if (rc < 0)
		j->job.failed = true;
}

static void
work_local(void *ctx)
{
	struct sjob *j = ctx;

	if (j->engine->run(&j->job, &j->job.err) < 0)
		j->job.failed = true;
	else
		finalize(j);
}

static void
work_finalize(void *ctx)
{
	finalize(ctx);
}

static void
cleanup_files(struct sjob *j)
{
	for (int i = 0; i < j->job.nouts; i++)
		unlink(j->job.outs[i]); /* already moved, or a leftover */
	if (j->workdir)
		path_remove_tree(j->workdir); /* what was not cached */
}

/* Loop thread: a job's outputs are cached, or it failed. */
static void
work_done(void *ctx)
{
	struct sjob *j = ctx;
	struct sched *s = j->s;

	release_slot(s, j);
	cleanup_files(j);
	if (j->job.failed) {
		/* the engine's words may quote a server: shown and stored */
		text_clean(j->job.err.msg, sizeof(j->job.err.msg),
			   job_secret(&j->job));
		snprintf(j->why, sizeof(j->why), "%s", j->job.err.msg);
		if (j->job.unreachable && !j->pool->down)
			j->pool->down = j->node;
		fail(s, j);
	} else {
		record(s, j);
	}
	if (j->node)
		status_line(s, j->node);
}

/* Are the request ids (joined with ',') each a text_is_token? They go
 * into the action log and the lock, and a server chose them. */
static bool
request_ids_ok(const char *ids)
{
	char *copy = xstrdup(ids), *save, *id;
	bool ok = *ids != '\0';

	for (id = strtok_r(copy, ",", &save); id && ok;
	     id = strtok_r(NULL, ",", &save))
		ok = text_is_token(id, ENGINE_MAX_REQUEST_ID);
	free(copy);
	return ok;
}

void
job_done(struct job *job)
{
	struct sjob *j = (struct sjob *)job;

	if (job->request && !request_ids_ok(job->request)) {
		warn("%s: the engine's request id is not kept: it is not [A-Za-z0-9._-]{1,%d}",
		     j->node->id, ENGINE_MAX_REQUEST_ID);
		free(job->request);
		job->request = NULL;
	}
	/* the service is done with it: the engine's next job may start
	 * while this one's outputs are checked and stored */
	leave_pool(j);
	if (job->failed) {
		work_done(j);
		return;
	}
	workers_submit(j->s->workers, work_finalize, work_done, j);
}

int
job_record(struct job *job, int candidate, const char *info, struct error *err)
{
	struct sjob *j = (struct sjob *)job;

	if (pending_add(&j->s->pending, &j->node->key, candidate, info, err) < 0)
		return -1;
	sync_journal(j->s);
	return 0;
}

int
job_forget(struct job *job, int candidate, struct error *err)
{
	struct sjob *j = (struct sjob *)job;

	if (pending_forget(&j->s->pending, &j->node->key, candidate, err) < 0)
		return -1;
	sync_journal(j->s);
	return 0;
}

const char *
job_secret(const struct job *job)
{
	const char *var = job->decl ? job->decl->key_env : NULL;
	const char *v = var ? getenv(var) : NULL;

	return v && *v ? v : NULL;
}

void
job_progress(struct job *job, const char *text)
{
	struct sjob *j = (struct sjob *)job;
	struct buf b;

	/* cleaned whole, then cut to fit (at a character, never inside an
	 * escape or a secret) */
	buf_init(&b);
	b.max = sizeof(j->progress) - 1;
	text_clean_add(&b, text, strlen(text), job_secret(job));
	if (strcmp(b.data, j->progress)) {
		memcpy(j->progress, b.data, b.len + 1);
		status_line(j->s, j->node);
	}
	buf_release(&b);
}

bool
job_stopping(const struct job *job)
{
	return ((const struct sjob *)job)->s->stopping;
}

bool
job_may_spend(struct job *job, double usd)
{
	struct sjob *j = (struct sjob *)job;
	struct sched *s = j->s;

	if (s->stopping)
		return false;
	if (s->opts.max_cost >= 0 && s->spent + s->reserved + usd > s->opts.max_cost + 1e-9)
		return false;
	s->reserved += usd;
	j->reserved += usd;
	return true;
}

/* ---- starting ---- */


/* Fill job->inputs; false (with why) if an input is missing. */
/*
 * Source files are decoded whole before any engine is sent one (outputs
 * were probed when stored; the compiler only checked a source's first
 * bytes). Each is decoded once per build, on a worker: s->decoded is
 * written there and read on the loop, hence the atomics.
 */
static signed char
decoded(const struct sched *s, const struct node *in)
{
	return __atomic_load_n(&s->decoded[in->idx], __ATOMIC_ACQUIRE);
}

/* Is the source file of in known not to be an image? j->why says so. */
static bool
source_refused(const struct sched *s, const struct node *in, struct sjob *j)
{
	if (decoded(s, in) >= 0)
		return false;
	snprintf(j->why, sizeof(j->why), "the input %s (%s) is not an image "
		 "loramake can decode; nothing was sent", in->id, in->file);
	return true;
}

/* Does j wait on a source file nobody has decoded yet? */
static bool
sources_undecoded(const struct sched *s, const struct sjob *j)
{
	for (size_t i = 0; i < j->node->nin; i++)
		if (j->node->in[i]->file && !decoded(s, j->node->in[i]))
			return true;
	return false;
}

/* Worker: decode j's source files not decoded yet. */
static void
work_decode(void *ctx)
{
	struct sjob *j = ctx;
	struct sched *s = j->s;

	for (size_t i = 0; i < j->node->nin; i++) {
		const struct node *in = j->node->in[i];
		struct error err;

		if (in->file && !decoded(s, in))
			__atomic_store_n(&s->decoded[in->idx],
					 image_probe(in->file, NULL, NULL, &err) == 0 ? 1 : -1,
					 __ATOMIC_RELEASE);
	}
}

static void launch(struct sched *s, struct sjob *j);
static void engage(struct sched *s, struct sjob *j);

/* Loop: j's sources are decoded; refuse it or hand it to its engine. */
static void
decode_done(void *ctx)
{
	struct sjob *j = ctx;

	for (size_t i = 0; i < j->node->nin; i++)
		if (j->node->in[i]->file && source_refused(j->s, j->node->in[i], j)) {
			snprintf(j->job.err.msg, sizeof(j->job.err.msg), "%s", j->why);
			j->job.failed = true;
			work_done(j);
			return;
		}
	engage(j->s, j);
}

/* A validation's inputs: every LoRA file its training made (WAN 2.2's
 * two, in the trainer's order), not a candidate of it. */
static bool
prepare_loras(struct sched *s, struct sjob *j)
{
	const struct node *t = j->node->in[0];
	size_t n = 0;
	const struct hash *outs = outputs_of(s, t, &n);

	if (!outs || n != (size_t)node_files_per_request(t)) {
		snprintf(j->why, sizeof(j->why),
			 "the LoRA file%s of %s %s missing from the cache",
			 n == 1 ? "" : "s", t->id, n == 1 ? "is" : "are");
		return false;
	}
	j->job.inputs = xcalloc(n, sizeof(*j->job.inputs));
	j->job.ninputs = n;
	for (size_t i = 0; i < n; i++)
		j->job.inputs[i] = store_object_path(s->store, &outs[i]);
	return true;
}

static bool
prepare_inputs(struct sched *s, struct sjob *j)
{
	const struct node *n = j->node;

	if (n->kind == KIND_VALIDATE && n->nin == 1)
		return prepare_loras(s, j);
	j->job.inputs = xcalloc(n->nin + 1, sizeof(*j->job.inputs));
	j->job.ninputs = n->nin;
	for (size_t i = 0; i < n->nin; i++) {
		if (n->kind == KIND_PACKAGE && !dag_selected(n, n->in[i], s->dag->picks))
			continue;
		j->job.inputs[i] = input_path(s, n->in[i]);
		if (!j->job.inputs[i]) {
			snprintf(j->why, sizeof(j->why),
				 "the output of %s is missing from the cache",
				 n->in[i]->id);
			return false;
		}
		if (n->in[i]->file && source_refused(s, n->in[i], j))
			return false;
	}
	return true;
}

static void
prepare_pending(struct sched *s, struct sjob *j)
{
	const struct pending_entry *v[MAX_PENDING_PER_NODE];
	size_t n = pending_for(&s->pending, &j->node->key, v, MAX_PENDING_PER_NODE);

	if (!n)
		return;
	j->pend = xcalloc(n, sizeof(*j->pend));
	for (size_t i = 0; i < n; i++)
		j->pend[i] = (struct job_pending){ v[i]->candidate, v[i]->info };
	j->job.pending = j->pend;
	j->job.npending = n;
}

static void
start(struct sched *s, struct sjob *j)
{
	const struct node *n = j->node;

	j->state = SJ_RUNNING;
	j->started = now_ms();
	s->running++;
	j->pool->running++;
	j->in_pool = true;
	j->job.per_request = node_files_per_request(n);
	j->job.nouts = n->kind == KIND_PACKAGE ? 1
			: n->candidates * j->job.per_request;
	j->job.outs = xcalloc((size_t)j->job.nouts, sizeof(*j->job.outs));
	for (int i = 0; i < j->job.nouts; i++)
		j->job.outs[i] = store_tmp_path(s->store, out_ext(n));
	if (n->kind == KIND_PACKAGE) {
		j->workdir = store_tmp_path(s->store, ".d");
		mkdirs(j->workdir, NULL);
		j->job.workdir = j->workdir;
	}
	if (!j->engine) {
		snprintf(j->job.err.msg, sizeof(j->job.err.msg),
			 "engine type '%s' is not supported by this loramake",
			 n->engine_type);
		j->job.failed = true;
		work_done(j);
		return;
	}
	if (!prepare_inputs(s, j)) {
		snprintf(j->job.err.msg, sizeof(j->job.err.msg), "%s", j->why);
		j->job.failed = true;
		work_done(j);
		return;
	}
	prepare_pending(s, j);
	status_line(s, n);
	if (sources_undecoded(s, j))
		workers_submit(s->workers, work_decode, decode_done, j);
	else
		engage(s, j);
}

/* ---- a package's images, normalised (runtime/normalise.h) ---- */

/*
 * Each selected image of the package to build is normalised as soon as
 * it is made (record), so the work overlaps the rest of the build (a
 * fal build's wait, the other images), or when the package starts, for
 * an image made by an earlier build. One slot per image node, on the
 * loop thread; the worker sees only its own slot.
 */
enum norm_state { NORM_NONE, NORM_RUNNING, NORM_DONE, NORM_FAILED };

struct norm_slot {
	struct sched *s;
	const struct node *node;   /* the image */
	enum norm_state state;
	bool made;                 /* by this build, not found cached */
	struct hash key, obj;
	struct norm_spec spec;     /* its sides in the package */
	char *in;                  /* the file it reads, while running */
	double seconds;            /* what normalising took, on its worker */
	struct sjob *waiter;       /* the package, once it waits on this */
	size_t input;              /* the image's index in its inputs */
	struct error err;
	int rc;
};

/* The package reads the normalised object h for input i from now on. */
static void
use_normalised(struct sjob *j, size_t i, const struct hash *h)
{
	free((char *)j->job.inputs[i]);
	j->job.inputs[i] = store_object_path(j->s->store, h);
	j->in_objs[i] = *h;
}

/* The package j takes slot x's outcome for input i. */
static void
take_normalised(struct sjob *j, size_t i, const struct norm_slot *x)
{
	if (x->state == NORM_DONE) {
		use_normalised(j, i, &x->obj);
		if (x->made)
			j->norm_made++;
		else
			j->norm_reused++;
	} else if (!j->norm_failed) {
		j->norm_failed = true;
		snprintf(j->job.err.msg, sizeof(j->job.err.msg),
			 "cannot normalise %s: %.400s", x->node->id, x->err.msg);
	}
}

/* Every image is taken: hand the package to its engine, or fail it. */
static void
package_ready(struct sched *s, struct sjob *j)
{
	if (j->norm_failed) {
		j->job.failed = true;
		work_done(j);
	} else {
		launch(s, j);
	}
}

static void
norm_work(void *ctx)
{
	struct norm_slot *x = ctx;
	int64_t t0 = now_ms();

	x->rc = norm_make(x->s->store, x->s->acts->path, x->in, &x->spec,
			  &x->key, &x->obj, &x->err);
	x->seconds = (double)(now_ms() - t0) / 1000.0;
}

/* Loop thread: one image is normalised (or failed); a package waiting
 * on it takes it, and the last one it waits on readies it. */
static void
norm_done(void *ctx)
{
	struct norm_slot *x = ctx;
	struct sched *s = x->s;
	struct sjob *j = x->waiter;

	s->norm_running--;
	free(x->in);
	x->in = NULL;
	if (x->rc == 0) {
		struct action rec = norm_record(&x->key, &x->obj);

		actions_add(s->acts, &rec);
		x->state = NORM_DONE;
		x->made = true;
		if (s->opts.times)
			times_add(s->opts.times, "package", "normalise", "package",
				  x->seconds);
	} else {
		x->state = NORM_FAILED;
	}
	if (!j)
		return;
	take_normalised(j, x->input, x);
	if (--j->norm_waiting == 0)
		package_ready(s, j);
}

/*
 * Start normalising image node n, unless it is started already: found
 * in the log (done at once), or on a worker. Loop thread.
 */
static void
norm_begin(struct sched *s, const struct node *n)
{
	struct norm_slot *x = &s->norms[n->idx];
	const struct hash *outs;
	struct hash img;
	size_t nouts;

	if (x->state != NORM_NONE)
		return;
	outs = outputs_of(s, n, &nouts);
	if (!norm_image_hash(n, outs, nouts, node_pick(n, s->dag->picks), &img))
		return; /* not picked yet: the package is not ready either */
	*x = (struct norm_slot){ .s = s, .node = n };
	norm_spec_of(s->dag->package, n, &x->spec);
	x->key = norm_key(&img, &x->spec);
	if (norm_cached(s->acts, s->store, &x->key, &x->obj)) {
		x->state = NORM_DONE;
		return;
	}
	x->state = NORM_RUNNING;
	x->in = input_path(s, n);
	s->norm_running++;
	workers_submit(s->workers, norm_work, norm_done, x);
}

/*
 * A package starts: every selected image is normalised, found cached,
 * or in flight; it waits for those in flight, then launches.
 */
static void
normalise_images(struct sched *s, struct sjob *j)
{
	const struct node *n = j->node;

	j->in_objs = xcalloc(n->nin + 1, sizeof(*j->in_objs));
	j->job.input_objs = j->in_objs;
	for (size_t i = 0; i < n->nin; i++) {
		struct norm_slot *x = &s->norms[n->in[i]->idx];

		if (!j->job.inputs[i] || n->in[i]->kind == KIND_CAPTION)
			continue;
		norm_begin(s, n->in[i]);
		if (x->state == NORM_NONE)
			BUG("%s: a package input without a cached image", n->in[i]->id);
		if (x->state == NORM_RUNNING) {
			x->waiter = j;
			x->input = i;
			j->norm_waiting++;
		} else {
			take_normalised(j, i, x);
		}
	}
	if (j->norm_waiting == 0)
		package_ready(s, j);
}

/* Inputs ready and checked: a package normalises first, the rest launch. */
static void
engage(struct sched *s, struct sjob *j)
{
	if (j->node->kind == KIND_PACKAGE)
		normalise_images(s, j);
	else
		launch(s, j);
}

/* Hand j, its inputs ready and checked, to its engine. */
static void
launch(struct sched *s, struct sjob *j)
{
	j->launched = now_ms();
	if (j->engine->exec == ENGINE_LOCAL)
		workers_submit(s->workers, work_local, work_done, j);
	else
		j->engine->start(&j->job);
}

/* Loop: the team cache answered for j. A hit is a node done for $0 (its
 * objects are checked and stored, its record in the action log); a miss
 * goes back to the queue, to run. */
static void
fetched(void *ctx, const struct action *hit)
{
	struct sjob *j = ctx;
	struct sched *s = j->s;

	s->fetching--;
	if (!hit) {
		push_ready(s, j);
		return;
	}
	j->outs = xcalloc(hit->nouts, sizeof(*j->outs));
	memcpy(j->outs, hit->outs, hit->nouts * sizeof(*j->outs));
	j->nouts = hit->nouts;
	j->job.usd = hit->usd; /* what it cost whoever paid: the lock says so */
	j->job.request = hit->request ? xstrdup(hit->request) : NULL;
	j->from_remote = true;
	record(s, j);
	status_line(s, j->node);
}

/* Is j to be asked of the team cache before it runs (once)? */
static bool
wants_remote(const struct sched *s, const struct sjob *j)
{
	return !j->remote_asked && rcache_reads(s->rcache) && rcache_holds(j->node);
}

static void
ask_remote(struct sched *s, struct sjob *j)
{
	j->remote_asked = true;
	j->state = SJ_FETCHING;
	j->started = now_ms();
	s->fetching++;
	rcache_fetch(s->rcache, j->node, fetched, j);
}

/*
 * A validation is keyed by its LoRA file's hash (compiler/key.c). When
 * the training ran in this build, that was unknown at the start: now it
 * is, so key the validation by the file and look again (a hit, an image
 * of this very LoRA, needs no engine). True when that finished j.
 */
static bool
rekey_validation(struct sched *s, struct sjob *j)
{
	struct node *n = j->node, *t = n->nin ? n->in[0] : NULL;
	const struct action *hit;
	const struct hash *outs;
	size_t nouts = 0;

	if (n->kind != KIND_VALIDATE || !t || j->rekeyed)
		return false;
	j->rekeyed = true;
	if (!t->made_known && (outs = outputs_of(s, t, &nouts)) && nouts)
		node_set_made(t, outs, nouts);
	dag_key_node(s->dag, n);
	if (!(hit = actions_get(s->acts, &n->key)))
		return false;
	j->outs = xcalloc(hit->nouts, sizeof(*j->outs));
	memcpy(j->outs, hit->outs, hit->nouts * sizeof(*j->outs));
	j->nouts = hit->nouts;
	j->job.usd = hit->usd;
	j->job.request = hit->request ? xstrdup(hit->request) : NULL;
	j->from_remote = true; /* made before: it teaches no times */
	record(s, j);
	status_line(s, n);
	return true;
}

static void
start_ready(struct sched *s)
{
	size_t keep = s->rhead;

	/* start what fits; what does not stays queued in order */
	for (size_t i = s->rhead; i < s->rtail; i++) {
		struct sjob *j = s->ready[i];

		if (j->state != SJ_READY || rekey_validation(s, j))
			continue; /* skipped while it waited, or made before */
		/* the team cache first: a hit needs no engine, even one that is down */
		if (!s->stopping && wants_remote(s, j)) {
			if (s->fetching < MAX_FETCHING)
				ask_remote(s, j); /* back in the queue if a miss */
			else
				s->ready[keep++] = j;
			continue;
		}
		if (j->pool->down) {
			skip_engine_down(s, j);
			continue;
		}
		if (s->stopping || s->running >= s->opts.jobs ||
		    j->pool->running >= j->pool->limit) {
			s->ready[keep++] = j;
			continue;
		}
		start(s, j);
	}
	s->rtail = keep;
}

/* ---- setup ---- */

static void
add_jobs(struct sched *s)
{
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		struct node *n = s->dag->nodes[i];
		enum state state = s->st[i].state;
		struct sjob *j;

		if (state != STATE_NEW && state != STATE_STALE)
			continue;
		j = xcalloc(1, sizeof(*j));
		j->s = s;
		j->node = n;
		j->engine = engine_find(n->engine_type);
		j->pool = pool_for(s, n);
		j->job.node = n;
		j->job.decl = n->engine;
		j->job.loop = s->loop;
		j->job.verbose = s->opts.verbose;
		j->job.max_body = n->kind == KIND_TRAIN ? MAX_LORA_BYTES
							: MAX_OUTPUT_BYTES;
		j->job.keep_running = n->kind == KIND_TRAIN;
		j->job.captions = s->opts.captions;
		s->byidx[i] = j;
		s->total++;
		s->planned += n->seconds;
		for (size_t k = 0; k < n->nin; k++) {
			struct sjob *in = s->byidx[n->in[k]->idx];

			if (in && (n->kind != KIND_PACKAGE ||
				   dag_selected(n, n->in[k], s->dag->picks)))
				j->nblock++;
		}
		if (!j->nblock)
			push_ready(s, j);
	}
}

/* The package is built: which images it takes, with which settings. */
static void
plan_normalisation(struct sched *s)
{
	const struct node *pkg = s->dag->package;

	if (!pkg || !s->byidx[pkg->idx])
		return;
	s->norms = xcalloc(s->dag->nnodes + 1, sizeof(*s->norms));
	s->norm_wanted = xcalloc(s->dag->nnodes + 1, sizeof(*s->norm_wanted));
	for (size_t i = 0; i < pkg->nin; i++)
		if (pkg->in[i]->kind != KIND_CAPTION &&
		    dag_selected(pkg, pkg->in[i], s->dag->picks))
			s->norm_wanted[pkg->in[i]->idx] = true;
}

static bool
in_dag(const char *id, void *dag)
{
	return dag_find(dag, id) != NULL;
}

/* Bring the lock up to date: nodes cached by the log alone are added,
 * nodes gone from the recipe are dropped (git diff shows both). */
static void
sync_lock(struct sched *s)
{
	lock_prune(s->lock, in_dag, s->dag);
	lock_record_envs(s->lock, s->dag);
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		const struct status *st = &s->st[i];
		const struct node *n = s->dag->nodes[i];

		if (st->state != STATE_CACHED || !st->action)
			continue;
		if (st->was && hash_eq(&st->was->key, &n->key))
			continue;
		lock_set(s->lock, n, st->action->outs, st->action->nouts,
			 st->action->usd, st->action->request);
	}
}

/* Nodes this store had before the team cache was named are uploaded if
 * the cache lacks them (rcache_offer: a HEAD each, in the background). */
static void
offer_local_hits(struct sched *s)
{
	for (size_t i = 0; s->rcache && i < s->dag->nnodes; i++)
		if (s->st[i].state == STATE_CACHED && s->st[i].action)
			rcache_offer(s->rcache, s->dag->nodes[i], s->st[i].action);
}

static void
cancel_remote(struct sched *s)
{
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		struct sjob *j = s->byidx[i];

		if (j && j->state == SJ_RUNNING && j->engine &&
		    j->engine->exec == ENGINE_REMOTE && j->engine->cancel)
			j->engine->cancel(&j->job);
	}
}

static void
free_jobs(struct sched *s)
{
	for (size_t i = 0; i < s->dag->nnodes; i++) {
		struct sjob *j = s->byidx[i];

		if (!j)
			continue;
		for (int k = 0; k < j->job.nouts; k++)
			free(j->job.outs[k]);
		for (size_t k = 0; j->job.inputs && k < j->job.ninputs; k++)
			free((char *)j->job.inputs[k]);
		free(j->job.inputs);
		free(j->job.outs);
		free(j->job.request);
		free(j->workdir);
		free(j->outs);
		free(j->pend);
		free(j->in_objs);
		free(j);
	}
}

/*
 * Ctrl-C at a terminal, with a training running: ask whether to cancel
 * it (a running training is paid and long to redo). Anything but yes
 * leaves it running, journaled, for the next build to resume; a second
 * Ctrl-C ends loramake at once, leaving it running too. The question
 * holds the loop: nothing else is waited on meanwhile.
 */
static void
ask_about_trainings(struct sched *s)
{
	char answer[16];

	for (size_t i = 0; i < s->dag->nnodes; i++) {
		struct sjob *j = s->byidx[i];

		if (!j || j->state != SJ_RUNNING || !j->job.keep_running)
			continue;
		fprintf(stderr, "%s: %s is training at %s; it goes on and the next "
			"build resumes it unless it is cancelled. Cancel it? [y/N] ",
			lm_progname, j->node->id, j->node->engine_type);
		fflush(stderr);
		if (!fgets(answer, sizeof(answer), stdin) ||
		    (strcmp(answer, "y\n") && strcmp(answer, "yes\n")))
			continue;
		j->job.keep_running = false; /* remote_cancel cancels it */
		fprintf(stderr, "%s: cancelling %s\n", lm_progname, j->node->id);
	}
}

static void
run_loop(struct sched *s)
{
	for (;;) {
		if (*s->opts.interrupted && !s->cancelled) {
			s->stopping = s->cancelled = true;
			clear_status(s);
			fprintf(stderr, "%s: interrupted: finishing %d running job%s\n",
				lm_progname, s->running, s->running == 1 ? "" : "s");
			if (s->opts.ask && *s->opts.interrupted == SIGINT)
				ask_about_trainings(s);
			cancel_remote(s);
		}
		start_ready(s);
		if (s->running == 0 && s->norm_running == 0 && s->fetching == 0)
			break;
		loop_run_once(s->loop, 500);
		workers_collect(s->workers);
	}
}

void
sched_run(struct dag *dag, struct status *st, struct store *store,
	  struct actions *acts, struct lock *lock,
	  const struct sched_opts *opts, struct sched_result *res)
{
	struct sched s = { .dag = dag, .st = st, .store = store, .acts = acts,
			   .lock = lock, .opts = *opts };
	struct error err;
	char *pending_path = path_join(store->root, "pending");

	s.loop = loop_new();
	loop_set_verbose(s.loop, opts->verbose);
	s.workers = workers_new(opts->jobs, s.loop);
	s.byidx = xcalloc(dag->nnodes + 1, sizeof(*s.byidx));
	s.decoded = xcalloc(dag->nnodes + 1, sizeof(*s.decoded));
	s.pools = xcalloc(dag->nnodes + 1, sizeof(*s.pools));
	s.started = now_ms();
	if (pending_load(&s.pending, pending_path, &err) < 0 ||
	    (s.pending.n && pending_compact(&s.pending, acts, &err) < 0))
		warn("%s", err.msg);
	free(pending_path);
	if (actions_start(acts, &err) < 0)
		warn("%s", err.msg); /* every node will fail with the same words */
	s.rcache = rcache_new(opts->rcache, s.loop, s.workers, store, acts->path);
	sync_lock(&s);
	offer_local_hits(&s);
	add_jobs(&s);
	plan_normalisation(&s);
	run_loop(&s);
	clear_status(&s);
	flush_lock(&s);
	flush_journal(&s);
	rcache_drain(s.rcache); /* its uploads land; the lock is written already */
	memset(res, 0, sizeof(*res));
	res->rcache_down = rcache_down(s.rcache);
	rcache_free(s.rcache);
	res->ran = s.finished;
	res->failed = s.failed;
	res->skipped = s.skipped;
	res->spent = s.spent;
	res->interrupted = s.cancelled;
	for (size_t i = 0; i < s.nfailures; i++)
		fprintf(stderr, "  failed: %s: %s\n", s.failures[i]->node->id,
			s.failures[i]->why);
	workers_free(s.workers);
	loop_free(s.loop);
	pending_release(&s.pending);
	free_jobs(&s);
	free(s.failures);
	free(s.norms);
	free(s.norm_wanted);
	free(s.byidx);
	free(s.decoded);
	free(s.pools);
	free(s.ready);
}

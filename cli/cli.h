#ifndef LM_CLI_H
#define LM_CLI_H
/*
 * cli: subcommands. main.c parses the options every command shares (they
 * may stand before or after the recipe, and mean the same to plan and to
 * a build), then calls cmd_NAME(). A session is what most commands start
 * from: the compiled recipe, its lock, its cache, and each node's status.
 */
#include <stdbool.h>

#include "cache/actions.h"
#include "cache/lock.h"
#include "cache/status.h"
#include "cache/tree.h"
#include "cache/store.h"
#include "cache/failures.h"
#include "cache/times.h"
#include "compiler/dag.h"
#include "runtime/rcache.h"

/* Exit codes, the same for every command (docs/cli.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,      /* nodes failed, or check found a failing rule */
	EXIT_USAGE = 2,       /* bad recipe or bad command line */
	EXIT_NEEDS_PICK = 3,  /* stopped before nodes that wait on a pick */
	EXIT_INTERRUPTED = 130,
};

struct cli {
	const char *cmd;
	const char *recipe;
	char **args;          /* positional words after the recipe */
	const char *target;   /* build and plan: "package" (NULL: the
				 default) or "train" */
	int nargs;
	int jobs;             /* -j N; 0: the recipe's or the default */
	const char *engine;   /* --engine NAME */
	bool pick_first;      /* --pick first */
	int verbose;          /* -v */
	bool json;            /* --json */
	const char *format;   /* graph --format dot|mermaid */
	double max_cost;      /* --max-cost USD; < 0: none */
	bool drop;            /* pick --drop: forget a pick */
	bool undo;            /* reroll --undo: take a reroll back */
	bool fail_fast;       /* --fail-fast: stop starting nodes after a failure */
	int reroll_failed;    /* --reroll-failed N: rerolls of an image the
				 identity gate fails, each, in one build */
	char *allow_hosts;    /* --allow-host HOST..., joined with ',' */
	char *allow_key_envs; /* --allow-key-env NAME..., joined with ',' */
	int port;             /* review --port N; 0: a free one */
	bool no_open;         /* review --no-open: do not start a browser */
	const char *html;     /* review --html DIR: static files, no server */
	const char *remote_cache; /* --remote-cache off|read|readwrite, or NULL */
};

struct session {
	const struct cli *cli;
	struct dag *dag;
	struct lock lock;
	struct store store;
	struct actions acts;
	struct status *st;    /* one per node */
	struct times times;   /* how long jobs took here (cache/times.h) */
	struct failures fails; /* why nodes last failed (cache/failures.h) */
	char *lock_path;
	struct rcache_conf rcache; /* the team cache the user named, if any */
};

/*
 * Compile cli->recipe with the lock's picks and look up every node in the
 * cache. Returns EXIT_OK, or the exit code after printing why.
 */
int session_open(struct session *s, const struct cli *cli);
void session_close(struct session *s);
/* Aim the statuses at cli->target (cache/status.h's status_aim). */
void session_aim(struct session *s);
/* Recompute keys and statuses (after a pick changed). */
void session_refresh(struct session *s);
/* Each node's seconds from the build's own history, where it has one
 * (cli/eta.c); called by session_open and session_refresh. */
void session_learn_times(struct session *s);
/*
 * Change the lock as it is on disk: take the build lock (a running build
 * rewrites the lock too, so a pick or reroll made during a build is never
 * lost), load the lock again, let edit change it, and write it if edit
 * returns EXIT_OK. Returns edit's exit code, or EXIT_FAILED after saying
 * why the lock could not be read or written.
 */
typedef int lock_edit_fn(struct lock *fresh, void *arg);
int session_edit_lock(const struct session *s, lock_edit_fn *edit, void *arg);
/*
 * Ask the team cache which of the nodes that would run it holds (one
 * HEAD each, within a second in all): those become STATE_REMOTE, priced
 * at $0. An unreachable cache is one warning; nothing changes.
 */
void session_probe_remote(struct session *s);
/* Why n failed when last tried, if it did and has not been built
 * since (it would run again); NULL otherwise. Borrowed. */
const struct failure *session_failure(const struct session *s,
				      const struct node *n);
/* The -j to use: --jobs, else the recipe's concurrency:, else cores. */
int session_jobs(const struct session *s);

/*
 * The whole bill: what a build runs now (new and stale nodes) and what
 * waits on a pick, which a later build runs once it is made. A waiting
 * node is priced as it will run then: its cost does not depend on the
 * candidate picked. plan shows both parts; --max-cost counts both.
 */
struct bill {
	size_t jobs, cached, waiting;      /* nodes: run now, cached, wait on a pick */
	size_t unasked;                    /* beyond the target: the training */
	size_t remote;                     /* in the team cache (plan's probe) */
	size_t kinds[KIND_COUNT];          /* the jobs that run now, by kind */
	size_t waiting_kinds[KIND_COUNT];  /* the waiting ones, by kind */
	double usd, waiting_usd;           /* dollars now; once the picks are made */
};
void session_bill(const struct session *s, struct bill *b);

/*
 * The decisions a person makes, the same from the command line and from
 * the review page: each takes the build lock (session_edit_lock) and
 * says what it did on stdout. Callers check the node first.
 *
 * pick_apply: candidate N of n (1 for a one-candidate image: kept for a
 * select: picked package), or 0 to drop the pick (cli/manage.c).
 */
int pick_apply(const struct session *s, const struct node *n, int candidate);
/* Rerolls of ids, or (undo) one reroll less of each (cli/reroll.c). */
int reroll_apply(const struct session *s, const char *const *ids, int nids,
		 bool undo);
/*
 * The identity gate at build time (cli/gate.c, docs/vision.md).
 *
 * gate_record: each cached gate answer's verdict into the lock (gate
 * lines; written, and the session refreshed, when one changed); failed
 * ones said on stdout; *nfailed: images whose verdict fails now. -1 if
 * the lock cannot be written.
 * gate_pending: a gate node runs in this build.
 * gate_hold: the package (and what is below it) waits while gates run:
 * marked unasked for this pass; true if it held something.
 * gate_failed: the nodes to reroll (gate_target) of failed images no one
 * kept, at most max into targets.
 * gate_reroll: one more reroll of each target, in the lock (held).
 * gate_reroll_cost: dollars of rounds rerolls of every image failed or not
 * judged yet (plan --reroll-failed N), and how many of each.
 */
int gate_record(struct session *s, size_t *nfailed);
bool gate_pending(const struct session *s);
bool gate_hold(struct session *s);
size_t gate_failed(const struct session *s, const struct node **targets,
		   size_t max);
int gate_reroll(struct session *s, const struct node *const *targets, size_t n,
		int round);
double gate_reroll_cost(const struct session *s, int rounds, size_t *nfailed,
			size_t *nunjudged);
/* The node a reroll of gated image img gives a new seed (past upscales). */
const struct node *gate_target(const struct node *img);
/* Was img kept by hand: a pick on it or on what its upscale refines? */
bool gate_kept(const struct picks *p, const struct node *img);

/* Can a reroll change n's output? Only nodes that make an image. */
bool node_rerollable(const struct node *n);
/* The nodes a reroll of n runs again (n and all below it), and their
 * estimated dollars in *usd. */
size_t reroll_cost(const struct dag *dag, const struct node *n, double *usd);

int cmd_build(const struct cli *cli);
int cmd_plan(const struct cli *cli);
int cmd_graph(const struct cli *cli);
int cmd_explain(const struct cli *cli);
int cmd_pick(const struct cli *cli);
int cmd_reroll(const struct cli *cli);
int cmd_clean(const struct cli *cli);
int cmd_gc(const struct cli *cli);
int cmd_merge_lock(const struct cli *cli);
int cmd_check(const struct cli *cli);
int cmd_review(const struct cli *cli);

/*
 * Where the package goes, relative to the recipe's folder: its out:, or
 * dist/ and a name (a ZIP's comes from its cached tree v; NULL without
 * one). Caller frees.
 */
char *package_out_rel(const struct session *s, const struct tree_entry *v,
		      size_t n);
/*
 * May loramake write (writing) or clean remove the package at rel? Never
 * the recipe's folder, build/, .loramake/, a folder holding an input or
 * the recipe, or a path through a link; what is there already must be
 * what loramake writes (a ZIP file, or a folder with its manifest.json;
 * writing, an empty folder too). 0, or -1 with err saying why.
 */
int package_out_check(const struct session *s, const char *rel, bool writing,
		      struct error *err);

/* After a build that made the package: run the dataset rules and print
 * their one-line summary (cli/check.c). */
void check_after_build(const struct session *s);
/* What `loramake check --json` prints for s, or NULL if check cannot
 * start (said why). Caller frees. */
char *check_json(const struct session *s);

#endif

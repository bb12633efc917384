#ifndef LM_SCHED_H
#define LM_SCHED_H
/*
 * sched: run the nodes a plan marked new or stale, and nothing else.
 *
 * Ready nodes start as soon as their inputs are done, up to -j jobs in all
 * and each engine's concurrency. Local engines run on worker threads;
 * remote ones on the loop's HTTP client. Every output is checked (images
 * decoded) and moved into the cache, and its action appended to the log
 * and fsynced (on a worker), before the node counts as done: a build
 * killed at any moment keeps every node it finished. The lock is rewritten
 * after every paid (remote) node, after free ones at most every 200 ms,
 * and at the end; the next build brings it up to date from the log.
 *
 * With a team cache (rcache.h), a node the cache holds is asked for
 * before it runs: a hit is checked, stored and recorded like a node that
 * ran, for $0; what runs is uploaded after, in the background.
 *
 * A failed node fails only itself and what hangs below it; the rest goes
 * on (-k), and failures are listed at the end with the engine's words.
 * SIGINT stops starting work, cancels remote requests, records what
 * finished, and returns.
 */
#include <signal.h>
#include <stdbool.h>

#include "cache/actions.h"
#include "cache/failures.h"
#include "cache/lock.h"
#include "cache/status.h"
#include "cache/store.h"
#include "cache/times.h"
#include "compiler/dag.h"
#include "rcache.h"

struct caption_writer;

struct sched_opts {
	int jobs;             /* -j */
	bool fail_fast;       /* stop starting nodes after a failure */
	double max_cost;      /* dollars; < 0: no limit */
	int verbose;
	bool tty;             /* stderr is a terminal: one status line */
	bool color;           /* NO_COLOR unset and a terminal */
	bool ask;             /* stdin and stderr are a terminal: Ctrl-C
				 asks before a training is cancelled */
	volatile sig_atomic_t *interrupted; /* the signal that stops the
				 build (SIGINT, SIGTERM), set by its handler */
	struct times *times;  /* learns how long each job took, or NULL */
	struct failures *failures; /* why each failed node failed, or NULL */
	const struct rcache_conf *rcache;   /* the team cache, or NULL */
	const struct caption_writer *captions; /* vision captions' writer
						  (engine.h), or NULL */
};

struct sched_result {
	size_t ran, failed, skipped;
	double spent;
	bool interrupted;
	bool rcache_down;  /* the team cache was given up: uploads may be missing */
};

/*
 * Build the dag's new and stale nodes (statuses in st). The store must be
 * open for writing and locked. Failures are printed as they happen and
 * listed at the end. The lock is written before returning.
 */
void sched_run(struct dag *dag, struct status *st, struct store *store,
	       struct actions *acts, struct lock *lock,
	       const struct sched_opts *opts, struct sched_result *res);

/* Where the browsable copy of a node's output goes, under build/. */
char *sched_build_path(const struct dag *dag, const struct node *n,
		       int candidate, const char *ext);

#endif

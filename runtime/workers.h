#ifndef LM_WORKERS_H
#define LM_WORKERS_H
/*
 * workers: a small pool of threads for CPU-bound work (image operations,
 * packaging, checking and hashing outputs). Work runs on a worker; its
 * done callback runs later on the loop thread, from workers_collect, so
 * all bookkeeping stays single-threaded. Threads start on first use.
 */
struct loop;
struct workers;

typedef void (*work_fn)(void *ctx);

/* A pool of n threads that wakes loop l when work finishes. */
struct workers *workers_new(int n, struct loop *l);
/* Wait for all work to finish, then stop the threads and free the pool. */
void workers_free(struct workers *w);
/* Queue fn(ctx) on a worker; done(ctx) runs on the loop thread after. */
void workers_submit(struct workers *w, work_fn fn, work_fn done, void *ctx);
/* Loop thread: run the done callbacks of finished work. Returns how many. */
int workers_collect(struct workers *w);
/* Work queued or running, not yet collected. */
int workers_pending(const struct workers *w);

#endif

#ifndef LM_LOOP_H
#define LM_LOOP_H
/*
 * loop: the one event loop of a build. It waits on HTTP transfers (when
 * any are running), on timers, and on a wake-up pipe that worker threads
 * write to, and runs callbacks on the loop thread only. Nothing in a
 * build sleeps: a job that must wait (a poll interval, a retry backoff)
 * sets a timer.
 */
#include <stdint.h>

struct http;

typedef void (*loop_fn)(void *ctx);

struct loop;

struct loop *loop_new(void);
/* Cancels pending timers (without calling them) and frees the loop. */
void loop_free(struct loop *l);

/* Call fn(ctx) on the loop thread in ms milliseconds. Returns a timer id. */
uint64_t loop_after(struct loop *l, int64_t ms, loop_fn fn, void *ctx);
/* Forget a timer that has not fired yet (no-op if it has). */
void loop_cancel(struct loop *l, uint64_t id);

/* Wake the loop from any thread. Async-signal-safe. */
void loop_wake(struct loop *l);

/*
 * Wait for something to happen (at most max_ms), then run what is due:
 * HTTP completions, then timers.
 */
void loop_run_once(struct loop *l, int max_ms);

/*
 * The loop's HTTP client, created on first use (this loads libcurl).
 * NULL with err if libcurl cannot be loaded.
 */
struct http *loop_http(struct loop *l, struct error *err);

/* The HTTP client if one was created, else NULL (loads nothing). */
struct http *loop_http_peek(const struct loop *l);

/* -v level for everything the loop drives (HTTP traces). */
void loop_set_verbose(struct loop *l, int level);
int loop_verbose(const struct loop *l);

#endif

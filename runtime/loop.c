/*
 * loop: timers in a small array (a build has at most a few hundred
 * waiting at once), a self-pipe for wake-ups, and the HTTP client's wait
 * when transfers are running.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "loop.h"

struct timer {
	uint64_t id;
	int64_t due; /* now_ms() time */
	loop_fn fn;
	void *ctx;
};

struct loop {
	struct timer *timers;
	size_t ntimers, cap;
	uint64_t next_id;
	int wake[2];        /* read end, write end; both non-blocking */
	struct http *http;  /* NULL until the first request */
	int verbose;
};

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal(1, "cannot create a pipe:");
	return l;
}

void
loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->http)
		http_free(l->http);
	close(l->wake[0]);
	close(l->wake[1]);
	free(l->timers);
	free(l);
}

uint64_t
loop_after(struct loop *l, int64_t ms, loop_fn fn, void *ctx)
{
	struct timer *t;

	LM_GROW(l->timers, l->ntimers + 1, l->cap);
	t = &l->timers[l->ntimers++];
	t->id = ++l->next_id;
	t->due = now_ms() + (ms > 0 ? ms : 0);
	t->fn = fn;
	t->ctx = ctx;
	return t->id;
}

void
loop_cancel(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->ntimers];
			return;
		}
	}
}

void
loop_wake(struct loop *l)
{
	int saved = errno;
	char c = 1;

	/* a full pipe already means "wake up": ignore EAGAIN */
	if (write(l->wake[1], &c, 1) < 0) {
		/* nothing to do */
	}
	errno = saved;
}

static int
timeout_until_next(const struct loop *l, int max_ms)
{
	int64_t now = now_ms();
	int64_t t = max_ms;

	for (size_t i = 0; i < l->ntimers; i++)
		if (l->timers[i].due - now < t)
			t = l->timers[i].due - now;
	return t < 0 ? 0 : (int)t;
}

static void
drain_wake(struct loop *l)
{
	char buf[256];

	while (read(l->wake[0], buf, sizeof(buf)) > 0)
		;
}

/* Run due timers; a callback may add or cancel timers. */
static void
fire_timers(struct loop *l)
{
	int64_t now = now_ms();
	uint64_t last = l->next_id; /* timers set by callbacks wait a turn */

	for (size_t i = 0; i < l->ntimers;) {
		if (l->timers[i].due > now || l->timers[i].id > last) {
			i++;
			continue;
		}
		struct timer t = l->timers[i];

		l->timers[i] = l->timers[--l->ntimers];
		t.fn(t.ctx);
		i = 0; /* the array may have changed under us */
	}
}

void
loop_run_once(struct loop *l, int max_ms)
{
	int timeout = timeout_until_next(l, max_ms);

	if (l->http && http_busy(l->http)) {
		http_wait(l->http, timeout, l->wake[0]);
	} else {
		struct pollfd p = { .fd = l->wake[0], .events = POLLIN };

		if (poll(&p, 1, timeout) < 0 && errno != EINTR)
			fatal(1, "poll failed:");
	}
	drain_wake(l);
	fire_timers(l);
}

struct http *
loop_http(struct loop *l, struct error *err)
{
	if (!l->http)
		l->http = http_new(err);
	return l->http;
}

struct http *
loop_http_peek(const struct loop *l)
{
	return l->http;
}

void
loop_set_verbose(struct loop *l, int level)
{
	l->verbose = level;
}

int
loop_verbose(const struct loop *l)
{
	return l->verbose;
}

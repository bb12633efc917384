/*
 * workers: a mutex-protected FIFO of tasks, and a list of finished ones.
 */
#include <pthread.h>
#include <stdlib.h>

#include "base/util.h"
#include "loop.h"
#include "workers.h"

struct task {
	work_fn fn, done;
	void *ctx;
	struct task *next;
};

struct workers {
	struct loop *loop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct task *head, *tail; /* queued */
	struct task *finished;    /* done, not yet collected (LIFO; order is
				     restored in workers_collect) */
	pthread_t *threads;
	int nthreads, want;
	int pending;              /* queued + running + finished */
	int stopping;
};

struct workers *
workers_new(int n, struct loop *l)
{
	struct workers *w = xcalloc(1, sizeof(*w));

	w->loop = l;
	w->want = n > 0 ? n : 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	return w;
}

static void *
worker_main(void *arg)
{
	struct workers *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct task *t;

		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->head)
			break;
		t = w->head;
		w->head = t->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mu);
		t->fn(t->ctx);
		pthread_mutex_lock(&w->mu);
		t->next = w->finished;
		w->finished = t;
		loop_wake(w->loop);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void
workers_submit(struct workers *w, work_fn fn, work_fn done, void *ctx)
{
	struct task *t = xcalloc(1, sizeof(*t));

	t->fn = fn;
	t->done = done;
	t->ctx = ctx;
	pthread_mutex_lock(&w->mu);
	if (!w->threads)
		w->threads = xcalloc((size_t)w->want, sizeof(*w->threads));
	if (w->nthreads < w->want && w->nthreads < w->pending + 1) {
		if (pthread_create(&w->threads[w->nthreads], NULL, worker_main, w))
			fatal(1, "cannot start a worker thread");
		w->nthreads++;
	}
	if (w->tail)
		w->tail->next = t;
	else
		w->head = t;
	w->tail = t;
	w->pending++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
workers_collect(struct workers *w)
{
	struct task *list, *rev = NULL;
	int n = 0;

	pthread_mutex_lock(&w->mu);
	list = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->mu);
	while (list) { /* oldest first */
		struct task *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct task *next = rev->next;

		if (rev->done)
			rev->done(rev->ctx);
		free(rev);
		rev = next;
		n++;
	}
	pthread_mutex_lock(&w->mu);
	w->pending -= n;
	pthread_mutex_unlock(&w->mu);
	return n;
}

int
workers_pending(const struct workers *w)
{
	int n;

	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	n = w->pending;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return n;
}

void
workers_free(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	while (w->finished) {
		struct task *t = w->finished;

		w->finished = t->next;
		free(t);
	}
	free(w->threads);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

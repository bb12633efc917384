/*
 * remote: the machinery of a paid remote job (see remote.h). The
 * services' files say what their requests are; this file drives them.
 *
 *   begin_submit -> SUBMIT --(journal)--> POLL ... -> [RESULT] -> FETCH
 *                      ^ the UPLOADs first, when an input is big
 *   Ctrl-C: CANCEL of what is at the service; the rest stops.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/imgtype.h"
#include "base/path.h"
#include "base/text.h"
#include "base/url.h"
#include "base/util.h"
#include "compiler/dag.h"
#include "compiler/engine_type.h"
#include "compiler/estimate.h"
#include "compiler/recipe.h"
#include "runtime/engine.h"
#include "runtime/http.h"
#include "runtime/loop.h"
#include "runtime/remote.h"

#define USER_AGENT "User-Agent: loramake/0.1"
#define FETCH_TIMEOUT_MS 300000
#define MAX_WAIT_MS (2 * 3600 * 1000)  /* a request still queued after this fails */
#define MAX_TRAIN_WAIT_MS (12 * 3600 * 1000) /* a training: hours in a queue,
						hours of steps */
#define MAX_THROTTLED_MS (10 * 60 * 1000) /* 429s of one step for this long fail it */

/* ------------------------------------------------------------------ */
/* Pure parts                                                         */
/* ------------------------------------------------------------------ */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode len bytes of p into out, which holds 4 * ceil(len / 3) + 1. */
static void
b64_encode(char *out, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = b64_alphabet[(v >> 6) & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

char *
remote_base64(const void *data, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);

	b64_encode(out, data, len);
	return out;
}

char *
remote_data_uri(const char *mime, const void *data, size_t len)
{
	static const char prefix[] = "data:%s;base64,";
	size_t head = (size_t)snprintf(NULL, 0, prefix, mime);
	char *uri = xmalloc(head + (len + 2) / 3 * 4 + 1);

	snprintf(uri, head + 1, prefix, mime);
	b64_encode(uri + head, data, len);
	return uri;
}

/* The value of base64 digit c, or -1. */
static int
b64_value(int c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64_alphabet, c);
	return p ? (int)(p - b64_alphabet) : -1;
}

int
remote_unbase64(const char *s, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i], v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_value(c);
		if (v < 0 || pad)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_addc(out, (char)(acc >> bits & 0xff)) < 0)
				return -1;
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return 0;
}

int64_t
remote_backoff_ms(int attempt, double retry_after, double jitter)
{
	double ms = 500;

	if (retry_after >= 0) {
		ms = retry_after * 1000 * (1 + 0.25 * jitter);
		return ms > 300000 ? 300000 : (int64_t)ms;
	}
	for (int i = 1; i < attempt && ms < 30000; i++)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	return (int64_t)(ms * (0.75 + 0.5 * jitter));
}

/* The schedule without an expectation. */
static int64_t
poll_by_age(int64_t elapsed_ms)
{
	int64_t ms = elapsed_ms * 15 / 100;

	if (elapsed_ms < 100)
		return 100 - (elapsed_ms > 75 ? 75 : elapsed_ms);
	if (ms < 25)
		return 25;
	return ms > 5000 ? 5000 : ms;
}

int64_t
remote_poll_ms(int64_t elapsed_ms, int64_t expected_ms)
{
	int64_t step = expected_ms / 20, near = expected_ms * 9 / 10;
	int64_t usual = poll_by_age(elapsed_ms);

	if (expected_ms <= 0 || elapsed_ms >= expected_ms * 12 / 10)
		return usual;
	step = step < 10 ? 10 : step > 5000 ? 5000 : step;
	if (elapsed_ms + step <= near)
		return usual < near - elapsed_ms ? usual : near - elapsed_ms;
	return step;
}

int64_t
remote_pace_learn(int64_t expected_ms, int64_t before_ms, int64_t done_ms)
{
	int64_t mid = (before_ms + done_ms) / 2;

	if (mid < 1)
		mid = 1;
	return expected_ms <= 0 ? mid : expected_ms + (mid - expected_ms) / 4;
}

int64_t
remote_throttle_ms(int n, double retry_after, double jitter)
{
	double ms = 250;

	for (int i = 1; i < n && ms < 30000; i++)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	if (retry_after * 1000 > ms)
		ms = retry_after * 1000;
	ms *= 1 + jitter;
	return ms > 300000 ? 300000 : (int64_t)ms;
}

bool
remote_window_take(struct remote_window *w)
{
	if (w->size > 0 && w->held >= (int)w->size)
		return false;
	w->held++;
	return true;
}

void
remote_window_give(struct remote_window *w)
{
	if (w->held > 0)
		w->held--;
}

void
remote_window_cut(struct remote_window *w, int64_t now)
{
	double was = w->size > 0 && w->size < w->held ? w->size : w->held;

	if (w->size > 0 && now - w->t_cut < 1000)
		return; /* one storm, one cut */
	w->size = was / 2 < 1 ? 1 : was / 2;
	w->t_cut = now;
}

void
remote_window_grow(struct remote_window *w)
{
	if (w->size > 0)
		w->size += 1 / w->size;
}

bool
remote_retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

bool
remote_retryable_own(const struct http_response *resp)
{
	return resp->status != 500 && remote_retryable_status(resp->status);
}

bool
remote_maybe_delivered(const char *transport_error)
{
	/* libcurl's words (curl_easy_strerror) for "never connected" */
	static const char *const never[] = {
		"Couldn't connect", "Could not connect", "Couldn't resolve",
		"Could not resolve", "SSL connect error", "Unsupported protocol",
		"URL using bad/illegal format",
	};

	for (size_t i = 0; i < LM_ARRAY_LEN(never); i++)
		if (strncmp(transport_error, never[i], strlen(never[i])) == 0)
			return false;
	return true;
}

static const char *const step_names[] = {
	[REMOTE_IDLE] = "wait",          [REMOTE_SUBMIT] = "submit",
	[REMOTE_POLL] = "status check",  [REMOTE_RESULT] = "result",
	[REMOTE_FETCH] = "download",     [REMOTE_CANCEL] = "cancel",
	[REMOTE_UPLOAD] = "upload",      [REMOTE_UPLOAD_PUT] = "upload",
	[REMOTE_DONE] = "done",
};

const char *
remote_step_name(enum remote_step step)
{
	return step_names[step];
}

/* ------------------------------------------------------------------ */
/* Rate limits: one window per engine entry, and its queue            */
/* ------------------------------------------------------------------ */

/*
 * The requests one engine entry (a recipe's engines: NAME) has at its
 * service, and the candidates waiting for a place, first come first
 * served. Only the loop thread touches them; one build per process.
 */
struct remote_gate {
	const struct remote_service *svc;
	const struct engine_decl *decl;
	struct remote_window w;
	struct remote_req *head, *tail;
	struct {                 /* what each model's requests took */
		const char *model;
		int64_t ms;
	} pace[8];
	size_t npace;
};

static struct remote_gate gates[32];
static size_t ngates;

static void schedule(struct remote_task *t, int64_t ms);

/* The gate of the job's engine entry; NULL (no limit) past the table. */
static struct remote_gate *
gate_for(const struct remote_service *svc, const struct engine_decl *decl)
{
	for (size_t i = 0; i < ngates; i++)
		if (gates[i].svc == svc && gates[i].decl == decl)
			return &gates[i];
	if (ngates == LM_ARRAY_LEN(gates))
		return NULL;
	gates[ngates] = (struct remote_gate){ .svc = svc, .decl = decl };
	return &gates[ngates++];
}

/* Give candidates waiting at g the places there are, in order. */
static void
admit_waiting(struct remote_gate *g)
{
	while (g->head && remote_window_take(&g->w)) {
		struct remote_req *r = g->head;
		struct remote_job *rj = r->t.rj;

		g->head = r->next_queued;
		if (!g->head)
			g->tail = NULL;
		r->queued = false;
		r->next_queued = NULL;
		if (rj->failed || rj->cancelling || rj->finishing ||
		    r->t.step != REMOTE_IDLE) {
			remote_window_give(&g->w);
			continue;
		}
		r->slot = true;
		r->t.step = REMOTE_SUBMIT;
		schedule(&r->t, 0);
	}
}

/* May r submit now? Takes a place, or queues r (in IDLE) and says no. */
static bool
take_place(struct remote_req *r)
{
	struct remote_gate *g = r->t.rj->gate;

	if (!g || r->slot)
		return true;
	if (!g->head && remote_window_take(&g->w)) {
		r->slot = true;
		return true;
	}
	r->t.step = REMOTE_IDLE;
	if (!r->queued) {
		r->queued = true;
		if (g->tail)
			g->tail->next_queued = r;
		else
			g->head = r;
		g->tail = r;
	}
	return false;
}

/* r's request left the service (or never got there): its place. */
static void
give_place(struct remote_req *r)
{
	struct remote_gate *g = r->t.rj->gate;

	if (!g || !r->slot)
		return;
	r->slot = false;
	remote_window_give(&g->w);
	admit_waiting(g);
}

/* The run time rj's model is expected to take (remote_poll_ms), or 0. */
static int64_t *
pace_of(struct remote_job *rj)
{
	struct remote_gate *g = rj->gate;

	if (!g || !rj->model)
		return NULL;
	for (size_t i = 0; i < g->npace; i++)
		if (!strcmp(g->pace[i].model, rj->model))
			return &g->pace[i].ms;
	if (g->npace == LM_ARRAY_LEN(g->pace))
		return NULL;
	g->pace[g->npace].model = rj->model;
	g->pace[g->npace].ms = 0;
	return &g->pace[g->npace++].ms;
}

static int64_t
expected_ms(struct remote_job *rj)
{
	int64_t *ms = pace_of(rj);

	return ms ? *ms : 0;
}

/* A poll found r finished: what its model takes, learnt. A resumed
 * request's age is not its run time. */
static void
learn_pace(struct remote_req *r)
{
	int64_t *ms = pace_of(r->t.rj);

	if (ms && !r->resumed)
		*ms = remote_pace_learn(*ms, r->running_age, now_ms() - r->t_submit);
}

/* Take r out of its gate's queue (its job ends). */
static void
leave_queue(struct remote_req *r)
{
	struct remote_gate *g = r->t.rj->gate;
	struct remote_req **p;

	if (!g || !r->queued)
		return;
	for (p = &g->head; *p && *p != r; p = &(*p)->next_queued)
		;
	if (*p)
		*p = r->next_queued;
	g->tail = NULL;
	for (struct remote_req *q = g->head; q; q = q->next_queued)
		g->tail = q;
	r->queued = false;
}

/* ------------------------------------------------------------------ */
/* Per-job state                                                      */
/* ------------------------------------------------------------------ */

static void send_step(struct remote_task *t);
static void maybe_finish(struct remote_job *rj);
static void forget_calls(struct remote_job *rj);
static void journal_call(struct remote_req *r);
static void note(const struct remote_job *rj, const char *fmt, ...) LM_PRINTF(2, 3);

const char *
remote_key_env(const struct remote_job *rj)
{
	const struct engine_decl *d = rj->job->decl;
	const struct engine_type *t = engine_type_find(rj->svc->name);

	if (d && d->key_env)
		return d->key_env;
	return t && t->key_envs ? t->key_envs[0] : "the key variable";
}

char *
remote_base_of(const struct engine_decl *d, const char *type)
{
	const struct engine_type *t = engine_type_find(type);
	const char *url = d && d->url && *d->url ? d->url
			: t && t->default_url ? t->default_url : "";
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

int
remote_set_base(struct remote_job *rj, const char *url, struct error *err)
{
	size_t n = strlen(url);

	if (url_check(url, &rj->origin, err) < 0)
		return -1;
	while (n > 0 && url[n - 1] == '/')
		n--;
	free(rj->base);
	rj->base = xstrndup(url, n);
	return 0;
}

static const char *
node_id(const struct remote_job *rj)
{
	return rj->job->node->id;
}

static void
wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
req_release(struct remote_req *r)
{
	free(r->id);
	free(r->poll_url);
	free(r->result_url);
	free(r->cancel_url);
	r->id = r->poll_url = r->result_url = r->cancel_url = NULL;
	for (int k = 0; k < REMOTE_MAX_FILES; k++) {
		free(r->files[k].url);
		r->files[k] = (struct remote_file){ NULL, -1 };
	}
	r->fetching = 0;
}

static char *
dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

void
remote_req_set(struct remote_req *r, const char *id, const char *poll,
	       const char *result, const char *cancel)
{
	char *i = dup_or_null(id), *p = dup_or_null(poll);
	char *re = dup_or_null(result), *c = dup_or_null(cancel);

	req_release(r);
	r->id = i;
	r->poll_url = p;
	r->result_url = re;
	r->cancel_url = c;
}

void
remote_req_output_file(struct remote_req *r, int k, const char *url,
		       long long size)
{
	if (k < 0 || k >= REMOTE_MAX_FILES)
		BUG("output %d of a request", k);
	free(r->files[k].url);
	r->files[k] = (struct remote_file){ xstrdup(url), size };
}

void
remote_req_output(struct remote_req *r, const char *url, long long size)
{
	remote_req_output_file(r, 0, url, size);
}

/* Outputs one request of rj makes (job->outs holds as many for each). */
static int
per_request(const struct remote_job *rj)
{
	return rj->job->per_request > 1 ? rj->job->per_request : 1;
}

/* The job->outs file r's FETCH writes now. */
static const char *
out_path(const struct remote_req *r)
{
	return r->t.rj->job->outs[(r->cand - 1) * per_request(r->t.rj) +
				  r->fetching];
}

/* Release r's request and go back to "never submitted". */
static void
req_clear(struct remote_req *r)
{
	req_release(r);
	r->resumed = false;
	r->t.step = REMOTE_IDLE;
}

static void share_leave(struct remote_upload *u);

static void
remote_job_free(struct remote_job *rj)
{
	if (rj->svc->release)
		rj->svc->release(rj);
	for (int i = 0; i < rj->nreqs; i++)
		leave_queue(&rj->reqs[i]);
	for (int i = 0; i < rj->nreqs; i++)
		give_place(&rj->reqs[i]);
	for (int i = 0; i < rj->nreqs; i++) {
		req_release(&rj->reqs[i]);
		free(rj->reqs[i].t.where);
	}
	for (size_t i = 0; i < rj->nups; i++) {
		share_leave(&rj->ups[i]);
		free(rj->ups[i].data);
		free(rj->ups[i].upload_url);
		free(rj->ups[i].t.where);
	}
	free(rj->stop.where);
	for (size_t i = 0; i < rj->nimages; i++)
		free(rj->images[i]);
	free(rj->images);
	free(rj->reqs);
	free(rj->ups);
	free(rj->base);
	wipe_free(rj->auth);
	free(rj);
}

/* The request ids, joined with ',', or NULL; caller frees. */
static char *
joined_ids(const struct remote_job *rj)
{
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < rj->nreqs; i++)
		if (rj->reqs[i].id)
			buf_addf(&b, "%s%s", b.len ? "," : "", rj->reqs[i].id);
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Timer: every task is idle, so hand the job back to the scheduler. */
static void
finish(void *ctx)
{
	struct remote_job *rj = ctx;
	struct job *job = rj->job;

	job->request = joined_ids(rj);
	if (rj->svc->synchronous)
		forget_calls(rj);
	if (rj->resumed_ok && !rj->failed && !rj->cancelling)
		note(rj, "%d of %d image%s came from requests an earlier build submitted",
		     rj->resumed_ok, rj->nreqs, rj->nreqs == 1 ? "" : "s");
	if (rj->failed) {
		job->failed = true;
		job->err = rj->err;
	} else if (rj->leaving) {
		job->failed = true;
		error_set(&job->err, "interrupted; the remote job goes on (it is not "
			  "cancelled) and the next build resumes it%s%s",
			  job->request ? ": request " : "",
			  job->request ? job->request : "");
	} else if (rj->cancelling && rj->delivered < rj->nreqs) {
		job->failed = true;
		error_set(&job->err, "cancelled");
	}
	remote_job_free(rj);
	job->priv = NULL;
	job_done(job);
}

static bool
task_idle(const struct remote_task *t)
{
	return !t->busy && !t->timer_set &&
	       (t->step == REMOTE_DONE || t->step == REMOTE_IDLE);
}

/*
 * End the job once nothing of it runs: every task idle. A task waiting
 * in IDLE with the job failed or cancelled will never start. job_done
 * runs from a 0 ms timer, never from inside start() or cancel().
 */
static void
maybe_finish(struct remote_job *rj)
{
	bool stopping = rj->failed || rj->cancelling;

	if (rj->finishing)
		return;
	for (int i = 0; i < rj->nreqs; i++) {
		const struct remote_task *t = &rj->reqs[i].t;

		if (!task_idle(t) || (t->step == REMOTE_IDLE && !stopping))
			return;
	}
	for (size_t i = 0; i < rj->nups; i++)
		if (!task_idle(&rj->ups[i].t))
			return;
	if (!task_idle(&rj->stop))
		return;
	rj->finishing = true;
	loop_after(rj->job->loop, 0, finish, rj);
}

static void
stop_timer(struct remote_task *t)
{
	if (t->timer_set) {
		loop_cancel(t->rj->job->loop, t->timer);
		t->timer_set = false;
	}
}

/* End t now unless it waits on an HTTP answer (then it ends with it). */
static void
stop_if_idle(struct remote_task *t)
{
	if (!t->busy) {
		stop_timer(t);
		t->step = REMOTE_DONE;
	}
}

static void
stop_idle_tasks(struct remote_job *rj)
{
	for (int i = 0; i < rj->nreqs; i++)
		stop_if_idle(&rj->reqs[i].t);
	for (size_t i = 0; i < rj->nups; i++)
		stop_if_idle(&rj->ups[i].t);
}

/* err gets msg with the key redacted and controls escaped, whole before
 * it is cut to size. */
static void
clean_into(struct error *err, const char *msg, const char *secret)
{
	struct buf b;

	buf_init(&b);
	b.max = sizeof(err->msg) - 1;
	text_clean_add(&b, msg, strlen(msg), secret);
	memcpy(err->msg, b.data, b.len + 1);
	buf_release(&b);
}

/* Fail the job with the first reason given; stop the rest. */
static void LM_PRINTF(2, 3)
fail_job(struct remote_job *rj, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (rj->failed || rj->cancelling) {
		stop_idle_tasks(rj);
		return;
	}
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	clean_into(&rj->err, msg, job_secret(rj->job));
	free(msg);
	rj->failed = true;
	stop_idle_tasks(rj);
}

/* A warning about the job's node, its server words cleaned. */
static void LM_PRINTF(2, 3)
note(const struct remote_job *rj, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	struct error e;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	clean_into(&e, msg, job_secret(rj->job));
	free(msg);
	warn("%s: %s: %s", rj->svc->name, node_id(rj), e.msg);
}

static void
on_timer(void *ctx)
{
	struct remote_task *t = ctx;
	struct remote_job *rj = t->rj;

	t->timer_set = false;
	if (rj->failed || rj->cancelling)
		t->step = REMOTE_DONE;
	else if (t->is_upload || t->step != REMOTE_SUBMIT ||
		 take_place((struct remote_req *)t))
		send_step(t);
	maybe_finish(rj);
}

static void
schedule(struct remote_task *t, int64_t ms)
{
	t->timer = loop_after(t->rj->job->loop, ms, on_timer, t);
	t->timer_set = true;
}

static double
jitter(struct remote_job *rj)
{
	return (double)rand_r(&rj->rng) / ((double)RAND_MAX + 1);
}

/*
 * Step t failed with a retryable problem (why): try again after a backoff,
 * or fail the job once REMOTE_MAX_ATTEMPTS tries are spent.
 */
static void
retry(struct remote_task *t, double retry_after, const char *why)
{
	struct remote_job *rj = t->rj;

	if (++t->attempts >= REMOTE_MAX_ATTEMPTS) {
		fail_job(rj, "'%s': %s failed %d times, last: %s", rj->model,
			 step_names[t->step], t->attempts, why);
		return;
	}
	schedule(t, remote_backoff_ms(t->attempts, retry_after, jitter(rj)));
}

/*
 * -v: one line per answer, "fal: NODE: METHOD URL: STATUS". The query is
 * left out (signed upload URLs carry tokens); headers are never printed.
 */
static void
trace(const struct remote_task *t, const struct http_response *resp)
{
	const struct remote_job *rj = t->rj;

	if (!rj->job->verbose)
		return;
	if (resp->transport_error) {
		struct error e;

		clean_into(&e, resp->error, job_secret(rj->job));
		fprintf(stderr, "%s: %s: %s %s: %s\n", rj->svc->name,
			node_id(rj), t->method, t->where, e.msg);
	} else
		fprintf(stderr, "%s: %s: %s %s: %ld\n", rj->svc->name,
			node_id(rj), t->method, t->where, resp->status);
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

static void on_http(void *ctx, struct http_response *resp);

/* The X-Loramake-Key header of task t (the fakes count submits by it);
 * caller frees. */
static char *
key_header(const struct remote_task *t)
{
	const struct remote_job *rj = t->rj;

	if (t->is_upload || t->is_side || rj->nreqs == 1)
		return xasprintf("X-Loramake-Key: %s", rj->key_hex);
	return xasprintf("X-Loramake-Key: %s/%d", rj->key_hex,
			 ((const struct remote_req *)t)->cand);
}

/* Remember what t sends, for trace(). */
static void
note_sent(struct remote_task *t, const struct remote_send *s)
{
	free(t->where);
	t->method = s->method;
	t->where = strncmp(s->url, "data:", 5) == 0
			   ? xstrdup("data:...")
			   : xstrndup(s->url, strcspn(s->url, "?"));
}

/*
 * Send s for task t; frees s's buffers. Keyed requests carry the key and
 * JSON headers and go only to their bound origin; raw ones (upload PUT,
 * download) only a User-Agent and the body's type. Fails the job if the
 * request cannot start.
 */
static void
send_http(struct remote_task *t, struct remote_send *s)
{
	struct remote_job *rj = t->rj;
	char *ctype = s->ctype ? xasprintf("Content-Type: %s", s->ctype) : NULL;
	char *mark = s->keyed ? key_header(t) : NULL;
	const char *want[] = {
		rj->auth, ctype ? ctype : "Content-Type: application/json",
		"Accept: application/json", USER_AGENT, mark, s->extra,
	};
	const char *api[LM_ARRAY_LEN(want) + 1], *raw[] = { USER_AGENT, ctype, NULL };
	size_t n = 0;
	double max = rj->job->max_body;
	struct http_request rq = {
		.method = s->method, .url = s->url, .body = s->body,
		.body_len = s->body_len, .save_to = s->save_to,
		.send_from = s->send_from,
		.timeout_ms = s->timeout_ms, .waits = s->waits,
		.headers = s->keyed ? api : raw,
		.max_body = max > 0 ? (size_t)max : REMOTE_DEFAULT_MAX_BODY,
		.bind = s->keyed ? (s->bind ? s->bind : &rj->origin) : NULL,
	};
	struct error err;

	for (size_t i = 0; i < LM_ARRAY_LEN(want); i++)
		if (want[i]) /* no key (a server of the user's own), no extra */
			api[n++] = want[i];
	api[n] = NULL;
	note_sent(t, s);
	t->busy = http_send(rj->job->loop, &rq, on_http, t, &err) == 0;
	if (!t->busy)
		fail_job(rj, "%s", err.msg);
	free(mark);
	free(ctype);
	free(s->url);
	free(s->body);
}

/* Send whatever step t is at. */
static void
send_step(struct remote_task *t)
{
	struct remote_req *r = (struct remote_req *)t;
	struct remote_send s = { 0 };
	struct error err;

	if (t->step == REMOTE_FETCH) {
		s = (struct remote_send){ "GET", xstrdup(r->files[r->fetching].url),
					  .save_to = out_path(r),
					  .timeout_ms = FETCH_TIMEOUT_MS };
	} else if (t->rj->svc->request(t, &s, &err) < 0) {
		free(s.url);
		free(s.body);
		fail_job(t->rj, "%s", err.msg);
		return;
	}
	if (t->step == REMOTE_SUBMIT && t->rj->svc->synchronous && !r->journaled)
		journal_call(r);
	send_http(t, &s);
}

/* Are all big inputs uploaded (or none needed)? */
static bool
uploads_done(const struct remote_job *rj)
{
	for (size_t i = 0; i < rj->nups; i++)
		if (rj->ups[i].t.step != REMOTE_DONE || !rj->images[rj->ups[i].input])
			return false;
	return true;
}

/*
 * Start a fresh submit of candidate r (first time, or after the service
 * forgot a resumed request): check the spend, then send. Waits in IDLE
 * while uploads are still running.
 */
static void
begin_submit(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;

	if (r->queued)
		return; /* already waiting for a place */
	r->resumed = false;
	r->t.attempts = 0;
	if (!uploads_done(rj)) {
		r->t.step = REMOTE_IDLE;
		return;
	}
	if (!job_may_spend(rj->job, rj->price)) {
		fail_job(rj, job_stopping(rj->job)
				     ? "not submitted: the build is stopping"
				     : "not submitted: --max-cost reached");
		return;
	}
	if (!take_place(r))
		return; /* admit_waiting sends it */
	r->t.step = REMOTE_SUBMIT;
	send_step(&r->t);
}

/* ------------------------------------------------------------------ */
/* The journal                                                        */
/* ------------------------------------------------------------------ */

void
remote_forget(struct remote_req *r)
{
	struct error err;

	if ((r->id || r->journaled) && job_forget(r->t.rj->job, r->cand, &err) < 0)
		note(r->t.rj, "%s", err.msg);
	r->journaled = false;
}

/* The journal line of a synchronous call, written before it is sent: a
 * build killed before the answer leaves it for the next one to find. */
#define SYNC_CALL_LINE "call-in-flight"

static void
journal_call(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;
	struct error err;

	if (job_record(rj->job, r->cand, SYNC_CALL_LINE, &err) < 0)
		warn("%s: %s: cannot record a call in flight, a rebuild after a crash will not know it may have been billed: %s",
		     rj->svc->name, node_id(rj), err.msg);
	else
		r->journaled = true;
}

/* The job ends: none of its synchronous calls is in flight any more
 * (answered, or given up), whatever the scheduler makes of the images. */
static void
forget_calls(struct remote_job *rj)
{
	for (int i = 0; i < rj->nreqs; i++)
		if (rj->reqs[i].journaled)
			remote_forget(&rj->reqs[i]);
}

/* What a failure message adds when the request was an earlier build's. */
static const char *
earlier(const struct remote_req *r)
{
	return r->resumed ? " (the answer to a request an earlier build submitted)"
			  : "";
}

/* Record r's request so a later build can resume it (job_record):
 * "ID POLL_URL RESULT_URL CANCEL_URL", '-' for a URL it has not. */
static void
record(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;
	struct error err;
	char *info = xasprintf("%s %s %s %s", r->id, r->poll_url,
			       r->result_url ? r->result_url : "-",
			       r->cancel_url ? r->cancel_url : "-");

	if (job_record(rj->job, r->cand, info, &err) < 0)
		warn("%s: %s: cannot record request %s, a rebuild after a crash may pay again: %s",
		     rj->svc->name, node_id(rj), r->id, err.msg);
	free(info);
}

/* The URL is on the service's origin, or may it be used? */
static int
check_origin(const char *u, const struct remote_job *rj, struct error *err)
{
	return url_check_origin(u, &rj->origin, err);
}

/*
 * May r's id and follow-up URLs be used, recorded and sent the key? The
 * id a text_is_token, the URLs on the service's own origin (a cancel URL
 * that is not is dropped: cancelling is a courtesy). -1 with err.
 */
static int
check_urls(struct remote_req *r, struct error *err)
{
	struct remote_job *rj = r->t.rj;

	if (!r->id || !r->poll_url || (rj->svc->has_result && !r->result_url))
		return error_set(err, "the answer lacks the request's id or URLs");
	if (!text_is_token(r->id, ENGINE_MAX_REQUEST_ID))
		return error_set(err, "request id '%.40s' is not [A-Za-z0-9._-]{1,%d}",
				 r->id, ENGINE_MAX_REQUEST_ID);
	if (check_origin(r->poll_url, rj, err) < 0 ||
	    (r->result_url && check_origin(r->result_url, rj, err) < 0))
		return -1;
	if (r->cancel_url && check_origin(r->cancel_url, rj, NULL) < 0) {
		free(r->cancel_url);
		r->cancel_url = NULL;
	}
	return 0;
}

/* Is job->pending[i] the last line for its candidate? A later line
 * replaces an earlier one (a request submitted anew). */
static bool
last_for_candidate(const struct job *job, size_t i)
{
	for (size_t k = i + 1; k < job->npending; k++)
		if (job->pending[k].candidate == job->pending[i].candidate)
			return false;
	return true;
}

/* A journal field: '-' is none. */
static const char *
field(const char *s)
{
	return strcmp(s, "-") ? s : NULL;
}

/*
 * Resume candidate r from info, a line of .loramake/pending; -1 with err
 * (and r left "never submitted") if the line cannot be resumed safely.
 */
static int
resume_from(struct remote_req *r, const char *info, struct error *err)
{
	char id[256], pu[1024], ru[1024], cu[1024];

	req_clear(r);
	if (sscanf(info, "%255s %1023s %1023s %1023s", id, pu, ru, cu) != 4)
		return error_set(err, "the line is not 'ID STATUS_URL RESPONSE_URL CANCEL_URL'");
	remote_req_set(r, id, field(pu), field(ru), field(cu));
	if (check_urls(r, err) < 0) {
		req_clear(r);
		return -1;
	}
	r->resumed = true;
	r->t_submit = now_ms();
	r->t.step = REMOTE_POLL;
	return 0;
}

/*
 * Take job->pending: candidates an earlier build submitted, to poll
 * instead of paying again. The file is not trusted (a recipe folder may
 * come from anyone): a line whose id or URLs fail check_urls is dropped,
 * said once, and forgotten, so the candidate is submitted anew. The
 * forgetting waits until the lines (borrowed from the journal, which
 * job_forget changes) are read.
 */
static void
take_pending(struct remote_job *rj)
{
	struct job *job = rj->job;
	bool *drop = xcalloc((size_t)rj->nreqs + 1, sizeof(*drop));
	struct error err;

	for (size_t i = 0; i < job->npending; i++) {
		const struct job_pending *p = &job->pending[i];

		if (p->candidate < 1 || p->candidate > rj->nreqs || !p->info ||
		    !last_for_candidate(job, i))
			continue;
		if (rj->svc->synchronous) {
			note(rj, "candidate %d's call was in flight when an earlier build was killed: its answer is lost (%s may have billed it); calling again",
			     p->candidate, rj->svc->name);
			rj->reqs[p->candidate - 1].journaled = true;
		} else if (resume_from(&rj->reqs[p->candidate - 1], p->info, &err) < 0) {
			note(rj, "dropping candidate %d's request recorded in .loramake/pending: %s; it is submitted anew",
			     p->candidate, err.msg);
			drop[p->candidate] = true;
		}
	}
	for (int c = 1; c <= rj->nreqs; c++)
		if (drop[c] && job_forget(job, c, &err) < 0)
			note(rj, "%s", err.msg);
	free(drop);
}

/* ------------------------------------------------------------------ */
/* Answers                                                            */
/* ------------------------------------------------------------------ */

/*
 * Fail the job from a non-retryable HTTP answer, in the service's words:
 * a refused key names its variable; a 400 or 422 (at submit, or replayed
 * by the result) is the model rejecting its input; anything else names
 * the step that got it.
 */
static void
fail_http(struct remote_task *t, const struct http_response *resp)
{
	struct remote_job *rj = t->rj;
	char detail[384];
	const char *sep;

	rj->svc->detail(resp->body.data, resp->body.len, job_secret(rj->job),
			detail, sizeof(detail));
	sep = *detail ? ": " : "";
	if (resp->status == 401 || resp->status == 403)
		fail_job(rj, "%s refused the key in %s (%ld)%s%s", rj->svc->name,
			 remote_key_env(rj), resp->status, sep, detail);
	else if ((resp->status == 400 || resp->status == 422) &&
		 (t->step == REMOTE_SUBMIT || t->step == REMOTE_RESULT))
		fail_job(rj, "'%s' rejected the request (%ld)%s%s", rj->model,
			 resp->status, sep, detail);
	else
		fail_job(rj, "'%s': %s answered %ld%s%s", rj->model,
			 step_names[t->step], resp->status, sep, detail);
}

static bool
retryable(const struct remote_job *rj, const struct http_response *resp)
{
	return rj->svc->retryable ? rj->svc->retryable(resp)
				  : remote_retryable_status(resp->status);
}

/* A transport error: fail at once if no retry can cure it, else retry. */
static void
on_transport_error(struct remote_task *t, const struct http_response *resp)
{
	struct remote_job *rj = t->rj;

	if (rj->own_server && !remote_maybe_delivered(resp->error)) {
		rj->job->unreachable = true;
		fail_job(rj, "%s at %s does not answer (%s): %s", rj->svc->name,
			 rj->base, resp->error, rj->svc->down_hint);
		return;
	}
	if (t->step == REMOTE_SUBMIT && remote_maybe_delivered(resp->error))
		warn("%s: %s: submit answer lost (%s); submitting again, %s may have made (and bill) the first one too",
		     rj->svc->name, node_id(rj), resp->error, rj->svc->name);
	if (resp->permanent)
		fail_job(rj, "'%s': %s failed: %s", rj->model,
			 step_names[t->step], resp->error);
	else
		retry(t, -1, resp->error);
}

/*
 * The service said 429: too much at once. Not a failed try: the engine's
 * window is cut (fewer requests at once), a submit gives its place back,
 * and the step comes back after Retry-After spread by jitter, however
 * often, for up to MAX_THROTTLED_MS.
 */
static void
throttled(struct remote_task *t, double retry_after, const char *why)
{
	struct remote_job *rj = t->rj;
	int64_t now = now_ms();

	if (!t->throttled++)
		t->t_throttled = now;
	if (now - t->t_throttled > MAX_THROTTLED_MS) {
		fail_job(rj, "'%s': %s throttled for %d minutes, last: %s",
			 rj->model, step_names[t->step], MAX_THROTTLED_MS / 60000,
			 why);
		return;
	}
	if (rj->gate)
		remote_window_cut(&rj->gate->w, now);
	if (!t->is_upload && t->step == REMOTE_SUBMIT)
		give_place((struct remote_req *)t);
	schedule(t, remote_throttle_ms(t->throttled, retry_after, jitter(rj)));
}

/* The core's judgement of an answer the service left to it. */
static void
as_http(struct remote_task *t, const struct http_response *resp)
{
	struct remote_job *rj = t->rj;
	char why[320], detail[256];
	double wait;

	if (!retryable(rj, resp)) {
		fail_http(t, resp);
		return;
	}
	rj->svc->detail(resp->body.data, resp->body.len, job_secret(rj->job),
			detail, sizeof(detail));
	snprintf(why, sizeof(why), "HTTP %ld%s%s", resp->status,
		 *detail ? ": " : "", detail);
	wait = rj->svc->retry_after ? rj->svc->retry_after(resp)
				    : resp->retry_after;
	if (resp->status == 429)
		throttled(t, wait, why);
	else
		retry(t, wait, why);
}

/* A candidate's output file is written: count it, pay it. */
static void
delivered(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;

	rj->job->usd += rj->price;
	rj->resumed_ok += r->resumed;
	rj->delivered++;
	r->t.step = REMOTE_DONE;
	give_place(r);
}

static bool
is_data_uri(const char *url)
{
	return url && strncmp(url, "data:", 5) == 0;
}

/* Write the data: URI output r is on (inline answers) straight to its
 * file: a scratch file, not synced here (the loop thread would wait on
 * the disk for every image), since the scheduler syncs it into the
 * store. 0, or -1 with the job failed. */
static int
save_data_uri(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;
	const char *url = r->files[r->fetching].url;
	const char *comma = strchr(url, ',');
	struct buf b;
	struct error err;
	int rc = -1;

	buf_init(&b);
	if (!comma || !strstr(url, ";base64,") ||
	    remote_unbase64(comma + 1, strlen(comma + 1), &b) < 0)
		fail_job(rj, "'%s' returned an unreadable data URI", rj->model);
	else if (write_file_new(out_path(r), b.data, b.len, &err) < 0)
		fail_job(rj, "%s", err.msg);
	else
		rc = 0;
	buf_release(&b);
	return rc;
}

static void fetched(struct remote_req *r);

/* r's output r->fetching is said: decode it, or download it (on the
 * transport rule; no key goes there). */
static void
begin_fetch(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;
	const char *url = r->files[r->fetching].url;
	struct error err;

	if (!url) {
		fail_job(rj, "'%s' finished without output %d of %d", rj->model,
			 r->fetching + 1, per_request(rj));
	} else if (is_data_uri(url)) {
		if (save_data_uri(r) == 0)
			fetched(r);
	} else if (url_check(url, NULL, &err) < 0) {
		remote_forget(r);
		fail_job(rj, "'%s': output %s%s", rj->model, err.msg, earlier(r));
	} else {
		r->t.attempts = 0;
		r->t.step = REMOTE_FETCH;
		send_step(&r->t);
	}
}

/* r's output r->fetching is written: on to the next, or done. */
static void
fetched(struct remote_req *r)
{
	if (++r->fetching < per_request(r->t.rj)) {
		begin_fetch(r);
		return;
	}
	delivered(r);
}

/* A submit was answered with r's id and URLs: check, record, go on. */
static void
submitted(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;
	struct error err;

	if (check_urls(r, &err) < 0) {
		fail_job(rj, "'%s': unexpected submit answer: %s", rj->model,
			 err.msg);
		return;
	}
	record(r);
	if (rj->gate)
		remote_window_grow(&rj->gate->w);
	r->t_submit = now_ms();
	r->t.attempts = 0;
	if (r->files[0].url) {
		r->fetching = 0;
		begin_fetch(r);
		return;
	}
	r->t.step = REMOTE_POLL;
	r->running_age = 0;
	schedule(&r->t, remote_poll_ms(0, expected_ms(rj)));
}

/* Not finished yet: poll again, unless it has waited too long. */
static void
wait_more(struct remote_req *r)
{
	struct remote_job *rj = r->t.rj;
	int64_t age = now_ms() - r->t_submit;

	int64_t limit = rj->job->keep_running ? MAX_TRAIN_WAIT_MS : MAX_WAIT_MS;

	r->t.attempts = 0;
	if (age > limit)
		fail_job(rj, "'%s': request %s still not finished after %d minutes%s",
			 rj->model, r->id, (int)(limit / 60000),
			 rj->job->keep_running ? "; it is not cancelled, and the "
			 "next build polls it again" : "");
	else
		schedule(&r->t, remote_poll_ms(age, expected_ms(rj)));
	r->running_age = age;
}

/* Size of the file at path, or -1. */
static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void
on_fetch(struct remote_req *r, const struct http_response *resp)
{
	struct remote_job *rj = r->t.rj;
	long long got;
	char why[128];

	if (retryable(rj, resp)) {
		as_http(&r->t, resp);
		return;
	}
	if (resp->status != 200) {
		fail_job(rj, "'%s': cannot download the output (HTTP %ld)",
			 rj->model, resp->status);
		return;
	}
	got = file_size(out_path(r));
	if (r->files[r->fetching].size > 0 && got != r->files[r->fetching].size) {
		snprintf(why, sizeof(why), "image cut short (%lld of %lld bytes)",
			 got, r->files[r->fetching].size);
		retry(&r->t, -1, why);
		return;
	}
	/* a body cut short under a Content-Length that matched it: the job
	 * is paid, so the download is tried again, not the node failed */
	if (rj->job->node->image && image_cut_short(out_path(r))) {
		snprintf(why, sizeof(why), "image cut short (%lld bytes, its end missing)",
			 got);
		retry(&r->t, -1, why);
		return;
	}
	fetched(r);
}

static void share_uploaded(struct remote_upload *u);

/* An upload finished: the submits waiting on it may go. */
static void
uploaded(struct remote_upload *u)
{
	struct remote_job *rj = u->t.rj;

	free(u->data);
	u->data = NULL;
	u->t.step = REMOTE_DONE;
	share_uploaded(u);
	for (int i = 0; i < rj->nreqs && uploads_done(rj); i++)
		if (rj->reqs[i].t.step == REMOTE_IDLE)
			begin_submit(&rj->reqs[i]);
}

/*
 * Uploads shared by the jobs of one build: a file streamed from the
 * cache (a LoRA) that several jobs send to one service, on one account,
 * goes up once. Each validation of a training sends its LoRA; the first
 * job's upload sends it, the others wait for its URL, and if it fails
 * the next waiter sends its own. A URL is reused for SHARE_TTL_MS only,
 * well inside the hours the services keep an upload: a build may wait
 * on a training for longer. Loop thread only (one build a process).
 */
#define SHARE_TTL_MS (30 * 60 * 1000)

struct shared_upload {
	char *where;                   /* service, base, account, file */
	char *url;                     /* once it is up, else NULL */
	int64_t t_url;                 /* now_ms() when it was */
	struct remote_upload *sender;  /* sending it now, or NULL */
	struct remote_upload *waiters; /* by next_waiter */
	struct shared_upload *next;
};
static struct shared_upload *shared_uploads;

/* Where u's URL is good: its service at its base, with its key (a
 * Replicate file is its account's), and the cached file it sends. */
static char *
share_where(const struct remote_upload *u)
{
	const struct remote_job *rj = u->t.rj;
	uint64_t account = rj->auth ? hash_str64(rj->auth, strlen(rj->auth)) : 0;

	return xasprintf("%s\n%s\n%016llx\n%s", rj->svc->name, rj->base,
			 (unsigned long long)account, u->path);
}

static struct shared_upload *
share_for(const struct remote_upload *u)
{
	char *where = share_where(u);
	struct shared_upload *s;

	for (s = shared_uploads; s && strcmp(s->where, where) != 0; s = s->next)
		;
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->where = where;
		s->next = shared_uploads;
		shared_uploads = s;
	} else {
		free(where);
	}
	if (s->url && now_ms() - s->t_url > SHARE_TTL_MS) {
		free(s->url);
		s->url = NULL;
	}
	return s;
}

/* -v: u's file was not sent again, and why. */
static void
say_shared(const struct remote_upload *u, const char *how)
{
	if (u->t.rj->job->verbose)
		fprintf(stderr, "%s: %s: input %zu not sent again: %s\n",
			u->t.rj->svc->name, node_id(u->t.rj), u->input + 1, how);
}

/* Is u still waiting for a URL (its job not stopped meanwhile)? */
static bool
still_waiting(const struct remote_upload *u)
{
	return u->t.step == REMOTE_UPLOAD && !u->t.busy &&
	       !u->t.rj->failed && !u->t.rj->cancelling;
}

/* Send u, or give it the URL the build has, or make it wait for the one
 * on its way. From remote_start: no submit is begun here. */
static void
begin_upload(struct remote_upload *u)
{
	struct shared_upload *s = u->path ? share_for(u) : NULL;

	if (s && s->url) {
		u->t.rj->images[u->input] = xstrdup(s->url);
		u->t.step = REMOTE_DONE;
		say_shared(u, "uploaded earlier in this build");
		return;
	}
	u->shared = s;
	if (s && s->sender) {
		u->next_waiter = s->waiters;
		s->waiters = u;
		return;
	}
	if (s)
		s->sender = u;
	send_step(&u->t);
}

/* The next waiter of s that still waits, off the list, or NULL. */
static struct remote_upload *
next_waiting(struct shared_upload *s)
{
	struct remote_upload *w;

	while ((w = s->waiters)) {
		s->waiters = w->next_waiter;
		w->next_waiter = NULL;
		if (still_waiting(w))
			return w;
		w->shared = NULL;
	}
	return NULL;
}

/* u is up: the URL is the build's, and every waiter has it. */
static void
share_uploaded(struct remote_upload *u)
{
	struct shared_upload *s = u->shared;
	struct remote_upload *w;

	if (!s || s->sender != u)
		return;
	s->sender = NULL;
	u->shared = NULL;
	free(s->url);
	s->url = xstrdup(u->t.rj->images[u->input]);
	s->t_url = now_ms();
	while ((w = next_waiting(s))) {
		w->shared = NULL;
		w->t.rj->images[w->input] = xstrdup(s->url);
		say_shared(w, "uploaded by another job of this build");
		uploaded(w);
	}
}

/* u's job ends: a waiter leaves the line; a sender that never got its
 * file up hands the sending to the next waiter. */
static void
share_leave(struct remote_upload *u)
{
	struct shared_upload *s = u->shared;
	struct remote_upload **p, *w;

	if (!s)
		return;
	u->shared = NULL;
	for (p = &s->waiters; *p; p = &(*p)->next_waiter)
		if (*p == u) {
			*p = u->next_waiter;
			return;
		}
	if (s->sender != u)
		return;
	s->sender = NULL;
	if ((w = next_waiting(s))) {
		s->sender = w;
		send_step(&w->t);
	}
}

/* Act on the service's verdict v on task t's answer. */
static void
act(struct remote_task *t, enum remote_verdict v,
    const struct http_response *resp, const struct error *err)
{
	struct remote_job *rj = t->rj;
	struct remote_req *r = (struct remote_req *)t;

	if (v != REMOTE_AS_HTTP && v != REMOTE_RETRY)
		t->attempts = 0;
	switch (v) {
	case REMOTE_AS_HTTP:
		as_http(t, resp);
		break;
	case REMOTE_GO:
		send_step(t);
		break;
	case REMOTE_WAIT:
		wait_more(r);
		break;
	case REMOTE_SUBMITTED:
		submitted(r);
		break;
	case REMOTE_DOWNLOAD:
		r->fetching = 0;
		begin_fetch(r);
		break;
	case REMOTE_FINISHED:
		if (t->is_upload)
			uploaded((struct remote_upload *)t);
		else
			delivered(r);
		break;
	case REMOTE_RETRY:
		if (t->step == REMOTE_SUBMIT)
			note(rj, "submit answer lost (%s); submitting again, %s may have made (and bill) the first one too",
			     err->msg, rj->svc->name);
		retry(t, -1, err->msg);
		break;
	case REMOTE_UNEXPECTED:
		fail_job(rj, "'%s': unexpected %s answer: %s", rj->model,
			 step_names[t->step], err->msg);
		break;
	case REMOTE_FAIL:
		fail_job(rj, "%s", err->msg);
		break;
	case REMOTE_GONE:
		remote_forget(r);
		fail_job(rj, "%s%s", err->msg, earlier(r));
		break;
	case REMOTE_RESUBMIT:
		begin_submit(r);
		break;
	}
}

/* An answer while the job stops: keep what resuming needs, end the task. */
static void
on_stopping(struct remote_task *t, const struct http_response *resp)
{
	struct remote_req *r = (struct remote_req *)t;
	struct error err;

	if (!t->is_upload && t->step == REMOTE_SUBMIT && !resp->transport_error &&
	    resp->status >= 200 && resp->status <= 299) {
		enum remote_verdict v = t->rj->svc->answer(t, resp, &err);

		if (v == REMOTE_DOWNLOAD && t->rj->svc->synchronous &&
		    is_data_uri(r->files[0].url)) {
			r->fetching = 0; /* paid for: kept */
			if (save_data_uri(r) == 0)
				fetched(r);
			t->step = REMOTE_DONE;
			return;
		}
		if (v == REMOTE_SUBMITTED && check_urls(r, &err) == 0) {
			record(r);
			t->step = REMOTE_POLL;
		} else {
			t->step = REMOTE_DONE;
		}
	}
	if (!t->is_upload && t->rj->cancelling && !t->rj->leaving && r->cancel_url &&
	    (t->step == REMOTE_POLL || t->step == REMOTE_RESULT)) {
		t->step = REMOTE_CANCEL;
		send_step(t);
		return;
	}
	t->step = REMOTE_DONE;
}

/* A CANCEL request was answered: send the service's next one, if any. */
static void
cancel_next(struct remote_task *t)
{
	struct remote_req *r = (struct remote_req *)t;
	int steps = t->rj->svc->cancel_steps ? t->rj->svc->cancel_steps : 1;

	if (t->is_side || t->is_upload || ++r->cancels >= steps)
		t->step = REMOTE_DONE;
	else
		send_step(t);
}

/* The service's verdict on t's answer, acted on; a status poll that
 * found the request finished teaches its model's pace. */
static void
on_answer(struct remote_task *t, const struct http_response *resp)
{
	struct error err = { 0 };
	bool polled = !t->is_upload && t->step == REMOTE_POLL;
	enum remote_verdict v = t->rj->svc->answer(t, resp, &err);

	if (polled && (v == REMOTE_GO || v == REMOTE_DOWNLOAD ||
		       v == REMOTE_FINISHED))
		learn_pace((struct remote_req *)t);
	act(t, v, resp, &err);
}

/* Every HTTP answer of a remote job arrives here, on the loop thread. */
static void
on_http(void *ctx, struct http_response *resp)
{
	struct remote_task *t = ctx;
	struct remote_job *rj = t->rj;

	t->busy = false;
	trace(t, resp);
	if (resp->status != 429)
		t->throttled = 0;
	if (t->step == REMOTE_CANCEL)
		cancel_next(t);
	else if (rj->failed || rj->cancelling)
		on_stopping(t, resp);
	else if (resp->transport_error)
		on_transport_error(t, resp);
	else if (t->step == REMOTE_FETCH)
		on_fetch((struct remote_req *)t, resp);
	else
		on_answer(t, resp);
	maybe_finish(rj);
}

/* ------------------------------------------------------------------ */
/* Start and cancel                                                   */
/* ------------------------------------------------------------------ */

/* The first bytes of the file at path (what it is) and its size. */
static int
peek_file(const char *path, unsigned char *head, size_t *nhead, size_t *size,
	  struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || (n = read(fd, head, *nhead)) < 0) {
		if (fd >= 0)
			close(fd);
		return error_set(err, "cannot read '%s':", path);
	}
	close(fd);
	*nhead = (size_t)n;
	*size = (size_t)st.st_size;
	return 0;
}

/* Queue input i for the service's upload steps. */
static void
queue_upload(struct remote_job *rj, size_t i, char *data, const char *path,
	     size_t len, const char *mime)
{
	struct remote_upload *u = &rj->ups[rj->nups++];

	*u = (struct remote_upload){
		.t = { .rj = rj, .step = REMOTE_UPLOAD, .is_upload = true },
		.input = i, .data = data, .path = path, .len = len, .mime = mime
	};
}

/*
 * Input i as a data URI, or queued for upload when it is big or not an
 * image. A file that is not an image (a trainer's ZIP, a LoRA to
 * validate with) is never read whole when it is uploaded: its bytes
 * stream from the file.
 */
static int
prepare_input(struct remote_job *rj, size_t i, struct error *err)
{
	const char *path = rj->job->inputs[i];
	unsigned char head[64];
	size_t nhead = sizeof(head), len;
	char *data = NULL;
	const char *mime;

	if (peek_file(path, head, &nhead, &len, err) < 0)
		return -1;
	if (!image_type(head, nhead)) {
		mime = nhead >= 4 && !memcmp(head, "PK\3\4", 4) ? "application/zip"
							   : "application/octet-stream";
		if (rj->svc->upload_over) {
			queue_upload(rj, i, NULL, path, len, mime);
			return 0;
		}
	}
	if (read_file(path, &data, &len, err) < 0)
		return -1;
	if (!(mime = image_type(data, len)))
		mime = len >= 4 && !memcmp(data, "PK\3\4", 4) ? "application/zip"
							: "application/octet-stream";
	if (rj->svc->upload_over && len > rj->svc->upload_over) {
		queue_upload(rj, i, data, NULL, len, mime);
		return 0;
	}
	rj->images[i] = remote_data_uri(mime, data, len);
	free(data);
	return 0;
}

/* The header that carries secret: the service's prefix and the key, or
 * its base64 for basic auth; wiped when the job ends. */
static char *
key_header_line(const struct remote_service *svc, const char *secret)
{
	char *b64, *line;

	if (!svc->basic_auth)
		return xasprintf("%s%s", svc->auth_prefix, secret);
	b64 = remote_base64(secret, strlen(secret));
	line = xasprintf("%s%s", svc->auth_prefix, b64);
	wipe_free(b64);
	return line;
}

/* The service, the key and the inputs; -1 with err. */
static int
setup(struct remote_job *rj, struct error *err)
{
	struct job *job = rj->job;
	const char *secret = job_secret(job);

	rj->nreqs = job->nouts / per_request(rj);
	if (rj->nreqs * per_request(rj) != job->nouts ||
	    per_request(rj) > REMOTE_MAX_FILES)
		BUG("%d outputs for requests of %d", job->nouts, per_request(rj));
	rj->reqs = xcalloc((size_t)rj->nreqs, sizeof(*rj->reqs));
	for (int i = 0; i < rj->nreqs; i++) {
		rj->reqs[i] = (struct remote_req){ .t = { .rj = rj },
						   .cand = i + 1 };
		for (int k = 0; k < REMOTE_MAX_FILES; k++)
			rj->reqs[i].files[k].size = -1;
	}
	rj->images = xcalloc(job->ninputs ? job->ninputs : 1, sizeof(char *));
	rj->nimages = job->ninputs;
	rj->ups = xcalloc(job->ninputs ? job->ninputs : 1, sizeof(*rj->ups));
	hash_hex(&job->node->key, rj->key_hex);
	rj->rng = (unsigned)(hash_low64(&job->node->key) ^ (uint64_t)now_ms());
	rj->price = estimate_per_job(job->node,
				     estimate_price(job->decl, rj->svc->name, rj->model));
	if (rj->svc->setup(rj, err) < 0)
		return -1;
	if (secret && *secret)
		rj->auth = key_header_line(rj->svc, secret);
	else if (!rj->own_server)
		return error_set(err, "%s is not set", remote_key_env(rj));
	for (size_t i = 0; i < job->ninputs; i++)
		if (prepare_input(rj, i, err) < 0)
			return -1;
	take_pending(rj);
	return 0;
}

void
remote_start(struct job *job, const struct remote_service *svc)
{
	struct remote_job *rj = xcalloc(1, sizeof(*rj));
	struct error err;

	rj->job = job;
	rj->svc = svc;
	rj->model = job->node->model;
	rj->gate = gate_for(svc, job->decl);
	rj->own_server = engine_type_find(svc->name) &&
			 engine_type_find(svc->name)->own_server;
	job->priv = rj;
	if (setup(rj, &err) < 0) {
		fail_job(rj, "%s", err.msg);
		maybe_finish(rj);
		return;
	}
	for (size_t i = 0; i < rj->nups; i++)
		begin_upload(&rj->ups[i]);
	for (int i = 0; i < rj->nreqs && !rj->failed; i++) {
		struct remote_req *r = &rj->reqs[i];

		if (r->t.step == REMOTE_POLL)
			send_step(&r->t);
		else
			begin_submit(r);
	}
	maybe_finish(rj);
}

/*
 * Ctrl-C on a job that keeps running at the service (a training): stop
 * waiting, cancel nothing. A submitted request stays in the journal, so
 * the next build polls it; one in flight is recorded when it answers
 * (on_stopping).
 */
static void
leave_running(struct remote_job *rj)
{
	rj->leaving = true;
	stop_idle_tasks(rj);
	maybe_finish(rj);
}

void
remote_cancel(struct job *job)
{
	struct remote_job *rj = job->priv;

	if (!rj || rj->cancelling || rj->finishing)
		return; /* a finishing job keeps its outcome */
	rj->cancelling = true;
	if (job->keep_running) {
		leave_running(rj);
		return;
	}
	for (int i = 0; i < rj->nreqs; i++) {
		struct remote_req *r = &rj->reqs[i];

		if (r->t.busy && r->t.step == REMOTE_SUBMIT &&
		    rj->svc->cancel_in_flight && !rj->stop.rj) {
			/* the submit is the generation: stop it at the server */
			rj->stop = (struct remote_task){ .rj = rj, .is_side = true,
							 .step = REMOTE_CANCEL };
			send_step(&rj->stop);
		}
		if (r->t.busy)
			continue; /* on_stopping decides when it answers */
		stop_timer(&r->t);
		if (r->cancel_url &&
		    (r->t.step == REMOTE_POLL || r->t.step == REMOTE_RESULT)) {
			r->t.step = REMOTE_CANCEL;
			send_step(&r->t);
		} else {
			r->t.step = REMOTE_DONE;
		}
	}
	for (size_t i = 0; i < rj->nups; i++)
		stop_if_idle(&rj->ups[i].t);
	maybe_finish(rj);
}

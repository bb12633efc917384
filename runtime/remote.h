#ifndef LM_REMOTE_H
#define LM_REMOTE_H
/*
 * remote: the machinery of a paid remote job, once for every service.
 * A service (runtime/engines/fal.c, replicate.c) is a table of
 * operations, struct remote_service, in the manner of curl's
 * Curl_handler: it only says what each step sends and what an answer
 * means. Everything else is here:
 *
 *   - one request per candidate, driven on the build's loop thread
 *     through the steps SUBMIT, POLL, RESULT, FETCH (and CANCEL on
 *     Ctrl-C); a service uses the steps it needs (fal all of them,
 *     Replicate SUBMIT, POLL, FETCH); big inputs may first go through
 *     the service's UPLOAD steps, small ones travel as data URIs;
 *   - retries: transport errors and retryable statuses (429, 5xx) are
 *     tried again after a backoff with jitter or the service's
 *     Retry-After, at most REMOTE_MAX_ATTEMPTS times; anything else fails
 *     the node at once in the service's own words (its detail op);
 *   - polling on a loop timer that stretches with the request's age;
 *   - the durable journal (job_record before waiting; job_forget when a
 *     request ended for good) and resume after a kill: a recorded
 *     request is polled, never paid for again; a synchronous service's
 *     call (Gemini: the answer is the image) is journalled before it is
 *     sent, so a rebuild knows which calls a kill cut off (their answers
 *     are lost: said, and sent again);
 *   - Ctrl-C: what is queued or running at the service is cancelled,
 *     except a job->keep_running (a training): left running, kept in
 *     the journal, resumed by the next build;
 *   - the download: on base/url.h's transport rule, no key sent, capped
 *     at job->max_body, a short file retried; a data: URI decoded;
 *   - spend (job_may_spend before a submit, job->usd per image);
 *   - the key: sent only on requests bound to the service's origin (every
 *     follow-up URL a service answers with is checked against it, and so
 *     is every journal line, which anyone may have written), never
 *     printed; every message with a server's words goes through
 *     text_clean; the key header is wiped when the job ends.
 *
 * Lifetime: all state hangs off job->priv. A failed step stops the other
 * candidates; the job ends (job_done) only when no HTTP request and no
 * timer of it is left, so no callback ever sees freed memory.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/url.h"
#include "base/util.h"
#include "runtime/engine.h"
#include "runtime/http.h"

#define REMOTE_MAX_ATTEMPTS 6        /* tries of one HTTP step */
#define REMOTE_DEFAULT_MAX_BODY (64u << 20)

/* Where a task is. The names (remote_step_name) appear in messages. */
enum remote_step {
	REMOTE_IDLE,       /* waiting: for uploads before a submit */
	REMOTE_SUBMIT,     /* create the request (pays) */
	REMOTE_POLL,       /* ask whether it finished */
	REMOTE_RESULT,     /* fetch the finished answer (fal) */
	REMOTE_FETCH,      /* download the output image (no key) */
	REMOTE_CANCEL,     /* Ctrl-C only */
	REMOTE_UPLOAD,     /* an upload's first step (fal: ask for a URL) */
	REMOTE_UPLOAD_PUT, /* an upload's second step (fal: send the bytes) */
	REMOTE_DONE,
};

/* What a service's answer op makes of a complete HTTP answer. */
enum remote_verdict {
	REMOTE_AS_HTTP,    /* the core judges by status: retry a retryable
			      one, else fail the node in the service's words */
	REMOTE_GO,         /* send the task's step now (the op moved it) */
	REMOTE_WAIT,       /* not finished: poll again on the poll timer */
	REMOTE_SUBMITTED,  /* the op set the request's id and URLs: the core
			      checks and records them, then downloads
			      file_url if the op set it, else polls */
	REMOTE_DOWNLOAD,   /* the op set file_url: download (or decode) it */
	REMOTE_FINISHED,   /* the task is finished: an upload's URL is in
			      images[], or a request wrote its output */
	REMOTE_RETRY,      /* retry this step after a backoff; err says why */
	REMOTE_UNEXPECTED, /* an answer the core cannot use; err says why */
	REMOTE_FAIL,       /* fail the node with err, as it is */
	REMOTE_GONE,       /* the request ended for good without an output:
			      forget it and fail the node with err */
	REMOTE_RESUBMIT,   /* the service forgot a resumed request: pay anew */
};

struct remote_job;
struct remote_gate;

/* One HTTP conversation with retries: a candidate's request or an upload. */
struct remote_task {
	struct remote_job *rj;
	enum remote_step step;
	int attempts;        /* failed tries of this step so far */
	bool busy;           /* an HTTP request of it is in flight */
	bool timer_set;
	uint64_t timer;
	bool is_upload;
	bool is_side;        /* rj->stop: an interrupt beside a submit */
	int throttled;       /* 429s of this step in a row (not tries) */
	int64_t t_throttled; /* now_ms() of the first of them */
	const char *method;  /* of the request in flight, for -v */
	char *where;         /* its URL without the query, for -v */
};

/* An output a request made: where it is, how big the service says. */
struct remote_file {
	char *url;           /* https or data:, or NULL (not said yet) */
	long long size;      /* bytes, or -1 */
};
/* Outputs one request may make: a trainer's LoRA files (WAN 2.2: its
 * high- and low-noise experts'). */
#define REMOTE_MAX_FILES 2

/* A candidate's request at the service. */
struct remote_req {
	struct remote_task t; /* first: tasks are cast back to requests */
	int cand;            /* 1-based */
	bool resumed;        /* polling a request an earlier build made */
	char *id;            /* the service's request id (text_is_token) */
	char *poll_url;      /* where POLL asks (the key's origin) */
	char *result_url;    /* where RESULT fetches, or NULL (the origin) */
	char *cancel_url;    /* where CANCEL goes, or NULL (the origin) */
	struct remote_file files[REMOTE_MAX_FILES]; /* the outputs to
				download (job->per_request of them) */
	int fetching;        /* the one FETCH is on */
	int64_t t_submit;    /* now_ms() when the submit was answered */
	int64_t running_age; /* age at the last poll that found it running */
	bool slot;           /* holds a place in its engine's window */
	bool queued;         /* waits (in IDLE) for one */
	struct remote_req *next_queued;
	int cancels;         /* CANCEL requests of it sent so far */
	bool journaled;      /* a synchronous call's journal line is written */
	bool model_error;    /* the status said the model failed */
	char model_words[256]; /* and in these words */
};

/* A big input going through the service's upload steps. */
struct remote_upload {
	struct remote_task t; /* first */
	size_t input;        /* index into job->inputs and images[] */
	char *data;          /* the file's bytes, until the upload succeeds;
				NULL for a file that is not an image (a
				package's ZIP, a LoRA: gigabytes, maybe),
				streamed from path instead */
	const char *path;    /* that file (job->inputs), or NULL */
	size_t len;
	const char *mime;
	char *upload_url;    /* where the bytes go (the service's answer) */
	struct shared_upload *shared; /* the build's one upload of this
				file to this service and account, or NULL */
	struct remote_upload *next_waiter; /* waiting on shared's sender */
};

struct remote_job {
	struct job *job;
	const struct remote_service *svc;
	const char *model;   /* the node's model: the service's endpoint */
	char *base;          /* the API's base URL, no trailing '/' (setup) */
	struct url origin;   /* base's origin: keyed requests, follow-ups */
	char *auth;          /* the key header, wiped when freed */
	char key_hex[HASH_HEX_LEN + 1];
	char **images;       /* input URLs (data URIs, uploaded files) */
	size_t nimages;
	struct remote_req *reqs; /* nreqs: one per candidate */
	int nreqs;           /* job->nouts / job->per_request */
	struct remote_upload *ups;
	size_t nups;
	double price;        /* of one image */
	unsigned rng;        /* jitter */
	int resumed_ok;      /* candidates an earlier build's request made */
	int delivered;       /* candidates whose output is written */
	bool failed, cancelling, finishing;
	bool leaving;        /* Ctrl-C on a job->keep_running: nothing is
				cancelled, the journal keeps it */
	struct error err;    /* the first failure */
	struct remote_gate *gate; /* its engine's window and queue, or NULL */
	bool own_server;     /* its type's: a server the user runs */
	struct remote_task stop; /* the interrupt sent beside a submit in
				    flight (cancel_in_flight services) */
	void *priv;          /* the service's own (setup sets, release frees) */
};

/* What one step sends (a service's request op fills it). */
struct remote_send {
	const char *method;
	char *url;           /* malloc'd; the core frees it */
	char *body;          /* malloc'd, or NULL; the core frees it */
	size_t body_len;
	bool keyed;          /* the API headers: the key, JSON */
	const struct url *bind; /* keyed: the only origin allowed (NULL:
				   rj->origin) */
	const char *ctype;   /* Content-Type of the body (a keyed request's
				default: JSON) */
	const char *extra;   /* one more header of a keyed request, or NULL */
	const char *save_to; /* stream the body to this file (FETCH) */
	const char *send_from; /* stream the request body from this file
				  (an upload of a ZIP or a LoRA), no body */
	long timeout_ms;
	bool waits;          /* the answer comes when the work is done
			        (http.h's waits: no low-speed cut) */
};

/*
 * A service: its facts and its operations. Every op runs on the loop
 * thread; none blocks.
 */
struct remote_service {
	const char *name;        /* the engine type: messages, traces */
	const char *auth_prefix; /* the key header up to the key:
				    "Authorization: Key " */
	size_t upload_over;      /* inputs bigger go through UPLOAD; 0: never */
	bool has_result;         /* a finished request's answer is a RESULT
				    step of its own (journal lines must
				    name its URL) */
	/* A type of own_server (compiler/engine_type.h: ComfyUI, A1111):
	 * the key is optional (sent when its variable is set), and a server
	 * that takes no connection is down, not flaky: the node fails at
	 * once with down_hint (how to start it) and job->unreachable set, so
	 * the scheduler skips the engine's other nodes instead of failing
	 * each. */
	const char *down_hint;
	bool basic_auth;         /* the key is "user:password", sent as HTTP
				    basic auth (auth_prefix "...Basic ") */
	bool cancel_in_flight;   /* the submit's answer is the image (A1111):
				    Ctrl-C during a submit sends the CANCEL
				    step beside it, on a task of its own */
	int cancel_steps;        /* CANCEL requests one request takes, sent
				    in turn (r->cancels says which); 0 is 1 */
	bool synchronous;        /* the submit's answer is the output (REMOTE_
				    DOWNLOAD of a data: URI): no id to poll or
				    cancel. The call is journalled before it
				    is sent; a line a later build finds is a
				    call a killed build had in flight, its
				    answer lost: said, and the call sent
				    again. Ctrl-C lets calls in flight end and
				    keeps their images */
	/* Check the model id, set rj->base and rj->origin (and anything of
	 * priv). -1 with err. */
	int (*setup)(struct remote_job *rj, struct error *err);
	/* Free priv (may be NULL). */
	void (*release)(struct remote_job *rj);
	/* What task t sends at its step (SUBMIT, POLL, RESULT, CANCEL, the
	 * UPLOAD steps; the core sends FETCH). -1 with err fails the job. */
	int (*request)(struct remote_task *t, struct remote_send *s,
		       struct error *err);
	/* The verdict on a complete HTTP answer to task t's step (never a
	 * transport error, never FETCH or CANCEL). err for the verdicts
	 * that carry a reason. */
	enum remote_verdict (*answer)(struct remote_task *t,
				      const struct http_response *resp,
				      struct error *err);
	/* Is this answer worth another try? NULL: remote_retryable_status. */
	bool (*retryable)(const struct http_response *resp);
	/* Seconds a retryable answer asks to wait (< 0: none). NULL: the
	 * Retry-After header. */
	double (*retry_after)(const struct http_response *resp);
	/* The service's words from an error body, one line, cleaned with
	 * secret redacted, into out (always NUL-terminated). */
	void (*detail)(const char *body, size_t len, const char *secret,
		       char *out, size_t outsz);
};

/* Run job on service svc: a remote engine's start() and cancel(). */
void remote_start(struct job *job, const struct remote_service *svc);
void remote_cancel(struct job *job);

/* For services ------------------------------------------------------- */

/* The step's name in messages: "submit", "status check", "download"... */
const char *remote_step_name(enum remote_step step);

/* Replace r's request id and URLs (each may be NULL; copied). */
void remote_req_set(struct remote_req *r, const char *id, const char *poll,
		    const char *result, const char *cancel);

/* r's output is at url (https or data:), size bytes if known (else -1):
 * its first, or its k-th of job->per_request (a trainer's LoRA files). */
void remote_req_output(struct remote_req *r, const char *url,
		       long long size);
void remote_req_output_file(struct remote_req *r, int k, const char *url,
			    long long size);

/* r's request ended for good: take it out of the journal (job_forget). */
void remote_forget(struct remote_req *r);

/* The key variable of the job (the recipe's key_env, or the type's). */
const char *remote_key_env(const struct remote_job *rj);

/* The base URL of engine entry d of engine type type: its url:, else the
 * type's default_url (compiler/engine_type.c), without trailing '/'s.
 * Caller frees. */
char *remote_base_of(const struct engine_decl *d, const char *type);

/* Set rj->base (url without trailing '/'s) and rj->origin; -1 with err. */
int remote_set_base(struct remote_job *rj, const char *url,
		    struct error *err);

/* Pure parts (tests/unit/test_remote.c) ------------------------------ */

/* Standard base64 (with padding) of data; the caller frees the text. */
char *remote_base64(const void *data, size_t len);
/* Decode base64 (whitespace ignored) onto out; -1 if it is not base64. */
int remote_unbase64(const char *s, size_t len, struct buf *out);
/* "data:MIME;base64,..." of data; the caller frees it. */
char *remote_data_uri(const char *mime, const void *data, size_t len);

/*
 * Milliseconds to wait before try number attempt + 1, after attempt
 * (1-based) failed: 500 ms doubling per attempt up to 30 s, scaled by
 * 0.75 + 0.5 * jitter (jitter in [0, 1)). A Retry-After of retry_after
 * seconds (>= 0; < 0 means none) wins, stretched by up to 25 % with the
 * same jitter and capped at 5 minutes.
 */
int64_t remote_backoff_ms(int attempt, double retry_after, double jitter);

/*
 * Milliseconds to the next status poll of a request submitted elapsed_ms
 * ago: 15 % of the elapsed time, at least 25 ms (the first poll after
 * 100 ms) and at most 5 s. So a finished job is seen within about 15 %
 * of its run time, and a long job is asked about every 5 s.
 *
 * expected_ms > 0 is what the engine's requests of this model took so far
 * in this build (remote_pace_learn): then no poll is put off past 90 % of
 * it, and from there polls come every 5 % of it (10 ms to 5 s) up to
 * 120 %, after which the schedule above takes over. A run of similar jobs
 * is seen within about 5 % of its run time instead of 15 %.
 */
int64_t remote_poll_ms(int64_t elapsed_ms, int64_t expected_ms);

/*
 * The new expectation of a model's run time after a request of it was
 * seen finished at a poll at age done_ms, the poll before it (at age
 * before_ms, 0 if none) having found it running: it ended in between, so
 * the midpoint moves expected_ms (0: none yet) by a quarter of the way.
 */
int64_t remote_pace_learn(int64_t expected_ms, int64_t before_ms,
			  int64_t done_ms);

/*
 * Milliseconds to wait after the n-th 429 in a row (1-based): 250 ms
 * doubling per 429 up to 30 s, or the service's Retry-After if longer,
 * spread over one more such interval by jitter in [0, 1), so the jobs a
 * storm stopped do not all come back at once; capped at 5 minutes.
 */
int64_t remote_throttle_ms(int n, double retry_after, double jitter);

/*
 * The window of an engine's requests at the service, AIMD as TCP's:
 * window 0 is no limit (until the first 429); a 429 cuts it to half of
 * what was in flight (at most once a second, one cut per storm), at
 * least 1; each request the service accepts widens it by 1/window.
 */
struct remote_window {
	double size;         /* requests allowed at once; 0: no limit */
	int held;            /* places taken */
	int64_t t_cut;       /* now_ms() of the last cut */
};

/* May one more request go? Takes the place if so. */
bool remote_window_take(struct remote_window *w);
/* A request left the service (done, failed, throttled): its place. */
void remote_window_give(struct remote_window *w);
/* The service answered 429 at now_ms. */
void remote_window_cut(struct remote_window *w, int64_t now);
/* The service accepted a request. */
void remote_window_grow(struct remote_window *w);

/* Is an HTTP status worth retrying: 429, 500, 502, 503, 504? */
bool remote_retryable_status(long status);

/* A retryable op for a server the user runs: 429, 502, 503, 504 (a
 * proxy's or a restart's trouble); not 500, which such a server answers
 * when the generation itself failed, and would fail again. */
bool remote_retryable_own(const struct http_response *resp);

/*
 * Could a failed transfer have reached the service? Not when libcurl
 * never connected; any other transport error may have lost the answer
 * to a request that arrived.
 */
bool remote_maybe_delivered(const char *transport_error);

#endif

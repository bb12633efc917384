#ifndef LM_ENGINE_H
#define LM_ENGINE_H
/*
 * engine: the one interface between the scheduler and whatever makes an
 * image. The scheduler never knows which engine it drives.
 *
 * A local engine's run() is called on a worker thread and returns when its
 * outputs are written. A remote engine's start() is called on the loop
 * thread, sends its requests through http.h, and calls job_done() later,
 * also on the loop thread; it must never block.
 *
 * Outputs: the scheduler gives each job one temp path per candidate
 * (job->outs); the engine writes a finished file to each. The scheduler
 * then checks every image (decode, size) and moves it into the cache.
 *
 * Adding an engine: a file in runtime/engines/, a `const struct engine`,
 * a row in engine.c's table, a section in docs/engines.md.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/util.h"
#include "compiler/dag.h"

/* How a request's JSON is written (jansson's flags): compact, each number
 * as the recipe wrote it. jansson's default of 17 digits writes 0.0007 as
 * 0.00069999999999999999; 15 give back any decimal of up to 15 digits. */
#define ENGINE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

struct job;
struct loop;

enum engine_exec {
	ENGINE_LOCAL,   /* run() on a worker thread */
	ENGINE_REMOTE,  /* start() on the loop thread, job_done() later */
};

/*
 * A request as an engine sends it, for plan and explain to show (what
 * `ninja -t commands` is to a build). Holds no secret: the key header is
 * shown by name only.
 */
struct engine_request {
	const char *method;     /* "POST" (static) */
	char *url;              /* where it goes; malloc'd */
	char *body;             /* its JSON text, compact; malloc'd */
	const char *key_header; /* "Authorization: Key <redacted>" (static),
				   or NULL when it sends no key */
};

/* Free what an engine_request holds (not r itself). */
void engine_request_release(struct engine_request *r);

struct engine {
	const char *type;       /* the engine type a recipe names */
	enum engine_exec exec;
	/*
	 * REMOTE, optional: the request candidate (1-based) of node n sends
	 * to the engine entry decl (NULL: the type's defaults), built by the
	 * same code that sends it. images stand in for the input images in
	 * order: data URIs or file URLs when sending; a reference to each
	 * input when plan shows it. 0, or -1 with err (a bad param, an angle
	 * with no camera).
	 */
	int (*describe)(const struct node *n, const struct engine_decl *decl,
			const char *const *images, size_t nimages, int candidate,
			struct engine_request *out, struct error *err);
	/* LOCAL: make job->outs; return 0, or -1 with err filled. */
	int (*run)(struct job *job, struct error *err);
	/* REMOTE: begin; must end in exactly one job_done(job). */
	void (*start)(struct job *job);
	/* REMOTE: Ctrl-C: cancel requests not yet finished, then job_done. */
	void (*cancel)(struct job *job);
};

/* A request id a server hands out is accepted only as 1 to this many
 * bytes of [A-Za-z0-9._-] (text_is_token): it goes into state files and
 * onto the terminal. */
#define ENGINE_MAX_REQUEST_ID 128

/* A remote request that was submitted and may be resumed after a crash. */
struct job_pending {
	int candidate;          /* 1-based */
	const char *info;       /* what the engine recorded (job_record) */
};

struct buf;

/*
 * Writes the caption of a caption node from the vision answers it takes
 * (answers: their cached files, in the node's input order), into out.
 * The CLI sets it (quality/vision.h: the lints that scrub the model's
 * words live right of runtime). Called on a worker thread: it only reads
 * what it shares. 0, or -1 with err.
 */
struct caption_writer {
	int (*write)(const struct caption_writer *w, const struct node *n,
		     const char *const *answers, size_t nanswers,
		     struct buf *out, struct error *err);
	const void *ctx;
};

struct job {
	const struct node *node;
	const struct engine_decl *decl; /* the recipe's engine entry, or NULL */
	struct loop *loop;
	int verbose;
	const char **inputs;    /* cached files of the input images, in order
				   (the picked candidate of each) */
	size_t ninputs;
	const struct hash *input_objs; /* a package's: the content hash of
				   each image input, which the scheduler
				   normalised (runtime/normalise.h); else
				   NULL */
	char **outs;            /* temp paths to write, one per candidate;
				   per_request of them for each (a
				   trainer's LoRA files) */
	int nouts;
	int per_request;        /* outputs one request makes; 0 means 1 */
	const char *workdir;    /* an empty temp folder for outputs of more
				   than one file: the engine writes them there
				   and lists their paths, one a line, in
				   outs[0]; they are cached as a tree */
	const struct job_pending *pending; /* requests an earlier build
					      submitted for this key */
	size_t npending;
	double max_body;        /* cap on a downloaded output, bytes */
	const struct caption_writer *captions; /* a caption node with vision
				   answers writes its caption with it; NULL:
				   none (such a node fails) */
	bool keep_running;      /* Ctrl-C leaves the remote work running (a
				   training: hours, paid): nothing is
				   cancelled, the journal keeps the request,
				   and the next build resumes it */

	/* set by the engine */
	double usd;             /* what this job cost */
	char *request;          /* the engine's request id(s), joined with
				   ',', for the lock; each one checked with
				   text_is_token; malloc'd, freed by the
				   scheduler */
	bool failed;
	bool unreachable;       /* with failed: the engine's server took no
				   connection (a server of the user's own
				   that is not running); the scheduler
				   skips the rest of that engine's nodes
				   rather than fail each with the same words */
	struct error err;       /* why it failed, in the engine's words (the
				   scheduler escapes it and redacts the key
				   before showing or storing it) */
	void *priv;             /* the engine's own state */

	void *sched;            /* the scheduler's, opaque to engines */
};

/* The engine for a type name, or NULL. */
const struct engine *engine_find(const char *type);

/* Remote engines: the job has finished (check job->failed). */
void job_done(struct job *job);

/*
 * Remote engines: durably record that candidate's request was submitted,
 * with what resuming it needs (one line, no tabs or newlines; no
 * secrets), before waiting on it. A build that is killed and restarted
 * finds it in job->pending and polls instead of paying again. -1 with err.
 */
int job_record(struct job *job, int candidate, const char *info,
	       struct error *err);

/*
 * Remote engines: candidate's recorded request ended for good without an
 * output (the model failed, the service rejected the input, it was
 * cancelled, or it was dropped as unsafe to resume): forget it, so the
 * next build submits anew instead of replaying the failure. -1 with err.
 */
int job_forget(struct job *job, int candidate, struct error *err);

/* The secret named by the engine entry's key_env, or NULL if unset. */
const char *job_secret(const struct job *job);

/*
 * May the job spend usd more? False once --max-cost would be passed;
 * then the engine must not submit, and fails the job with that reason.
 */
bool job_may_spend(struct job *job, double usd);

/* Is the build stopping (Ctrl-C, --fail-fast)? Then start nothing new. */
bool job_stopping(const struct job *job);

/*
 * Remote engines: the job's progress in its service's words (a trainer's
 * last log line, polled for hours), shown on the status line beside the
 * node. The text comes from a server: it is cleaned (controls escaped,
 * the key redacted) before it is kept. The loop thread only.
 */
void job_progress(struct job *job, const char *text);

#endif

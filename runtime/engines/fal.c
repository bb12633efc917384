/*
 * fal: the fal.ai engine, on the queue API (ENGINES.md section 1).
 *
 * One job makes job->nouts candidates; each is one queue request, driven
 * by a small state machine on the build's loop thread:
 *
 *   SUBMIT  POST {base}/{endpoint id}          -> request_id + URLs
 *           job_record() before waiting, so a killed build resumes
 *   STATUS  GET status_url?logs=0              202 again later, 200 done
 *   RESULT  GET response_url                   -> images[0].url | image.url
 *   FETCH   GET that URL into job->outs[i]     (no key sent)
 *   CANCEL  PUT cancel_url                     on Ctrl-C only
 *
 * Inputs bigger than FAL_UPLOAD_OVER first go through the storage upload
 * flow (INITIATE, PUT); smaller ones travel as data URIs in the body.
 *
 * Every HTTP step is retried on 429, 5xx and transport errors, with
 * backoff and jitter (or Retry-After), at most FAL_MAX_ATTEMPTS times.
 * Waiting is always a loop timer: nothing here blocks or sleeps. The
 * follow-up URLs are the ones the service returned (owner/alias only);
 * none is built here, and each must be on the queue's own scheme, host
 * and port (base/url.h), whether it comes from a submit answer or from
 * .loramake/pending; a request id must be a text_is_token.
 *
 * A request that ends for good without an image (the model failed, the
 * input was rejected at the result, it was cancelled) is forgotten
 * (job_forget): the next build submits it anew. A resumed request says so
 * when it delivers.
 *
 * Lifetime: all state hangs off job->priv. A failed step stops the other
 * candidates; the job ends (job_done) only when no HTTP request and no
 * timer of it is left, so no callback ever sees freed memory.
 *
 * The key: sent only as "Authorization: Key ..." to the queue and storage
 * API (every such request is bound to that API's origin, redirects
 * included), never to file URLs, never printed (-v traces print no
 * headers; every message with a server's words goes through text_clean,
 * which redacts it), wiped when the job ends.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/hash.h"
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
#include "fal.h"

#define USER_AGENT "User-Agent: loramake/0.1"
#define SUBMIT_TIMEOUT_MS 120000
#define STATUS_TIMEOUT_MS 30000
#define FETCH_TIMEOUT_MS 300000
#define CANCEL_TIMEOUT_MS 10000
#define MAX_WAIT_MS (2 * 3600 * 1000)  /* a request still queued after this fails */
#define DEFAULT_MAX_BODY (64u << 20)

/* ------------------------------------------------------------------ */
/* Pure parts (declared in fal.h, tested by tests/unit/test_fal.c)    */
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
fal_base64(const void *data, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);

	b64_encode(out, data, len);
	return out;
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
fal_unbase64(const char *s, size_t len, struct buf *out)
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
fal_backoff_ms(int attempt, double retry_after, double jitter)
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

int64_t
fal_poll_ms(int64_t elapsed_ms)
{
	int64_t ms = elapsed_ms * 15 / 100;

	if (elapsed_ms < 100)
		return 100 - (elapsed_ms > 75 ? 75 : elapsed_ms);
	if (ms < 25)
		return 25;
	return ms > 5000 ? 5000 : ms;
}

bool
fal_retryable(long status, const char *timeout_type)
{
	if (status == 504)
		return !(timeout_type && strcasecmp(timeout_type, "user") == 0);
	return status == 429 || status == 500 || status == 502 || status == 503;
}

uint32_t
fal_seed(int64_t seed, int candidate)
{
	return (uint32_t)((uint64_t)seed + (uint64_t)(int64_t)(candidate - 1));
}

/* Append a `loc` array as "image_urls[0]" (a leading "body" dropped). */
static void
render_loc(struct buf *b, json_t *loc)
{
	size_t i;
	json_t *v;
	bool first = true;

	json_array_foreach(loc, i, v) {
		if (i == 0 && json_is_string(v) &&
		    (strcmp(json_string_value(v), "body") == 0))
			continue;
		if (json_is_integer(v)) {
			buf_addf(b, "[%lld]", (long long)json_integer_value(v));
		} else if (json_is_string(v)) {
			buf_addf(b, "%s%s", first ? "" : ".", json_string_value(v));
		}
		first = false;
	}
}

/* Append one entry of a detail list: "loc: msg". */
static void
render_detail_item(struct buf *b, json_t *item)
{
	json_t *loc = json_object_get(item, "loc");
	const char *msg = json_string_value(json_object_get(item, "msg"));
	size_t before = b->len;

	if (json_is_array(loc))
		render_loc(b, loc);
	if (b->len > before)
		buf_adds(b, ": ");
	buf_adds(b, msg ? msg : "invalid");
}

void
fal_detail(const char *body, size_t len, const char *secret, char *out,
	   size_t outsz)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *d = json_object_get(root, "detail");
	struct buf b, c;

	buf_init(&b);
	if (json_is_string(d)) {
		buf_adds(&b, json_string_value(d));
	} else if (json_is_array(d)) {
		size_t i;
		json_t *item;

		json_array_foreach(d, i, item) {
			if (i)
				buf_adds(&b, "; ");
			if (json_is_object(item))
				render_detail_item(&b, item);
			else if (json_is_string(item))
				buf_adds(&b, json_string_value(item));
		}
	} else if (json_is_string(json_object_get(root, "error"))) {
		buf_adds(&b, json_string_value(json_object_get(root, "error")));
	} else if (json_is_string(json_object_get(root, "message"))) {
		buf_adds(&b, json_string_value(json_object_get(root, "message")));
	}
	/* one line: the message goes into a lock and a summary */
	for (char *p = b.data; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	/* cleaned whole, then cut (at a character): never half a key */
	buf_init(&c);
	c.max = outsz > 1 ? outsz - 1 : 0;
	text_clean_add(&c, b.data, b.len, secret);
	snprintf(out, outsz, "%s", c.data);
	buf_release(&c);
	buf_release(&b);
	json_decref(root);
}

/* Camera words: what each word of an angle item name sets. */
enum angle_kind {
	ANGLE_YAW,    /* degrees around the subject, before left/right */
	ANGLE_SIDE,   /* -1 left, +1 right */
	ANGLE_PITCH,  /* vertical_angle */
	ANGLE_ZOOM,
	ANGLE_FILLER, /* no meaning of its own ("angle", "view") */
};

static const struct angle_word {
	const char *word;
	enum angle_kind kind;
	double value;
} angle_words[] = {
	{ "front", ANGLE_YAW, 0 },      { "frontal", ANGLE_YAW, 0 },
	{ "quarter", ANGLE_YAW, 45 },   { "threequarter", ANGLE_YAW, 45 },
	{ "3q", ANGLE_YAW, 45 },        { "profile", ANGLE_YAW, 90 },
	{ "side", ANGLE_YAW, 90 },      { "back", ANGLE_YAW, 180 },
	{ "behind", ANGLE_YAW, 180 },   { "rear", ANGLE_YAW, 180 },
	{ "left", ANGLE_SIDE, -1 },     { "right", ANGLE_SIDE, 1 },
	{ "low", ANGLE_PITCH, -30 },    { "below", ANGLE_PITCH, -30 },
	{ "worms", ANGLE_PITCH, -30 },  { "high", ANGLE_PITCH, 45 },
	{ "above", ANGLE_PITCH, 45 },   { "top", ANGLE_PITCH, 90 },
	{ "overhead", ANGLE_PITCH, 90 }, { "birds", ANGLE_PITCH, 90 },
	{ "birdseye", ANGLE_PITCH, 90 }, { "closeup", ANGLE_ZOOM, 8 },
	{ "close", ANGLE_ZOOM, 8 },     { "medium", ANGLE_ZOOM, 5 },
	{ "mid", ANGLE_ZOOM, 5 },       { "full", ANGLE_ZOOM, 3 },
	{ "wide", ANGLE_ZOOM, 2 },      { "angle", ANGLE_FILLER, 0 },
	{ "view", ANGLE_FILLER, 0 },    { "shot", ANGLE_FILLER, 0 },
	{ "up", ANGLE_FILLER, 0 },      { "three", ANGLE_FILLER, 0 },
	{ "eye", ANGLE_FILLER, 0 },     { "level", ANGLE_FILLER, 0 },
	{ "body", ANGLE_FILLER, 0 },    { "camera", ANGLE_FILLER, 0 },
};

static const struct angle_word *
find_angle_word(const char *w, size_t n)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(angle_words); i++)
		if (strlen(angle_words[i].word) == n &&
		    strncasecmp(angle_words[i].word, w, n) == 0)
			return &angle_words[i];
	return NULL;
}

/*
 * Degrees in [0, 360) from a yaw word (< 0: none) and a side (-1 left,
 * 0 none, +1 right), in the endpoint's convention: 90 is right, 270 left.
 * A side alone is a profile, "front" with a side a three-quarter view,
 * and "back" with a side sits halfway between back and that side.
 */
static double
angle_yaw(double yaw, int side)
{
	if (yaw < 0)
		yaw = side ? 90 : 0;
	if (!side)
		return yaw;
	if (yaw == 0)
		yaw = 45;
	if (yaw == 180)
		yaw = 135;
	return side < 0 ? 360 - yaw : yaw;
}

int
fal_angle(const char *item, struct fal_angle *out, struct error *err)
{
	double yaw = -1;
	int side = 0;
	bool any = false;

	*out = (struct fal_angle){ 0, 0, 5 };
	if (!item || !*item)
		return error_set(err, "the node has no angle item name");
	for (const char *p = item; *p;) {
		size_t n = strcspn(p, "_- ");
		const struct angle_word *w = find_angle_word(p, n);

		if (n && !w)
			return error_set(err, "unknown camera word '%.*s' in angle '%s'",
					 (int)n, p, item);
		if (w) {
			any |= w->kind != ANGLE_FILLER;
			if (w->kind == ANGLE_YAW)
				yaw = w->value;
			else if (w->kind == ANGLE_SIDE)
				side = (int)w->value;
			else if (w->kind == ANGLE_PITCH)
				out->vertical = w->value;
			else if (w->kind == ANGLE_ZOOM)
				out->zoom = w->value;
		}
		p += n;
		if (*p)
			p++;
	}
	if (!any)
		return error_set(err, "angle '%s' names no camera word", item);
	out->horizontal = angle_yaw(yaw, side);
	return 0;
}

/* A JSON array of the input image URLs. */
static json_t *
url_array(const char *const *images, size_t nimages)
{
	json_t *a = json_array();

	for (size_t i = 0; i < nimages; i++)
		json_array_append_new(a, json_string(images[i]));
	return a;
}

/* Does the node's params: set any of these names? */
static bool
has_param(const struct node *n, const char *const *names)
{
	for (size_t i = 0; i < n->nparams; i++)
		for (size_t j = 0; names[j]; j++)
			if (strcmp(n->params[i].name, names[j]) == 0)
				return true;
	return false;
}

/* Camera fields of the multiple-angles endpoint, from the item name. */
static int
map_angles(json_t *o, const struct node *n, struct error *err)
{
	static const char *const camera[] = {
		"horizontal_angle", "vertical_angle", "zoom", NULL
	};
	struct fal_angle a;
	struct error why;

	if (fal_angle(n->item, &a, &why) < 0) {
		if (has_param(n, camera))
			return 0; /* the recipe places the camera itself */
		return error_set(err, "%s for '%s'; use words like front, three_quarter_left, profile_right, back_left, low_angle, high_angle, closeup_front, or set params horizontal_angle, vertical_angle and zoom",
				 why.msg, n->model);
	}
	json_object_set_new(o, "horizontal_angle", json_real(a.horizontal));
	json_object_set_new(o, "vertical_angle", json_real(a.vertical));
	json_object_set_new(o, "zoom", json_real(a.zoom));
	return 0;
}

/* The mapped fields of endpoint map for node n (before params). */
static int
map_fields(json_t *o, enum model_family map, const struct node *n,
	   const char *const *images, size_t nimages, int candidate,
	   struct error *err)
{
	unsigned takes = model_family_fields(map);

	if ((takes & FIELD_PROMPT) && n->prompt)
		json_object_set_new(o, "prompt", json_string(n->prompt));
	if (nimages && (map == FAMILY_ANGLES || map == FAMILY_EDIT))
		json_object_set_new(o, "image_urls", url_array(images, nimages));
	else if (nimages && (takes & FIELD_IMAGE))
		json_object_set_new(o, "image_url", json_string(images[0]));
	if ((takes & FIELD_STRENGTH) && n->strength >= 0)
		json_object_set_new(o, "strength", json_real(n->strength));
	if ((takes & FIELD_NEGATIVE) && n->negative && *n->negative)
		json_object_set_new(o, "negative_prompt", json_string(n->negative));
	json_object_set_new(o, "seed",
			    json_integer(fal_seed(n->seed, candidate)));
	if (map != FAMILY_GENERIC && map != FAMILY_UPSCALE)
		json_object_set_new(o, "num_images", json_integer(1));
	if (map != FAMILY_GENERIC)
		json_object_set_new(o, "output_format", json_string("png"));
	if (map == FAMILY_ANGLES)
		return map_angles(o, n, err);
	return 0;
}

/* Set every params: entry on o, over whatever was mapped. */
static int
add_params(json_t *o, const struct node *n, struct error *err)
{
	for (size_t i = 0; i < n->nparams; i++) {
		const struct param *p = &n->params[i];
		json_error_t jerr;
		json_t *v = json_loads(p->value, JSON_DECODE_ANY, &jerr);

		if (!v)
			return error_set(err, "param '%s': not a JSON value: %s",
					 p->name, jerr.text);
		json_object_set_new(o, p->name, v);
	}
	return 0;
}

char *
fal_input_json(const struct node *n, const char *const *images,
	       size_t nimages, int candidate, struct error *err)
{
	json_t *o = json_object();
	char *text = NULL;

	if (map_fields(o, engine_type_family(engine_type_find("fal"), n->model), n, images, nimages, candidate,
		       err) == 0 &&
	    add_params(o, n, err) == 0)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* The queue API's base URL of engine entry d (NULL: the default), no
 * trailing '/'; caller frees. */
static char *
queue_base(const struct engine_decl *d)
{
	const char *url = d && d->url && *d->url ? d->url : FAL_DEFAULT_BASE;
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

/*
 * The submit of candidate cand of node n to the queue at base: what a
 * build sends (submit_send) and what plan shows (fal_describe), so the
 * two cannot differ. 0, or -1 with err.
 */
static int
submit_request(const struct node *n, const char *base,
	       const char *const *images, size_t nimages, int cand,
	       struct engine_request *out, struct error *err)
{
	*out = (struct engine_request){ .method = "POST",
					.key_header = "Authorization: Key <redacted>" };
	if (!(out->body = fal_input_json(n, images, nimages, cand, err)))
		return -1;
	out->url = xasprintf("%s/%s", base, n->model);
	return 0;
}

static int
fal_describe(const struct node *n, const struct engine_decl *decl,
	     const char *const *images, size_t nimages, int cand,
	     struct engine_request *out, struct error *err)
{
	char *base = queue_base(decl);
	int rc = submit_request(n, base, images, nimages, cand, out, err);

	free(base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Per-job state                                                      */
/* ------------------------------------------------------------------ */

enum step {
	STEP_IDLE,     /* waiting: for uploads before a submit */
	STEP_SUBMIT,
	STEP_STATUS,
	STEP_RESULT,
	STEP_FETCH,
	STEP_CANCEL,
	STEP_INITIATE, /* upload: ask storage for a signed URL */
	STEP_PUT,      /* upload: send the bytes there */
	STEP_DONE,
};

static const char *const step_names[] = {
	"wait", "submit", "status check", "result", "download", "cancel",
	"upload", "upload", "done",
};

struct fal_job;

/* One HTTP conversation with retries: a candidate's request or an upload. */
struct task {
	struct fal_job *fj;
	enum step step;
	int attempts;        /* failed tries of this step so far */
	bool busy;           /* an HTTP request of it is in flight */
	bool timer_set;
	uint64_t timer;
	bool is_upload;
};

/* A candidate's queue request. */
struct req {
	struct task t;       /* first: tasks are cast back to reqs */
	int cand;            /* 1-based */
	bool resumed;        /* polling a request an earlier build made */
	bool model_error;    /* COMPLETED status carried "error" */
	char *id, *status_url, *response_url, *cancel_url;
	char *file_url;      /* the output to download */
	long long file_size; /* its size from the result, or -1 */
	int64_t t_submit;    /* now_ms() when the submit was answered */
	char status_error[256];
};

/* A big input going through the storage upload flow (ENGINES.md 1.11 A). */
struct upload {
	struct task t;       /* first */
	size_t input;        /* index into job->inputs */
	char *data;          /* the file's bytes, until the PUT succeeds */
	size_t len;
	const char *mime;
	char *upload_url;
};

struct fal_job {
	struct job *job;
	const char *model;
	char *base;          /* queue API, no trailing '/' */
	char *rest;          /* storage API, no trailing '/' */
	struct url queue;    /* base's origin: where keyed queue requests go */
	struct url storage;  /* rest's origin: keyed storage requests */
	int resumed_ok;      /* candidates an earlier build's request made */
	char *auth;          /* "Authorization: Key ...", wiped when freed */
	char key_hex[HASH_HEX_LEN + 1];
	char **images;       /* input URLs (data URIs, uploaded files) */
	size_t nimages;
	struct req *reqs;    /* job->nouts */
	struct upload *ups;
	size_t nups;
	double price;        /* of one image */
	unsigned rng;        /* jitter */
	bool failed, cancelling, finishing;
	struct error err;    /* the first failure */
};

static void send_step(struct task *t);
static void maybe_finish(struct fal_job *fj);
static void note(const struct fal_job *fj, const char *fmt, ...) LM_PRINTF(2, 3);

static const char *
key_env(const struct fal_job *fj)
{
	const struct engine_decl *d = fj->job->decl;

	return d && d->key_env ? d->key_env : "FAL_KEY";
}

static const char *
node_id(const struct fal_job *fj)
{
	return fj->job->node->id;
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
req_release(struct req *r)
{
	free(r->id);
	free(r->status_url);
	free(r->response_url);
	free(r->cancel_url);
	free(r->file_url);
}

/* Release r's request and go back to "never submitted". */
static void
req_clear(struct req *r)
{
	req_release(r);
	r->id = r->status_url = r->response_url = r->cancel_url = NULL;
	r->file_url = NULL;
	r->resumed = false;
	r->t.step = STEP_IDLE;
}

static void
fal_job_free(struct fal_job *fj)
{
	for (int i = 0; i < fj->job->nouts; i++)
		req_release(&fj->reqs[i]);
	for (size_t i = 0; i < fj->nups; i++) {
		free(fj->ups[i].data);
		free(fj->ups[i].upload_url);
	}
	for (size_t i = 0; i < fj->nimages; i++)
		free(fj->images[i]);
	free(fj->images);
	free(fj->reqs);
	free(fj->ups);
	free(fj->base);
	free(fj->rest);
	wipe_free(fj->auth);
	free(fj);
}

/* The request ids, joined with ',', or NULL; caller frees. */
static char *
joined_ids(const struct fal_job *fj)
{
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < fj->job->nouts; i++)
		if (fj->reqs[i].id)
			buf_addf(&b, "%s%s", b.len ? "," : "", fj->reqs[i].id);
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
	struct fal_job *fj = ctx;
	struct job *job = fj->job;

	job->request = joined_ids(fj);
	if (fj->resumed_ok && !fj->failed && !fj->cancelling)
		note(fj, "%d of %d image%s came from requests an earlier build submitted",
		     fj->resumed_ok, job->nouts, job->nouts == 1 ? "" : "s");
	if (fj->failed) {
		job->failed = true;
		job->err = fj->err;
	} else if (fj->cancelling) {
		job->failed = true;
		error_set(&job->err, "cancelled");
	}
	fal_job_free(fj);
	job->priv = NULL;
	job_done(job);
}

static bool
task_idle(const struct task *t)
{
	return !t->busy && !t->timer_set &&
	       (t->step == STEP_DONE || t->step == STEP_IDLE);
}

/*
 * End the job once nothing of it runs: every task idle. A task waiting
 * in IDLE with the job failed or cancelled will never start. job_done
 * runs from a 0 ms timer, never from inside start() or cancel().
 */
static void
maybe_finish(struct fal_job *fj)
{
	bool stopping = fj->failed || fj->cancelling;

	if (fj->finishing)
		return;
	for (int i = 0; i < fj->job->nouts; i++) {
		const struct task *t = &fj->reqs[i].t;

		if (!task_idle(t) || (t->step == STEP_IDLE && !stopping))
			return;
	}
	for (size_t i = 0; i < fj->nups; i++)
		if (!task_idle(&fj->ups[i].t))
			return;
	fj->finishing = true;
	loop_after(fj->job->loop, 0, finish, fj);
}

static void
stop_timer(struct task *t)
{
	if (t->timer_set) {
		loop_cancel(t->fj->job->loop, t->timer);
		t->timer_set = false;
	}
}

/* Stop every task that is not waiting on an HTTP answer; the busy ones
 * stop when their answer comes. */
static void
stop_idle_tasks(struct fal_job *fj)
{
	for (int i = 0; i < fj->job->nouts; i++) {
		struct task *t = &fj->reqs[i].t;

		if (!t->busy) {
			stop_timer(t);
			t->step = STEP_DONE;
		}
	}
	for (size_t i = 0; i < fj->nups; i++) {
		struct task *t = &fj->ups[i].t;

		if (!t->busy) {
			stop_timer(t);
			t->step = STEP_DONE;
		}
	}
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
fail_job(struct fal_job *fj, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (fj->failed || fj->cancelling) {
		stop_idle_tasks(fj);
		return;
	}
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	clean_into(&fj->err, msg, job_secret(fj->job));
	free(msg);
	fj->failed = true;
	stop_idle_tasks(fj);
}

/* A warning about node's candidate, its server words cleaned. */
static void LM_PRINTF(2, 3)
note(const struct fal_job *fj, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	struct error e;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	clean_into(&e, msg, job_secret(fj->job));
	free(msg);
	warn("fal: %s: %s", node_id(fj), e.msg);
}

static void
on_timer(void *ctx)
{
	struct task *t = ctx;
	struct fal_job *fj = t->fj;

	t->timer_set = false;
	if (fj->failed || fj->cancelling)
		t->step = STEP_DONE;
	else
		send_step(t);
	maybe_finish(fj);
}

static void
schedule(struct task *t, int64_t ms)
{
	t->timer = loop_after(t->fj->job->loop, ms, on_timer, t);
	t->timer_set = true;
}

static double
jitter(struct fal_job *fj)
{
	return (double)rand_r(&fj->rng) / ((double)RAND_MAX + 1);
}

/*
 * Step t failed with a retryable problem (why): try again after a backoff,
 * or fail the job once FAL_MAX_ATTEMPTS tries are spent.
 */
static void
retry(struct task *t, double retry_after, const char *why)
{
	struct fal_job *fj = t->fj;

	if (++t->attempts >= FAL_MAX_ATTEMPTS) {
		fail_job(fj, "'%s': %s failed %d times, last: %s", fj->model,
			 step_names[t->step], t->attempts, why);
		return;
	}
	schedule(t, fal_backoff_ms(t->attempts, retry_after, jitter(fj)));
}

/*
 * -v: one line per answer, "fal: NODE: METHOD URL: STATUS". The query is
 * left out (signed upload URLs carry tokens); headers are never printed.
 */
static void
trace(const struct fal_job *fj, const char *method, const char *pre,
      const char *url, const struct http_response *resp)
{
	int n = (int)strcspn(url, "?");
	const char *sep = *pre && *url != '/' ? "/" : "";

	if (!fj->job->verbose)
		return;
	if (resp->transport_error) {
		struct error e;

		clean_into(&e, resp->error, job_secret(fj->job));
		fprintf(stderr, "fal: %s: %s %s%s%.*s: %s\n", node_id(fj),
			method, pre, sep, n, url, e.msg);
	} else
		fprintf(stderr, "fal: %s: %s %s%s%.*s: %ld\n", node_id(fj),
			method, pre, sep, n, url, resp->status);
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

/* What one step sends. */
struct send {
	const char *method;
	char *url;           /* owned */
	char *body;          /* owned, or NULL */
	size_t body_len;
	bool auth;           /* the API headers (key, JSON) */
	const struct url *bind; /* with auth: the only origin allowed */
	const char *ctype;   /* Content-Type for a raw body */
	const char *save_to;
	long timeout_ms;
};

static void on_http(void *ctx, struct http_response *resp);

/* The X-Loramake-Key header of task t (the fake counts submits by it);
 * caller frees. */
static char *
key_header(const struct task *t)
{
	const struct fal_job *fj = t->fj;

	if (t->is_upload || fj->job->nouts == 1)
		return xasprintf("X-Loramake-Key: %s", fj->key_hex);
	return xasprintf("X-Loramake-Key: %s/%d", fj->key_hex,
			 ((const struct req *)t)->cand);
}

/*
 * Send s for task t; frees s's buffers. API requests carry the key and
 * JSON headers; raw ones (upload PUT, download) only a User-Agent and the
 * body's type. Fails the job if the request cannot start.
 */
static void
send_http(struct task *t, struct send *s)
{
	struct fal_job *fj = t->fj;
	char *extra = s->auth ? key_header(t)
		    : s->ctype ? xasprintf("Content-Type: %s", s->ctype) : NULL;
	const char *api[] = {
		fj->auth, "Content-Type: application/json",
		"Accept: application/json", USER_AGENT, extra, NULL
	};
	const char *raw[] = { USER_AGENT, extra, NULL };
	double max = fj->job->max_body;
	struct http_request rq = {
		.method = s->method, .url = s->url, .body = s->body,
		.body_len = s->body_len, .save_to = s->save_to,
		.timeout_ms = s->timeout_ms, .headers = s->auth ? api : raw,
		.max_body = max > 0 ? (size_t)max : DEFAULT_MAX_BODY,
	};
	struct error err;

	if (s->auth && !s->bind)
		BUG("fal: a keyed request without its origin");
	rq.bind = s->auth ? s->bind : NULL;
	t->busy = http_send(fj->job->loop, &rq, on_http, t, &err) == 0;
	if (!t->busy)
		fail_job(fj, "%s", err.msg);
	free(extra);
	free(s->url);
	free(s->body);
}

/* The status URL with logs=0 (ENGINES.md 1.5). */
static char *
status_url(const char *u)
{
	return xasprintf("%s%slogs=0", u, strchr(u, '?') ? "&" : "?");
}

/* Content type of an image file from its first bytes. */
static const char *
sniff_mime(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "image/jpeg";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	return "image/png";
}

static const char *
mime_ext(const char *mime)
{
	return strcmp(mime, "image/jpeg") == 0 ? "jpg"
	     : strcmp(mime, "image/webp") == 0 ? "webp" : "png";
}

/* Build what a candidate's submit sends: the input JSON. */
static int
submit_send(struct req *r, struct send *s, struct error *err)
{
	struct fal_job *fj = r->t.fj;
	struct engine_request rq;

	if (submit_request(fj->job->node, fj->base,
			   (const char *const *)fj->images, fj->nimages,
			   r->cand, &rq, err) < 0)
		return -1;
	s->body = rq.body;
	s->body_len = strlen(s->body);
	s->method = rq.method;
	s->url = rq.url;
	s->auth = true;
	s->bind = &fj->queue;
	s->timeout_ms = SUBMIT_TIMEOUT_MS;
	return 0;
}

/* Build what an upload step sends (initiate, or the PUT of the bytes). */
static void
upload_send(struct upload *u, struct send *s)
{
	struct fal_job *fj = u->t.fj;

	if (u->t.step == STEP_INITIATE) {
		s->method = "POST";
		s->url = xasprintf("%s/storage/upload/initiate?storage_type=fal-cdn-v3",
				   fj->rest);
		s->body = xasprintf("{\"content_type\":\"%s\",\"file_name\":\"input-%zu.%s\"}",
				    u->mime, u->input + 1, mime_ext(u->mime));
		s->body_len = strlen(s->body);
		s->auth = true;
		s->bind = &fj->storage;
		s->timeout_ms = STATUS_TIMEOUT_MS;
		return;
	}
	s->method = "PUT";
	s->url = xstrdup(u->upload_url);
	s->body = xmalloc(u->len ? u->len : 1);
	memcpy(s->body, u->data, u->len);
	s->body_len = u->len;
	s->ctype = u->mime;
	s->timeout_ms = SUBMIT_TIMEOUT_MS;
}

/* Send whatever step t is at. */
static void
send_step(struct task *t)
{
	struct req *r = (struct req *)t;
	struct send s = { 0 };
	struct error err;

	if (t->is_upload) {
		upload_send((struct upload *)t, &s);
		send_http(t, &s);
		return;
	}
	switch (t->step) {
	case STEP_SUBMIT:
		if (submit_send(r, &s, &err) < 0) {
			fail_job(t->fj, "%s", err.msg);
			return;
		}
		break;
	case STEP_STATUS:
		s = (struct send){ "GET", status_url(r->status_url), .auth = true,
				   .bind = &t->fj->queue,
				   .timeout_ms = STATUS_TIMEOUT_MS };
		break;
	case STEP_RESULT:
		s = (struct send){ "GET", xstrdup(r->response_url), .auth = true,
				   .bind = &t->fj->queue,
				   .timeout_ms = STATUS_TIMEOUT_MS };
		break;
	case STEP_FETCH:
		s = (struct send){ "GET", xstrdup(r->file_url),
				   .save_to = t->fj->job->outs[r->cand - 1],
				   .timeout_ms = FETCH_TIMEOUT_MS };
		break;
	case STEP_CANCEL:
		s = (struct send){ "PUT", xstrdup(r->cancel_url), .auth = true,
				   .bind = &t->fj->queue,
				   .timeout_ms = CANCEL_TIMEOUT_MS };
		break;
	default:
		BUG("fal: send in step %d", (int)t->step);
	}
	send_http(t, &s);
}

/* Are all big inputs uploaded (or none needed)? */
static bool
uploads_done(const struct fal_job *fj)
{
	for (size_t i = 0; i < fj->nups; i++)
		if (fj->ups[i].t.step != STEP_DONE || !fj->images[fj->ups[i].input])
			return false;
	return true;
}

/*
 * Start a fresh submit of candidate r (first time, or after the service
 * forgot a resumed request): check the spend, then send. Waits in IDLE
 * while uploads are still running.
 */
static void
begin_submit(struct req *r)
{
	struct fal_job *fj = r->t.fj;

	r->resumed = false;
	r->t.attempts = 0;
	if (!uploads_done(fj)) {
		r->t.step = STEP_IDLE;
		return;
	}
	if (!job_may_spend(fj->job, fj->price)) {
		fail_job(fj, job_stopping(fj->job)
				     ? "not submitted: the build is stopping"
				     : "not submitted: --max-cost reached");
		return;
	}
	r->t.step = STEP_SUBMIT;
	send_step(&r->t);
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
fail_http(struct task *t, const struct http_response *resp)
{
	struct fal_job *fj = t->fj;
	char detail[384];
	const char *sep;

	fal_detail(resp->body.data, resp->body.len, job_secret(fj->job), detail,
		   sizeof(detail));
	sep = *detail ? ": " : "";
	if (resp->status == 401 || resp->status == 403)
		fail_job(fj, "fal refused the key in %s (%ld)%s%s", key_env(fj),
			 resp->status, sep, detail);
	else if ((resp->status == 400 || resp->status == 422) &&
		 (t->step == STEP_SUBMIT || t->step == STEP_RESULT))
		fail_job(fj, "'%s' rejected the request (%ld)%s%s", fj->model,
			 resp->status, sep, detail);
	else
		fail_job(fj, "'%s': %s answered %ld%s%s", fj->model,
			 step_names[t->step], resp->status, sep, detail);
}

/* Retry a retryable answer; fail on any other. Returns true if handled. */
static bool
transient(struct task *t, const struct http_response *resp)
{
	char why[320], detail[256];

	if (resp->transport_error && resp->permanent) {
		fail_job(t->fj, "'%s': %s failed: %s", t->fj->model,
			 step_names[t->step], resp->error);
		return true; /* the same request would fail the same way */
	}
	if (resp->transport_error) {
		retry(t, -1, resp->error);
		return true;
	}
	if (!fal_retryable(resp->status,
			   http_header(resp, "x-fal-request-timeout-type")))
		return false;
	fal_detail(resp->body.data, resp->body.len, job_secret(t->fj->job),
		   detail, sizeof(detail));
	snprintf(why, sizeof(why), "HTTP %ld%s%s", resp->status,
		 *detail ? ": " : "", detail);
	retry(t, resp->retry_after, why);
	return true;
}

/* A string member that is safe in a lock line: no space, tab, newline. */
static char *
plain_member(json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (!s || !*s || strpbrk(s, " \t\r\n"))
		return NULL;
	return xstrdup(s);
}

/* r's request ended for good without an image: take it out of the
 * pending journal, so the next build submits anew (job_forget). */
static void
forget(struct req *r)
{
	struct error err;

	if (r->id && job_forget(r->t.fj->job, r->cand, &err) < 0)
		note(r->t.fj, "%s", err.msg);
}

/* What a failure message adds when the request was an earlier build's. */
static const char *
earlier(const struct req *r)
{
	return r->resumed ? " (the answer to a request an earlier build submitted)"
			  : "";
}

/* A non-empty string member, whatever it holds (check_urls judges). */
static char *
any_member(json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s && *s ? xstrdup(s) : NULL;
}

/* Record r's request so a later build can resume it (job_record). */
static void
record(struct req *r)
{
	struct fal_job *fj = r->t.fj;
	struct error err;
	char *info = xasprintf("%s %s %s %s", r->id, r->status_url,
			       r->response_url,
			       r->cancel_url ? r->cancel_url : "-");

	if (job_record(fj->job, r->cand, info, &err) < 0)
		warn("fal: %s: cannot record request %s, a rebuild after a crash may pay again: %s",
		     node_id(fj), r->id, err.msg);
	free(info);
}

/*
 * May r's id and follow-up URLs be used, recorded and sent the key? The
 * id a text_is_token, the URLs on the queue's own origin (a cancel URL
 * that is not is dropped: cancelling is a courtesy). -1 with err.
 */
static int
check_urls(struct req *r, struct error *err)
{
	const struct url *q = &r->t.fj->queue;

	if (!text_is_token(r->id, ENGINE_MAX_REQUEST_ID))
		return error_set(err, "request id '%.40s' is not [A-Za-z0-9._-]{1,%d}",
				 r->id, ENGINE_MAX_REQUEST_ID);
	if (url_check_origin(r->status_url, q, err) < 0 ||
	    url_check_origin(r->response_url, q, err) < 0)
		return -1;
	if (r->cancel_url && url_check_origin(r->cancel_url, q, NULL) < 0) {
		free(r->cancel_url);
		r->cancel_url = NULL;
	}
	return 0;
}

/* Parse a submit answer's ids and URLs into r; -1 with err if unusable. */
static int
take_urls(struct req *r, json_t *root, struct error *err)
{
	req_release(r);
	r->id = any_member(root, "request_id");
	r->status_url = any_member(root, "status_url");
	r->response_url = any_member(root, "response_url");
	r->cancel_url = any_member(root, "cancel_url");
	r->file_url = NULL;
	if (!r->id || !r->status_url || !r->response_url)
		return error_set(err, "the answer lacks request_id, status_url or response_url");
	return check_urls(r, err);
}

/*
 * Could a failed transfer have reached the service? Not when libcurl
 * never connected (its words from curl_easy_strerror); any other
 * transport error may have lost the answer to a request that arrived.
 */
static bool
maybe_delivered(const struct http_response *resp)
{
	static const char *const never[] = {
		"Couldn't connect", "Could not connect", "Couldn't resolve",
		"Could not resolve", "SSL connect error", "Unsupported protocol",
		"URL using bad/illegal format",
	};

	for (size_t i = 0; i < LM_ARRAY_LEN(never); i++)
		if (strncmp(resp->error, never[i], strlen(never[i])) == 0)
			return false;
	return true;
}

static void
on_submit(struct req *r, const struct http_response *resp)
{
	struct fal_job *fj = r->t.fj;
	struct error err;
	json_t *root;

	if (resp->transport_error && maybe_delivered(resp))
		warn("fal: %s: submit answer lost (%s); submitting again, fal may have made (and bill) the first one too",
		     node_id(fj), resp->error);
	if (transient(&r->t, resp))
		return;
	if (resp->status < 200 || resp->status > 299) {
		fail_http(&r->t, resp);
		return;
	}
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	if (take_urls(r, root, &err) < 0) {
		json_decref(root);
		fail_job(fj, "'%s': unexpected submit answer: %s", fj->model,
			 err.msg);
		return;
	}
	json_decref(root);
	record(r);
	r->t_submit = now_ms();
	r->t.attempts = 0;
	r->t.step = STEP_STATUS;
	schedule(&r->t, fal_poll_ms(0));
}

static void
on_status(struct req *r, const struct http_response *resp)
{
	struct fal_job *fj = r->t.fj;
	json_t *root;
	const char *state, *error;

	if (transient(&r->t, resp))
		return;
	if (resp->status == 404 && r->resumed) {
		begin_submit(r); /* the service forgot it: it never ran */
		return;
	}
	if (resp->status != 200 && resp->status != 202) {
		fail_http(&r->t, resp);
		return;
	}
	r->t.attempts = 0;
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	state = json_string_value(json_object_get(root, "status"));
	error = json_string_value(json_object_get(root, "error"));
	if (resp->status == 200 && state && strcmp(state, "COMPLETED") == 0) {
		r->model_error = error != NULL;
		snprintf(r->status_error, sizeof(r->status_error), "%s",
			 error ? error : "");
		r->t.step = STEP_RESULT;
		send_step(&r->t);
	} else if (now_ms() - r->t_submit > MAX_WAIT_MS) {
		fail_job(fj, "'%s': request %s still not finished after %d minutes",
			 fj->model, r->id, MAX_WAIT_MS / 60000);
	} else {
		schedule(&r->t, fal_poll_ms(now_ms() - r->t_submit));
	}
	json_decref(root);
}

/* The output image of a result (images[0] or image): url and size. */
static int
take_image(struct req *r, json_t *root)
{
	json_t *img = json_array_get(json_object_get(root, "images"), 0);
	const char *url;

	if (!img)
		img = json_object_get(root, "image");
	url = json_string_value(json_object_get(img, "url"));
	if (!url || !*url)
		return -1;
	free(r->file_url);
	r->file_url = xstrdup(url);
	r->file_size = -1;
	if (json_is_integer(json_object_get(img, "file_size")))
		r->file_size = json_integer_value(json_object_get(img, "file_size"));
	return 0;
}

/* Write a data: URI output (sync_mode answers) straight to the file. */
static void
save_data_uri(struct req *r)
{
	struct fal_job *fj = r->t.fj;
	const char *comma = strchr(r->file_url, ',');
	struct buf b;
	struct error err;

	buf_init(&b);
	if (!comma || !strstr(r->file_url, ";base64,") ||
	    fal_unbase64(comma + 1, strlen(comma + 1), &b) < 0)
		fail_job(fj, "'%s' returned an unreadable data URI", fj->model);
	else if (write_file_atomic(fj->job->outs[r->cand - 1], b.data, b.len,
				   &err) < 0)
		fail_job(fj, "%s", err.msg);
	else {
		fj->job->usd += fj->price;
		fj->resumed_ok += r->resumed;
		r->t.step = STEP_DONE;
	}
	buf_release(&b);
}

/* A 200 result: find the image and download it. */
static void
on_result_ok(struct req *r, const struct http_response *resp)
{
	struct fal_job *fj = r->t.fj;
	json_t *root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	char detail[256];
	struct error err;

	fal_detail(resp->body.data, resp->body.len, job_secret(fj->job), detail,
		   sizeof(detail));
	if (!root || json_object_get(root, "error") || take_image(r, root) < 0) {
		forget(r);
		fail_job(fj, "'%s' finished without an image%s%s%s", fj->model,
			 *detail ? ": " : "", detail, earlier(r));
	} else if (strncmp(r->file_url, "data:", 5) == 0) {
		save_data_uri(r);
	} else if (url_check(r->file_url, NULL, &err) < 0) {
		forget(r);
		fail_job(fj, "'%s': output %s%s", fj->model, err.msg, earlier(r));
	} else {
		r->t.attempts = 0;
		r->t.step = STEP_FETCH;
		send_step(&r->t);
	}
	json_decref(root);
}

static void
on_result(struct req *r, const struct http_response *resp)
{
	struct fal_job *fj = r->t.fj;
	char detail[384];

	if (resp->status >= 500 && r->model_error) {
		/* the model itself failed: the same input fails again */
		fal_detail(resp->body.data, resp->body.len, job_secret(fj->job),
			   detail, sizeof(detail));
		forget(r);
		fail_job(fj, "'%s' failed: %s%s", fj->model,
			 *detail ? detail : r->status_error, earlier(r));
		return;
	}
	if (transient(&r->t, resp))
		return;
	if (resp->status == 200) {
		on_result_ok(r, resp);
	} else if (resp->status == 400 && !r->model_error) {
		r->t.step = STEP_STATUS; /* not finished after all */
		retry(&r->t, -1, "result not ready");
	} else if ((resp->status == 404 || resp->status == 499) && r->resumed) {
		begin_submit(r); /* forgotten, or cancelled by an earlier build */
	} else if (resp->status == 499) {
		forget(r);
		fail_job(fj, "'%s': request %s was cancelled at fal", fj->model,
			 r->id);
	} else {
		if (resp->status == 400 || resp->status == 422)
			forget(r); /* the model's verdict on this input */
		fail_http(&r->t, resp);
	}
}

/* Size of the file at path, or -1. */
static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void
on_fetch(struct req *r, const struct http_response *resp)
{
	struct fal_job *fj = r->t.fj;
	long long got;
	char why[128];

	if (transient(&r->t, resp))
		return;
	if (resp->status != 200) {
		fail_job(fj, "'%s': cannot download the output (HTTP %ld)",
			 fj->model, resp->status);
		return;
	}
	got = file_size(fj->job->outs[r->cand - 1]);
	if (r->file_size > 0 && got != r->file_size) {
		snprintf(why, sizeof(why), "image cut short (%lld of %lld bytes)",
			 got, r->file_size);
		retry(&r->t, -1, why);
		return;
	}
	fj->job->usd += fj->price;
	fj->resumed_ok += r->resumed;
	r->t.step = STEP_DONE;
}

static void
on_upload(struct upload *u, const struct http_response *resp)
{
	struct fal_job *fj = u->t.fj;
	json_t *root;
	char *file_url;

	if (transient(&u->t, resp))
		return;
	if (resp->status < 200 || resp->status > 299) {
		fail_http(&u->t, resp);
		return;
	}
	u->t.attempts = 0;
	if (u->t.step == STEP_PUT) {
		free(u->data);
		u->data = NULL;
		u->t.step = STEP_DONE;
		for (int i = 0; i < fj->job->nouts && uploads_done(fj); i++)
			if (fj->reqs[i].t.step == STEP_IDLE)
				begin_submit(&fj->reqs[i]);
		return;
	}
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	u->upload_url = plain_member(root, "upload_url");
	file_url = plain_member(root, "file_url");
	json_decref(root);
	if (!u->upload_url || !file_url ||
	    url_check(u->upload_url, NULL, NULL) < 0 ||
	    url_check(file_url, NULL, NULL) < 0) {
		free(file_url);
		fail_job(fj, "fal storage: unexpected upload answer");
		return;
	}
	fj->images[u->input] = file_url;
	u->t.step = STEP_PUT;
	send_step(&u->t);
}

/* An answer while the job stops: keep what resuming needs, end the task. */
static void
on_stopping(struct task *t, const struct http_response *resp)
{
	struct req *r = (struct req *)t;
	json_t *root;
	struct error err;

	if (!t->is_upload && t->step == STEP_SUBMIT && !resp->transport_error &&
	    resp->status >= 200 && resp->status <= 299) {
		root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
		if (take_urls(r, root, &err) == 0)
			record(r);
		else
			t->step = STEP_DONE;
		json_decref(root);
		if (t->step != STEP_DONE)
			t->step = STEP_STATUS;
	}
	if (!t->is_upload && t->fj->cancelling && r->cancel_url &&
	    (t->step == STEP_STATUS || t->step == STEP_RESULT)) {
		t->step = STEP_CANCEL;
		send_step(t);
		return;
	}
	t->step = STEP_DONE;
}

static const char *
step_method(const struct task *t)
{
	switch (t->step) {
	case STEP_SUBMIT:
	case STEP_INITIATE:
		return "POST";
	case STEP_PUT:
	case STEP_CANCEL:
		return "PUT";
	default:
		return "GET";
	}
}

/* Where step t sent its request, for trace(): a prefix and the rest. */
static const char *
step_url(const struct task *t, const char **pre)
{
	const struct req *r = (const struct req *)t;

	*pre = "";
	if (t->is_upload) {
		if (t->step == STEP_PUT)
			return ((const struct upload *)t)->upload_url;
		*pre = t->fj->rest;
		return "/storage/upload/initiate";
	}
	switch (t->step) {
	case STEP_SUBMIT:
		*pre = t->fj->base;
		return t->fj->model;
	case STEP_STATUS:
		return r->status_url;
	case STEP_RESULT:
		return r->response_url;
	case STEP_FETCH:
		return strncmp(r->file_url, "data:", 5) ? r->file_url : "data:...";
	case STEP_CANCEL:
		return r->cancel_url;
	default:
		return "?";
	}
}

/* Every HTTP answer of the engine arrives here, on the loop thread. */
static void
on_http(void *ctx, struct http_response *resp)
{
	struct task *t = ctx;
	struct fal_job *fj = t->fj;
	struct req *r = (struct req *)t;

	const char *pre, *url;

	t->busy = false;
	url = step_url(t, &pre);
	trace(fj, step_method(t), pre, url, resp);
	if (t->step == STEP_CANCEL)
		t->step = STEP_DONE;
	else if (fj->failed || fj->cancelling)
		on_stopping(t, resp);
	else if (t->is_upload)
		on_upload((struct upload *)t, resp);
	else if (t->step == STEP_SUBMIT)
		on_submit(r, resp);
	else if (t->step == STEP_STATUS)
		on_status(r, resp);
	else if (t->step == STEP_RESULT)
		on_result(r, resp);
	else if (t->step == STEP_FETCH)
		on_fetch(r, resp);
	maybe_finish(fj);
}

/* ------------------------------------------------------------------ */
/* Start and cancel                                                   */
/* ------------------------------------------------------------------ */

/* The base URLs, the key and the endpoint id; -1 with err. */
static int
setup_service(struct fal_job *fj, struct error *err)
{
	const struct engine_decl *d = fj->job->decl;
	const char *url = d && d->url && *d->url ? d->url : NULL;
	const char *secret = job_secret(fj->job);
	const char *m = fj->model;

	if (!m || !*m || *m == '/' || strstr(m, "..") ||
	    m[strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/")])
		return error_set(err, "'%s' is not a fal endpoint id (owner/alias[/path])",
				 m ? m : "");
	if (url_check(url ? url : FAL_DEFAULT_BASE, &fj->queue, err) < 0)
		return -1;
	if (!secret || !*secret)
		return error_set(err, "%s is not set", key_env(fj));
	fj->base = queue_base(d);
	fj->rest = xstrdup(url ? fj->base : FAL_DEFAULT_REST);
	if (url_check(fj->rest, &fj->storage, err) < 0)
		return -1;
	fj->auth = xasprintf("Authorization: Key %s", secret);
	return 0;
}

/* Input i as a data URI, or queued for upload when it is big. */
static int
prepare_input(struct fal_job *fj, size_t i, struct error *err)
{
	static const char prefix[] = "data:%s;base64,";
	char *data = NULL;
	size_t len;
	const char *mime;
	char *uri;
	size_t head;

	if (read_file(fj->job->inputs[i], &data, &len, err) < 0)
		return -1;
	mime = sniff_mime((unsigned char *)data, len);
	if (len > FAL_UPLOAD_OVER) {
		struct upload *u = &fj->ups[fj->nups++];

		*u = (struct upload){ .t = { .fj = fj, .step = STEP_INITIATE,
					     .is_upload = true },
				      .input = i, .data = data, .len = len,
				      .mime = mime };
		return 0;
	}
	head = (size_t)snprintf(NULL, 0, prefix, mime);
	uri = xmalloc(head + (len + 2) / 3 * 4 + 1);
	snprintf(uri, head + 1, prefix, mime);
	b64_encode(uri + head, (unsigned char *)data, len);
	fj->images[i] = uri;
	free(data);
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

/*
 * Resume candidate r from info, a line of .loramake/pending; -1 with err
 * (and r left "never submitted") if the line cannot be resumed safely.
 */
static int
resume_from(struct req *r, const char *info, struct error *err)
{
	char id[256], su[1024], ru[1024], cu[1024];

	req_clear(r);
	if (sscanf(info, "%255s %1023s %1023s %1023s", id, su, ru, cu) != 4)
		return error_set(err, "the line is not 'ID STATUS_URL RESPONSE_URL CANCEL_URL'");
	r->id = xstrdup(id);
	r->status_url = xstrdup(su);
	r->response_url = xstrdup(ru);
	r->cancel_url = strcmp(cu, "-") ? xstrdup(cu) : NULL;
	if (check_urls(r, err) < 0) {
		req_clear(r);
		return -1;
	}
	r->resumed = true;
	r->t_submit = now_ms();
	r->t.step = STEP_STATUS;
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
take_pending(struct fal_job *fj)
{
	struct job *job = fj->job;
	bool *drop = xcalloc((size_t)job->nouts + 1, sizeof(*drop));
	struct error err;

	for (size_t i = 0; i < job->npending; i++) {
		const struct job_pending *p = &job->pending[i];

		if (p->candidate < 1 || p->candidate > job->nouts || !p->info ||
		    !last_for_candidate(job, i))
			continue;
		if (resume_from(&fj->reqs[p->candidate - 1], p->info, &err) < 0) {
			note(fj, "dropping candidate %d's request recorded in .loramake/pending: %s; it is submitted anew",
			     p->candidate, err.msg);
			drop[p->candidate] = true;
		}
	}
	for (int c = 1; c <= job->nouts; c++)
		if (drop[c] && job_forget(job, c, &err) < 0)
			note(fj, "%s", err.msg);
	free(drop);
}

/* Allocate the job's state and read its inputs; -1 with err. */
static int
setup(struct fal_job *fj, struct error *err)
{
	struct job *job = fj->job;

	fj->reqs = xcalloc((size_t)job->nouts, sizeof(*fj->reqs));
	for (int i = 0; i < job->nouts; i++)
		fj->reqs[i] = (struct req){ .t = { .fj = fj }, .cand = i + 1,
					    .file_size = -1 };
	fj->images = xcalloc(job->ninputs ? job->ninputs : 1, sizeof(char *));
	fj->nimages = job->ninputs;
	fj->ups = xcalloc(job->ninputs ? job->ninputs : 1, sizeof(*fj->ups));
	hash_hex(&job->node->key, fj->key_hex);
	fj->rng = (unsigned)(hash_low64(&job->node->key) ^ (uint64_t)now_ms());
	fj->price = estimate_price(job->decl, "fal", fj->model);
	if (setup_service(fj, err) < 0)
		return -1;
	for (size_t i = 0; i < job->ninputs; i++)
		if (prepare_input(fj, i, err) < 0)
			return -1;
	take_pending(fj);
	return 0;
}

static void
fal_start(struct job *job)
{
	struct fal_job *fj = xcalloc(1, sizeof(*fj));
	struct error err;

	fj->job = job;
	fj->model = job->node->model;
	job->priv = fj;
	if (setup(fj, &err) < 0) {
		fail_job(fj, "%s", err.msg);
		maybe_finish(fj);
		return;
	}
	for (size_t i = 0; i < fj->nups; i++)
		send_step(&fj->ups[i].t);
	for (int i = 0; i < job->nouts && !fj->failed; i++) {
		struct req *r = &fj->reqs[i];

		if (r->t.step == STEP_STATUS)
			send_step(&r->t);
		else
			begin_submit(r);
	}
	maybe_finish(fj);
}

/* Ctrl-C: cancel at fal what is queued or running, then end the job. */
static void
fal_cancel(struct job *job)
{
	struct fal_job *fj = job->priv;

	if (!fj || fj->cancelling || fj->finishing)
		return; /* a finishing job keeps its outcome */
	fj->cancelling = true;
	for (int i = 0; i < job->nouts; i++) {
		struct req *r = &fj->reqs[i];

		if (r->t.busy)
			continue; /* on_stopping decides when it answers */
		stop_timer(&r->t);
		if (r->cancel_url &&
		    (r->t.step == STEP_STATUS || r->t.step == STEP_RESULT)) {
			r->t.step = STEP_CANCEL;
			send_step(&r->t);
		} else {
			r->t.step = STEP_DONE;
		}
	}
	for (size_t i = 0; i < fj->nups; i++)
		if (!fj->ups[i].t.busy) {
			stop_timer(&fj->ups[i].t);
			fj->ups[i].t.step = STEP_DONE;
		}
	maybe_finish(fj);
}

const struct engine engine_fal = {
	.type = "fal",
	.exec = ENGINE_REMOTE,
	.start = fal_start,
	.cancel = fal_cancel,
	.describe = fal_describe,
};

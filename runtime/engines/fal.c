/*
 * fal: the fal.ai engine, on the queue API (ENGINES.md section 1), as a
 * service of runtime/remote.c: this file says what each step sends and
 * what fal's answers mean; the core does the rest (retries, polling, the
 * journal and resume, cancel, the download, spend, the key).
 *
 *   SUBMIT  POST {base}/{endpoint id}          -> request_id + URLs
 *   POLL    GET status_url?logs=0              202 again later, 200 done
 *           (a training: logs=1, its last line on the status line)
 *   RESULT  GET response_url                   -> images[0].url | image.url
 *   FETCH   GET that URL into job->outs[i]     (the core; no key sent)
 *   CANCEL  PUT cancel_url                     on Ctrl-C only
 *
 * Inputs bigger than FAL_UPLOAD_OVER first go through the storage upload
 * flow (UPLOAD: initiate, UPLOAD_PUT: the bytes); smaller ones travel as
 * data URIs in the body. The follow-up URLs are the ones the service
 * returned (owner/alias only); none is built here, and the core checks
 * each against the queue's origin.
 *
 * A request that ends for good without an image (the model failed, the
 * input was rejected at the result, it was cancelled) is forgotten: the
 * next build submits it anew.
 *
 * The key: sent only as "Authorization: Key ..." to the queue and the
 * storage API (each keyed request bound to its API's origin).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/text.h"
#include "base/url.h"
#include "base/util.h"
#include "compiler/dag.h"
#include "compiler/camera.h"
#include "compiler/engine_type.h"
#include "compiler/recipe.h"
#include "runtime/engine.h"
#include "runtime/http.h"
#include "runtime/remote.h"
#include "fal.h"

#define SUBMIT_TIMEOUT_MS 120000
#define STATUS_TIMEOUT_MS 30000
#define CANCEL_TIMEOUT_MS 10000

/* ------------------------------------------------------------------ */
/* Pure parts (declared in fal.h, tested by tests/unit/test_fal.c)    */
/* ------------------------------------------------------------------ */

/* The core's, under the names fal.h has always given them. */
char *
fal_base64(const void *data, size_t len)
{
	return remote_base64(data, len);
}

int
fal_unbase64(const char *s, size_t len, struct buf *out)
{
	return remote_unbase64(s, len, out);
}

int64_t
fal_backoff_ms(int attempt, double retry_after, double jitter)
{
	return remote_backoff_ms(attempt, retry_after, jitter);
}

int64_t
fal_poll_ms(int64_t elapsed_ms)
{
	return remote_poll_ms(elapsed_ms, 0);
}

bool
fal_retryable(long status, const char *timeout_type)
{
	if (status == 504)
		return !(timeout_type && strcasecmp(timeout_type, "user") == 0);
	return remote_retryable_status(status);
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

/* A JSON array of the input image URLs. */
static json_t *
url_array(const char *const *images, size_t nimages)
{
	json_t *a = json_array();

	for (size_t i = 0; i < nimages; i++)
		json_array_append_new(a, json_string(images[i]));
	return a;
}

/* Camera fields of the multiple-angles endpoint, from the item name. */
static int
map_angles(json_t *o, const struct node *n, struct error *err)
{
	struct camera a;
	struct error why;

	if (camera_of_angle(n->item, &a, &why) < 0) {
		if (camera_set_by_params(n->params, n->nparams))
			return 0; /* the recipe places the camera itself */
		return error_set(err, "%s for '%s'; %s", why.msg, n->model,
				 CAMERA_HINT);
	}
	json_object_set_new(o, "horizontal_angle", json_real(a.horizontal));
	json_object_set_new(o, "vertical_angle", json_real(a.vertical));
	json_object_set_new(o, "zoom", json_real(a.zoom));
	return 0;
}

/* A trainer's request: the package's URL under the endpoint's name for
 * it; the trigger, steps and the rest are the node's params (dag.c). */
static int
map_trainer(json_t *o, const struct node *n, const char *const *images,
	    size_t nimages, struct error *err)
{
	const struct trainer *t = engine_type_trainer(engine_type_find("fal"),
						      n->model);

	if (!t || nimages != 1)
		return error_set(err, "'%s' trains on one package", n->model);
	json_object_set_new(o, t->data_field, json_string(images[0]));
	return 0;
}

/*
 * The image's shape, as the endpoint takes it (compiler/engine_type.h):
 * "aspect_ratio": "2:3", or "image_size": { width, height } at about a
 * megapixel in steps of 64 (compiler/shape.h). Only for an aspect the
 * recipe set on the node (n->shape_sent); params: may override it.
 */
static void
map_shape(json_t *o, const struct node *n)
{
	const char *const *ratios;
	char text[24];
	struct sides s;

	if (!n->shape_sent)
		return;
	switch (engine_type_shape(engine_type_find("fal"), n->model, &ratios)) {
	case SHAPE_ASPECT_RATIO:
		json_object_set_new(o, "aspect_ratio",
				    json_string(aspect_text(n->aspect, text,
							    sizeof(text))));
		break;
	case SHAPE_IMAGE_SIZE:
		s = shape_at_area(n->aspect, SHAPE_GEN_AREA);
		json_object_set_new(o, "image_size",
				    json_pack("{s:i, s:i}", "width", s.w,
					      "height", s.h));
		break;
	case SHAPE_NONE:
		break;
	}
}

/*
 * The trained LoRA's files (their URLs), as loras: [{path, scale}], and
 * on a model of two experts each file's transformer, as its trainer
 * names it (compiler/engine_type.c: WAN 2.2's low and high noise).
 */
static json_t *
lora_array(const struct node *n, enum model_family map,
	   const char *const *images, size_t nimages)
{
	const struct trainer *t = n->nin ? node_trainer(n->in[0]) : NULL;
	json_t *a = json_array();

	for (size_t i = 0; i < nimages; i++) {
		json_t *l = json_pack("{s:s, s:f}", "path", images[i],
				      "scale", n->lora_scale);

		if (map == FAMILY_LORA_EXPERTS && t && i < (size_t)t->nfiles &&
		    t->files[i].expert)
			json_object_set_new(l, "transformer",
					    json_string(t->files[i].expert));
		json_array_append_new(a, l);
	}
	return a;
}

/* The mapped fields of endpoint map for node n (before params). */
static int
map_fields(json_t *o, enum model_family map, const struct node *n,
	   const char *const *images, size_t nimages, int candidate,
	   struct error *err)
{
	unsigned takes = model_family_fields(map);

	if (map == FAMILY_TRAIN)
		return map_trainer(o, n, images, nimages, err);

	if ((takes & FIELD_PROMPT) && n->prompt)
		json_object_set_new(o, "prompt", json_string(n->prompt));
	if (nimages && (map == FAMILY_ANGLES || map == FAMILY_EDIT))
		json_object_set_new(o, "image_urls", url_array(images, nimages));
	else if (nimages && (takes & FIELD_IMAGE))
		json_object_set_new(o, "image_url", json_string(images[0]));
	if (nimages && (takes & FIELD_LORA))
		json_object_set_new(o, "loras", lora_array(n, map, images, nimages));
	if ((takes & FIELD_STRENGTH) && n->strength >= 0)
		json_object_set_new(o, "strength", json_real(n->strength));
	if ((takes & FIELD_NEGATIVE) && n->negative && *n->negative)
		json_object_set_new(o, "negative_prompt", json_string(n->negative));
	map_shape(o, n);
	json_object_set_new(o, "seed",
			    json_integer(fal_seed(n->seed, candidate)));
	/* WanLoRAT2IRequest makes one image and calls its format image_format */
	if (map == FAMILY_LORA_EXPERTS)
		json_object_set_new(o, "image_format", json_string("png"));
	else if (map != FAMILY_GENERIC && map != FAMILY_UPSCALE)
		json_object_set_new(o, "num_images", json_integer(1));
	if (map != FAMILY_GENERIC && map != FAMILY_LORA_EXPERTS)
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
		text = json_dumps(o, ENGINE_JSON_FLAGS);
	json_decref(o);
	return text;
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
	char *base = remote_base_of(decl, "fal");
	int rc = submit_request(n, base, images, nimages, cand, out, err);

	free(base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The service: what each step sends                                  */
/* ------------------------------------------------------------------ */

/* fal's own part of a job: the storage API beside the queue. */
struct fal_priv {
	char *rest;          /* storage API, no trailing '/' */
	struct url storage;  /* rest's origin: keyed storage requests */
};

/* The queue and storage URLs; -1 with err. */
static int
fal_setup(struct remote_job *rj, struct error *err)
{
	const struct engine_decl *d = rj->job->decl;
	const char *url = d && d->url && *d->url ? d->url : NULL;
	const char *m = rj->model;
	struct fal_priv *fp;
	char *base;
	int rc;

	if (!m || !*m || *m == '/' || strstr(m, "..") ||
	    m[strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/")])
		return error_set(err, "'%s' is not a fal endpoint id (owner/alias[/path])",
				 m ? m : "");
	base = remote_base_of(d, "fal");
	rc = remote_set_base(rj, base, err);
	free(base);
	if (rc < 0)
		return -1;
	fp = rj->priv = xcalloc(1, sizeof(*fp));
	fp->rest = xstrdup(url ? rj->base : FAL_DEFAULT_REST);
	return url_check(fp->rest, &fp->storage, err);
}

static void
fal_release(struct remote_job *rj)
{
	struct fal_priv *fp = rj->priv;

	if (fp)
		free(fp->rest);
	free(fp);
}

/* The status URL with logs=0 (ENGINES.md 1.5). */
/* A training's status asks for its logs (their last line is shown while
 * it runs, for hours); an image's does not. */
static char *
status_url(const char *u, bool logs)
{
	return xasprintf("%s%slogs=%d", u, strchr(u, '?') ? "&" : "?", logs);
}

static const char *
mime_ext(const char *mime)
{
	return strcmp(mime, "image/jpeg") == 0 ? "jpg"
	     : strcmp(mime, "image/webp") == 0 ? "webp"
	     : strcmp(mime, "application/zip") == 0 ? "zip"
	     /* the one input that is neither: a LoRA to validate */
	     : strcmp(mime, "application/octet-stream") == 0 ? "safetensors" : "png";
}

/* What an upload step sends (initiate, or the PUT of the bytes). */
static void
upload_send(struct remote_upload *u, struct remote_send *s)
{
	const struct fal_priv *fp = u->t.rj->priv;

	if (u->t.step == REMOTE_UPLOAD) {
		s->method = "POST";
		s->url = xasprintf("%s/storage/upload/initiate?storage_type=fal-cdn-v3",
				   fp->rest);
		s->body = xasprintf("{\"content_type\":\"%s\",\"file_name\":\"input-%zu.%s\"}",
				    u->mime, u->input + 1, mime_ext(u->mime));
		s->body_len = strlen(s->body);
		s->keyed = true;
		s->bind = &fp->storage;
		s->timeout_ms = STATUS_TIMEOUT_MS;
		return;
	}
	s->method = "PUT";
	s->url = xstrdup(u->upload_url);
	if (u->path) { /* a ZIP or a LoRA: streamed, never held whole */
		s->send_from = u->path;
	} else {
		s->body = xmalloc(u->len ? u->len : 1);
		memcpy(s->body, u->data, u->len);
		s->body_len = u->len;
	}
	s->ctype = u->mime;
	s->timeout_ms = SUBMIT_TIMEOUT_MS;
}

/* What a candidate's submit sends: the input JSON. */
static int
submit_send(struct remote_req *r, struct remote_send *s, struct error *err)
{
	struct remote_job *rj = r->t.rj;
	struct engine_request rq;

	if (submit_request(rj->job->node, rj->base,
			   (const char *const *)rj->images, rj->nimages,
			   r->cand, &rq, err) < 0)
		return -1;
	s->body = rq.body;
	s->body_len = strlen(s->body);
	s->method = rq.method;
	s->url = rq.url;
	s->keyed = true;
	s->timeout_ms = SUBMIT_TIMEOUT_MS;
	return 0;
}

static int
fal_request(struct remote_task *t, struct remote_send *s, struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;

	if (t->is_upload) {
		upload_send((struct remote_upload *)t, s);
		return 0;
	}
	switch (t->step) {
	case REMOTE_SUBMIT:
		return submit_send(r, s, err);
	case REMOTE_POLL:
		*s = (struct remote_send){ "GET",
					   status_url(r->poll_url,
						      t->rj->job->node->kind == KIND_TRAIN),
					   .keyed = true,
					   .timeout_ms = STATUS_TIMEOUT_MS };
		return 0;
	case REMOTE_RESULT:
		*s = (struct remote_send){ "GET", xstrdup(r->result_url),
					   .keyed = true,
					   .timeout_ms = STATUS_TIMEOUT_MS };
		return 0;
	case REMOTE_CANCEL:
		*s = (struct remote_send){ "PUT", xstrdup(r->cancel_url),
					   .keyed = true,
					   .timeout_ms = CANCEL_TIMEOUT_MS };
		return 0;
	default:
		BUG("fal: send in step %d", (int)t->step);
	}
}

/* ------------------------------------------------------------------ */
/* The service: what fal's answers mean                               */
/* ------------------------------------------------------------------ */

static json_t *
parse(const struct http_response *resp)
{
	return json_loadb(resp->body.data, resp->body.len, 0, NULL);
}

static bool
ok_2xx(const struct http_response *resp)
{
	return resp->status >= 200 && resp->status <= 299;
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

static const char *
str_member(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The storage answers: a signed URL to PUT to, then a plain 2xx. */
static enum remote_verdict
on_upload(struct remote_upload *u, const struct http_response *resp,
	  struct error *err)
{
	struct remote_job *rj = u->t.rj;
	json_t *root;
	char *file_url;

	if (!ok_2xx(resp))
		return REMOTE_AS_HTTP;
	if (u->t.step == REMOTE_UPLOAD_PUT)
		return REMOTE_FINISHED;
	root = parse(resp);
	u->upload_url = plain_member(root, "upload_url");
	file_url = plain_member(root, "file_url");
	json_decref(root);
	if (!u->upload_url || !file_url ||
	    url_check(u->upload_url, NULL, NULL) < 0 ||
	    url_check(file_url, NULL, NULL) < 0) {
		free(file_url);
		error_set(err, "fal storage: unexpected upload answer");
		return REMOTE_FAIL;
	}
	rj->images[u->input] = file_url;
	u->t.step = REMOTE_UPLOAD_PUT;
	return REMOTE_GO;
}

/* A submit's ids and URLs (the core checks them before it records). */
static enum remote_verdict
on_submit(struct remote_req *r, const struct http_response *resp,
	  struct error *err)
{
	json_t *root;

	if (!ok_2xx(resp))
		return REMOTE_AS_HTTP;
	root = parse(resp);
	remote_req_set(r, str_member(root, "request_id"),
		       str_member(root, "status_url"),
		       str_member(root, "response_url"),
		       str_member(root, "cancel_url"));
	json_decref(root);
	if (!r->id || !r->poll_url || !r->result_url) {
		error_set(err, "the answer lacks request_id, status_url or response_url");
		return REMOTE_UNEXPECTED;
	}
	return REMOTE_SUBMITTED;
}

/* The last of a status's logs ([{message, ...}]) on the status line. */
static void
show_last_log(struct remote_req *r, json_t *root)
{
	json_t *logs = json_object_get(root, "logs");
	const char *msg = str_member(json_array_get(logs, json_array_size(logs) - 1),
				     "message");

	if (msg && *msg)
		job_progress(r->t.rj->job, msg);
}

static enum remote_verdict
on_status(struct remote_req *r, const struct http_response *resp)
{
	json_t *root;
	const char *state, *error;
	enum remote_verdict v = REMOTE_WAIT;

	if (resp->status == 404 && r->resumed)
		return REMOTE_RESUBMIT; /* the service forgot it: it never ran */
	if (resp->status != 200 && resp->status != 202)
		return REMOTE_AS_HTTP;
	root = parse(resp);
	state = str_member(root, "status");
	error = str_member(root, "error");
	show_last_log(r, root);
	if (resp->status == 200 && state && strcmp(state, "COMPLETED") == 0) {
		r->model_error = error != NULL;
		snprintf(r->model_words, sizeof(r->model_words), "%s",
			 error ? error : "");
		r->t.step = REMOTE_RESULT;
		v = REMOTE_GO;
	}
	json_decref(root);
	return v;
}

/* A File of a result ({url, file_size?, ...}) as r's output k. */
static int
take_file(struct remote_req *r, int k, json_t *file)
{
	const char *url = str_member(file, "url");
	json_t *size = json_object_get(file, "file_size");

	if (!url || !*url)
		return -1;
	remote_req_output_file(r, k, url,
			       json_is_integer(size) ? json_integer_value(size) : -1);
	return 0;
}

/* The output of a result: images[0] or image; a trainer's LoRA files,
 * each under its member (diffusers_lora_file; WAN 2.2's two). */
static int
take_image(struct remote_req *r, json_t *root)
{
	const struct trainer *t = node_trainer(r->t.rj->job->node);
	json_t *img = json_array_get(json_object_get(root, "images"), 0);

	for (int k = 0; t && k < t->nfiles; k++)
		if (take_file(r, k, json_object_get(root, t->files[k].field)) < 0)
			return -1;
	if (t)
		return 0;
	return take_file(r, 0, img ? img : json_object_get(root, "image"));
}

/* A 200 result: the image to download. */
static enum remote_verdict
on_result_ok(struct remote_req *r, const struct http_response *resp,
	     struct error *err)
{
	struct remote_job *rj = r->t.rj;
	json_t *root = parse(resp);
	char detail[256];
	enum remote_verdict v = REMOTE_DOWNLOAD;

	if (!root || json_object_get(root, "error") || take_image(r, root) < 0) {
		fal_detail(resp->body.data, resp->body.len, job_secret(rj->job),
			   detail, sizeof(detail));
		error_set(err, "'%s' finished without %s%s%s", rj->model,
			  rj->job->node->kind == KIND_TRAIN ? "a LoRA file" : "an image",
			  *detail ? ": " : "", detail);
		v = REMOTE_GONE;
	}
	json_decref(root);
	return v;
}

static enum remote_verdict
on_result(struct remote_req *r, const struct http_response *resp,
	  struct error *err)
{
	struct remote_job *rj = r->t.rj;
	char detail[384];

	if (resp->status >= 500 && r->model_error) {
		/* the model itself failed: the same input fails again */
		fal_detail(resp->body.data, resp->body.len, job_secret(rj->job),
			   detail, sizeof(detail));
		error_set(err, "'%s' failed: %s", rj->model,
			  *detail ? detail : r->model_words);
		return REMOTE_GONE;
	}
	if (fal_retryable(resp->status,
			  http_header(resp, "x-fal-request-timeout-type")))
		return REMOTE_AS_HTTP;
	if (resp->status == 200)
		return on_result_ok(r, resp, err);
	if (resp->status == 400 && !r->model_error) {
		r->t.step = REMOTE_POLL; /* not finished after all */
		error_set(err, "result not ready");
		return REMOTE_RETRY;
	}
	if ((resp->status == 404 || resp->status == 499) && r->resumed)
		return REMOTE_RESUBMIT; /* forgotten, or cancelled earlier */
	if (resp->status == 499) {
		error_set(err, "'%s': request %s was cancelled at fal",
			  rj->model, r->id);
		return REMOTE_GONE;
	}
	if (resp->status == 400 || resp->status == 422)
		remote_forget(r); /* the model's verdict on this input */
	return REMOTE_AS_HTTP;
}

static enum remote_verdict
fal_answer(struct remote_task *t, const struct http_response *resp,
	   struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;

	if (t->is_upload)
		return on_upload((struct remote_upload *)t, resp, err);
	switch (t->step) {
	case REMOTE_SUBMIT:
		return on_submit(r, resp, err);
	case REMOTE_POLL:
		return on_status(r, resp);
	case REMOTE_RESULT:
		return on_result(r, resp, err);
	default:
		BUG("fal: answer in step %d", (int)t->step);
	}
}

/* 504 with x-fal-request-timeout-type: user is the caller's deadline. */
static bool
fal_retryable_answer(const struct http_response *resp)
{
	return fal_retryable(resp->status,
			     http_header(resp, "x-fal-request-timeout-type"));
}

static const struct remote_service fal_service = {
	.name = "fal",
	.auth_prefix = "Authorization: Key ",
	.upload_over = FAL_UPLOAD_OVER,
	.has_result = true,
	.setup = fal_setup,
	.release = fal_release,
	.request = fal_request,
	.answer = fal_answer,
	.retryable = fal_retryable_answer,
	.detail = fal_detail,
};

static void
fal_start(struct job *job)
{
	remote_start(job, &fal_service);
}

const struct engine engine_fal = {
	.type = "fal",
	.exec = ENGINE_REMOTE,
	.start = fal_start,
	.cancel = remote_cancel,
	.describe = fal_describe,
};

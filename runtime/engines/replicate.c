/*
 * replicate: Replicate's predictions API (ENGINES.md section 2), as a
 * service of runtime/remote.c: this file maps a node to a prediction and
 * a prediction back; the core does the rest.
 *
 *   SUBMIT  POST {base}/v1/models/{owner}/{name}/predictions  {"input"}
 *           POST {base}/v1/predictions   {"version", "input"}  (pinned)
 *   POLL    GET urls.get         starting | processing, then succeeded
 *                                (output: a URL or a list), failed,
 *                                canceled (or aborted)
 *   FETCH   GET the first output URL (the core; no key), or a data: URI
 *   CANCEL  POST urls.cancel     on Ctrl-C only
 *   UPLOAD  POST {base}/v1/files  multipart/form-data, part "content":
 *           an input over REPLICATE_UPLOAD_OVER bytes or no image (a
 *           training's ZIP, a validation's LoRA), before the submit;
 *           the file object's urls.get (on the API's origin) goes into
 *           the input in its place
 *
 * A validation (a validate node, a LoRA model: FAMILY_LORA in
 * compiler/engine_type.c) is a prediction whose one input, the trained
 * LoRA file, is sent as lora_weights (its upload's urls.get) with the
 * node's scale as lora_scale.
 *
 * A training (a train node) is the same conversation on another path:
 *
 *   SUBMIT  POST {base}/v1/models/{owner}/{name}/versions/{version}/trainings
 *                {"destination": "owner/model", "input": {input_images, ...}}
 *   POLL    GET urls.get         as a prediction; output.weights is the
 *                                LoRA (a .safetensors, or a .tar holding
 *                                one: runtime/sched.c takes it out)
 *
 * No `Prefer: wait`: a blocking create holds the answer (the prediction's
 * id) for up to a minute, and a build killed in that minute has paid for
 * a prediction it cannot find again; an answer that is already finished
 * (a proxy that waits) is taken as it comes. Inputs travel as data URIs
 * up to 1 MB, the size below which Replicate's docs recommend them
 * ("only recommended if the file is less than 1MB"; its Python client
 * uploads every file, its JS client data-URIs up to 10 MB); bigger ones
 * through the files API. An upload is free and not journalled: a
 * resumed build that still has to submit uploads again.
 *
 * The key: "Authorization: Bearer ..." to the API's origin only; urls.get
 * and urls.cancel are checked against it by the core.
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/path.h"
#include "base/text.h"
#include "base/util.h"
#include "compiler/dag.h"
#include "compiler/engine_type.h"
#include "compiler/recipe.h"
#include "compiler/shape.h"
#include "runtime/engine.h"
#include "runtime/http.h"
#include "runtime/remote.h"

#define SUBMIT_TIMEOUT_MS 120000
#define STATUS_TIMEOUT_MS 30000
#define CANCEL_TIMEOUT_MS 10000
#define UPLOAD_TIMEOUT_MS 300000
#define REPLICATE_UPLOAD_OVER 1000000 /* bytes: data URIs up to 1 MB */
#define BOUNDARY "loramake-3f9c2e71b8d04a56"

/* ------------------------------------------------------------------ */
/* The model and the input                                            */
/* ------------------------------------------------------------------ */

/*
 * Split "owner/name" or "owner/name:version" into its parts (each
 * [A-Za-z0-9._-], the version hex). -1 with err.
 */
static int
split_model(const char *m, char *path, size_t pathsz, const char **version,
	    struct error *err)
{
	static const char word[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
	size_t owner = m ? strspn(m, word) : 0, name, nv = 0;

	*version = NULL;
	if (!owner || m[owner] != '/' || strstr(m, ".."))
		goto bad;
	name = strspn(m + owner + 1, word);
	if (!name)
		goto bad;
	if (m[owner + 1 + name] == ':') {
		*version = m + owner + 2 + name;
		nv = strspn(*version, "0123456789abcdef");
		if (!nv || (*version)[nv] || nv > 128)
			goto bad;
	} else if (m[owner + 1 + name]) {
		goto bad;
	}
	snprintf(path, pathsz, "%.*s", (int)(owner + 1 + name), m);
	return 0;
bad:
	return error_set(err, "'%s' is not a Replicate model (owner/name, or owner/name:version with a hex version id)",
			 m ? m : "");
}

/* The seed of a candidate: n->seed + (candidate - 1), mod 2^31 (the
 * models' seeds are signed 32-bit). */
static long long
candidate_seed(int64_t seed, int candidate)
{
	return (long long)(((uint64_t)seed + (uint64_t)(candidate - 1)) & 0x7fffffff);
}

/* A JSON array of the input images. */
static json_t *
image_list(const char *const *images, size_t nimages)
{
	json_t *a = json_array();

	for (size_t i = 0; i < nimages; i++)
		json_array_append_new(a, json_string(images[i]));
	return a;
}

/* The input images: a model that takes more than one (max_images in
 * compiler/engine_type.c: google/nano-banana) gets them all, the source
 * and its refs:, as the list image_input; else the first, as input_image
 * for the Kontext edit family or image, with strength as prompt_strength.
 * A validation's one input is the LoRA (its training's file: its
 * urls.get from the files API) as lora_weights, and its scale; another
 * node's image on a LoRA model is an image (flux-dev-lora's img2img). */
static void
map_inputs(json_t *o, const struct node *n, enum model_family family,
	   const char *const *images, size_t nimages)
{
	const struct engine_type *t = engine_type_find("replicate");

	if (!nimages)
		return;
	if ((model_family_fields(family) & FIELD_LORA) &&
	    n->kind == KIND_VALIDATE) {
		json_object_set_new(o, "lora_weights", json_string(images[0]));
		json_object_set_new(o, "lora_scale", json_real(n->lora_scale));
		return;
	}
	if (engine_type_max_images(t, n->model) > 1) {
		json_object_set_new(o, "image_input", image_list(images, nimages));
		return;
	}
	json_object_set_new(o, family == FAMILY_EDIT ? "input_image" : "image",
			    json_string(images[0]));
	if (n->strength >= 0)
		json_object_set_new(o, "prompt_strength", json_real(n->strength));
}

/* aspect_ratio "2:3", where the model's row takes one and the recipe set
 * it on the node (n->shape_sent); compile checked it is one listed. */
static void
map_shape(json_t *o, const struct node *n)
{
	const char *const *ratios;
	char text[24];

	if (n->shape_sent &&
	    engine_type_shape(engine_type_find("replicate"), n->model, &ratios) ==
		    SHAPE_ASPECT_RATIO)
		json_object_set_new(o, "aspect_ratio",
				    json_string(aspect_text(n->aspect, text,
							    sizeof(text))));
}

/*
 * The prediction's "input": the node's prompt, negative prompt (where the
 * model's family takes one), its inputs (map_inputs), seed, one output
 * for a model that makes a list of them (the LoRA family), output_format
 * png, the aspect ratio, then every params: entry over them (guidance,
 * num_inference_steps, lora_scale...).
 */
static json_t *
input_object(const struct node *n, const char *const *images, size_t nimages,
	     int cand, struct error *err)
{
	const struct engine_type *t = engine_type_find("replicate");
	enum model_family family = engine_type_family(t, n->model);
	json_t *o = json_object();

	if (n->prompt)
		json_object_set_new(o, "prompt", json_string(n->prompt));
	/* only where the family takes one: compile said the others go
	 * without it (compiler/dag.c, check_dropped_fields) */
	if ((model_family_fields(family) & FIELD_NEGATIVE) && n->negative &&
	    *n->negative)
		json_object_set_new(o, "negative_prompt", json_string(n->negative));
	map_inputs(o, n, family, images, nimages);
	json_object_set_new(o, "seed", json_integer(candidate_seed(n->seed, cand)));
	if (family == FAMILY_LORA) /* num_outputs 1..4; one a candidate */
		json_object_set_new(o, "num_outputs", json_integer(1));
	json_object_set_new(o, "output_format", json_string("png"));
	map_shape(o, n);
	for (size_t i = 0; i < n->nparams; i++) {
		const struct param *p = &n->params[i];
		json_error_t jerr;
		json_t *v = json_loads(p->value, JSON_DECODE_ANY, &jerr);

		if (!v) {
			error_set(err, "param '%s': not a JSON value: %s", p->name,
				  jerr.text);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, p->name, v);
	}
	return o;
}

/*
 * A training's "input": the package's ZIP (images[0]) under the
 * trainer's field name (compiler/engine_type.c's trainer table), then the
 * node's params (trigger, steps, learning rate: compiler/dag.c; the
 * recipe's params: over them).
 */
static json_t *
training_input(const struct node *n, const char *const *images,
	       size_t nimages, struct error *err)
{
	const struct trainer *t =
		engine_type_trainer(engine_type_find("replicate"), n->model);
	json_t *o;

	if (!t || nimages != 1) {
		error_set(err, "'%s' trains on one package", n->model);
		return NULL;
	}
	o = json_object();
	json_object_set_new(o, t->data_field, json_string(images[0]));
	for (size_t i = 0; i < n->nparams; i++) {
		json_t *v = json_loads(n->params[i].value, JSON_DECODE_ANY, NULL);

		if (!v) {
			error_set(err, "param '%s': not a JSON value", n->params[i].name);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, n->params[i].name, v);
	}
	return o;
}

/* A training's create request: the trainer's version, where its
 * weights go, and its input. */
static int
training_request(const struct node *n, const char *base,
		 const char *const *images, size_t nimages,
		 struct engine_request *out, struct error *err)
{
	char path[512];
	const char *version;
	json_t *body, *input;

	*out = (struct engine_request){ .method = "POST",
					.key_header = "Authorization: Bearer <redacted>" };
	if (split_model(n->model, path, sizeof(path), &version, err) < 0)
		return -1;
	if (!version || !n->destination)
		return error_set(err, "a Replicate training needs the trainer's "
				 "version and a destination");
	if (!(input = training_input(n, images, nimages, err)))
		return -1;
	body = json_pack("{s:s, s:o}", "destination", n->destination, "input", input);
	out->body = json_dumps(body, ENGINE_JSON_FLAGS);
	json_decref(body);
	out->url = xasprintf("%s/v1/models/%s/versions/%s/trainings", base, path,
			     version);
	return 0;
}

/* The create request of candidate cand of node n at base. */
static int
create_request(const struct node *n, const char *base,
	       const char *const *images, size_t nimages, int cand,
	       struct engine_request *out, struct error *err)
{
	char path[512];
	const char *version;
	json_t *body, *input;

	if (n->kind == KIND_TRAIN)
		return training_request(n, base, images, nimages, out, err);
	*out = (struct engine_request){ .method = "POST",
					.key_header = "Authorization: Bearer <redacted>" };
	if (split_model(n->model, path, sizeof(path), &version, err) < 0 ||
	    !(input = input_object(n, images, nimages, cand, err)))
		return -1;
	body = json_object();
	if (version)
		json_object_set_new(body, "version", json_string(version));
	json_object_set_new(body, "input", input);
	out->body = json_dumps(body, ENGINE_JSON_FLAGS);
	json_decref(body);
	out->url = version ? xasprintf("%s/v1/predictions", base)
			   : xasprintf("%s/v1/models/%s/predictions", base, path);
	return 0;
}

static int
replicate_describe(const struct node *n, const struct engine_decl *decl,
		   const char *const *images, size_t nimages, int cand,
		   struct engine_request *out, struct error *err)
{
	char *base = remote_base_of(decl, "replicate");
	int rc = create_request(n, base, images, nimages, cand, out, err);

	free(base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The service                                                        */
/* ------------------------------------------------------------------ */

static int
replicate_setup(struct remote_job *rj, struct error *err)
{
	char path[512];
	const char *version;
	char *base;
	int rc;

	if (split_model(rj->model, path, sizeof(path), &version, err) < 0)
		return -1;
	base = remote_base_of(rj->job->decl, "replicate");
	rc = remote_set_base(rj, base, err);
	free(base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The files API (big inputs)                                         */
/* ------------------------------------------------------------------ */

/* The extension of upload u's file, for the part's filename: its image
 * type's, a ZIP's, or a validation's one input, the LoRA (the cache's
 * file, its safetensors frame checked when it was downloaded). */
static const char *
upload_ext(const struct remote_upload *u)
{
	const char *slash = strchr(u->mime, '/');

	if (slash && strncmp(u->mime, "image/", 6) == 0)
		return slash + 1;
	if (strcmp(u->mime, "application/zip") == 0)
		return "zip";
	return u->t.rj->job->node->kind == KIND_VALIDATE ? "safetensors" : "bin";
}

/* POST /v1/files: the input's bytes as the part "content" (replicate-
 * python's files.create: the file, its name and type). -1 with err if
 * the bytes hold the boundary. A file the core streams (a training's
 * ZIP: u->data NULL) is read here: a multipart body is built whole. */
static int
upload_request(struct remote_upload *u, struct remote_send *s,
	       struct error *err)
{
	char *owned = NULL;
	const char *data = u->data;
	size_t dlen = u->len, len;
	struct buf b;

	if (!data) {
		if (read_file(u->path, &owned, &dlen, err) < 0)
			return -1;
		data = owned;
	}
	if (memmem(data, dlen, BOUNDARY, strlen(BOUNDARY))) {
		free(owned);
		return error_set(err, "input %zu holds the upload's multipart boundary",
				 u->input + 1);
	}
	buf_init(&b);
	buf_addf(&b, "--%s\r\nContent-Disposition: form-data; name=\"content\"; "
		 "filename=\"input-%zu.%s\"\r\nContent-Type: %s\r\n\r\n",
		 BOUNDARY, u->input + 1, upload_ext(u), u->mime);
	buf_add(&b, data, dlen);
	free(owned);
	buf_addf(&b, "\r\n--%s--\r\n", BOUNDARY);
	len = b.len; /* buf_detach empties b */
	*s = (struct remote_send){ "POST", xasprintf("%s/v1/files", u->t.rj->base),
				   .body_len = len, .body = buf_detach(&b),
				   .keyed = true,
				   .ctype = "multipart/form-data; boundary=" BOUNDARY,
				   .timeout_ms = UPLOAD_TIMEOUT_MS };
	return 0;
}

static int
replicate_request(struct remote_task *t, struct remote_send *s,
		  struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;
	struct remote_job *rj = t->rj;
	struct engine_request rq;

	if (t->is_upload)
		return upload_request((struct remote_upload *)t, s, err);
	switch (t->step) {
	case REMOTE_SUBMIT:
		if (create_request(rj->job->node, rj->base,
				   (const char *const *)rj->images, rj->nimages,
				   r->cand, &rq, err) < 0)
			return -1;
		*s = (struct remote_send){ rq.method, rq.url, rq.body,
					   strlen(rq.body), .keyed = true,
					   .timeout_ms = SUBMIT_TIMEOUT_MS };
		return 0;
	case REMOTE_POLL:
		*s = (struct remote_send){ "GET", xstrdup(r->poll_url),
					   .keyed = true,
					   .timeout_ms = STATUS_TIMEOUT_MS };
		return 0;
	case REMOTE_CANCEL:
		*s = (struct remote_send){ "POST", xstrdup(r->cancel_url),
					   .keyed = true,
					   .timeout_ms = CANCEL_TIMEOUT_MS };
		return 0;
	default:
		BUG("replicate: send in step %d", (int)t->step);
	}
}

static const char *
str_member(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The first output: a URL string, or the first string of a list. */
static const char *
first_output(json_t *pred)
{
	json_t *out = json_object_get(pred, "output");

	if (json_is_array(out))
		out = json_array_get(out, 0);
	return json_string_value(out);
}

/* A training's output: {"version": ..., "weights": URL}; the member is
 * its trainer's LoRA file's (compiler/engine_type.c). */
static const char *
training_weights(const struct node *n, json_t *training)
{
	const struct trainer *t = node_trainer(n);

	return t ? str_member(json_object_get(training, "output"),
			      t->files[0].field) : NULL;
}

/*
 * What a prediction object says: still running (WAIT), an output to
 * download, or the end without one.
 */
static enum remote_verdict
prediction(struct remote_req *r, json_t *pred, struct error *err)
{
	struct remote_job *rj = r->t.rj;
	const char *status = str_member(pred, "status");
	const char *out = rj->job->node->kind == KIND_TRAIN
				  ? training_weights(rj->job->node, pred)
				  : first_output(pred);
	const char *why = str_member(pred, "error");

	if (!status)
		return error_set(err, "no status in the prediction"), REMOTE_UNEXPECTED;
	if (strcmp(status, "succeeded") == 0) {
		if (!out || !*out) {
			error_set(err, "'%s' succeeded without an output", rj->model);
			return REMOTE_GONE;
		}
		remote_req_output(r, out, -1);
		return REMOTE_DOWNLOAD;
	}
	if (strcmp(status, "failed") == 0) {
		error_set(err, "'%s' failed: %s", rj->model,
			  why && *why ? why : "(no reason given)");
		return REMOTE_GONE;
	}
	if (strcmp(status, "canceled") == 0 || strcmp(status, "aborted") == 0) {
		if (r->resumed)
			return REMOTE_RESUBMIT; /* an earlier Ctrl-C, or its deadline */
		error_set(err, "'%s': prediction %s was %s at Replicate",
			  rj->model, r->id, status);
		return REMOTE_GONE;
	}
	return REMOTE_WAIT; /* starting, processing */
}

static enum remote_verdict
on_create(struct remote_req *r, const struct http_response *resp,
	  struct error *err)
{
	json_t *pred, *urls;
	enum remote_verdict v;

	if (resp->status < 200 || resp->status > 299)
		return REMOTE_AS_HTTP;
	pred = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	urls = json_object_get(pred, "urls");
	remote_req_set(r, str_member(pred, "id"), str_member(urls, "get"), NULL,
		       str_member(urls, "cancel"));
	if (!r->id || !r->poll_url) {
		json_decref(pred);
		error_set(err, "the answer lacks id or urls.get");
		return REMOTE_UNEXPECTED;
	}
	/* a prediction that already finished (Prefer: wait at a proxy) */
	v = prediction(r, pred, err);
	json_decref(pred);
	return v == REMOTE_DOWNLOAD || v == REMOTE_WAIT ? REMOTE_SUBMITTED : v;
}

static enum remote_verdict
on_poll(struct remote_req *r, const struct http_response *resp,
	struct error *err)
{
	json_t *pred;
	enum remote_verdict v;

	if (resp->status == 404 && r->resumed)
		return REMOTE_RESUBMIT; /* the service forgot it */
	if (resp->status != 200)
		return REMOTE_AS_HTTP;
	pred = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	v = prediction(r, pred, err);
	json_decref(pred);
	return v;
}

/* The file object of an upload: its urls.get, on the API's origin (a
 * GET of it takes the key), goes into the input. */
static enum remote_verdict
on_upload(struct remote_upload *u, const struct http_response *resp,
	  struct error *err)
{
	struct remote_job *rj = u->t.rj;
	json_t *file;
	const char *get;
	struct error why;

	if (resp->status < 200 || resp->status > 299)
		return REMOTE_AS_HTTP;
	file = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	get = str_member(json_object_get(file, "urls"), "get");
	if (!get || url_check_origin(get, &rj->origin, &why) < 0) {
		error_set(err, "the file object's urls.get %s",
			  get ? why.msg : "is missing");
		json_decref(file);
		return REMOTE_UNEXPECTED;
	}
	rj->images[u->input] = xstrdup(get);
	json_decref(file);
	return REMOTE_FINISHED;
}

static enum remote_verdict
replicate_answer(struct remote_task *t, const struct http_response *resp,
		 struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;

	if (t->is_upload)
		return on_upload((struct remote_upload *)t, resp, err);

	if (t->step == REMOTE_SUBMIT)
		return on_create(r, resp, err);
	if (t->step == REMOTE_POLL)
		return on_poll(r, resp, err);
	BUG("replicate: answer in step %d", (int)t->step);
}

/*
 * The words of an error body (RFC 7807: detail, else title), one line,
 * cleaned whole before it is cut.
 */
static void
replicate_detail(const char *body, size_t len, const char *secret,
		 char *out, size_t outsz)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *d = str_member(root, "detail");
	struct buf b;

	if (!d)
		d = str_member(root, "title");
	buf_init(&b);
	b.max = outsz > 1 ? outsz - 1 : 0;
	text_clean_add(&b, d ? d : "", d ? strlen(d) : 0, secret);
	snprintf(out, outsz, "%s", b.data);
	buf_release(&b);
	json_decref(root);
}

/* A 429's wait: Retry-After, else the body's retry_after (seconds). */
static double
replicate_retry_after(const struct http_response *resp)
{
	json_t *root;
	double s = -1;

	if (resp->retry_after >= 0 || resp->status != 429)
		return resp->retry_after;
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	if (json_is_number(json_object_get(root, "retry_after")))
		s = json_number_value(json_object_get(root, "retry_after"));
	json_decref(root);
	return s >= 0 && s <= 3600 ? s : -1;
}

static const struct remote_service replicate_service = {
	.name = "replicate",
	.auth_prefix = "Authorization: Bearer ",
	.upload_over = REPLICATE_UPLOAD_OVER,
	.setup = replicate_setup,
	.request = replicate_request,
	.answer = replicate_answer,
	.detail = replicate_detail,
	.retry_after = replicate_retry_after,
};

static void
replicate_start(struct job *job)
{
	remote_start(job, &replicate_service);
}

const struct engine engine_replicate = {
	.type = "replicate",
	.exec = ENGINE_REMOTE,
	.start = replicate_start,
	.cancel = remote_cancel,
	.describe = replicate_describe,
};

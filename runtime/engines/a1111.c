/*
 * a1111: the web UI API of AUTOMATIC1111 and Forge (ENGINES.md section
 * 5), as a service of runtime/remote.c, on a server the user runs:
 *
 *   SUBMIT  POST {base}/sdapi/v1/txt2img    a node without inputs
 *           POST {base}/sdapi/v1/img2img    "init_images": the inputs
 *           The answer is the image, base64 in "images": no poll, no
 *           download, nothing to journal (a kill loses a free image).
 *   CANCEL  POST {base}/sdapi/v1/interrupt  on Ctrl-C, beside the submit
 *           in flight; the server then answers it with the unfinished
 *           image, which is dropped.
 *
 * The server runs one generation at a time (its queue_lock): the type's
 * concurrency is 1, more would only queue there. The key is optional:
 * A1111_API_AUTH ("user:password", as the server's --api-auth) is sent as
 * HTTP basic auth when it is set. Errors come as FastAPI's {"detail"}
 * (a string, or a 422's list of {loc, msg}), which fal_detail reads.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "compiler/dag.h"
#include "compiler/recipe.h"
#include "runtime/engine.h"
#include "runtime/engines/fal.h"
#include "runtime/http.h"
#include "runtime/remote.h"

/* A generation on a slow GPU, waiting behind other clients' in the
 * server's queue: minutes, with nothing sent meanwhile. */
#define GENERATE_TIMEOUT_MS (30 * 60 * 1000)
#define INTERRUPT_TIMEOUT_MS 10000

/* The seed of a candidate: n->seed + (candidate - 1), mod 2^32. */
static long long
candidate_seed(int64_t seed, int candidate)
{
	return (long long)(((uint64_t)seed + (uint64_t)(candidate - 1)) & 0xffffffff);
}

/*
 * Append one entry of params' loras to prompt as "<lora:NAME:WEIGHT>":
 * a name, or {name (or path), weight (or scale), default 1}. A name
 * holding the syntax's own characters would change the prompt's meaning.
 */
static int
add_lora(struct buf *prompt, json_t *l, struct error *err)
{
	json_t *w = json_is_object(l) ? json_object_get(l, "weight") : NULL;
	const char *name = json_string_value(l);
	char num[32];

	if (json_is_object(l)) {
		name = json_string_value(json_object_get(l, "name"));
		if (!name)
			name = json_string_value(json_object_get(l, "path"));
		if (!w)
			w = json_object_get(l, "scale");
	}
	if (!name || !*name || strpbrk(name, "<>:\n"))
		return error_set(err, "param 'loras': each entry is a LoRA name, or {name, weight}, and a name holds no '<', '>' or ':'");
	if (w && !json_is_number(w))
		return error_set(err, "param 'loras': the weight of '%s' is not a number",
				 name);
	format_double(num, sizeof(num), w ? json_number_value(w) : 1.0);
	buf_addf(prompt, "%s<lora:%s:%s>", prompt->len ? " " : "", name, num);
	return 0;
}

/* The prompt with the recipe's loras in A1111's prompt syntax. */
static json_t *
prompt_with_loras(const struct node *n, json_t *loras, struct error *err)
{
	struct buf b;
	json_t *s;
	size_t i;
	json_t *l;

	buf_init(&b);
	buf_adds(&b, n->prompt ? n->prompt : "");
	if (loras && !json_is_array(loras)) {
		buf_release(&b);
		error_set(err, "param 'loras': a list of LoRA names or {name, weight}");
		return NULL;
	}
	json_array_foreach(loras, i, l) {
		if (add_lora(&b, l, err) < 0) {
			buf_release(&b);
			return NULL;
		}
	}
	s = json_string(b.data);
	buf_release(&b);
	return s;
}

/* The recipe's params, each parsed as JSON, as one object; NULL with err. */
static json_t *
params_object(const struct node *n, struct error *err)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n->nparams; i++) {
		json_error_t jerr;
		json_t *v = json_loads(n->params[i].value, JSON_DECODE_ANY, &jerr);

		if (!v) {
			error_set(err, "param '%s': not a JSON value: %s",
				  n->params[i].name, jerr.text);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, n->params[i].name, v);
	}
	return o;
}

/*
 * The body of candidate cand of node n: prompt (with the loras), the
 * negative prompt, the seed, the checkpoint (model:) in override_settings,
 * for img2img the inputs and denoising_strength (strength:); then every
 * other params: entry over them (steps, cfg_scale, sampler_name, width,
 * height, scheduler...), an override_settings merged into loramake's.
 */
static json_t *
request_body(const struct node *n, const char *const *images, size_t nimages,
	     int cand, struct error *err)
{
	json_t *params = params_object(n, err), *body, *prompt, *over, *init;

	if (!params)
		return NULL;
	if (!(prompt = prompt_with_loras(n, json_object_get(params, "loras"), err))) {
		json_decref(params);
		return NULL;
	}
	json_object_del(params, "loras");
	body = json_object();
	json_object_set_new(body, "prompt", prompt);
	if (n->negative && *n->negative)
		json_object_set_new(body, "negative_prompt", json_string(n->negative));
	json_object_set_new(body, "seed", json_integer(candidate_seed(n->seed, cand)));
	json_object_set_new(body, "batch_size", json_integer(1));
	json_object_set_new(body, "n_iter", json_integer(1));
	json_object_set_new(body, "send_images", json_true());
	json_object_set_new(body, "save_images", json_false());
	over = json_object();
	if (n->model && *n->model)
		json_object_set_new(over, "sd_model_checkpoint", json_string(n->model));
	if (json_is_object(json_object_get(params, "override_settings")))
		json_object_update(over, json_object_get(params, "override_settings"));
	json_object_del(params, "override_settings");
	json_object_set_new(body, "override_settings", over);
	if (nimages) {
		init = json_array();
		for (size_t i = 0; i < nimages; i++)
			json_array_append_new(init, json_string(images[i]));
		json_object_set_new(body, "init_images", init);
		if (n->strength >= 0)
			json_object_set_new(body, "denoising_strength",
					    json_real(n->strength));
	}
	json_object_update(body, params);
	json_decref(params);
	return body;
}

/* The generation request of candidate cand of node n at base. */
static int
generate_request(const struct node *n, const char *base,
		 const char *const *images, size_t nimages, int cand,
		 struct engine_request *out, struct error *err)
{
	json_t *body = request_body(n, images, nimages, cand, err);

	*out = (struct engine_request){ .method = "POST" };
	if (!body)
		return -1;
	out->body = json_dumps(body, ENGINE_JSON_FLAGS);
	json_decref(body);
	out->url = xasprintf("%s/sdapi/v1/%s", base, nimages ? "img2img" : "txt2img");
	if (n->engine && n->engine->key_env && getenv(n->engine->key_env))
		out->key_header = "Authorization: Basic <redacted>";
	return 0;
}

static int
a1111_describe(const struct node *n, const struct engine_decl *decl,
	       const char *const *images, size_t nimages, int cand,
	       struct engine_request *out, struct error *err)
{
	char *base = remote_base_of(decl, "a1111");
	int rc = generate_request(n, base, images, nimages, cand, out, err);

	free(base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The service                                                        */
/* ------------------------------------------------------------------ */

static int
a1111_setup(struct remote_job *rj, struct error *err)
{
	char *base = remote_base_of(rj->job->decl, "a1111");
	int rc = remote_set_base(rj, base, err);

	free(base);
	return rc;
}

static int
a1111_request(struct remote_task *t, struct remote_send *s, struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;
	struct remote_job *rj = t->rj;
	struct engine_request rq;

	switch (t->step) {
	case REMOTE_SUBMIT:
		if (generate_request(rj->job->node, rj->base,
				     (const char *const *)rj->images, rj->nimages,
				     r->cand, &rq, err) < 0)
			return -1;
		*s = (struct remote_send){ rq.method, rq.url, rq.body,
					   strlen(rq.body), .keyed = true,
					   .timeout_ms = GENERATE_TIMEOUT_MS,
					   .waits = true };
		return 0;
	case REMOTE_CANCEL: /* rj->stop, beside the submit */
		*s = (struct remote_send){ "POST",
					   xasprintf("%s/sdapi/v1/interrupt", rj->base),
					   xstrdup("{}"), 2, .keyed = true,
					   .timeout_ms = INTERRUPT_TIMEOUT_MS };
		return 0;
	default:
		BUG("a1111: send in step %d", (int)t->step);
	}
}

/* The answer of a generation: its first image, as a data URI to save. */
static enum remote_verdict
a1111_answer(struct remote_task *t, const struct http_response *resp,
	     struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;
	json_t *root;
	const char *b64;
	char *uri;

	if (t->step != REMOTE_SUBMIT)
		BUG("a1111: answer in step %d", (int)t->step);
	if (resp->status != 200)
		return REMOTE_AS_HTTP;
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	b64 = json_string_value(json_array_get(json_object_get(root, "images"), 0));
	if (!b64 || !*b64) {
		json_decref(root);
		error_set(err, "no image in the answer");
		return REMOTE_UNEXPECTED;
	}
	/* raw base64 (ENGINES.md 6); a data URI as some forks send it */
	uri = strncmp(b64, "data:", 5) == 0 ? xstrdup(b64)
		: xasprintf("data:image/png;base64,%s", b64);
	remote_req_output(r, uri, -1);
	free(uri);
	json_decref(root);
	return REMOTE_DOWNLOAD;
}

/*
 * The server's words: FastAPI's detail (fal_detail reads it), else what
 * api_middleware puts in errors when its detail is empty (an exception:
 * "CUDA out of memory..."), else the exception's class.
 */
static void
a1111_detail(const char *body, size_t len, const char *secret, char *out,
	     size_t outsz)
{
	json_t *root;
	const char *words;

	fal_detail(body, len, secret, out, outsz);
	if (*out || !body || !len)
		return;
	root = json_loadb(body, len, 0, NULL);
	words = json_string_value(json_object_get(root, "errors"));
	if (!words || !*words)
		words = json_string_value(json_object_get(root, "error"));
	if (words && *words) {
		/* the same cleaning, on the same shape */
		json_t *again = json_pack("{ss}", "detail", words);
		char *text = json_dumps(again, JSON_COMPACT);

		fal_detail(text, strlen(text), secret, out, outsz);
		free(text);
		json_decref(again);
	}
	json_decref(root);
}

static const struct remote_service a1111_service = {
	.name = "a1111",
	.auth_prefix = "Authorization: Basic ",
	.basic_auth = true,
	.down_hint = "is the web UI running, started with --api (or --nowebui)? Or set the engine's url:",
	.cancel_in_flight = true,
	.setup = a1111_setup,
	.request = a1111_request,
	.answer = a1111_answer,
	.retryable = remote_retryable_own,
	.detail = a1111_detail,
};

static void
a1111_start(struct job *job)
{
	remote_start(job, &a1111_service);
}

const struct engine engine_a1111 = {
	.type = "a1111",
	.exec = ENGINE_REMOTE,
	.start = a1111_start,
	.cancel = remote_cancel,
	.describe = a1111_describe,
};

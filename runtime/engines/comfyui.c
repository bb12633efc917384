/*
 * comfyui: ComfyUI's server API (ENGINES.md section 4), as a service of
 * runtime/remote.c, on a server the user runs. The recipe's engine entry
 * names a workflow exported in ComfyUI's API format and binds node inputs
 * to loramake's values ("6.text": "{prompt}", docs/engines.md); the
 * compiler read the file (through the recipe folder's walk) and keyed its
 * bytes and the bindings. Here each candidate's copy of the workflow is
 * bound and run:
 *
 *   UPLOAD  POST {base}/upload/image   multipart, each input image under
 *                                      a name from its content (the same
 *                                      bytes reuse the server's file)
 *   SUBMIT  POST {base}/prompt         {"prompt": the bound workflow,
 *                                       "client_id"}; a 400 names the
 *                                      nodes that failed validation
 *   POLL    GET  {base}/history/{id}   {} until it ran: its outputs, or
 *                                      status "error" naming the node
 *   RESULT  GET  {base}/queue          only for a resumed request the
 *                                      history does not know: still
 *                                      queued, or submitted anew
 *   FETCH   GET  {base}/view?filename=&subfolder=&type=   (the core)
 *   CANCEL  POST {base}/queue {"delete": [id]}, then
 *           POST {base}/interrupt {"prompt_id": id}       on Ctrl-C
 *
 * Completion is polled: the websocket (/ws) needs a WebSocket client, and
 * Debian 12's libcurl (7.88) has no stable one. No key: ComfyUI has no
 * auth, and no Origin header is sent (ComfyUI refuses a loopback Host
 * with another Origin).
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/text.h"
#include "base/util.h"
#include "compiler/dag.h"
#include "compiler/recipe.h"
#include "runtime/engine.h"
#include "runtime/http.h"
#include "runtime/remote.h"

#define SUBMIT_TIMEOUT_MS 60000
#define STATUS_TIMEOUT_MS 30000
#define UPLOAD_TIMEOUT_MS 120000
#define CANCEL_TIMEOUT_MS 10000
#define BOUNDARY "loramake-7d1f0c93a2b54e18"

/* ------------------------------------------------------------------ */
/* The workflow and its bindings                                      */
/* ------------------------------------------------------------------ */

/* The seed of a candidate: n->seed + (candidate - 1), mod 2^32. */
static long long
candidate_seed(int64_t seed, int candidate)
{
	return (long long)(((uint64_t)seed + (uint64_t)(candidate - 1)) & 0xffffffff);
}

/*
 * The value of binding p: "{name}" (compiler/recipe.h's workflow_value)
 * stands for the node's prompt, negative, seed, strength, model, or an
 * input image as the server knows it (image, image2, ...); any other
 * value is itself, parsed from its canonical JSON. NULL with err.
 */
static json_t *
binding_value(const struct node *n, const struct param *p,
	      const char *const *images, size_t nimages, int cand,
	      struct error *err)
{
	const char *v = p->value;
	size_t len = strlen(v);
	int image = 0, which = -1;

	/* a JSON string "{name}": its text starts at v + 2 */
	if (p->is_string && len >= 4 && v[1] == '{' && v[len - 2] == '}')
		which = workflow_value(v + 2, len - 4, &image);
	switch (which) {
	case WV_PROMPT:
		return json_string(n->prompt ? n->prompt : "");
	case WV_NEGATIVE:
		return json_string(n->negative ? n->negative : "");
	case WV_SEED:
		return json_integer(candidate_seed(n->seed, cand));
	case WV_MODEL:
		return json_string(n->model ? n->model : "");
	case WV_STRENGTH:
		if (n->strength >= 0)
			return json_real(n->strength);
		error_set(err, "input '%s' is bound to {strength}, but the node has no strength:",
			  p->name);
		return NULL;
	case WV_IMAGE:
		if ((size_t)image <= nimages)
			return json_string(images[image - 1]);
		error_set(err, "input '%s' is bound to %.*s, but the node has %zu input image%s",
			  p->name, (int)(len - 2), v + 1, nimages, nimages == 1 ? "" : "s");
		return NULL;
	default:
		return json_loads(v, JSON_DECODE_ANY, NULL);
	}
}

/* Set "NODE.INPUT" of workflow wf to value (taken); -1 with err. */
static int
set_input(json_t *wf, const char *file, const char *what, const char *target,
	  json_t *value, struct error *err)
{
	const char *dot = strrchr(target, '.');
	char id[128];
	json_t *node, *inputs;

	if (!value)
		return error_set(err, "%s '%s': not a JSON value", what, target);
	if (!dot || dot == target || !dot[1] || dot - target >= (long)sizeof(id)) {
		json_decref(value);
		return error_set(err, "%s '%s' is not NODE.INPUT (a node id of %s, a dot, an input name: \"6.text\")",
				 what, target, file);
	}
	snprintf(id, sizeof(id), "%.*s", (int)(dot - target), target);
	node = json_object_get(wf, id);
	inputs = json_object_get(node, "inputs");
	if (!json_is_object(inputs)) {
		json_decref(value);
		return error_set(err, "%s '%s': %s has no node '%s'", what, target,
				 file, id);
	}
	if (!json_object_get(inputs, dot + 1)) {
		const char *cls = json_string_value(json_object_get(node, "class_type"));

		json_decref(value);
		return error_set(err, "%s '%s': node %s (%s) of %s has no input '%s'",
				 what, target, id, cls ? cls : "?", file, dot + 1);
	}
	json_object_set_new(inputs, dot + 1, value);
	return 0;
}

/*
 * The workflow of engine entry d bound for candidate cand of node n: the
 * entry's inputs:, then the node's params: ("3.steps": 30) over them.
 * NULL with err (the file is no API-format workflow, a binding names a
 * node or input it lacks).
 */
static json_t *
bound_workflow(const struct node *n, const struct engine_decl *d,
	       const char *const *images, size_t nimages, int cand,
	       struct error *err)
{
	json_error_t jerr;
	json_t *wf;
	const char *key;
	json_t *node;

	if (!d || !d->workflow_text) {
		error_set(err, "a comfyui engine needs workflow: (the recipe's check should have said so)");
		return NULL;
	}
	wf = json_loadb(d->workflow_text, d->workflow_len, 0, &jerr);
	if (!json_is_object(wf)) {
		error_set(err, "%s is not a ComfyUI workflow in API format: %s", d->workflow,
			  wf ? "not a JSON object" : jerr.text);
		json_decref(wf);
		return NULL;
	}
	json_object_foreach(wf, key, node) {
		if (!json_is_object(json_object_get(node, "inputs")) ||
		    !json_is_string(json_object_get(node, "class_type"))) {
			error_set(err, "%s is not a ComfyUI workflow in API format (node '%.40s' lacks class_type or inputs; export it with Export (API))",
				  d->workflow, key);
			json_decref(wf);
			return NULL;
		}
	}
	for (size_t i = 0; i < d->ninputs; i++)
		if (set_input(wf, d->workflow, "input", d->inputs[i].name,
			      binding_value(n, &d->inputs[i], images, nimages, cand, err),
			      err) < 0)
			goto fail;
	for (size_t i = 0; i < n->nparams; i++)
		if (set_input(wf, d->workflow, "param", n->params[i].name,
			      json_loads(n->params[i].value, JSON_DECODE_ANY, NULL),
			      err) < 0)
			goto fail;
	return wf;
fail:
	json_decref(wf);
	return NULL;
}

/* The client id ComfyUI routes websocket events by: none are read (the
 * history is polled), and a constant keeps plan --json reproducible. */
#define CLIENT_ID "loramake"

/* The POST /prompt of candidate cand of node n, for engine entry d. */
static int
prompt_request(const struct node *n, const struct engine_decl *d,
	       const char *base, const char *const *images, size_t nimages,
	       int cand, struct engine_request *out, struct error *err)
{
	json_t *wf = bound_workflow(n, d, images, nimages, cand, err), *body;

	*out = (struct engine_request){ .method = "POST" };
	if (!wf)
		return -1;
	body = json_pack("{so ss}", "prompt", wf, "client_id", CLIENT_ID);
	out->body = json_dumps(body, ENGINE_JSON_FLAGS);
	json_decref(body);
	out->url = xasprintf("%s/prompt", base);
	return 0;
}

static int
comfyui_describe(const struct node *n, const struct engine_decl *decl,
		 const char *const *images, size_t nimages, int cand,
		 struct engine_request *out, struct error *err)
{
	char *base = remote_base_of(decl, "comfyui");
	int rc = prompt_request(n, decl, base, images, nimages, cand, out, err);

	free(base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ComfyUI's words                                                    */
/* ------------------------------------------------------------------ */

static const char *
str_member(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/*
 * One validation error of node id (class cls): a model file the server
 * lacks (value_not_in_list on a loader) said as such, else ComfyUI's
 * message and details.
 */
static void
render_node_error(struct buf *b, const char *id, const char *cls, json_t *e)
{
	const char *type = str_member(e, "type"), *msg = str_member(e, "message");
	const char *details = str_member(e, "details");
	json_t *extra = json_object_get(e, "extra_info");
	const char *input = str_member(extra, "input_name");
	json_t *got = json_object_get(extra, "received_value");

	buf_addf(b, "node %s (%s): ", id, cls);
	if (type && strcmp(type, "value_not_in_list") == 0 && cls &&
	    strstr(cls, "Loader") && json_is_string(got)) {
		buf_addf(b, "the server has no model '%s' (%s)", json_string_value(got),
			 input ? input : "?");
		return;
	}
	buf_adds(b, msg && *msg ? msg : type ? type : "invalid");
	if (details && *details)
		buf_addf(b, ": %s", details);
}

/*
 * The words of an error body of /prompt: each node of node_errors, else
 * error.message (and details), else error as a string.
 */
static void
render_prompt_error(struct buf *b, json_t *root)
{
	json_t *nodes = json_object_get(root, "node_errors"), *err, *ne, *e;
	const char *id;
	size_t i;

	json_object_foreach(nodes, id, ne) {
		const char *cls = str_member(ne, "class_type");

		json_array_foreach(json_object_get(ne, "errors"), i, e) {
			if (b->len)
				buf_adds(b, "; ");
			render_node_error(b, id, cls ? cls : "?", e);
		}
	}
	if (b->len)
		return;
	err = json_object_get(root, "error");
	if (json_is_string(err)) {
		buf_adds(b, json_string_value(err));
	} else if (str_member(err, "message")) {
		const char *d = str_member(err, "details");

		buf_adds(b, str_member(err, "message"));
		if (d && *d && strcmp(d, str_member(err, "message")))
			buf_addf(b, ": %s", d);
	}
}

/* text as one cleaned line into out (always NUL-terminated). */
static void
clean_line(const char *text, size_t len, const char *secret, char *out,
	   size_t outsz)
{
	struct buf c;
	char *flat = xstrndup(text, len);

	for (char *p = flat; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	buf_init(&c);
	c.max = outsz > 1 ? outsz - 1 : 0;
	text_clean_add(&c, flat, strlen(flat), secret);
	snprintf(out, outsz, "%s", c.data);
	buf_release(&c);
	free(flat);
}

static void
comfyui_detail(const char *body, size_t len, const char *secret, char *out,
	       size_t outsz)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	struct buf b;

	buf_init(&b);
	render_prompt_error(&b, root);
	clean_line(b.data, b.len, secret, out, outsz);
	buf_release(&b);
	json_decref(root);
}

/* ------------------------------------------------------------------ */
/* The service                                                        */
/* ------------------------------------------------------------------ */

static int
comfyui_setup(struct remote_job *rj, struct error *err)
{
	char *base = remote_base_of(rj->job->decl, "comfyui");
	int rc = remote_set_base(rj, base, err);

	free(base);
	return rc;
}

/* The multipart body of upload u: the image under a name from its bytes
 * (a second upload of them reuses the server's file), type input. */
static int
upload_body(struct remote_upload *u, struct remote_send *s, struct error *err)
{
	struct hash h = hash_bytes(u->data, u->len);
	char hex[HASH_HEX_LEN + 1];
	const char *ext = strcmp(u->mime, "image/jpeg") == 0 ? "jpg"
			: strcmp(u->mime, "image/webp") == 0 ? "webp" : "png";
	struct buf b;

	if (memmem(u->data, u->len, BOUNDARY, strlen(BOUNDARY)))
		return error_set(err, "an input image holds the upload's form boundary");
	hash_hex(&h, hex);
	buf_init(&b);
	buf_addf(&b, "--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"loramake-%s.%s\"\r\nContent-Type: %s\r\n\r\n",
		 BOUNDARY, hex, ext, u->mime);
	buf_add(&b, u->data, u->len);
	buf_addf(&b, "\r\n--%s\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\ninput\r\n--%s--\r\n",
		 BOUNDARY, BOUNDARY);
	s->body_len = b.len;
	s->body = buf_detach(&b);
	return 0;
}

static int
comfyui_request(struct remote_task *t, struct remote_send *s, struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;
	struct remote_job *rj = t->rj;
	struct engine_request rq;

	switch (t->step) {
	case REMOTE_UPLOAD:
		*s = (struct remote_send){ "POST", xasprintf("%s/upload/image", rj->base),
					   .ctype = "multipart/form-data; boundary=" BOUNDARY,
					   .timeout_ms = UPLOAD_TIMEOUT_MS };
		return upload_body((struct remote_upload *)t, s, err);
	case REMOTE_SUBMIT:
		if (prompt_request(rj->job->node, rj->job->decl, rj->base,
				   (const char *const *)rj->images, rj->nimages,
				   r->cand, &rq, err) < 0)
			return -1;
		*s = (struct remote_send){ rq.method, rq.url, rq.body,
					   strlen(rq.body), .keyed = true,
					   .timeout_ms = SUBMIT_TIMEOUT_MS };
		return 0;
	case REMOTE_POLL:
		*s = (struct remote_send){ "GET", xstrdup(r->poll_url), .keyed = true,
					   .timeout_ms = STATUS_TIMEOUT_MS };
		return 0;
	case REMOTE_RESULT:
		*s = (struct remote_send){ "GET", xasprintf("%s/queue", rj->base),
					   .keyed = true,
					   .timeout_ms = STATUS_TIMEOUT_MS };
		return 0;
	case REMOTE_CANCEL: {
		/* first out of the queue, then stop it if it runs */
		json_t *body = r->cancels == 0
			? json_pack("{s[s]}", "delete", r->id)
			: json_pack("{ss}", "prompt_id", r->id);

		*s = (struct remote_send){ "POST",
					   xasprintf("%s/%s", rj->base,
						     r->cancels == 0 ? "queue" : "interrupt"),
					   json_dumps(body, ENGINE_JSON_FLAGS), .keyed = true,
					   .timeout_ms = CANCEL_TIMEOUT_MS };
		s->body_len = strlen(s->body);
		json_decref(body);
		return 0;
	}
	default:
		BUG("comfyui: send in step %d", (int)t->step);
	}
}

/* An upload's answer: the name the LoadImage node takes. */
static enum remote_verdict
on_upload(struct remote_upload *u, const struct http_response *resp,
	  struct error *err)
{
	struct remote_job *rj = u->t.rj;
	json_t *root;
	const char *name, *sub;

	if (resp->status != 200)
		return REMOTE_AS_HTTP;
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	name = str_member(root, "name");
	sub = str_member(root, "subfolder");
	if (!name || !*name) {
		json_decref(root);
		error_set(err, "no name in the upload's answer");
		return REMOTE_UNEXPECTED;
	}
	free(rj->images[u->input]);
	rj->images[u->input] = sub && *sub ? xasprintf("%s/%s", sub, name)
					    : xstrdup(name);
	json_decref(root);
	return REMOTE_FINISHED;
}

static enum remote_verdict
on_prompt(struct remote_req *r, const struct http_response *resp,
	  struct error *err)
{
	struct remote_job *rj = r->t.rj;
	json_t *root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	const char *id = str_member(root, "prompt_id");
	struct buf b;
	char *poll, *cancel;

	if (resp->status == 400 && json_is_object(root)) {
		buf_init(&b);
		render_prompt_error(&b, root);
		error_set(err, "ComfyUI rejected the workflow %s: %s",
			  rj->job->decl->workflow, b.len ? b.data : "(no reason given)");
		buf_release(&b);
		json_decref(root);
		return REMOTE_FAIL;
	}
	if (resp->status != 200) {
		json_decref(root);
		return REMOTE_AS_HTTP;
	}
	if (!id || !text_is_token(id, ENGINE_MAX_REQUEST_ID)) {
		json_decref(root);
		error_set(err, "no usable prompt_id");
		return REMOTE_UNEXPECTED;
	}
	poll = xasprintf("%s/history/%s", rj->base, id);
	cancel = xasprintf("%s/interrupt", rj->base);
	remote_req_set(r, id, poll, NULL, cancel);
	free(poll);
	free(cancel);
	json_decref(root);
	return REMOTE_SUBMITTED;
}

/* Append s percent-encoded (all but unreserved characters) to b. */
static void
add_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			buf_addc(b, (char)c);
		else
			buf_addf(b, "%%%02X", c);
	}
}

/* Node ids in order: numeric ones by value ("9" before "10"). */
static int
id_cmp(const char *a, const char *b)
{
	size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");

	if (la && lb && !a[la] && !b[lb] && la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/*
 * The image of a finished prompt: of the output nodes, the first (by node
 * id) with a saved image (type output, SaveImage), else with a preview
 * (temp); its /view URL into r. false if there is none.
 */
static bool
pick_output(struct remote_req *r, json_t *outputs)
{
	const char *best_id = NULL, *id;
	json_t *best = NULL, *out;
	bool best_saved = false;
	struct buf b;

	json_object_foreach(outputs, id, out) {
		json_t *im = json_array_get(json_object_get(out, "images"), 0);
		const char *type = str_member(im, "type");
		bool saved = type && strcmp(type, "output") == 0;

		if (!str_member(im, "filename"))
			continue;
		if (!best || (saved && !best_saved) ||
		    (saved == best_saved && id_cmp(id, best_id) < 0)) {
			best = im;
			best_id = id;
			best_saved = saved;
		}
	}
	if (!best)
		return false;
	buf_init(&b);
	buf_addf(&b, "%s/view?filename=", r->t.rj->base);
	add_escaped(&b, str_member(best, "filename"));
	buf_adds(&b, "&subfolder=");
	add_escaped(&b, str_member(best, "subfolder") ? str_member(best, "subfolder") : "");
	buf_adds(&b, "&type=");
	add_escaped(&b, str_member(best, "type") ? str_member(best, "type") : "output");
	remote_req_output(r, b.data, -1);
	buf_release(&b);
	return true;
}

/* The execution_error (or _interrupted) entry of a history's messages. */
static json_t *
status_event(json_t *status, const char *event)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(status, "messages"), i, m) {
		const char *name = json_string_value(json_array_get(m, 0));

		if (name && strcmp(name, event) == 0)
			return json_array_get(m, 1);
	}
	return NULL;
}

/* What a prompt's history entry says: still running, an image, or the
 * end without one (the node and ComfyUI's words). */
static enum remote_verdict
history_entry(struct remote_req *r, json_t *h, struct error *err)
{
	json_t *status = json_object_get(h, "status"), *e;
	const char *st = str_member(status, "status_str");
	const char *wf = r->t.rj->job->decl->workflow;

	if ((e = status_event(status, "execution_error"))) {
		error_set(err, "node %s (%s) of %s failed: %s%s%s", str_member(e, "node_id") ? str_member(e, "node_id") : "?",
			  str_member(e, "node_type") ? str_member(e, "node_type") : "?", wf,
			  str_member(e, "exception_type") ? str_member(e, "exception_type") : "",
			  str_member(e, "exception_type") ? ": " : "",
			  str_member(e, "exception_message") ? str_member(e, "exception_message") : "(no message)");
		return REMOTE_GONE;
	}
	if (status_event(status, "execution_interrupted")) {
		if (r->resumed)
			return REMOTE_RESUBMIT; /* an earlier build's Ctrl-C */
		error_set(err, "prompt %s was interrupted at the ComfyUI server", r->id);
		return REMOTE_GONE;
	}
	if (st && strcmp(st, "success") == 0) {
		if (pick_output(r, json_object_get(h, "outputs")))
			return REMOTE_DOWNLOAD;
		error_set(err, "%s finished without an image (no SaveImage or PreviewImage output)",
			  wf);
		return REMOTE_GONE;
	}
	if (st && strcmp(st, "error") == 0) {
		error_set(err, "%s failed at the ComfyUI server (no node named)", wf);
		return REMOTE_GONE;
	}
	return REMOTE_WAIT;
}

static enum remote_verdict
on_history(struct remote_req *r, const struct http_response *resp,
	   struct error *err)
{
	json_t *root, *h;
	enum remote_verdict v;

	if (resp->status != 200)
		return REMOTE_AS_HTTP;
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		error_set(err, "the history is not a JSON object");
		return REMOTE_UNEXPECTED;
	}
	h = json_object_get(root, r->id);
	if (!h) {
		json_decref(root);
		if (!r->resumed)
			return REMOTE_WAIT; /* queued or running */
		r->t.step = REMOTE_RESULT; /* a restarted server forgets */
		return REMOTE_GO;
	}
	v = history_entry(r, h, err);
	json_decref(root);
	return v;
}

/* Is prompt id in a /queue list ([number, prompt_id, ...] entries)? */
static bool
in_queue_list(json_t *list, const char *id)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
		const char *p = json_string_value(json_array_get(e, 1));

		if (p && strcmp(p, id) == 0)
			return true;
	}
	return false;
}

/* A resumed prompt the history lacks: still queued or running, or lost
 * (the server restarted), and then made anew. */
static enum remote_verdict
on_queue(struct remote_req *r, const struct http_response *resp)
{
	json_t *root;
	bool queued;

	if (resp->status != 200)
		return REMOTE_AS_HTTP;
	root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	queued = in_queue_list(json_object_get(root, "queue_running"), r->id) ||
		 in_queue_list(json_object_get(root, "queue_pending"), r->id);
	json_decref(root);
	r->t.step = REMOTE_POLL;
	return queued ? REMOTE_WAIT : REMOTE_RESUBMIT;
}

static enum remote_verdict
comfyui_answer(struct remote_task *t, const struct http_response *resp,
	       struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;

	if (t->is_upload)
		return on_upload((struct remote_upload *)t, resp, err);
	switch (t->step) {
	case REMOTE_SUBMIT:
		return on_prompt(r, resp, err);
	case REMOTE_POLL:
		return on_history(r, resp, err);
	case REMOTE_RESULT:
		return on_queue(r, resp);
	default:
		BUG("comfyui: answer in step %d", (int)t->step);
	}
}

static const struct remote_service comfyui_service = {
	.name = "comfyui",
	.auth_prefix = "",
	.upload_over = 1, /* every input image goes up: a LoadImage reads files */
	.down_hint = "is ComfyUI running (python main.py, port 8188)? Or set the engine's url:",
	.cancel_steps = 2,
	.setup = comfyui_setup,
	.request = comfyui_request,
	.answer = comfyui_answer,
	.retryable = remote_retryable_own,
	.detail = comfyui_detail,
};

static void
comfyui_start(struct job *job)
{
	remote_start(job, &comfyui_service);
}

const struct engine engine_comfyui = {
	.type = "comfyui",
	.exec = ENGINE_REMOTE,
	.start = comfyui_start,
	.cancel = remote_cancel,
	.describe = comfyui_describe,
};

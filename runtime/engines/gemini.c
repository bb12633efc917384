/*
 * gemini: Google's Gemini API image models ("Nano Banana": Gemini 2.5
 * Flash Image, Gemini 3 Pro Image; ENGINES.md section 3) called directly,
 * as a service of runtime/remote.c. One synchronous call per candidate:
 *
 *   SUBMIT  POST {base}/v1beta/models/{model}:generateContent
 *           the prompt and every input image as inlineData parts,
 *           responseModalities [IMAGE], temperature 1.0 (Google warns
 *           against lowering it for images), the candidate's seed,
 *           imageConfig (aspectRatio; imageSize on Gemini 3)
 *           -> 200: the image inline (base64), thought parts skipped;
 *              a blocked answer fails the node with the reason
 *
 * There is no request id to poll and nothing to cancel: the core
 * journals each call before it is sent, so a build killed mid-call tells
 * the next one which calls it cut off; those are sent again (their
 * answers are lost; docs/engines.md says what that costs).
 *
 * The key: "x-goog-api-key: ..." to the API's origin only, never in the
 * query. 429 RESOURCE_EXHAUSTED waits the RetryInfo detail's retryDelay.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/text.h"
#include "base/util.h"
#include "compiler/dag.h"
#include "compiler/engine_type.h"
#include "compiler/recipe.h"
#include "compiler/vision.h"
#include "runtime/engine.h"
#include "runtime/http.h"
#include "runtime/remote.h"
#include "gemini.h"

/* Gemini 3 Pro Image at 4K takes a minute or more; a call is one answer */
#define CALL_TIMEOUT_MS 300000

/* ------------------------------------------------------------------ */
/* The answer (gemini.h)                                              */
/* ------------------------------------------------------------------ */

/* finishReasons that mean the model refused (FinishReason enum) */
static const char *const refusals[] = {
	"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
	"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
};

static const char *
str_member(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* a->why = the pieces joined, one line, cleaned whole then cut */
static void
set_why(struct gemini_answer *a, const char *secret, const char *fmt, ...)
	LM_PRINTF(3, 4);

static void
set_why(struct gemini_answer *a, const char *secret, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	struct buf b;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	buf_init(&b);
	b.max = sizeof(a->why) - 1;
	text_clean_add(&b, msg, strlen(msg), secret);
	snprintf(a->why, sizeof(a->why), "%s", b.data);
	buf_release(&b);
	free(msg);
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static bool
is_refusal(const char *reason)
{
	for (size_t i = 0; reason && i < LM_ARRAY_LEN(refusals); i++)
		if (strcmp(reason, refusals[i]) == 0)
			return true;
	return false;
}

/* The first text part of parts that is not a thought, or NULL. */
static const char *
text_part(json_t *parts, size_t *len)
{
	size_t i;
	json_t *p;

	json_array_foreach(parts, i, p) {
		json_t *t = json_object_get(p, "text");

		if (!json_is_true(json_object_get(p, "thought")) && json_is_string(t)) {
			*len = json_string_length(t);
			return json_string_value(t);
		}
	}
	return NULL;
}

/* A checked copy of a text value v of field f, or NULL with why. */
static json_t *
checked_text(const struct vision_field *f, json_t *v, char *why, size_t n)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (!json_is_string(v))
		snprintf(why, n, "'%s' is not a string", f->name);
	else if (len > f->max_len)
		snprintf(why, n, "'%s' is %zu bytes (at most %u)", f->name, len,
			 f->max_len);
	else if (!text_is_line(s, len))
		snprintf(why, n, "'%s' holds a control character", f->name);
	else
		return json_stringn(s, len);
	return NULL;
}

/* A checked copy of the value v of field f, or NULL with why. */
static json_t *
checked_value(const struct vision_field *f, json_t *v, char *why, size_t n)
{
	json_t *out, *item;
	size_t i;

	switch (f->type) {
	case VF_TEXT:
		return checked_text(f, v, why, n);
	case VF_CHOICE:
		if (json_is_string(v) && vision_is_choice(f, json_string_value(v)))
			return json_string(json_string_value(v));
		snprintf(why, n, "'%s' is not one of its choices", f->name);
		return NULL;
	case VF_SCORE:
		if (json_is_number(v) && json_number_value(v) >= 0 &&
		    json_number_value(v) <= 1)
			return json_real(json_number_value(v));
		snprintf(why, n, "'%s' is not a number from 0 to 1", f->name);
		return NULL;
	case VF_LIST:
		if (!json_is_array(v) || json_array_size(v) < f->min_items ||
		    json_array_size(v) > f->max_items) {
			snprintf(why, n, "'%s' is not a list of %u to %u texts",
				 f->name, f->min_items, f->max_items);
			return NULL;
		}
		out = json_array();
		json_array_foreach(v, i, item) {
			json_t *c = checked_text(f, item, why, n);

			if (!c) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, c);
		}
		return out;
	}
	return NULL;
}

/* The answer text of question q, checked and rewritten, or NULL with why. */
static json_t *
checked_answer(const struct vision_question *q, const char *text, size_t len,
	       char *why, size_t n)
{
	json_t *root, *out, *v;
	const char *name;

	if (len > VISION_MAX_ANSWER) {
		snprintf(why, n, "the answer is %zu bytes (at most %d)", len,
			 VISION_MAX_ANSWER);
		return NULL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		snprintf(why, n, "the answer is not a JSON object");
		json_decref(root);
		return NULL;
	}
	out = json_object();
	json_object_foreach(root, name, v) {
		const struct vision_field *f = vision_field(q, name);
		json_t *c = f ? checked_value(f, v, why, n) : NULL;

		if (!f)
			snprintf(why, n, "the answer has a member '%.40s' not asked for",
				 name);
		if (!c)
			goto bad;
		json_object_set_new(out, f->name, c);
	}
	for (size_t i = 0; i < q->nfields; i++)
		if (q->fields[i].required && !json_object_get(out, q->fields[i].name)) {
			snprintf(why, n, "the answer lacks '%s'", q->fields[i].name);
			goto bad;
		}
	json_decref(root);
	return out;
bad:
	json_decref(root);
	json_decref(out);
	return NULL;
}

/* The first image part of parts that is not a thought; its text else. */
static json_t *
image_part(json_t *parts, const char **text)
{
	size_t i;
	json_t *p;

	*text = NULL;
	json_array_foreach(parts, i, p) {
		json_t *inl = json_object_get(p, "inlineData");
		const char *mime = str_member(inl, "mimeType");

		if (json_is_true(json_object_get(p, "thought")))
			continue; /* a draft of the model's thinking */
		if (mime && strncmp(mime, "image/", 6) == 0 &&
		    json_is_string(json_object_get(inl, "data")))
			return inl;
		if (!*text && str_member(p, "text"))
			*text = str_member(p, "text");
	}
	return NULL;
}

/* a->outcome GEMINI_JSON with the checked answer, or GEMINI_BAD_JSON. */
static void
take_json(struct gemini_answer *a, const struct vision_question *q,
	  const char *text, size_t len, const char *secret)
{
	char why[200];
	json_t *v = checked_answer(q, text, len, why, sizeof(why));

	if (!v) {
		a->outcome = GEMINI_BAD_JSON;
		set_why(a, secret, "%s", why);
		return;
	}
	a->outcome = GEMINI_JSON;
	a->data = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
	json_decref(v);
}

static void
parse_answer(const char *body, size_t len, const char *secret,
	     const struct vision_question *q, struct gemini_answer *a);

void
gemini_parse_answer(const char *body, size_t len, const char *secret,
		    struct gemini_answer *a)
{
	parse_answer(body, len, secret, NULL, a);
}

void
gemini_parse_json(const char *body, size_t len, const char *secret,
		  const struct vision_question *q, struct gemini_answer *a)
{
	parse_answer(body, len, secret, q, a);
}

/* An answer of an image (q NULL) or of the JSON of question q. */
static void
parse_answer(const char *body, size_t len, const char *secret,
	     const struct vision_question *q, struct gemini_answer *a)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *cand = json_array_get(json_object_get(root, "candidates"), 0);
	json_t *feedback = json_object_get(root, "promptFeedback");
	const char *block = str_member(feedback, "blockReason");
	const char *finish = str_member(cand, "finishReason"), *text, *id;
	json_t *parts = json_object_get(json_object_get(cand, "content"), "parts");
	json_t *img = q ? NULL : image_part(parts, &text);
	size_t tlen = 0;
	const char *answer = q ? text_part(parts, &tlen) : NULL;

	if (q)
		text = answer;
	*a = (struct gemini_answer){ .outcome = GEMINI_NO_IMAGE };
	if (!json_is_object(root)) {
		a->outcome = GEMINI_UNREADABLE;
	} else if (answer && !is_refusal(finish) && !block) {
		take_json(a, q, answer, tlen, secret);
		id = str_member(root, "responseId");
		if (id && text_is_token(id, ENGINE_MAX_REQUEST_ID))
			a->id = xstrdup(id);
	} else if (img) {
		a->outcome = GEMINI_IMAGE;
		a->mime = xstrdup(str_member(img, "mimeType"));
		a->data = xstrdup(str_member(img, "data"));
		id = str_member(root, "responseId");
		if (id && text_is_token(id, ENGINE_MAX_REQUEST_ID))
			a->id = xstrdup(id);
	} else if (block) {
		const char *m = str_member(feedback, "blockReasonMessage");

		a->outcome = GEMINI_BLOCKED;
		set_why(a, secret, "the prompt was blocked (%s)%s%s", block,
			m ? ": " : "", or_empty(m));
	} else if (is_refusal(finish)) {
		const char *m = str_member(cand, "finishMessage");

		a->outcome = GEMINI_BLOCKED;
		set_why(a, secret, "finishReason %s%s%s", finish, m ? ": " : "",
			or_empty(m));
	} else {
		set_why(a, secret, "%s%s%s%s", cand ? "finishReason " : "no candidate",
			cand ? (finish ? finish : "none") : "",
			text ? ", the model said: " : "", text ? text : "");
	}
	json_decref(root);
}

void
gemini_answer_release(struct gemini_answer *a)
{
	free(a->mime);
	free(a->data);
	free(a->id);
	a->mime = a->data = a->id = NULL;
}

/* "37s", "1.5s" (a protobuf Duration in JSON) in seconds, or -1. */
static double
duration_seconds(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	return end != s && strcmp(end, "s") == 0 && v >= 0 && v <= 3600 ? v : -1;
}

double
gemini_retry_delay(const char *body, size_t len)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *details = json_object_get(json_object_get(root, "error"), "details");
	double s = -1;
	size_t i;
	json_t *d;

	json_array_foreach(details, i, d) {
		const char *type = str_member(d, "@type");

		if (type && strstr(type, "google.rpc.RetryInfo"))
			s = duration_seconds(str_member(d, "retryDelay"));
	}
	json_decref(root);
	return s;
}

/* Does the error body's ErrorInfo say the key is not valid? */
static bool
key_invalid(const struct http_response *resp)
{
	json_t *root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	json_t *details = json_object_get(json_object_get(root, "error"), "details");
	bool bad = false;
	size_t i;
	json_t *d;

	json_array_foreach(details, i, d) {
		const char *reason = str_member(d, "reason");

		bad |= reason && strcmp(reason, "API_KEY_INVALID") == 0;
	}
	json_decref(root);
	return bad;
}

/* ------------------------------------------------------------------ */
/* The request                                                        */
/* ------------------------------------------------------------------ */

/* A model id is one path segment: [A-Za-z0-9._-]. */
static int
check_model(const char *m, struct error *err)
{
	if (m && *m && strlen(m) <= 128 && !strstr(m, "..") &&
	    !m[strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")])
		return 0;
	return error_set(err, "'%s' is not a Gemini model id (e.g. gemini-2.5-flash-image)",
			 m ? m : "");
}

/*
 * An inlineData part of an input image: a data URI from the core
 * ("data:MIME;base64,DATA"), or what plan shows in its place.
 */
static json_t *
inline_part(const char *img)
{
	const char *b64 = strncmp(img, "data:", 5) == 0 ? strstr(img, ";base64,") : NULL;
	char *mime = b64 ? xstrndup(img + 5, (size_t)(b64 - img - 5))
			 : xstrdup("image/png");
	json_t *p = json_pack("{s:{s:s,s:s}}", "inlineData", "mimeType", mime,
			      "data", b64 ? b64 + 8 : img);

	free(mime);
	return p;
}

/* A params: entry's place in the request: generationConfig (the rest),
 * its imageConfig, or the top level. */
static const struct placed {
	const char *name, *as;
	unsigned field;          /* FIELD_* the model must take, or 0 */
	enum { IN_CONFIG, IN_IMAGE_CONFIG, TOP } where;
} placed[] = {
	{ "aspect_ratio", "aspectRatio", FIELD_ASPECT, IN_IMAGE_CONFIG },
	{ "aspectRatio", "aspectRatio", FIELD_ASPECT, IN_IMAGE_CONFIG },
	{ "image_size", "imageSize", FIELD_IMAGE_SIZE, IN_IMAGE_CONFIG },
	{ "imageSize", "imageSize", FIELD_IMAGE_SIZE, IN_IMAGE_CONFIG },
	{ "systemInstruction", "systemInstruction", 0, TOP },
	{ "safetySettings", "safetySettings", 0, TOP },
};

/* Put params entry p into the request; -1 with err. */
static int
place_param(const struct param *p, unsigned takes, const char *model,
	    json_t *body, json_t *config, json_t *image_config,
	    struct error *err)
{
	struct placed where = { p->name, p->name, 0, IN_CONFIG };
	json_error_t jerr;
	json_t *v;

	for (size_t i = 0; i < LM_ARRAY_LEN(placed); i++)
		if (strcmp(placed[i].name, p->name) == 0)
			where = placed[i];
	if (where.field && !(takes & where.field))
		return error_set(err, "param '%s': '%s' takes no %s (Gemini 3 image models do)",
				 p->name, model, where.as);
	if (!(v = json_loads(p->value, JSON_DECODE_ANY, &jerr)))
		return error_set(err, "param '%s': not a JSON value: %s", p->name,
				 jerr.text);
	json_object_set_new(where.where == TOP ? body
			    : where.where == IN_IMAGE_CONFIG ? image_config
							      : config,
			    where.as, v);
	return 0;
}

/* generationConfig: image only, temperature 1.0, the seed, then params. */
static int
add_config(json_t *body, const struct node *n, int cand, struct error *err)
{
	enum model_family family = engine_type_family(engine_type_find("gemini"),
						      n->model);
	unsigned takes = model_family_fields(family);
	/* the seed is an int32; candidates take the next ones */
	long long seed = (long long)(((uint64_t)n->seed + (uint64_t)(cand - 1)) &
				     0x7fffffff);
	/* a vision call answers text: its params (compiler/vision.h) ask
	 * for JSON of a schema; an image call, the image only */
	json_t *config = family == FAMILY_VISION
		? json_pack("{s:I}", "seed", (json_int_t)seed)
		: json_pack("{s:[s],s:f,s:I}", "responseModalities", "IMAGE",
			    "temperature", 1.0, "seed", (json_int_t)seed);
	json_t *image_config = json_object();

	json_object_set_new(body, "generationConfig", config);
	for (size_t i = 0; i < n->nparams; i++)
		if (place_param(&n->params[i], takes, n->model, body, config,
				image_config, err) < 0) {
			json_decref(image_config);
			return -1;
		}
	if (json_object_size(image_config))
		json_object_set(config, "imageConfig", image_config);
	json_decref(image_config);
	return 0;
}

/* The call of candidate cand of node n at base: what a build sends and
 * what plan shows (gemini_describe). 0, or -1 with err. */
static int
call_request(const struct node *n, const char *base, const char *const *images,
	     size_t nimages, int cand, struct engine_request *out,
	     struct error *err)
{
	json_t *parts = json_array(), *body;

	*out = (struct engine_request){ .method = "POST",
					.key_header = "x-goog-api-key: <redacted>" };
	if (check_model(n->model, err) < 0) {
		json_decref(parts);
		return -1;
	}
	if (n->prompt && *n->prompt)
		json_array_append_new(parts, json_pack("{s:s}", "text", n->prompt));
	for (size_t i = 0; i < nimages; i++)
		json_array_append_new(parts, inline_part(images[i]));
	body = json_pack("{s:[{s:s,s:o}]}", "contents", "role", "user", "parts",
			 parts);
	if (add_config(body, n, cand, err) < 0) {
		json_decref(body);
		return -1;
	}
	out->body = json_dumps(body, ENGINE_JSON_FLAGS);
	json_decref(body);
	out->url = xasprintf("%s/v1beta/models/%s:generateContent", base, n->model);
	return 0;
}

static int
gemini_describe(const struct node *n, const struct engine_decl *decl,
		const char *const *images, size_t nimages, int cand,
		struct engine_request *out, struct error *err)
{
	char *base = remote_base_of(decl, "gemini");
	int rc = call_request(n, base, images, nimages, cand, out, err);

	free(base);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The service                                                        */
/* ------------------------------------------------------------------ */

static int
gemini_setup(struct remote_job *rj, struct error *err)
{
	char *base;
	int rc;

	if (check_model(rj->model, err) < 0)
		return -1;
	base = remote_base_of(rj->job->decl, "gemini");
	rc = remote_set_base(rj, base, err);
	free(base);
	return rc;
}

static int
gemini_request(struct remote_task *t, struct remote_send *s, struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;
	struct remote_job *rj = t->rj;
	struct engine_request rq;

	if (t->step != REMOTE_SUBMIT)
		BUG("gemini: send in step %d", (int)t->step);
	if (call_request(rj->job->node, rj->base, (const char *const *)rj->images,
			 rj->nimages, r->cand, &rq, err) < 0)
		return -1;
	*s = (struct remote_send){ rq.method, rq.url, rq.body, strlen(rq.body),
				   .keyed = true, .timeout_ms = CALL_TIMEOUT_MS };
	return 0;
}

/* The words of an error body: error.message, one line, cleaned. */
static void
gemini_detail(const char *body, size_t len, const char *secret, char *out,
	      size_t outsz)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *m = str_member(json_object_get(root, "error"), "message");
	struct gemini_answer a;

	set_why(&a, secret, "%s", or_empty(m));
	snprintf(out, outsz, "%s", a.why);
	json_decref(root);
}

/* The question a node's call asks (compiler/vision.h), or NULL: an image.
 * A gate's inputs are its references, then the image it judges. */
static const struct vision_question *
question_of(const struct node *n)
{
	return n->kind == KIND_VISION ? vision_caption()
	       : n->kind == KIND_GATE ? vision_gate(n->nin > 1 ? n->nin - 1 : 1)
	       : NULL;
}

/* A vision call's checked answer is its output, as a data: URI. */
static enum remote_verdict
json_answer(struct remote_req *r, const struct http_response *resp,
	    const struct vision_question *q, struct error *err)
{
	struct remote_job *rj = r->t.rj;
	struct gemini_answer a;
	enum remote_verdict v = REMOTE_GONE;

	gemini_parse_json(resp->body.data, resp->body.len, job_secret(rj->job), q, &a);
	if (a.outcome == GEMINI_JSON) {
		char *uri = remote_data_uri("application/json", a.data, strlen(a.data));

		remote_req_set(r, a.id, NULL, NULL, NULL);
		remote_req_output(r, uri, -1);
		free(uri);
		v = REMOTE_DOWNLOAD;
	} else if (a.outcome == GEMINI_BLOCKED) {
		error_set(err, "'%s' blocked the request: %s", rj->model, a.why);
	} else if (a.outcome == GEMINI_BAD_JSON) {
		error_set(err, "'%s' did not answer the %s question: %s", rj->model,
			  q->name, a.why);
	} else if (a.outcome == GEMINI_NO_IMAGE) {
		error_set(err, "'%s' answered without text: %s", rj->model, a.why);
	} else {
		error_set(err, "HTTP 200 but not whole JSON, cut short");
		v = REMOTE_RETRY;
	}
	gemini_answer_release(&a);
	return v;
}

static enum remote_verdict
gemini_answer(struct remote_task *t, const struct http_response *resp,
	      struct error *err)
{
	struct remote_req *r = (struct remote_req *)t;
	struct remote_job *rj = t->rj;
	struct gemini_answer a;
	enum remote_verdict v = REMOTE_GONE;
	char detail[256];

	if (resp->status == 400 && key_invalid(resp)) {
		gemini_detail(resp->body.data, resp->body.len, job_secret(rj->job),
			      detail, sizeof(detail));
		error_set(err, "gemini refused the key in %s (400): %s",
			  remote_key_env(rj), detail);
		return REMOTE_FAIL;
	}
	if (resp->status != 200)
		return REMOTE_AS_HTTP;
	if (question_of(rj->job->node))
		return json_answer(r, resp, question_of(rj->job->node), err);
	gemini_parse_answer(resp->body.data, resp->body.len, job_secret(rj->job), &a);
	if (a.outcome == GEMINI_IMAGE) {
		char *uri = xasprintf("data:%s;base64,%s", a.mime, a.data);

		remote_req_set(r, a.id, NULL, NULL, NULL);
		remote_req_output(r, uri, -1);
		free(uri);
		v = REMOTE_DOWNLOAD;
	} else if (a.outcome == GEMINI_BLOCKED) {
		error_set(err, "'%s' blocked the request: %s", rj->model, a.why);
	} else if (a.outcome == GEMINI_NO_IMAGE) {
		error_set(err, "'%s' answered without an image: %s", rj->model, a.why);
	} else {
		error_set(err, "HTTP 200 but not whole JSON, cut short");
		v = REMOTE_RETRY;
	}
	gemini_answer_release(&a);
	return v;
}

/* A 429 or 503's wait: Retry-After, else RetryInfo's retryDelay. */
static double
gemini_retry_after(const struct http_response *resp)
{
	if (resp->retry_after >= 0)
		return resp->retry_after;
	return gemini_retry_delay(resp->body.data, resp->body.len);
}

static const struct remote_service gemini_service = {
	.name = "gemini",
	.auth_prefix = "x-goog-api-key: ",
	.synchronous = true,
	.setup = gemini_setup,
	.request = gemini_request,
	.answer = gemini_answer,
	.retry_after = gemini_retry_after,
	.detail = gemini_detail,
};

static void
gemini_start(struct job *job)
{
	remote_start(job, &gemini_service);
}

const struct engine engine_gemini = {
	.type = "gemini",
	.exec = ENGINE_REMOTE,
	.start = gemini_start,
	.cancel = remote_cancel,
	.describe = gemini_describe,
};

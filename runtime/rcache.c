/*
 * rcache: the team cache on the build's loop (rcache.h).
 *
 * A read is a chain of requests: GET /ac/NAME, then GET /cas/SHA256 of
 * each object the local store lacks, all at once, each saved to a temp
 * file; then, on a worker, every
 * object is hashed (its xxh3-128 must be its name in the record) and an
 * image decoded, moved into the store, and the record appended to the
 * action log; then, on the loop, the scheduler hears of the hit. A write
 * hashes each object with SHA-256 on a worker (its name on the wire), then
 * PUTs /cas/SHA256 of each object, then /ac/NAME, so a reader never
 * finds a record before its objects; at most MAX_UPLOADS nodes upload at
 * once, the rest wait their turn in a FIFO.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/text.h"
#include "cache/remote.h"
#include "http.h"
#include "image.h"
#include "rcache.h"

#define RECORD_TIMEOUT_MS 10000     /* GET /ac: a record is small */
/* HEAD /ac of a local hit: a build with nothing to run waits for these,
 * so a cache that never answers costs it this, once */
#define OFFER_TIMEOUT_MS 2000
#define OBJECT_TIMEOUT_MS 300000    /* an object: up to 64 MiB */
#define MAX_UPLOADS 8
#define PROBES_AT_ONCE 64
#define HEADER_MAX 4096

/* ---- configuration ---- */

/* A header name: an HTTP token. */
static bool
token_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

/* "Name: value" on one line, value printable ASCII; the value (after
 * the blanks) into c->secret. -1 with err, never quoting the value. */
static int
take_header(struct rcache_conf *c, const char *h, struct error *err)
{
	const char *colon = strchr(h, ':'), *v;
	size_t n = colon ? (size_t)(colon - h) : 0;

	for (size_t i = 0; i < n; i++)
		if (!token_char((unsigned char)h[i]))
			n = 0;
	v = colon ? colon + 1 + strspn(colon + 1, " \t") : NULL;
	for (const char *p = v; p && *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			v = NULL;
	if (!n || !v || !*v || strlen(h) > HEADER_MAX)
		return error_set(err, "$LORAMAKE_REMOTE_CACHE_HEADER must be one line "
				 "'Name: value' of printable ASCII (its value is not "
				 "shown)");
	c->header = xstrdup(h);
	c->secret = xstrdup(v);
	return 0;
}

static const char *const mode_names[] = { "off", "read", "readwrite" };

static int
take_mode(const char *flag, enum rcache_mode *mode, struct error *err)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(mode_names); i++)
		if (!strcmp(flag, mode_names[i])) {
			*mode = (enum rcache_mode)i;
			return 0;
		}
	return error_set(err, "--remote-cache takes off, read or readwrite, not '%s'",
			 flag);
}

/* The base URL: the policy, no query or fragment (the paths are
 * appended), no trailing '/'. */
static int
take_base(struct rcache_conf *c, const char *url, struct error *err)
{
	struct error why;
	size_t n = strlen(url);

	if (url_check(url, &c->origin, &why) < 0)
		return error_set(err, "$LORAMAKE_REMOTE_CACHE: %s", why.msg);
	if (strpbrk(url, "?#"))
		return error_set(err, "$LORAMAKE_REMOTE_CACHE: '%.120s' has a query or a "
				 "fragment; name the folder that holds ac/ and cas/", url);
	while (n && url[n - 1] == '/')
		n--;
	c->base = xasprintf("%.*s", (int)n, url);
	return 0;
}

int
rcache_conf_load(struct rcache_conf *c, const char *flag, struct error *err)
{
	const char *url = getenv("LORAMAKE_REMOTE_CACHE");
	const char *header = getenv("LORAMAKE_REMOTE_CACHE_HEADER");
	enum rcache_mode mode = RCACHE_READWRITE;

	memset(c, 0, sizeof(*c));
	if (flag && take_mode(flag, &mode, err) < 0)
		return -1;
	if (!url || !*url) {
		if (flag && mode != RCACHE_OFF)
			return error_set(err, "--remote-cache %s: no cache is named (set "
					 "LORAMAKE_REMOTE_CACHE=https://...)", flag);
		return 0;
	}
	if (mode == RCACHE_OFF)
		return 0;
	if (take_base(c, url, err) < 0 ||
	    (header && *header && take_header(c, header, err) < 0)) {
		rcache_conf_release(c);
		return -1;
	}
	c->mode = mode;
	return 0;
}

void
rcache_conf_release(struct rcache_conf *c)
{
	free(c->base);
	free(c->header);
	free(c->secret);
	memset(c, 0, sizeof(*c));
}

bool
rcache_holds(const struct node *n)
{
	return n->image && n->kind != KIND_PACKAGE && n->keyed;
}

/* ---- requests ---- */

struct rcache {
	const struct rcache_conf *conf;
	struct loop *loop;
	struct workers *workers;
	struct store *store;
	const char *actions_path;
	const char *headers[2];     /* the header, NULL-ended */
	bool down;                  /* given up on: said once */
	bool drained;               /* rcache_drain ran */
	int in_flight;              /* requests and worker checks */
	struct upload **queue;      /* uploads waiting their turn (FIFO) */
	size_t qhead, qtail, qcap;
	int uploading;              /* nodes uploading now */
	size_t hits, misses, refused, uploaded;
};

/* BASE/ac/NAME: the record of the node with key. */
static char *
record_url(const struct rcache_conf *c, const struct hash *key)
{
	char name[SHA256_HEX_LEN + 1];

	remote_ac_name(key, name);
	return xasprintf("%s/ac/%s", c->base, name);
}

/* BASE/cas/SHA256: an object by its name on the wire. */
static char *
object_url(const struct rcache_conf *c, const struct remote_object *obj)
{
	char name[SHA256_HEX_LEN + 1];

	sha256_hex(&obj->cas, name);
	return xasprintf("%s/cas/%s", c->base, name);
}

/* One warning for the whole command, then the cache is left alone. The
 * words may hold a server's text: cleaned, the header's value redacted. */
static void LM_PRINTF(2, 3)
give_up(struct rcache *rc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (rc->down)
		return;
	rc->down = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	text_clean(msg, sizeof(msg), rc->conf->secret);
	warn("remote cache %s: %s; going on without it", rc->conf->base, msg);
}

/* Why a response is not the one asked for: its transport error or its
 * status, into out. */
static void
what_failed(const struct http_response *resp, char *out, size_t sz)
{
	if (resp->transport_error)
		snprintf(out, sz, "%s", resp->error);
	else
		snprintf(out, sz, "HTTP %ld", resp->status);
}

static int
ask(struct rcache *rc, struct http_request *req, http_done_fn done, void *ctx)
{
	struct error err;

	if (!req->headers)
		req->headers = rc->headers;
	req->bind = &rc->conf->origin;
	if (http_send(rc->loop, req, done, ctx, &err) < 0) {
		give_up(rc, "%s", err.msg);
		return -1;
	}
	rc->in_flight++;
	return 0;
}

/* ---- reads ---- */

struct fetch {
	struct rcache *rc;
	const struct node *node;
	rcache_fetch_fn done;
	void *ctx;
	struct remote_record *rec;  /* the server's record, once parsed */
	char **tmp;                 /* per object: its download, or NULL */
	size_t waiting;             /* downloads in flight */
	bool miss;                  /* a miss, whatever else arrives */
	struct error err;           /* the worker's verdict */
	int verdict;                /* 0: every object is in */
};

static void
fetch_free(struct fetch *f)
{
	for (size_t i = 0; f->rec && i < f->rec->action->nouts; i++) {
		if (f->tmp[i])
			unlink(f->tmp[i]); /* moved into the store, or refused */
		free(f->tmp[i]);
	}
	free(f->tmp);
	remote_record_free(f->rec);
	free(f);
}

/* Tell the scheduler, and forget f. */
static void
fetch_end(struct fetch *f, bool hit)
{
	struct rcache *rc = f->rc;

	if (hit)
		rc->hits++;
	else
		rc->misses++;
	f->done(f->ctx, hit ? f->rec->action : NULL);
	fetch_free(f);
}

/* Loop: an answer to a fetch that could not start; a miss. */
static void
fetch_missed(void *ctx)
{
	struct fetch *f = ctx;

	f->rc->in_flight--;
	fetch_end(f, false);
}

/* Worker: each object must be its name and (an image) decode; then into
 * the store, and the record into the action log. */
static void
verify_work(void *ctx)
{
	struct fetch *f = ctx;
	struct store *st = f->rc->store;
	const struct action *rec = f->rec->action;
	char hex[HASH_HEX_LEN + 1], why[sizeof(f->err.msg)];

	for (size_t i = 0; i < rec->nouts; i++) {
		struct hash got;

		if (!f->tmp[i])
			continue; /* in the store already */
		hash_hex(&rec->outs[i], hex);
		if (hash_file(f->tmp[i], &got, &f->err) < 0)
			goto bad;
		if (!hash_eq(&got, &rec->outs[i])) {
			char ghex[HASH_HEX_LEN + 1];

			hash_hex(&got, ghex);
			error_set(&f->err, "object %s is not what its name says (its bytes "
				  "hash to %s)", hex, ghex);
			goto bad;
		}
		if (f->node->image && image_probe(f->tmp[i], NULL, NULL, &f->err) < 0) {
			memcpy(why, f->err.msg, sizeof(why));
			error_set(&f->err, "object %s is not an image (%.300s)", hex, why);
			goto bad;
		}
		if (store_put_file(st, f->tmp[i], &got, &f->err) < 0)
			goto bad;
		free(f->tmp[i]);
		f->tmp[i] = NULL;
	}
	f->verdict = actions_write(f->rc->actions_path, rec, &f->err);
	return;
bad:
	f->verdict = -1;
}

/* Loop: the objects are checked. A refused one is reported, and the
 * node runs as if the cache had nothing. */
static void
verify_done(void *ctx)
{
	struct fetch *f = ctx;
	struct rcache *rc = f->rc;

	rc->in_flight--;
	if (f->verdict < 0) {
		rc->refused++;
		text_clean(f->err.msg, sizeof(f->err.msg), rc->conf->secret);
		warn("remote cache: %s: %s: refused, not cached; building it here",
		     f->node->id, f->err.msg);
	}
	fetch_end(f, f->verdict == 0);
}

/* The last download is in: check them on a worker, or end the miss. */
static void
downloads_done(struct fetch *f)
{
	if (f->miss) {
		fetch_end(f, false);
		return;
	}
	f->rc->in_flight++;
	workers_submit(f->rc->workers, verify_work, verify_done, f);
}

static void
on_object(void *ctx, struct http_response *resp)
{
	struct fetch *f = ctx;
	struct rcache *rc = f->rc;
	char why[300];

	rc->in_flight--;
	if (resp->status == 404) {
		f->miss = true; /* a record naming what the server lacks */
	} else if (resp->transport_error || resp->status != 200) {
		what_failed(resp, why, sizeof(why));
		give_up(rc, "an object of %s: %s", f->node->id, why);
		f->miss = true;
	}
	if (--f->waiting == 0)
		downloads_done(f);
}

/* Does the record fit the node it was asked for? */
static bool
fits(const struct fetch *f, struct error *err)
{
	const struct node *n = f->node;
	const struct action *rec = f->rec->action;

	if (rec->nouts != (size_t)n->candidates)
		return !error_set(err, "it names %zu objects, the node makes %d",
				  rec->nouts, n->candidates);
	if (rec->seed != n->seed)
		return !error_set(err, "its seed is %lld, the node's %lld",
				  (long long)rec->seed, (long long)n->seed);
	return true;
}

/* Ask for each object the store lacks, all at once. */
static void
get_objects(struct fetch *f)
{
	struct rcache *rc = f->rc;
	const struct action *rec = f->rec->action;

	f->tmp = xcalloc(rec->nouts, sizeof(*f->tmp));
	f->waiting = 1; /* held until every request is sent */
	for (size_t i = 0; i < rec->nouts && !f->miss; i++) {
		const struct remote_object *obj = &f->rec->objs[i];
		/* not the record's size as the cap: a body longer than it is
		 * refused as not what its name says, not taken as the cache
		 * failing */
		struct http_request req = { .method = "GET",
					    .max_body = REMOTE_OBJECT_MAX,
					    .timeout_ms = OBJECT_TIMEOUT_MS };
		char *url;

		if (store_has(rc->store, &rec->outs[i]))
			continue;
		f->tmp[i] = store_tmp_path(rc->store, ".remote");
		url = object_url(rc->conf, obj);
		req.url = url;
		req.save_to = f->tmp[i];
		if (ask(rc, &req, on_object, f) == 0)
			f->waiting++;
		else
			f->miss = true;
		free(url);
	}
	if (--f->waiting == 0)
		downloads_done(f);
}

static void
on_record(void *ctx, struct http_response *resp)
{
	struct fetch *f = ctx;
	struct rcache *rc = f->rc;
	struct error err;
	char why[300];

	rc->in_flight--;
	if (resp->status == 404) {
		fetch_end(f, false);
		return;
	}
	if (resp->transport_error || resp->status != 200) {
		what_failed(resp, why, sizeof(why));
		give_up(rc, "%s", why);
		fetch_end(f, false);
		return;
	}
	if (!(f->rec = remote_record_parse(resp->body.data, resp->body.len,
					   &f->node->key, &err)) ||
	    !fits(f, &err)) {
		rc->refused++;
		warn("remote cache: %s: its record is refused (%s); building it here",
		     f->node->id, err.msg);
		fetch_end(f, false);
		return;
	}
	get_objects(f);
}

void
rcache_fetch(struct rcache *rc, const struct node *n, rcache_fetch_fn done,
	     void *ctx)
{
	struct fetch *f = xcalloc(1, sizeof(*f));
	struct http_request req = { .method = "GET", .max_body = REMOTE_RECORD_MAX,
				    .timeout_ms = RECORD_TIMEOUT_MS };
	char *url = record_url(rc->conf, &n->key);

	*f = (struct fetch){ .rc = rc, .node = n, .done = done, .ctx = ctx };
	req.url = url;
	if (!rcache_reads(rc) || ask(rc, &req, on_record, f) < 0) {
		/* answered on the loop, never from within this call */
		rc->in_flight++;
		loop_after(rc->loop, 0, fetch_missed, f);
	}
	free(url);
}

bool
rcache_down(const struct rcache *rc)
{
	return rc && rc->down;
}

bool
rcache_reads(const struct rcache *rc)
{
	return rc && !rc->down && rc->conf->mode >= RCACHE_READ;
}

/* ---- writes ---- */

struct upload {
	struct rcache *rc;
	const struct node *node;
	struct action *rec;
	struct remote_object *objs; /* per object: its name on the wire */
	bool ask_first;             /* a local hit: only if the cache lacks it */
	size_t waiting;             /* object uploads in flight */
	bool failed;
	struct error err;           /* the worker's verdict */
	int verdict;
};

static void
upload_free(struct upload *u)
{
	actions_free_record(u->rec);
	free(u->objs);
	free(u);
}

static void pump_uploads(struct rcache *rc);

/* Did a PUT land? Any 2xx does (nginx: 201 or 204; bazel-remote: 200). */
static bool
put_ok(struct rcache *rc, const struct http_response *resp)
{
	char why[300];

	if (!resp->transport_error && resp->status >= 200 && resp->status < 300)
		return true;
	what_failed(resp, why, sizeof(why));
	give_up(rc, "cannot upload (%s)", why);
	return false;
}

static void
upload_end(struct upload *u, bool ok)
{
	struct rcache *rc = u->rc;

	if (ok)
		rc->uploaded++;
	rc->uploading--;
	upload_free(u);
	pump_uploads(rc);
}

static void
on_record_put(void *ctx, struct http_response *resp)
{
	struct upload *u = ctx;

	u->rc->in_flight--;
	upload_end(u, put_ok(u->rc, resp));
}

/* Every object is up: now the record that names them. */
static void
put_record(struct upload *u)
{
	struct rcache *rc = u->rc;
	const char *headers[3] = { 0 }, **h = headers;
	struct http_request req = { .method = "PUT", .headers = headers };
	struct buf body;
	char *url;

	if (u->failed || rc->down) {
		upload_end(u, false);
		return;
	}
	if (rc->conf->header)
		*h++ = rc->conf->header;
	/* bazel-remote reads an ActionResult as JSON if told so, else binary */
	*h = "Content-Type: application/octet-stream";
	buf_init(&body);
	remote_record_format(u->rec, u->objs, &body);
	url = record_url(rc->conf, &u->rec->key);
	req.url = url;
	req.body = body.data;
	req.body_len = body.len;
	if (ask(rc, &req, on_record_put, u) < 0)
		upload_end(u, false);
	buf_release(&body);
	free(url);
}

static void
on_object_put(void *ctx, struct http_response *resp)
{
	struct upload *u = ctx;

	u->rc->in_flight--;
	if (!put_ok(u->rc, resp))
		u->failed = true;
	if (--u->waiting == 0)
		put_record(u);
}

/* PUT each object by its name on the wire, all at once. */
static void
put_objects(struct upload *u)
{
	struct rcache *rc = u->rc;

	u->waiting = 1; /* held until every request is sent */
	for (size_t i = 0; i < u->rec->nouts && !u->failed; i++) {
		struct http_request req = { .method = "PUT",
					    .timeout_ms = OBJECT_TIMEOUT_MS };
		char *url = object_url(rc->conf, &u->objs[i]);
		char *path = store_object_path(rc->store, &u->rec->outs[i]);

		req.url = url;
		req.send_from = path;
		if (ask(rc, &req, on_object_put, u) == 0)
			u->waiting++;
		else
			u->failed = true;
		free(path);
		free(url);
	}
	if (--u->waiting == 0)
		put_record(u);
}

/* Worker: each object's SHA-256 and size, its name on the wire. */
static void
digest_work(void *ctx)
{
	struct upload *u = ctx;

	u->verdict = 0;
	for (size_t i = 0; i < u->rec->nouts && u->verdict == 0; i++) {
		char *path = store_object_path(u->rc->store, &u->rec->outs[i]);

		u->verdict = sha256_file(path, &u->objs[i].cas, &u->objs[i].size,
					 &u->err);
		free(path);
	}
}

/* Loop: the names are known (or an object could not be read: this
 * node is not uploaded, the build goes on). */
static void
digest_done(void *ctx)
{
	struct upload *u = ctx;

	u->rc->in_flight--;
	if (u->verdict < 0) {
		warn("remote cache: %s: not uploaded: %s", u->node->id, u->err.msg);
		upload_end(u, false);
		return;
	}
	put_objects(u);
}

static void
hash_objects(struct upload *u)
{
	u->rc->in_flight++;
	workers_submit(u->rc->workers, digest_work, digest_done, u);
}

/* Loop: does the cache have the local hit's record? 404: upload it. */
static void
on_offer_head(void *ctx, struct http_response *resp)
{
	struct upload *u = ctx;
	struct rcache *rc = u->rc;
	char why[300];

	rc->in_flight--;
	if (resp->status == 404) {
		hash_objects(u);
		return;
	}
	if (resp->transport_error || resp->status != 200) { /* 200: it has it */
		what_failed(resp, why, sizeof(why));
		give_up(rc, "%s", why);
	}
	upload_end(u, false);
}

static void
start_upload(struct rcache *rc, struct upload *u)
{
	struct http_request req = { .method = "HEAD", .timeout_ms = OFFER_TIMEOUT_MS };
	char *url;

	rc->uploading++;
	if (!u->ask_first) {
		hash_objects(u);
		return;
	}
	url = record_url(rc->conf, &u->rec->key);
	req.url = url;
	if (ask(rc, &req, on_offer_head, u) < 0)
		upload_end(u, false);
	free(url);
}

static void
pump_uploads(struct rcache *rc)
{
	while (rc->qhead < rc->qtail && rc->uploading < MAX_UPLOADS) {
		struct upload *u = rc->queue[rc->qhead++];

		if (rc->down)
			upload_free(u);
		else
			start_upload(rc, u);
	}
	if (rc->qhead == rc->qtail)
		rc->qhead = rc->qtail = 0;
}

/* Queue rec's upload (after a HEAD when ask_first). */
static void
queue_upload(struct rcache *rc, const struct node *n, const struct action *rec,
	     bool ask_first)
{
	struct upload *u;
	struct buf line;

	if (!rc || rc->down || rc->conf->mode != RCACHE_READWRITE || !rcache_holds(n))
		return;
	u = xcalloc(1, sizeof(*u));
	u->rc = rc;
	u->node = n;
	u->ask_first = ask_first;
	/* a copy through the log's own line: the record as any reader sees it */
	buf_init(&line);
	actions_format_record(rec, &line);
	line.data[--line.len] = '\0';
	u->rec = actions_parse_record(line.data);
	buf_release(&line);
	if (!u->rec)
		BUG("%s: its action record does not read back", n->id);
	u->objs = xcalloc(u->rec->nouts, sizeof(*u->objs));
	LM_GROW(rc->queue, rc->qtail + 1, rc->qcap);
	rc->queue[rc->qtail++] = u;
	pump_uploads(rc);
}

void
rcache_upload(struct rcache *rc, const struct node *n, const struct action *rec)
{
	queue_upload(rc, n, rec, false);
}

void
rcache_offer(struct rcache *rc, const struct node *n, const struct action *rec)
{
	queue_upload(rc, n, rec, true);
}

bool
rcache_shares(const struct rcache_conf *c)
{
	return c && c->mode == RCACHE_READWRITE;
}

/* ---- the build's handle ---- */

struct rcache *
rcache_new(const struct rcache_conf *c, struct loop *l, struct workers *w,
	   struct store *store, const char *actions_path)
{
	struct rcache *rc;

	if (!c || c->mode == RCACHE_OFF)
		return NULL;
	rc = xcalloc(1, sizeof(*rc));
	*rc = (struct rcache){ .conf = c, .loop = l, .workers = w, .store = store,
			       .actions_path = actions_path };
	rc->headers[0] = c->header;
	return rc;
}

bool
rcache_busy(const struct rcache *rc)
{
	return rc && (rc->in_flight > 0 || rc->qhead < rc->qtail);
}

void
rcache_drain(struct rcache *rc)
{
	if (!rc || rc->drained)
		return;
	rc->drained = true;
	while (rcache_busy(rc)) {
		loop_run_once(rc->loop, 500);
		workers_collect(rc->workers);
	}
	if (rc->hits || rc->misses || rc->uploaded)
		fprintf(stderr, "remote cache: %zu hit%s, %zu miss%s (%zu refused), "
			"%zu uploaded\n", rc->hits, rc->hits == 1 ? "" : "s",
			rc->misses, rc->misses == 1 ? "" : "es", rc->refused,
			rc->uploaded);
}

void
rcache_free(struct rcache *rc)
{
	if (!rc)
		return;
	rcache_drain(rc);
	free(rc->queue);
	free(rc);
}

/* ---- a plan's probe ---- */

struct probe {
	const struct rcache_conf *conf;
	struct loop *loop;
	const char *headers[2];
	const struct hash *keys;
	bool *found;
	size_t n, next;             /* keys; the next to ask for */
	int in_flight;
	int64_t deadline;
	long hits;
	bool answered;              /* the server answered a HEAD */
	bool down;
	char why[sizeof(((struct error *)0)->msg)]; /* why it is down */
};

struct head {
	struct probe *p;
	size_t i;
};

static void probe_more(struct probe *p);

static void
on_head(void *ctx, struct http_response *resp)
{
	struct head *h = ctx;
	struct probe *p = h->p;

	p->in_flight--;
	if (!resp->transport_error)
		p->answered = true;
	if (resp->status == 200) {
		p->found[h->i] = true;
		p->hits++;
	} else if (resp->status != 404 && !p->down) {
		p->down = true;
		what_failed(resp, p->why, sizeof(p->why));
	}
	free(h);
	probe_more(p);
}

/* Keep PROBES_AT_ONCE HEADs in flight while there is time, once the
 * server has answered one (until then one: a cache that never answers
 * costs one connection, not 64 connect attempts or TLS set-ups); each
 * may take only what is left of the budget. */
static void
probe_more(struct probe *p)
{
	int at_once = p->answered ? PROBES_AT_ONCE : 1;

	while (!p->down && p->next < p->n && p->in_flight < at_once) {
		int64_t left = p->deadline - now_ms();
		struct http_request req = { .method = "HEAD", .headers = p->headers,
					    .bind = &p->conf->origin,
					    .timeout_ms = (long)left };
		struct head *h;
		struct error err;
		char *url;

		if (left < 20)
			return; /* out of time: the rest count as not held */
		h = xcalloc(1, sizeof(*h));
		*h = (struct head){ p, p->next++ };
		url = record_url(p->conf, &p->keys[h->i]);
		req.url = url;
		if (http_send(p->loop, &req, on_head, h, &err) < 0) {
			p->down = true;
			memcpy(p->why, err.msg, sizeof(p->why));
			free(h);
		} else {
			p->in_flight++;
		}
		free(url);
	}
}

long
rcache_probe(const struct rcache_conf *c, const struct hash *keys, size_t n,
	     bool *found, int budget_ms, int verbose, struct error *err)
{
	struct probe p = { .conf = c, .keys = keys, .found = found, .n = n,
			   .deadline = now_ms() + budget_ms };

	if (!c || c->mode == RCACHE_OFF || !n)
		return 0;
	p.headers[0] = c->header;
	p.loop = loop_new();
	loop_set_verbose(p.loop, verbose);
	probe_more(&p);
	while (p.in_flight > 0)
		loop_run_once(p.loop, 100); /* each HEAD ends by the deadline */
	loop_free(p.loop);
	if (p.down) {
		text_clean(p.why, sizeof(p.why), c->secret);
		return error_set(err, "remote cache %s: %s", c->base, p.why);
	}
	return p.hits;
}

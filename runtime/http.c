/*
 * http: libcurl multi, loaded with dlopen on first use.
 *
 * Each request is a struct xfer that owns its easy handle, header list,
 * copies of the URL and body, and its response. A finished transfer is
 * removed from the multi handle, its callback runs, and it is freed.
 * Easy handles are not reused; connections are (the multi handle keeps a
 * connection cache).
 */
#define CURL_DISABLE_TYPECHECK /* calls go through function pointers */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/dl.h"
#include "http.h"

#define DEFAULT_MAX_BODY (64u << 20)
#define DEFAULT_TIMEOUT_MS 120000

static __typeof__(curl_global_init) *p_curl_global_init;
static __typeof__(curl_multi_init) *p_curl_multi_init;
static __typeof__(curl_multi_cleanup) *p_curl_multi_cleanup;
static __typeof__(curl_multi_add_handle) *p_curl_multi_add_handle;
static __typeof__(curl_multi_remove_handle) *p_curl_multi_remove_handle;
static __typeof__(curl_multi_perform) *p_curl_multi_perform;
static __typeof__(curl_multi_poll) *p_curl_multi_poll;
static __typeof__(curl_multi_info_read) *p_curl_multi_info_read;
static __typeof__(curl_multi_setopt) *p_curl_multi_setopt;
static __typeof__(curl_easy_init) *p_curl_easy_init;
static __typeof__(curl_easy_cleanup) *p_curl_easy_cleanup;
static __typeof__(curl_easy_setopt) *p_curl_easy_setopt;
static __typeof__(curl_easy_getinfo) *p_curl_easy_getinfo;
static __typeof__(curl_easy_strerror) *p_curl_easy_strerror;
static __typeof__(curl_slist_append) *p_curl_slist_append;
static __typeof__(curl_slist_free_all) *p_curl_slist_free_all;

static const struct dl_sym syms[] = {
	DL_SYM(curl_global_init), DL_SYM(curl_multi_init),
	DL_SYM(curl_multi_cleanup), DL_SYM(curl_multi_add_handle),
	DL_SYM(curl_multi_remove_handle), DL_SYM(curl_multi_perform),
	DL_SYM(curl_multi_poll), DL_SYM(curl_multi_info_read),
	DL_SYM(curl_multi_setopt), DL_SYM(curl_easy_init),
	DL_SYM(curl_easy_cleanup), DL_SYM(curl_easy_setopt),
	DL_SYM(curl_easy_getinfo), DL_SYM(curl_easy_strerror),
	DL_SYM(curl_slist_append), DL_SYM(curl_slist_free_all),
	{ NULL, NULL },
};

static struct dl_lib libcurl;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

struct http {
	CURLM *multi;
	int running;      /* transfers in flight */
	int verbose;
};

struct xfer {
	struct http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *url, *method;
	char *save_to;
	FILE *out;
	size_t max_body, received;
	bool too_big;
	int64_t started;
	struct http_response resp;
	char errbuf[CURL_ERROR_SIZE];
	http_done_fn done;
	void *ctx;
};

static int
load(struct error *err)
{
	int rc;

	pthread_mutex_lock(&load_lock);
	rc = libcurl.handle ? 0 : dl_load(&libcurl, "libcurl.so.4", "libcurl4",
					  syms, err);
	if (rc == 0 && !libcurl.failed) {
		static bool inited;

		if (!inited && p_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			rc = error_set(err, "libcurl failed to initialise");
		inited = true;
	}
	pthread_mutex_unlock(&load_lock);
	return rc;
}

struct http *
http_new(struct error *err)
{
	struct http *h;

	if (load(err) < 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->multi = p_curl_multi_init();
	if (!h->multi) {
		free(h);
		error_set(err, "libcurl cannot create a multi handle");
		return NULL;
	}
	p_curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L);
	return h;
}

void
http_free(struct http *h)
{
	if (!h)
		return;
	/* finished transfers were freed as they ended; none may be left */
	p_curl_multi_cleanup(h->multi);
	free(h);
}

bool
http_busy(const struct http *h)
{
	return h && h->running > 0;
}

static size_t
on_body(char *data, size_t size, size_t n, void *ptr)
{
	struct xfer *x = ptr;
	size_t len = size * n;

	if (x->received + len > x->max_body) {
		x->too_big = true;
		return 0; /* aborts the transfer */
	}
	x->received += len;
	if (x->out)
		return fwrite(data, 1, len, x->out) == len ? len : 0;
	return buf_add(&x->resp.body, data, len) == 0 ? len : 0;
}

static size_t
on_header(char *data, size_t size, size_t n, void *ptr)
{
	struct xfer *x = ptr;
	size_t len = size * n;

	/* a new status line (redirect, 100-continue) starts a new set */
	if (len > 5 && !strncmp(data, "HTTP/", 5))
		buf_reset(&x->resp.headers);
	buf_add(&x->resp.headers, data, len);
	return len;
}

static void
xfer_free(struct xfer *x)
{
	if (x->easy)
		p_curl_easy_cleanup(x->easy);
	if (x->headers)
		p_curl_slist_free_all(x->headers);
	if (x->out)
		fclose(x->out);
	buf_release(&x->resp.body);
	buf_release(&x->resp.headers);
	free(x->url);
	free(x->method);
	free(x->save_to);
	free(x);
}

static void
set_common(struct xfer *x, const struct http_request *req)
{
	CURL *e = x->easy;

	p_curl_easy_setopt(e, CURLOPT_URL, x->url);
	p_curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	p_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	p_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	p_curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	p_curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	p_curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	p_curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	p_curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			   req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
	p_curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	p_curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	p_curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	p_curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	p_curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	p_curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	p_curl_easy_setopt(e, CURLOPT_USERAGENT, "loramake/0.1");
	for (const char *const *h = req->headers; h && *h; h++)
		x->headers = p_curl_slist_append(x->headers, *h);
	if (x->headers)
		p_curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (strcmp(x->method, "GET") != 0) {
		p_curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
		p_curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		p_curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
				   req->body ? (const char *)req->body : "");
	}
}

/* How much of a URL a trace shows: not its query, where signed upload
 * URLs carry their tokens. */
static int
url_shown(const char *url)
{
	const char *q = strchr(url, '?');

	return (int)(q ? (size_t)(q - url) : strlen(url));
}

int
http_send(struct loop *l, const struct http_request *req, http_done_fn done,
	  void *ctx, struct error *err)
{
	struct http *h = loop_http(l, err);
	struct xfer *x;

	if (!h)
		return -1;
	x = xcalloc(1, sizeof(*x));
	x->h = h;
	x->url = xstrdup(req->url);
	x->method = xstrdup(req->method ? req->method : "GET");
	x->max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
	x->done = done;
	x->ctx = ctx;
	x->started = now_ms();
	buf_init(&x->resp.body);
	buf_init(&x->resp.headers);
	if (req->save_to) {
		x->save_to = xstrdup(req->save_to);
		if (!(x->out = fopen(req->save_to, "wbe"))) {
			error_set(err, "cannot create '%s':", req->save_to);
			xfer_free(x);
			return -1;
		}
	}
	if (!(x->easy = p_curl_easy_init())) {
		xfer_free(x);
		return error_set(err, "libcurl cannot create a handle");
	}
	set_common(x, req);
	if (p_curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		xfer_free(x);
		return error_set(err, "libcurl cannot start a transfer");
	}
	h->running++;
	h->verbose = loop_verbose(l);
	if (h->verbose)
		fprintf(stderr, "> %s %.*s\n", x->method, url_shown(x->url), x->url);
	return 0;
}

/* Fill the parsed fields of a finished response. */
static void
finish_response(struct xfer *x, CURLcode rc)
{
	struct http_response *r = &x->resp;
	const char *v;
	double secs;

	r->retry_after = -1;
	if (rc != CURLE_OK) {
		r->transport_error = true;
		snprintf(r->error, sizeof(r->error), "%s%s%.200s",
			 x->too_big ? "response larger than the limit" :
			 p_curl_easy_strerror(rc),
			 x->errbuf[0] && !x->too_big ? ": " : "",
			 x->too_big ? "" : x->errbuf);
	} else {
		p_curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
	}
	if ((v = http_header(r, "Content-Type")))
		snprintf(r->content_type, sizeof(r->content_type), "%s", v);
	if ((v = http_header(r, "Retry-After")) && parse_double(v, &secs))
		r->retry_after = secs;
	if (x->out) {
		if (fclose(x->out) != 0 && !r->transport_error) {
			r->transport_error = true;
			snprintf(r->error, sizeof(r->error), "cannot write '%s'",
				 x->save_to);
		}
		x->out = NULL;
		if (r->transport_error)
			unlink(x->save_to); /* never leave half a file */
	}
}

static void
dispatch_finished(struct http *h)
{
	CURLMsg *m;
	int left;

	while ((m = p_curl_multi_info_read(h->multi, &left))) {
		struct xfer *x;

		if (m->msg != CURLMSG_DONE)
			continue;
		p_curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		CURLcode rc = m->data.result;
		p_curl_multi_remove_handle(h->multi, x->easy);
		h->running--;
		finish_response(x, rc);
		if (h->verbose)
			fprintf(stderr, "< %s %.*s: %ld%s%s (%lld ms)\n", x->method,
				url_shown(x->url), x->url, x->resp.status,
				x->resp.transport_error ? " " : "",
				x->resp.transport_error ? x->resp.error : "",
				(long long)(now_ms() - x->started));
		x->done(x->ctx, &x->resp);
		xfer_free(x);
	}
}

void
http_wait(struct http *h, int timeout_ms, int wake_fd)
{
	struct curl_waitfd extra = { .fd = wake_fd, .events = CURL_WAIT_POLLIN };
	int still;

	p_curl_multi_perform(h->multi, &still);
	dispatch_finished(h);
	if (!http_busy(h))
		return;
	p_curl_multi_poll(h->multi, &extra, 1, timeout_ms, NULL);
	p_curl_multi_perform(h->multi, &still);
	dispatch_finished(h);
}

const char *
http_header(const struct http_response *resp, const char *name)
{
	static _Thread_local char value[512];
	size_t n = strlen(name);
	const char *p = resp->headers.data;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
			const char *v = p + n + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = (size_t)(p + len - v);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			snprintf(value, sizeof(value), "%.*s", (int)vl, v);
			return value;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

int
http_in_flight(struct loop *l)
{
	struct http *h = loop_http_peek(l);

	return h ? h->running : 0;
}

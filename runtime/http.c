/*
 * http: libcurl multi, loaded with dlopen on first use.
 *
 * Each request is a struct xfer that owns its easy handle, header list,
 * copies of the URL and body, and its response. A finished transfer is
 * removed from the multi handle, its callback runs, and it is freed.
 * Easy handles are not reused, except by a redirect (the same request
 * again, to the checked target); connections are (the multi handle keeps
 * a connection cache). Where a request may go is http.h's section.
 */
#define CURL_DISABLE_TYPECHECK /* calls go through function pointers */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dl.h"
#include "http.h"

#define DEFAULT_MAX_BODY (64u << 20)
#define DEFAULT_TIMEOUT_MS 120000
#define MAX_REDIRECTS 5
/* A transfer below LOW_SPEED_BYTES per second for LOW_SPEED_SECS is cut:
 * a trickling server must not hold a slot for the whole timeout. */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_SECS 30L

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
static __typeof__(curl_url) *p_curl_url;
static __typeof__(curl_url_set) *p_curl_url_set;
static __typeof__(curl_url_get) *p_curl_url_get;
static __typeof__(curl_url_cleanup) *p_curl_url_cleanup;
static __typeof__(curl_free) *p_curl_free;

static const struct dl_sym syms[] = {
	DL_SYM(curl_global_init), DL_SYM(curl_multi_init),
	DL_SYM(curl_multi_cleanup), DL_SYM(curl_multi_add_handle),
	DL_SYM(curl_multi_remove_handle), DL_SYM(curl_multi_perform),
	DL_SYM(curl_multi_poll), DL_SYM(curl_multi_info_read),
	DL_SYM(curl_multi_setopt), DL_SYM(curl_easy_init),
	DL_SYM(curl_easy_cleanup), DL_SYM(curl_easy_setopt),
	DL_SYM(curl_easy_getinfo), DL_SYM(curl_easy_strerror),
	DL_SYM(curl_slist_append), DL_SYM(curl_slist_free_all),
	DL_SYM(curl_url), DL_SYM(curl_url_set), DL_SYM(curl_url_get),
	DL_SYM(curl_url_cleanup), DL_SYM(curl_free),
	{ NULL, NULL },
};

static struct dl_lib libcurl;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

struct http {
	CURLM *multi;
	int running;      /* transfers in flight */
	int verbose;
	long low_speed_secs;
};

struct xfer {
	struct http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *url, *method;
	struct url first;  /* where the request was sent first */
	struct url bind;   /* the only origin allowed, if has_bind */
	bool has_bind;
	int redirects;     /* followed so far */
	char *save_to;
	FILE *out;
	FILE *in;          /* the body, with send_from */
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
	const char *t;
	int64_t v;

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
	h->low_speed_secs = LOW_SPEED_SECS;
	/* a test's trickling server must not take 30 s per try; only ever
	 * shorter, so the variable cannot make a build hang longer */
	if ((t = getenv("LORAMAKE_TEST_LOW_SPEED_SECS")) && parse_int64(t, &v) &&
	    v > 0 && v < LOW_SPEED_SECS)
		h->low_speed_secs = (long)v;
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
	if (x->in)
		fclose(x->in);
	buf_release(&x->resp.body);
	buf_release(&x->resp.headers);
	free(x->url);
	free(x->method);
	free(x->save_to);
	free(x);
}

/* Does libcurl's host text h name the same host as u? */
static bool
same_host(const char *h, const struct url *u)
{
	size_t n = strlen(h);

	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n && h[n - 1] == '.')
		n--;
	return n == strlen(u->host) && strncasecmp(h, u->host, n) == 0;
}

/* Does libcurl's URL parser read s as going where u says? -1 with err if
 * not: the two parsers disagree, and the request is refused. */
static int
curl_agrees(const char *s, const struct url *u, struct error *err)
{
	CURLU *h = p_curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	bool same = false;

	if (!h)
		return error_set(err, "libcurl cannot parse URLs");
	if (p_curl_url_set(h, CURLUPART_URL, s, 0) == CURLUE_OK &&
	    p_curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    p_curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    p_curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		same = strcasecmp(scheme, u->scheme) == 0 && same_host(host, u) &&
		       strtol(port, NULL, 10) == u->port;
	p_curl_free(scheme);
	p_curl_free(host);
	p_curl_free(port);
	p_curl_url_cleanup(h);
	if (!same)
		return error_set(err, "'%.120s' is read differently by libcurl; not sent",
				 s);
	return 0;
}

/* May x go to url? The transport rule, the binding, libcurl's reading.
 * u gets the parts. -1 with err. */
static int
check_target(const struct xfer *x, const char *url, struct url *u,
	     struct error *err)
{
	if (x->has_bind ? url_check_origin(url, &x->bind, err) < 0
			: url_check(url, NULL, err) < 0)
		return -1;
	if (url_parse(url, u, err) < 0)
		return -1;
	return curl_agrees(url, u, err);
}

/* Options that follow the URL: where it goes, and through what. */
static void
set_target(struct xfer *x, const struct url *u)
{
	p_curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	/* "" turns off every proxy, including http_proxy from the
	 * environment: loopback traffic must stay on this machine */
	p_curl_easy_setopt(x->easy, CURLOPT_PROXY,
			   url_is_loopback(u) ? "" : (const char *)NULL);
}

/* The body streams from x->in (libcurl's default reader freads it). */
static void
set_upload(struct xfer *x)
{
	struct stat st;

	p_curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
	p_curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, x->method);
	p_curl_easy_setopt(x->easy, CURLOPT_READDATA, x->in);
	if (fstat(fileno(x->in), &st) == 0)
		p_curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE,
				   (curl_off_t)st.st_size);
}

static void
set_common(struct xfer *x, const struct http_request *req)
{
	CURL *e = x->easy;

	set_target(x, &x->first);
	p_curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	p_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	p_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	p_curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	p_curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* follow_redirect */
	if (!req->waits) {
		p_curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
		p_curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, x->h->low_speed_secs);
	}
	/* a Content-Length over the cap fails before a byte is read */
	p_curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	/* the CA bundle only, no CA folder (Debian's libcurl is built with
	 * both, the same certificates): only then does libcurl keep the
	 * parsed store for the whole multi handle (its CA cache, 7.87),
	 * instead of parsing 140 certificates again for every connection,
	 * 30-80 ms of CPU each on a loaded machine (a plan's HEADs to an
	 * https team cache opened 64 at once) */
	p_curl_easy_setopt(e, CURLOPT_CAPATH, (const char *)NULL);
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
	if (x->in) /* no 100-continue round trip (a second's wait on some servers) */
		x->headers = p_curl_slist_append(x->headers, "Expect:");
	if (x->headers)
		p_curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (x->in) {
		set_upload(x);
	} else if (strcmp(x->method, "HEAD") == 0) {
		p_curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(x->method, "GET") != 0) {
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
	if (req->bind) {
		x->bind = *req->bind;
		x->has_bind = true;
	}
	if (check_target(x, x->url, &x->first, err) < 0) {
		xfer_free(x);
		return -1;
	}
	if (req->send_from && !(x->in = fopen(req->send_from, "rbe"))) {
		error_set(err, "cannot read '%s':", req->send_from);
		xfer_free(x);
		return -1;
	}
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

/* Transport errors that the same request would meet again. */
static const CURLcode permanent_codes[] = {
	CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN,
	CURLE_WRITE_ERROR, CURLE_FILESIZE_EXCEEDED, CURLE_TOO_MANY_REDIRECTS,
	CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
};

static bool
is_permanent(CURLcode rc)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(permanent_codes); i++)
		if (permanent_codes[i] == rc)
			return true;
	return false;
}

/* Fill the parsed fields of a finished response. */
static void
finish_response(struct xfer *x, CURLcode rc)
{
	struct http_response *r = &x->resp;
	const char *v;
	double secs;

	r->retry_after = -1;
	if (r->transport_error) {
		/* already decided (a refused redirect) */
	} else if (rc != CURLE_OK) {
		bool big = x->too_big || rc == CURLE_FILESIZE_EXCEEDED;

		r->transport_error = true;
		r->permanent = big || is_permanent(rc);
		if (big)
			snprintf(r->error, sizeof(r->error),
				 "response larger than the limit (%zu bytes)",
				 x->max_body);
		else
			snprintf(r->error, sizeof(r->error), "%s%s%.200s",
				 p_curl_easy_strerror(rc), x->errbuf[0] ? ": " : "",
				 x->errbuf);
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
			r->permanent = true;
			snprintf(r->error, sizeof(r->error), "cannot write '%s'",
				 x->save_to);
		}
		x->out = NULL;
		if (r->transport_error)
			unlink(x->save_to); /* never leave half a file */
	}
}

/* A refused redirect: a transport error that no retry cures. */
static void LM_PRINTF(2, 3)
fail_permanent(struct xfer *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->resp.error, sizeof(x->resp.error), fmt, ap);
	va_end(ap);
	x->resp.transport_error = true;
	x->resp.permanent = true;
	x->resp.status = 0;
}

/* Send x again, to target u (checked), as a redirect with status
 * code asks. -1 if it cannot start. */
static int
restart(struct xfer *x, const char *target, const struct url *u, long code)
{
	free(x->url);
	x->url = xstrdup(target);
	if (code == 303 || ((code == 301 || code == 302) &&
			    strcmp(x->method, "POST") == 0)) {
		free(x->method);
		x->method = xstrdup("GET");
		p_curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, (char *)NULL);
		p_curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	}
	if (!url_same_origin(u, &x->first) && x->headers) {
		/* what was meant for the first host is not the next one's */
		p_curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, (void *)NULL);
		p_curl_slist_free_all(x->headers);
		x->headers = NULL;
	}
	set_target(x, u);
	buf_reset(&x->resp.body);
	buf_reset(&x->resp.headers);
	x->received = 0;
	x->too_big = false;
	if (x->out && (fflush(x->out) != 0 || ftruncate(fileno(x->out), 0) != 0))
		return -1;
	if (x->out)
		rewind(x->out);
	if (x->in)
		rewind(x->in);
	if (p_curl_multi_add_handle(x->h->multi, x->easy) != CURLM_OK)
		return -1;
	x->h->running++;
	if (x->h->verbose)
		fprintf(stderr, "> %s %.*s (redirect)\n", x->method,
			url_shown(x->url), x->url);
	return 0;
}

/*
 * A finished transfer that is a redirect: check the target and send the
 * request there (true), or make the answer a permanent transport error
 * when the target is refused. false: x is finished.
 */
static bool
follow_redirect(struct xfer *x, CURLcode rc)
{
	long code = 0;
	char *target = NULL;
	struct url u;
	struct error err;

	if (rc != CURLE_OK)
		return false;
	p_curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 301 && code != 302 && code != 303 && code != 307 &&
	    code != 308)
		return false;
	p_curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &target);
	if (!target)
		return false; /* no Location: the caller sees the 3xx */
	if (++x->redirects > MAX_REDIRECTS) {
		fail_permanent(x, "more than %d redirects", MAX_REDIRECTS);
		return false;
	}
	if (check_target(x, target, &u, &err) < 0) {
		fail_permanent(x, "refusing a redirect (HTTP %ld): %s", code,
			       err.msg);
		return false;
	}
	if (restart(x, target, &u, code) < 0) {
		fail_permanent(x, "cannot follow a redirect to '%.120s'", target);
		return false;
	}
	return true;
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
		if (follow_redirect(x, rc))
			continue;
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

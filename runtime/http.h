#ifndef LM_HTTP_H
#define LM_HTTP_H
/*
 * http: every HTTP request of a build, on one libcurl multi handle driven
 * by the build's loop. This module is the only includer of curl/curl.h,
 * and loads libcurl with dlopen on first use.
 *
 * Connections are reused; there is no thread per request and no blocking
 * wait. A request's callback runs on the loop thread when it finishes,
 * with either a complete response (any status) or a transport error
 * (refused, reset, timed out, body cut short, over its size cap).
 *
 * Secrets: -v traces (loop_set_verbose) print one line per request and
 * per response (method, URL, status, time) and never a header, so an
 * Authorization value cannot leak into a log.
 *
 * Where requests go (base/url.h is the policy): every URL, and every
 * redirect target, passes url_check (https, or plain http to loopback
 * only); a request with bind set goes only to bind's origin, redirects
 * included, so a key never leaves its engine's host. libcurl's own URL
 * parser must read each URL as base/url.c does. Redirects are followed
 * here, not by libcurl, so that each target is checked before it is
 * contacted (at most 5; a 303, or a 301/302 of a POST, becomes a GET;
 * headers are dropped when a redirect leaves the first URL's origin).
 * Loopback requests never go through a proxy (http_proxy and friends
 * would otherwise see a plain-http key). A transfer slower than 1 KiB/s
 * for 30 s is aborted (a retryable transport error), unless the request
 * waits for work to be done (req->waits).
 */
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/url.h"
#include "base/util.h"
#include "loop.h"

struct http_request {
	const char *method;          /* "GET", "POST", "PUT", "HEAD" */
	const char *url;
	const char *const *headers;  /* "Name: value" strings, NULL-ended */
	const void *body;            /* request body, or NULL */
	size_t body_len;
	const char *send_from;       /* stream the request body from this
					file instead (a PUT of an object) */
	const char *save_to;         /* stream the response body to this file */
	size_t max_body;             /* cap on the body; 0: 64 MiB */
	long timeout_ms;             /* whole transfer; 0: 120 s */
	bool waits;                  /* the server works before it answers
					(a synchronous generation): no
					low-speed cut, only timeout_ms */
	const struct url *bind;      /* the only origin the request (and its
					redirects) may reach: set it on every
					request that carries a secret */
};

struct http_response {
	long status;                 /* HTTP status; 0 when transport_error */
	bool transport_error;        /* no complete response */
	bool permanent;              /* a transport error no retry can cure:
					bad or refused URL, unsupported
					protocol, over the size cap, a local
					write error, a bad certificate */
	char error[256];             /* libcurl's words for a transport error */
	struct buf body;             /* the body, unless saved to a file */
	double retry_after;          /* seconds from Retry-After; < 0: none */
	char content_type[128];
	struct buf headers;          /* all response headers, "Name: value\n" */
};

/* Called on the loop thread; resp is valid during the call only. */
typedef void (*http_done_fn)(void *ctx, struct http_response *resp);

/*
 * Start a request on loop l's client. Everything in req is copied, so the
 * caller need not keep it. -1 with err if the request cannot start (the
 * URL breaks the policy above, libcurl cannot be loaded); that is never
 * worth a retry.
 */
int http_send(struct loop *l, const struct http_request *req,
	      http_done_fn done, void *ctx, struct error *err);

/* The value of response header name (case-insensitive), or NULL. The
 * result points into a static-per-thread buffer valid until the next call. */
const char *http_header(const struct http_response *resp, const char *name);

/* Requests in flight on l's client (0 if none was ever made). */
int http_in_flight(struct loop *l);

/* Internal, for loop.c: the client's life and its part of the wait. */
struct http *http_new(struct error *err);
void http_free(struct http *h);
bool http_busy(const struct http *h);
/* Run transfers, wait up to timeout_ms for activity or wake_fd, run the
 * callbacks of finished requests. */
void http_wait(struct http *h, int timeout_ms, int wake_fd);

#endif

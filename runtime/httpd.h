#ifndef LM_HTTPD_H
#define LM_HTTPD_H
/*
 * httpd: a small HTTP server on the loopback address for one person's
 * browser (loramake review), on libmicrohttpd. This module is the only
 * includer of microhttpd.h, and loads the library with dlopen on start
 * (base/dl.h), so no other command pays for it.
 *
 * The server is its own gate; a handler only ever sees requests that
 * passed it (docs/security.md, "The review server"):
 *   - it binds 127.0.0.1 only;
 *   - the Host header must be 127.0.0.1:PORT or localhost:PORT, so a page
 *     of another site whose name was rebound to 127.0.0.1 (DNS rebinding)
 *     is refused (403);
 *   - every request carries the token: a GET in its query (?token=, what
 *     an <img src> can send) or the X-Loramake-Token header, a POST in the
 *     header only, which another site's form or image cannot set (no
 *     CSRF); a missing or wrong token is a 403;
 *   - only GET, HEAD and POST are served, request bodies are refused
 *     (a POST says what it does in its query), 405 otherwise.
 * The token is 128 bits from getrandom(2), compared in constant time.
 *
 * Handlers run one at a time on the server's one thread, so what they
 * share needs no lock.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* The header a POST carries the token in. */
#define HTTPD_TOKEN_HEADER "X-Loramake-Token"

struct httpd_request {
	const char *method;  /* "GET", "HEAD" or "POST" */
	const char *path;    /* the URL's path, as sent: "/api/state" */
	bool post;
	void *conn;          /* for httpd_arg */
};

/* A query argument of rq, or NULL (borrowed; valid during the handler). */
const char *httpd_arg(const struct httpd_request *rq, const char *name);

/* What a handler answers: a body in memory or an open file (never both). */
struct httpd_answer {
	int status;          /* 200, 404, ... */
	const char *type;    /* Content-Type (static) */
	char *body;          /* malloc'd; the server frees it */
	size_t len;
	int fd;              /* >= 0: send this file (the server closes it) */
	uint64_t fd_size;
	bool immutable;      /* content-addressed: the browser may keep it */
};

/* Set a's body to a copy of text, with status and a text/plain type. */
void httpd_text(struct httpd_answer *a, int status, const char *fmt, ...)
	LM_PRINTF(3, 4);

typedef void httpd_handler_fn(void *ctx, const struct httpd_request *rq,
			      struct httpd_answer *a);

struct httpd;

/*
 * Start serving on 127.0.0.1:port (0: a free port) with handler. Fills
 * token (33 bytes: 32 hex digits). Returns the server, or NULL with err
 * (the library missing, the port taken). Stop with httpd_stop.
 */
struct httpd *httpd_start(int port, httpd_handler_fn *handler, void *ctx,
			  char token[33], struct error *err);
/* The port it listens on. */
int httpd_port(const struct httpd *h);
/* Stop serving (waits for the handler running, if any) and free h. */
void httpd_stop(struct httpd *h);

/* Is s 32 lowercase hex digits (an object hash or a token)? */
bool httpd_is_hex32(const char *s);

#endif

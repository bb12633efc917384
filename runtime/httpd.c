/*
 * httpd: the loopback server of loramake review, on libmicrohttpd (the
 * only includer of microhttpd.h; loaded with dlopen). See httpd.h for
 * the gate every request passes before a handler sees it.
 */
#define _GNU_SOURCE /* getrandom */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/dl.h"
#include "httpd.h"

static __typeof__(MHD_start_daemon) *p_MHD_start_daemon;
static __typeof__(MHD_stop_daemon) *p_MHD_stop_daemon;
static __typeof__(MHD_get_daemon_info) *p_MHD_get_daemon_info;
static __typeof__(MHD_lookup_connection_value) *p_MHD_lookup_connection_value;
static __typeof__(MHD_create_response_from_buffer) *p_MHD_create_response_from_buffer;
static __typeof__(MHD_create_response_from_fd64) *p_MHD_create_response_from_fd64;
static __typeof__(MHD_add_response_header) *p_MHD_add_response_header;
static __typeof__(MHD_queue_response) *p_MHD_queue_response;
static __typeof__(MHD_destroy_response) *p_MHD_destroy_response;

static const struct dl_sym mhd_syms[] = {
	DL_SYM(MHD_start_daemon),
	DL_SYM(MHD_stop_daemon),
	DL_SYM(MHD_get_daemon_info),
	DL_SYM(MHD_lookup_connection_value),
	DL_SYM(MHD_create_response_from_buffer),
	DL_SYM(MHD_create_response_from_fd64),
	DL_SYM(MHD_add_response_header),
	DL_SYM(MHD_queue_response),
	DL_SYM(MHD_destroy_response),
	{ 0 },
};
static struct dl_lib mhd_lib;

struct httpd {
	struct MHD_Daemon *daemon;
	httpd_handler_fn *handler;
	void *ctx;
	int port;
	char token[33];
	char host_ip[32], host_name[32]; /* the Host values allowed */
};

bool
httpd_is_hex32(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 32;
}

/* Equal, in a time that does not tell how much of a prefix matched. */
static bool
token_equal(const char *given, const char *token)
{
	unsigned char diff = 0;

	if (!given || strlen(given) != 32)
		return false;
	for (size_t i = 0; i < 32; i++)
		diff |= (unsigned char)(given[i] ^ token[i]);
	return diff == 0;
}

const char *
httpd_arg(const struct httpd_request *rq, const char *name)
{
	return p_MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

void
httpd_text(struct httpd_answer *a, int status, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal(EXIT_FAILURE, "out of memory");
	va_end(ap);
	free(a->body);
	a->status = status;
	a->type = "text/plain; charset=utf-8";
	a->body = s;
	a->len = strlen(s);
}

/* Headers on every answer: nothing is framed, sniffed or told the URL
 * (it holds the token); scripts run only from the page itself. */
static void
common_headers(struct MHD_Response *r, const struct httpd_answer *a)
{
	p_MHD_add_response_header(r, "Content-Type", a->type ? a->type
							   : "text/plain; charset=utf-8");
	p_MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	p_MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	p_MHD_add_response_header(r, "X-Frame-Options", "DENY");
	p_MHD_add_response_header(r, "Content-Security-Policy",
				  "default-src 'none'; img-src 'self' data:; connect-src 'self'; "
				  "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
				  "frame-ancestors 'none'; form-action 'none'");
	p_MHD_add_response_header(r, "Cache-Control",
				  a->immutable ? "private, max-age=31536000, immutable"
					       : "no-store");
}

static enum MHD_Result
send_answer(struct MHD_Connection *c, struct httpd_answer *a)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	if (a->fd >= 0) {
		r = p_MHD_create_response_from_fd64(a->fd_size, a->fd);
		free(a->body);
	} else {
		r = p_MHD_create_response_from_buffer(a->len, a->body ? a->body : (char *)"",
						      a->body ? MHD_RESPMEM_MUST_FREE
							      : MHD_RESPMEM_PERSISTENT);
	}
	if (!r) {
		if (a->fd >= 0)
			close(a->fd);
		return MHD_NO;
	}
	common_headers(r, a);
	ok = p_MHD_queue_response(c, (unsigned)a->status, r);
	p_MHD_destroy_response(r);
	return ok;
}

static bool
method_served(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "POST");
}

/*
 * The gate (httpd.h): fills a with the refusal and returns false, or
 * returns true for a request the handler may see.
 */
static bool
admit(const struct httpd *h, struct MHD_Connection *c, const char *method,
      struct httpd_answer *a)
{
	const char *host = p_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *header = p_MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							   HTTPD_TOKEN_HEADER);
	const char *query = p_MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
							  "token");
	bool post = !strcmp(method, "POST");

	if (!host || (strcmp(host, h->host_ip) && strcmp(host, h->host_name))) {
		httpd_text(a, 403, "this server answers only to %s or %s\n",
			   h->host_ip, h->host_name);
		return false;
	}
	if (!method_served(method)) {
		httpd_text(a, 405, "only GET and POST are served\n");
		return false;
	}
	if (!token_equal(header, h->token) &&
	    (post || !token_equal(query, h->token))) {
		httpd_text(a, 403, post ? "a POST needs the token in the "
					  HTTPD_TOKEN_HEADER " header\n"
					: "the token is missing or wrong\n");
		return false;
	}
	return true;
}

/* Marks on a connection: its headers were seen; its body was refused. */
static int headers_seen, body_refused;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct httpd_answer a = { .fd = -1 };
	struct httpd_request rq = { .method = method, .path = url,
				    .post = !strcmp(method, "POST"), .conn = c };

	if (!*con_cls) {
		/* first call: headers only; the body (if any) comes next */
		*con_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* dropped: no request here has a body */
		*con_cls = &body_refused;
		return MHD_YES;
	}
	if (*con_cls == &body_refused)
		httpd_text(&a, 413, "requests to this server have no body\n");
	else if (admit(h, c, method, &a))
		h->handler(h->ctx, &rq, &a);
	if (!a.status)
		httpd_text(&a, 500, "no answer\n");
	return send_answer(c, &a);
}

static int
make_token(char token[33], struct error *err)
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return error_set(err, "cannot draw a token from getrandom:");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(token + 2 * i, 3, "%02x", r[i]);
	return 0;
}

struct httpd *
httpd_start(int port, httpd_handler_fn *handler, void *ctx, char token[33],
	    struct error *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct httpd *h;
	const union MHD_DaemonInfo *info;

	if (dl_load(&mhd_lib, "libmicrohttpd.so.12", "libmicrohttpd12", mhd_syms,
		    err) < 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->handler = handler;
	h->ctx = ctx;
	if (make_token(h->token, err) < 0) {
		free(h);
		return NULL;
	}
	/* one internal thread: handlers run one at a time (httpd.h) */
	h->daemon = p_MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD,
				       (uint16_t)port, NULL, NULL, on_request, h,
				       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
				       MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
				       MHD_OPTION_END);
	if (!h->daemon) {
		error_set(err, "cannot listen on 127.0.0.1:%d (is the port taken?)", port);
		free(h);
		return NULL;
	}
	info = p_MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	snprintf(h->host_ip, sizeof(h->host_ip), "127.0.0.1:%d", h->port);
	snprintf(h->host_name, sizeof(h->host_name), "localhost:%d", h->port);
	memcpy(token, h->token, 33);
	return h;
}

int
httpd_port(const struct httpd *h)
{
	return h->port;
}

void
httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	p_MHD_stop_daemon(h->daemon);
	free(h);
}

#ifndef LM_URL_H
#define LM_URL_H
/*
 * url: the one URL policy. Every URL loramake sends a request to (a
 * recipe's url:, a follow-up URL a server answers with, a pending line
 * from an earlier build, a redirect target) is parsed here and checked
 * against these rules before anything is sent:
 *
 *   - transport: https:// anywhere; plain http:// only to loopback
 *     (127.0.0.0/8, localhost, [::1]), where nothing crosses a network;
 *   - no user name or password in the URL (the key lives in the
 *     environment), no byte a parser could read two ways (space,
 *     controls, non-ASCII, backslash, '%' or '@' before the path);
 *   - origin binding: a request carrying the engine's key goes only to
 *     the engine's own scheme, host and port (url_check_origin).
 *
 * The grammar is deliberately narrower than RFC 3986, so that this
 * parser and libcurl's cannot disagree on where a request goes;
 * runtime/http.c also asks libcurl's own parser and refuses a URL the two
 * read differently.
 */
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define URL_HOST_MAX 253

struct url {
	char scheme[6];               /* "http" or "https" */
	char host[URL_HOST_MAX + 1];  /* lower case, no trailing dot; an IPv6
					 address without its brackets */
	int port;                     /* given, or the scheme's default */
	bool ipv6;
};

/* Parse the absolute http(s) URL s. -1 with err saying what is wrong. */
int url_parse(const char *s, struct url *u, struct error *err);

/* Is the host a loopback address (127.0.0.0/8, localhost, ::1)? */
bool url_is_loopback(const struct url *u);

/* Is the host one of the names in hosts (NULL-terminated), or a
 * subdomain of one? hosts may be NULL. */
bool url_host_in(const struct url *u, const char *const *hosts);

/* Same scheme, host and port? */
bool url_same_origin(const struct url *a, const struct url *b);

/* "scheme://host[:port]" (the port only when not the default). */
void url_origin(const struct url *u, char *out, size_t outsz);

/*
 * Parse s and apply the transport rule; u (may be NULL) gets the parts.
 * -1 with err, e.g. "refusing plain http to 'http://host:port': use
 * https, or a loopback address".
 */
int url_check(const char *s, struct url *u, struct error *err);

/*
 * url_check, and s must have base's origin: the rule for every URL a
 * request with the key goes to. -1 with err naming both origins.
 */
int url_check_origin(const char *s, const struct url *base, struct error *err);

#endif

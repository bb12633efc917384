/*
 * url: the URL policy (see url.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "url.h"

#define SHOWN 120 /* bytes of a URL a message quotes */

/* Bytes that never appear in a URL loramake sends: space, controls,
 * non-ASCII (a URL is ASCII on the wire) and backslash (which WHATWG
 * parsers read as '/'). Returns the offset of the first, or -1. */
static long
first_bad_byte(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return (long)(p - (const unsigned char *)s);
	return -1;
}

/* Scheme and "://"; returns the authority's start, or NULL. */
static const char *
take_scheme(const char *s, struct url *u)
{
	if (strncasecmp(s, "https://", 8) == 0) {
		memcpy(u->scheme, "https", 6);
		u->port = 443;
		return s + 8;
	}
	if (strncasecmp(s, "http://", 7) == 0) {
		memcpy(u->scheme, "http", 5);
		u->port = 80;
		return s + 7;
	}
	return NULL;
}

/* Host characters: a DNS name or a dotted IPv4 address. */
static bool
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static bool
ipv6_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* The host of authority a..end into u; returns the end of the host. */
static const char *
take_host(const char *a, const char *end, struct url *u)
{
	const char *h = a, *e;
	size_t n;

	if (*a == '[') {
		h = a + 1;
		for (e = h; e < end && ipv6_char(*e); e++)
			;
		if (e == end || *e != ']' || e == h)
			return NULL;
		u->ipv6 = true;
	} else {
		for (e = h; e < end && name_char(*e); e++)
			;
	}
	n = (size_t)(e - h);
	if (n && !u->ipv6 && h[n - 1] == '.')
		n--; /* "fal.run." is "fal.run" */
	if (n == 0 || n > URL_HOST_MAX || (!u->ipv6 && *h == '.'))
		return NULL;
	for (size_t i = 0; i < n; i++)
		u->host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	u->host[n] = '\0';
	return u->ipv6 ? e + 1 : e;
}

/* ":PORT" from p to end (nothing: the default stays). */
static bool
take_port(const char *p, const char *end, struct url *u)
{
	long port = 0;

	if (p == end)
		return true;
	if (*p != ':' || p + 1 == end || end - p > 6)
		return false;
	for (p++; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return false;
	u->port = (int)port;
	return true;
}

int
url_parse(const char *s, struct url *u, struct error *err)
{
	const char *a, *end, *h;
	long bad = first_bad_byte(s);

	memset(u, 0, sizeof(*u));
	if (bad >= 0)
		return error_set(err, "the URL '%.*s...' holds a space, a control, a backslash or a non-ASCII byte",
				 (int)(bad < SHOWN ? bad : SHOWN), s);
	if (!(a = take_scheme(s, u)))
		return error_set(err, "'%.*s' is not an http(s) URL", SHOWN, s);
	end = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(end - a)))
		return error_set(err, "URLs with a user name or password are not accepted; put the key in the environment");
	if (memchr(a, '%', (size_t)(end - a)))
		return error_set(err, "'%.*s': a %%-escape in the host is not accepted",
				 SHOWN, s);
	if (a == end)
		return error_set(err, "'%.*s' has no host", SHOWN, s);
	if (!(h = take_host(a, end, u)) || !take_port(h, end, u))
		return error_set(err, "'%.*s' has no valid host[:port]", SHOWN, s);
	return 0;
}

/* Is h an IPv4 address in 127.0.0.0/8, in plain dotted decimal? */
static bool
is_loopback_v4(const char *h)
{
	int parts = 0, digits = 0, val = 0;

	if (strncmp(h, "127.", 4) != 0)
		return false;
	for (const char *p = h;; p++) {
		if (*p == '.' || *p == '\0') {
			if (!digits || val > 255 || (digits > 1 && p[-digits] == '0'))
				return false;
			parts++;
			digits = val = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (*p < '0' || *p > '9' || ++digits > 3)
			return false;
		val = val * 10 + (*p - '0');
	}
	return parts == 4;
}

bool
url_is_loopback(const struct url *u)
{
	if (u->ipv6)
		return strcmp(u->host, "::1") == 0;
	return strcmp(u->host, "localhost") == 0 || is_loopback_v4(u->host);
}

bool
url_host_in(const struct url *u, const char *const *hosts)
{
	size_t hl = strlen(u->host);

	for (size_t i = 0; hosts && hosts[i] && !u->ipv6; i++) {
		size_t vl = strlen(hosts[i]);

		if (strcasecmp(u->host, hosts[i]) == 0)
			return true;
		if (hl > vl + 1 && u->host[hl - vl - 1] == '.' &&
		    strcasecmp(u->host + hl - vl, hosts[i]) == 0)
			return true;
	}
	return false;
}

bool
url_same_origin(const struct url *a, const struct url *b)
{
	return strcmp(a->scheme, b->scheme) == 0 &&
	       strcmp(a->host, b->host) == 0 && a->port == b->port;
}

void
url_origin(const struct url *u, char *out, size_t outsz)
{
	bool dflt = u->port == (strcmp(u->scheme, "https") == 0 ? 443 : 80);
	const char *l = u->ipv6 ? "[" : "", *r = u->ipv6 ? "]" : "";

	if (dflt)
		snprintf(out, outsz, "%s://%s%s%s", u->scheme, l, u->host, r);
	else
		snprintf(out, outsz, "%s://%s%s%s:%d", u->scheme, l, u->host, r,
			 u->port);
}

int
url_check(const char *s, struct url *u, struct error *err)
{
	struct url tmp, *p = u ? u : &tmp;
	char origin[URL_HOST_MAX + 32];

	if (url_parse(s, p, err) < 0)
		return -1;
	if (strcmp(p->scheme, "https") == 0 || url_is_loopback(p))
		return 0;
	url_origin(p, origin, sizeof(origin));
	return error_set(err, "refusing plain http to '%s': use https, or a loopback address (127.0.0.1, localhost, [::1])",
			 origin);
}

int
url_check_origin(const char *s, const struct url *base, struct error *err)
{
	struct url u;
	char want[URL_HOST_MAX + 32], got[URL_HOST_MAX + 32];

	if (url_check(s, &u, err) < 0)
		return -1;
	if (url_same_origin(&u, base))
		return 0;
	url_origin(base, want, sizeof(want));
	url_origin(&u, got, sizeof(got));
	return error_set(err, "refusing to send the key to '%s': only to the engine's own '%s'",
			 got, want);
}

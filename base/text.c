/*
 * text: escape and redact text from outside (see text.h).
 */
#include <stdio.h>
#include <string.h>

#include "text.h"

size_t
utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t len;
	unsigned c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t
utf8_bad_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	unsigned cp;

	while (i < len && (n = utf8_char(p + i, len - i, &cp)))
		i += n;
	return i;
}

bool
utf8_valid(const char *s, size_t len)
{
	return utf8_bad_at(s, len) == len;
}

bool
text_is_line(const char *s, size_t len)
{
	for (size_t i = 0, n; i < len; i += n) {
		unsigned cp;

		n = utf8_char((const unsigned char *)s + i, len - i, &cp);
		if (!n || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return false;
	}
	return true;
}

/* Append one character (len bytes at s, code point cp; len 0 for a byte
 * that starts no character), escaped if it is a control. */
static int
add_char(struct buf *out, const unsigned char *s, size_t len, unsigned cp)
{
	char esc[8];

	if (len == 0) {
		snprintf(esc, sizeof(esc), "\\x%02x", s[0]);
		return buf_adds(out, esc);
	}
	if (cp < 0x20 || cp == 0x7f) {
		snprintf(esc, sizeof(esc), "\\x%02x", cp);
		return buf_adds(out, esc);
	}
	if (cp >= 0x80 && cp <= 0x9f) {
		snprintf(esc, sizeof(esc), "\\u%04x", cp);
		return buf_adds(out, esc);
	}
	return buf_add(out, s, len);
}

int
text_clean_add(struct buf *out, const char *s, size_t len, const char *secret)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t slen = secret ? strlen(secret) : 0;

	for (size_t i = 0; i < len;) {
		size_t n;
		unsigned cp = 0;

		if (slen && len - i >= slen && memcmp(s + i, secret, slen) == 0) {
			if (buf_adds(out, TEXT_REDACTED) < 0)
				return -1;
			i += slen;
			continue;
		}
		n = utf8_char(p + i, len - i, &cp);
		if (add_char(out, p + i, n, cp) < 0)
			return -1;
		i += n ? n : 1;
	}
	return 0;
}

void
text_clean(char *msg, size_t size, const char *secret)
{
	struct buf b;

	if (size < 2) { /* a max of 0 would mean no cap */
		if (size)
			msg[0] = '\0';
		return;
	}
	buf_init(&b);
	b.max = size - 1;
	text_clean_add(&b, msg, strlen(msg), secret); /* stops where it is full */
	memcpy(msg, b.data, b.len + 1);
	buf_release(&b);
}

bool
text_is_token(const char *s, size_t max)
{
	size_t n = s ? strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "abcdefghijklmnopqrstuvwxyz0123456789._-") : 0;

	return n > 0 && n <= max && s[n] == '\0';
}

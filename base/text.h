#ifndef LM_TEXT_H
#define LM_TEXT_H
/*
 * text: making text that came from outside (a server's answer, a lock
 * or cache written by someone else) safe to show on a terminal and to
 * store in a one-line state file.
 *
 * Every message loramake shows or stores that holds such text goes
 * through text_clean() once, after it is assembled and before it is cut
 * to size (so a secret cannot survive half-cut):
 *
 *   - the secret (the engine's API key) is replaced by "[redacted]": a
 *     server's error body may echo the request's headers;
 *   - C0 controls (0x00-0x1f), DEL (0x7f) and C1 controls (U+0080-U+009F
 *     in UTF-8, and raw bytes 0x80-0x9f that are not part of a UTF-8
 *     sequence) become "\xHH" (C1 as "\u00HH"), so no escape sequence
 *     reaches a terminal and no newline or tab splits a lock line. Other
 *     bytes that are not valid UTF-8 become "\xHH" too.
 *
 * Tab and newline are controls like any other here: callers that want a
 * multi-line text do not pass it through this module.
 */
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * The length of the well-formed UTF-8 character at s (at most n bytes,
 * n >= 1), its code point in *cp; 0 if s starts none (an overlong form,
 * a surrogate, past U+10FFFF, cut short). The one UTF-8 decoder.
 */
size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp);
/* The offset of the first byte of s[0..len) that is not well-formed
 * UTF-8, or len when all of it is. */
size_t utf8_bad_at(const char *s, size_t len);
/* Is all of s[0..len) well-formed UTF-8? */
bool utf8_valid(const char *s, size_t len);

/* Is s[0..len) one line of plain text: well-formed UTF-8 with no
 * control (C0, DEL, C1)? What a model's words must be to be kept. */
bool text_is_line(const char *s, size_t len);

/* What replaces a secret. */
#define TEXT_REDACTED "[redacted]"

/*
 * Append s (len bytes) to out with every occurrence of secret (NULL or
 * "": none) replaced by TEXT_REDACTED and every control escaped as
 * above. Returns -1 only when out's max is passed.
 */
int text_clean_add(struct buf *out, const char *s, size_t len,
		   const char *secret);

/*
 * Clean the C string in msg (capacity size) in place: the whole text is
 * cleaned first, then cut to fit (at a character boundary, never inside
 * an escape).
 */
void text_clean(char *msg, size_t size, const char *secret);

/*
 * Is s an identifier a server may hand out and loramake may keep (a
 * request id): 1 to max bytes of [A-Za-z0-9._-], nothing else. Such a
 * string needs no escaping or quoting anywhere: shell, terminal, lock.
 */
bool text_is_token(const char *s, size_t max);

#endif

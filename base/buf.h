#ifndef LM_BUF_H
#define LM_BUF_H
/*
 * buf: a growable byte buffer. Invariant: data is always NUL-terminated
 * (data[len] == 0), so a buf of text can be used as a C string. An
 * optional max caps growth (HTTP bodies); going over it is an error the
 * caller sees, never an out-of-memory abort.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct buf {
	char *data;  /* owned; never NULL after buf_init */
	size_t len;  /* bytes in use, not counting the NUL */
	size_t cap;  /* bytes allocated */
	size_t max;  /* 0: unlimited; else len may never exceed it */
};

void buf_init(struct buf *b);
/* Free the contents; the buf may be reused after buf_init. */
void buf_release(struct buf *b);
/* Drop the contents but keep the allocation. */
void buf_reset(struct buf *b);
/* Append; these return -1 (and append nothing) when max would be passed. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) LM_PRINTF(2, 3);
/* Make room for n more bytes (and the NUL) without changing len; -1 if
 * that would pass max. For writers that fill data + len themselves. */
int buf_reserve(struct buf *b, size_t n);
/* Take the string; the caller frees it, and b is left empty. */
char *buf_detach(struct buf *b);

#endif

#ifndef LM_FUZZ_H
#define LM_FUZZ_H
/*
 * fuzz: what the libFuzzer harnesses of tests/fuzz/ share. Each harness
 * feeds one reader of untrusted text (the recipe compiler, recipe.lock,
 * the action log, the pending log, the stamp) and checks what must hold
 * whatever the bytes: no crash, no leak, no undefined behaviour (ASan and
 * UBSan), and for the files loramake rewrites, load -> rewrite -> load
 * gives the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"

/* A NUL-terminated copy of the input (readers cut text in place). */
static inline char *
fuzz_copy(const uint8_t *data, size_t size)
{
	char *t = xmalloc(size + 1);

	if (size)
		memcpy(t, data, size);
	t[size] = '\0';
	return t;
}

/* A property that failed: abort, so libFuzzer saves the input. */
#define FUZZ_ASSERT(c)                                                        \
	do {                                                                  \
		if (!(c))                                                     \
			lm_bug(__FILE__, __LINE__, "fuzz: %s", #c);           \
	} while (0)

/* The text of b equals the text of c. */
static inline int
fuzz_same(const struct buf *b, const struct buf *c)
{
	return b->len == c->len && !memcmp(b->data, c->data, b->len);
}

#endif

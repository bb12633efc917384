#ifndef LM_DIAG_H
#define LM_DIAG_H
/*
 * diag: source files and GCC-style diagnostics for the recipe.
 *
 *   recipe.yaml:12:13: error: unknown engine 'sdxl-turbo'
 *      12 |     engine: sdxl-turbo
 *         |             ^
 *
 * Errors accumulate in a struct diag; each compile phase stops at its end
 * when d->nerrors > 0. Output is capped so one broken recipe cannot flood
 * a terminal.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define DIAG_MAX_SHOWN 20

/* A loaded source file. text is NUL-terminated; it may hold NULs too. */
struct source {
	char *path; /* as the user named it, owned */
	char *text; /* owned */
	size_t len;
};

/* A position in a source; line and col are 1-based, col counts bytes. */
struct loc {
	const struct source *src;
	uint32_t line, col;
};

struct diag {
	FILE *out;        /* where messages go (stderr) */
	unsigned nerrors; /* errors reported so far */
	unsigned nwarnings;
};

/* Read path into src; -1 with err if it cannot be read. */
int source_load(struct source *src, const char *path, struct error *err);
void source_release(struct source *src);

void diag_init(struct diag *d, FILE *out);
/* Report an error at loc (loc.src may be NULL for a whole-run error). */
void diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
	LM_PRINTF(3, 4);
void diag_warning(struct diag *d, struct loc loc, const char *fmt, ...)
	LM_PRINTF(3, 4);
/* A note that belongs to the error just reported. */
void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
	LM_PRINTF(3, 4);

#endif

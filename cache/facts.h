#ifndef LM_FACTS_H
#define LM_FACTS_H
/*
 * facts: what check measured of each image, cached by the image's bytes,
 * so a check after a one-image edit decodes one image, not the set.
 *
 *   .loramake/facts
 *   # loramake facts v1
 *   OBJ<TAB>W<TAB>H<TAB>DHASH
 *
 * OBJ is the xxh3-128 of the image's bytes (an object's name, or a source
 * file's hash); W and H its displayed sides (image_probe: 1..65535); DHASH
 * its 64-bit difference hash (image_dhash), 16 hex digits. Facts are a
 * pure function of the bytes, so a line is never wrong for its OBJ unless
 * someone wrote it by hand; they are recomputed for free, so nothing is
 * fsynced. New lines are appended with one write() (an O_APPEND write
 * never interleaves with another's; a torn last line is ended first); the file is read with the state
 * files' discipline (cache/record.h): a torn, damaged or malformed line is
 * skipped, a header of another version or a damaged one makes the file
 * start over. gc rewrites it with the facts of the objects it keeps.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/htab.h"
#include "base/util.h"

#define FACTS_VERSION 1

struct image_facts {
	int w, h;          /* displayed sides */
	uint64_t dhash;
};

struct fact {
	char hex[HASH_HEX_LEN + 1]; /* OBJ, the table's key */
	struct image_facts v;
};

struct facts {
	char *path;
	struct htab byobj;    /* hex -> struct fact * */
	struct fact **all;
	size_t n, cap;
	size_t saved;         /* all[0..saved) are in the file */
	bool rewrite;         /* the header is missing, damaged or of another
			       * version: facts_save writes the file anew */
	bool torn;            /* the last line has no newline (a cut append):
			       * the next append ends it first */
};

/* Read path (a missing file is an empty table; a NULL path, no cache, an
 * empty table facts_save never writes). -1 with err on I/O errors. */
int facts_load(struct facts *f, const char *path, struct error *err);
void facts_release(struct facts *f);
/* The facts of the image whose bytes hash to obj, or NULL. Borrowed. */
const struct image_facts *facts_get(const struct facts *f, const struct hash *obj);
/* Learn v for obj (to be saved by facts_save). */
void facts_put(struct facts *f, const struct hash *obj, const struct image_facts *v);
/*
 * Write what was learned since the load: appended in one write, or the
 * whole file anew (tmp + rename) when it must be rewritten. 0, or -1 with
 * err.
 */
int facts_save(struct facts *f, struct error *err);
/*
 * Rewrite the file with only the facts whose OBJ keep accepts (hex).
 * Returns how many were dropped, or -1 with err.
 */
long facts_compact(struct facts *f, bool (*keep)(const char *hex, void *ctx),
		   void *ctx, struct error *err);

#endif

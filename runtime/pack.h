#ifndef LM_PACK_H
#define LM_PACK_H
/*
 * pack: write dataset archives with libarchive (and read one entry back). This module is the only
 * includer of archive.h / archive_entry.h, and loads libarchive with
 * dlopen on first use (base/dl.h).
 *
 * Archives are reproducible: entries are written in the order given
 * (callers sort them), each with a fixed timestamp (PACK_MTIME), mode 0644,
 * no owner names, and fixed compression settings, so the same inputs give
 * a byte-identical file. The archive is written to a temp file beside out
 * and renamed into place. Entries are deflated, except those marked
 * stored: bytes that are compressed already (PNG, JPEG), which deflate
 * would spend time on to save nothing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* 1980-01-01T00:00:00Z: the earliest time a ZIP can hold. */
#define PACK_MTIME 315532800

struct pack_entry {
	const char *name;  /* path inside the archive, e.g. "jinx_001.png" */
	const char *path;  /* file to copy in, or NULL to use data/len */
	const void *data;
	size_t len;
	bool stored;       /* copy the bytes as they are (method 0), no deflate */
};

/* Write a flat ZIP of entries to out. -1 with err. */
int pack_zip(const char *out, const struct pack_entry *entries, size_t n,
	     struct error *err);

struct buf;
/*
 * The bytes of the entry called name in the ZIP at zip, appended to out
 * (out's max caps them: a ZIP is not trusted). 0; 1 when there is no
 * such entry; -1 with err when it cannot be read.
 */
int pack_read_entry(const char *zip, const char *name, struct buf *out,
		    struct error *err);
/*
 * The first entry whose name ends in suffix, in the ZIP or tar at
 * archive, written to the new file out, chunk by chunk (a trainer's
 * weights: trained_model.tar holding a .safetensors). 0; 1 when there is
 * none; -1 with err. out is removed unless 0.
 */
int pack_extract_suffix(const char *archive, const char *suffix, const char *out,
			struct error *err);

#endif

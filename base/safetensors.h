#ifndef LM_SAFETENSORS_H
#define LM_SAFETENSORS_H
/*
 * safetensors: is a file what a trainer's LoRA must be? The format is an
 * 8-byte little-endian header length N, then N bytes of a JSON object
 * (padded with spaces), then the tensors' bytes. A download that is an
 * HTML error page, a truncated file or anything else is refused before
 * the cache keeps it. Only the frame is checked (no JSON parser here):
 * the header fits in the file, and after leading and trailing spaces it
 * is one object, { ... }.
 */
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The most header bytes accepted (the format's own limit is 100 MB). */
#define SAFETENSORS_MAX_HEADER (100u << 20)

/*
 * Check the frame of a safetensors file of size bytes whose first bytes
 * are head[0..n) (n >= 8 + the header, or the whole file). 0, or -1 with
 * err saying what is wrong.
 */
int safetensors_check_bytes(const unsigned char *head, size_t n,
			    uint64_t size, struct error *err);

/* The same for the file at path (not through a link). */
int safetensors_check_file(const char *path, struct error *err);

#endif

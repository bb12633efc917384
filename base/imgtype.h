#ifndef LM_IMGTYPE_H
#define LM_IMGTYPE_H
/*
 * imgtype: what kind of image a file's first bytes say it is, from one
 * table of signatures. This is the cheap gate of the compiler (a `.env`
 * named as `file:` is a recipe error, no library loaded); the full decode
 * (runtime/image.h image_probe) still happens before an engine sees it.
 */
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Bytes that image_type needs to decide. */
#define IMGTYPE_HEAD 16

/* The MIME type the first n bytes at head announce, or NULL. Static. */
const char *image_type(const void *head, size_t n);
/*
 * The MIME type of the image file at path (opened through path_open, so
 * never through a link), or NULL with err saying it is not an image.
 */
const char *image_type_of(const char *path, struct error *err);

/* Bytes of a file's end that image_cut_short reads. */
#define IMGTYPE_TAIL 16

/*
 * Does the image at path lack the end its format must have (PNG's IEND
 * chunk, JPEG's EOI marker, GIF's trailer, WebP's RIFF length)? A
 * download cut short whose Content-Length matched looks whole to HTTP;
 * this sees it from a few bytes, without decoding. False for a file
 * that is whole, not an image, of a format without such an end (TIFF,
 * HEIF, AVIF), or that cannot be read (the decode that follows says so).
 */
bool image_cut_short(const char *path);

#endif

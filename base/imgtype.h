#ifndef LM_IMGTYPE_H
#define LM_IMGTYPE_H
/*
 * imgtype: what kind of image a file's first bytes say it is, from one
 * table of signatures. This is the cheap gate of the compiler (a `.env`
 * named as `file:` is a recipe error, no library loaded); the full decode
 * (runtime/image.h image_probe) still happens before an engine sees it.
 */
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

#endif

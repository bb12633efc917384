/*
 * imgtype: image signatures.
 */
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "imgtype.h"
#include "path.h"

/* One row per format an engine or libvips takes: bytes at an offset. */
static const struct signature {
	const char *mime;
	size_t at;
	const char *bytes;
	size_t n;
	size_t at2;          /* a second run of bytes (0, NULL: none) */
	const char *bytes2;
	size_t n2;
} signatures[] = {
	{ "image/png", 0, "\x89PNG\r\n\x1a\n", 8, 0, NULL, 0 },
	{ "image/jpeg", 0, "\xff\xd8\xff", 3, 0, NULL, 0 },
	{ "image/webp", 0, "RIFF", 4, 8, "WEBP", 4 },
	{ "image/gif", 0, "GIF8", 4, 0, NULL, 0 },
	{ "image/tiff", 0, "II*\0", 4, 0, NULL, 0 },
	{ "image/tiff", 0, "MM\0*", 4, 0, NULL, 0 },
	{ "image/heic", 4, "ftypheic", 8, 0, NULL, 0 },
	{ "image/heif", 4, "ftypmif1", 8, 0, NULL, 0 },
	{ "image/avif", 4, "ftypavif", 8, 0, NULL, 0 },
};

static bool
has(const unsigned char *p, size_t n, size_t at, const char *bytes, size_t len)
{
	return !bytes || (at + len <= n && memcmp(p + at, bytes, len) == 0);
}

const char *
image_type(const void *head, size_t n)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(signatures); i++) {
		const struct signature *s = &signatures[i];

		if (has(head, n, s->at, s->bytes, s->n) &&
		    has(head, n, s->at2, s->bytes2, s->n2))
			return s->mime;
	}
	return NULL;
}

const char *
image_type_of(const char *path, struct error *err)
{
	unsigned char head[IMGTYPE_HEAD];
	int fd = path_open(path, O_RDONLY, 0, err);
	ssize_t n;
	const char *mime;

	if (fd < 0)
		return NULL;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0) {
		error_set(err, "cannot read '%s':", path);
		return NULL;
	}
	if (!(mime = image_type(head, (size_t)n)))
		error_set(err, "'%s' is not an image (PNG, JPEG, WebP, GIF, TIFF, HEIF "
			  "or AVIF by its first bytes); loramake sends engines images only",
			  path);
	return mime;
}

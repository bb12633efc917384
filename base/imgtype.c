/*
 * imgtype: image signatures.
 */
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "imgtype.h"
#include "path.h"

/* A file's first and last bytes and its size, for the end rules. */
struct ends {
	const unsigned char *head, *tail;
	size_t nhead, ntail;
	long long size;
};

static bool png_whole(const struct ends *e);
static bool jpeg_whole(const struct ends *e);
static bool webp_whole(const struct ends *e);
static bool gif_whole(const struct ends *e);

/* One row per format an engine or libvips takes: bytes at an offset, and
 * what a whole file of it ends with (NULL: no cheap rule). */
static const struct signature {
	const char *mime;
	size_t at;
	const char *bytes;
	size_t n;
	size_t at2;          /* a second run of bytes (0, NULL: none) */
	const char *bytes2;
	size_t n2;
	bool (*whole)(const struct ends *e);
} signatures[] = {
	{ "image/png", 0, "\x89PNG\r\n\x1a\n", 8, 0, NULL, 0, png_whole },
	{ "image/jpeg", 0, "\xff\xd8\xff", 3, 0, NULL, 0, jpeg_whole },
	{ "image/webp", 0, "RIFF", 4, 8, "WEBP", 4, webp_whole },
	{ "image/gif", 0, "GIF8", 4, 0, NULL, 0, gif_whole },
	{ "image/tiff", 0, "II*\0", 4, 0, NULL, 0, NULL },
	{ "image/tiff", 0, "MM\0*", 4, 0, NULL, 0, NULL },
	{ "image/heic", 4, "ftypheic", 8, 0, NULL, 0, NULL },
	{ "image/heif", 4, "ftypmif1", 8, 0, NULL, 0, NULL },
	{ "image/avif", 4, "ftypavif", 8, 0, NULL, 0, NULL },
};

/* Does the file end with the n bytes at end? */
static bool
ends_with(const struct ends *e, const char *end, size_t n)
{
	return e->ntail >= n && memcmp(e->tail + e->ntail - n, end, n) == 0;
}

/* The IEND chunk: length 0, its type, its CRC. */
static bool
png_whole(const struct ends *e)
{
	return ends_with(e, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
}

/* The EOI marker, perhaps followed by zero padding. */
static bool
jpeg_whole(const struct ends *e)
{
	size_t n = e->ntail;

	while (n > 0 && e->tail[n - 1] == 0)
		n--;
	return n >= 2 && e->tail[n - 2] == 0xff && e->tail[n - 1] == 0xd9;
}

/* RIFF's length (little-endian, after "RIFF") covers the rest. */
static bool
webp_whole(const struct ends *e)
{
	const unsigned char *p = e->head + 4;

	/* the signature matched 12 bytes: the length is there */
	return e->size >= 8 + (p[0] | p[1] << 8 | p[2] << 16 |
			       (long long)p[3] << 24);
}

/* The trailer byte. */
static bool
gif_whole(const struct ends *e)
{
	return ends_with(e, "\x3b", 1);
}

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

bool
image_cut_short(const char *path)
{
	unsigned char head[IMGTYPE_HEAD], tail[IMGTYPE_TAIL];
	struct ends e = { head, tail, 0, 0, 0 };
	int fd = path_open(path, O_RDONLY, 0, NULL);
	struct stat st;
	ssize_t nh = -1, nt = -1;

	if (fd >= 0 && fstat(fd, &st) == 0) {
		e.size = st.st_size;
		nh = pread(fd, head, sizeof(head), 0);
		nt = pread(fd, tail, sizeof(tail),
			   st.st_size > IMGTYPE_TAIL ? st.st_size - IMGTYPE_TAIL : 0);
	}
	if (fd >= 0)
		close(fd);
	if (nh < 0 || nt < 0)
		return false;
	e.nhead = (size_t)nh;
	e.ntail = (size_t)nt;
	for (size_t i = 0; i < LM_ARRAY_LEN(signatures); i++) {
		const struct signature *s = &signatures[i];

		if (has(head, e.nhead, s->at, s->bytes, s->n) &&
		    has(head, e.nhead, s->at2, s->bytes2, s->n2))
			return s->whole && !s->whole(&e);
	}
	return false;
}

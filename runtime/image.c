/*
 * image: every pixel operation of loramake, on libvips (see image.h).
 *
 * Loading. libvips, gobject and glib are opened with dlopen the first
 * time any image_* function runs (lib_init, under pthread_once). Every
 * library function is called through a p_* pointer declared with the
 * __typeof__ of its real prototype, so the compiler still checks each
 * call, variadic option lists included (they always end with NULL).
 * vips_init() runs once, with the operation cache off (a path can hold
 * new bytes after a rename, and the cache would hand back the old pixels)
 * and, unless VIPS_CONCURRENCY says otherwise, one worker thread per
 * pipeline: loramake runs many images side by side instead.
 *
 * Reading. Inputs are opened through a VipsSource, never with
 * vips_image_new_from_file(), which reads "name[options]" and would
 * misread a file whose name ends in ']'. Every load asks for
 * fail_on=truncated, so a cut file is an error rather than a grey bottom
 * half, and the sides are checked against IMAGE_MAX_SIDE before any
 * pixel is decoded. Loads are sequential (streamed, little memory); the
 * steps that need random access (a quarter turn, smartcrop) run on a
 * copy in memory made after the image has been scaled down.
 *
 * Normal form. Everything written is 8-bit sRGB with 3 bands: an embedded
 * ICC profile is applied, other colour spaces converted, alpha flattened
 * onto white, EXIF orientation baked in. pngsave runs with fixed settings
 * and strips all metadata, so the same input and options give the same
 * bytes. Files appear atomically: "<out>.tmp.<pid>.<n>" beside out,
 * fsync, rename.
 *
 * References. Each call collects the objects it makes in a struct refs and
 * drops them all at its end, on success and failure alike. libvips' error
 * buffer is global to the process: after a failure it is copied into
 * struct error and cleared in one step (vips_error_buffer_copy), so words
 * never leak into a later call, but two threads failing at the same
 * moment can see each other's words.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vips/vips.h> /* types and prototypes only: loaded with dlopen */

#include "image.h"

#include "base/buf.h"
#include "base/dl.h"
#include "base/path.h"

/* A pointer to library function f, with f's own type. */
#define LIBFN(f) static __typeof__(f) *p_##f

LIBFN(vips_init);
LIBFN(vips_shutdown);
LIBFN(vips_cache_set_max);
LIBFN(vips_concurrency_set);
LIBFN(vips_block_untrusted_set);
LIBFN(vips_error_buffer_copy);
LIBFN(vips_error_clear);
LIBFN(vips_source_new_from_file);
LIBFN(vips_image_new_from_source);
LIBFN(vips_image_get_orientation);
LIBFN(vips_image_get_orientation_swap);
LIBFN(vips_image_get_typeof);
LIBFN(vips_image_hasalpha);
LIBFN(vips_image_guess_interpretation);
LIBFN(vips_image_copy_memory);
LIBFN(vips_image_new_from_memory_copy);
LIBFN(vips_image_write_to_memory);
LIBFN(vips_array_double_new);
LIBFN(vips_area_unref);
LIBFN(vips_icc_transform);
LIBFN(vips_colourspace);
LIBFN(vips_cast);
LIBFN(vips_flatten);
LIBFN(vips_extract_band);
LIBFN(vips_extract_area);
LIBFN(vips_autorot);
LIBFN(vips_resize);
LIBFN(vips_embed);
LIBFN(vips_smartcrop);
LIBFN(vips_flip);
LIBFN(vips_copy);
LIBFN(vips_pngsave);
LIBFN(vips_avg);
LIBFN(vips_thumbnail_source);
LIBFN(vips_black);
LIBFN(vips_linear);
LIBFN(vips_text);
LIBFN(vips_insert);
LIBFN(vips_ifthenelse);
#ifdef LM_UNITTEST
LIBFN(vips_object_map);
#endif
LIBFN(g_object_unref);
LIBFN(g_free);
LIBFN(g_utf8_make_valid);
LIBFN(g_log_set_handler);

static const struct dl_sym vips_syms[] = {
	DL_SYM(vips_init),
	DL_SYM(vips_shutdown),
	DL_SYM(vips_cache_set_max),
	DL_SYM(vips_concurrency_set),
	DL_SYM(vips_block_untrusted_set),
	DL_SYM(vips_error_buffer_copy),
	DL_SYM(vips_error_clear),
	DL_SYM(vips_source_new_from_file),
	DL_SYM(vips_image_new_from_source),
	DL_SYM(vips_image_get_orientation),
	DL_SYM(vips_image_get_orientation_swap),
	DL_SYM(vips_image_get_typeof),
	DL_SYM(vips_image_hasalpha),
	DL_SYM(vips_image_guess_interpretation),
	DL_SYM(vips_image_copy_memory),
	DL_SYM(vips_image_new_from_memory_copy),
	DL_SYM(vips_image_write_to_memory),
	DL_SYM(vips_array_double_new),
	DL_SYM(vips_area_unref),
	DL_SYM(vips_icc_transform),
	DL_SYM(vips_colourspace),
	DL_SYM(vips_cast),
	DL_SYM(vips_flatten),
	DL_SYM(vips_extract_band),
	DL_SYM(vips_extract_area),
	DL_SYM(vips_autorot),
	DL_SYM(vips_resize),
	DL_SYM(vips_embed),
	DL_SYM(vips_smartcrop),
	DL_SYM(vips_flip),
	DL_SYM(vips_copy),
	DL_SYM(vips_pngsave),
	DL_SYM(vips_avg),
	DL_SYM(vips_thumbnail_source),
	DL_SYM(vips_black),
	DL_SYM(vips_linear),
	DL_SYM(vips_text),
	DL_SYM(vips_insert),
	DL_SYM(vips_ifthenelse),
#ifdef LM_UNITTEST
	DL_SYM(vips_object_map),
#endif
	{ 0 },
};
static const struct dl_sym gobject_syms[] = {
	DL_SYM(g_object_unref),
	{ 0 },
};
static const struct dl_sym glib_syms[] = {
	DL_SYM(g_free),
	DL_SYM(g_utf8_make_valid),
	DL_SYM(g_log_set_handler),
	{ 0 },
};

/*
 * Process-wide state, written once by lib_init under pthread_once and
 * only read afterwards (tmp_counter is atomic).
 */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static struct dl_lib vips_lib, gobject_lib, glib_lib;
static bool lib_ok;              /* every symbol found, vips_init done */
static struct error lib_err;     /* why not, when !lib_ok */
static unsigned tmp_counter;     /* makes temp names unique per process */

/* More than any call makes (image_preview, the most, ~26); refs_keep BUGs. */
#define REFS_MAX 64

/* The GObjects (images, sources) one call made, dropped by refs_drop. */
struct refs {
	void *obj[REFS_MAX];
	size_t n;
};

/* What image_preview draws with: 0..255 sRGB. */
struct rgb {
	double v[3];
};

/* image_preview's colours, all derived from its seed. */
struct palette {
	double hue, sat, light; /* the base colour, HSL (degrees, 0..1) */
	struct rgb bg;          /* the base colour */
	struct rgb fg;          /* the words */
};

/* Cells per side of image_preview's background. */
#define MOSAIC 8

/* Remember obj (may be NULL) so refs_drop() unrefs it; returns obj. */
static void *
refs_keep(struct refs *r, void *obj)
{
	if (!obj)
		return NULL;
	if (r->n == REFS_MAX)
		BUG("image: more than %d objects in one call", REFS_MAX);
	r->obj[r->n++] = obj;
	return obj;
}

/* Unref everything r holds, newest first. */
static void
refs_drop(struct refs *r)
{
	while (r->n > 0)
		p_g_object_unref(r->obj[--r->n]);
}

/*
 * Fill err with "<fmt...>: <libvips' words>" (its error lines joined with
 * "; ") and clear libvips' error buffer. Returns -1.
 */
static int LM_PRINTF(2, 3)
vips_fail(struct error *err, const char *fmt, ...)
{
	char what[256];
	char *words = p_vips_error_buffer_copy();
	char *line, *save = NULL;
	struct buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	buf_init(&b);
	for (line = strtok_r(words, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (b.len)
			buf_adds(&b, "; ");
		buf_adds(&b, line);
	}
	error_set(err, "%s: %s", what,
		  b.len ? b.data : "libvips gave no reason");
	buf_release(&b);
	p_g_free(words);
	return -1;
}

/* vips_fail() for helpers that return an image: always NULL. */
static VipsImage *LM_PRINTF(2, 3)
vips_fail_null(struct error *err, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vips_fail(err, "%s", what);
	return NULL;
}

/*
 * libvips reports recoverable trouble ("error in tile 0 x 0") as GLib
 * warnings on stderr; the failure itself reaches the caller as an error,
 * and a library must not print, so its warnings go here and are dropped.
 */
static void
drop_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
	 gpointer data)
{
}

/* Load the three libraries and start libvips; see the file comment. */
static void
lib_init(void)
{
	if (dl_load(&vips_lib, "libvips.so.42", "libvips42", vips_syms,
		    &lib_err) < 0 ||
	    dl_load(&gobject_lib, "libgobject-2.0.so.0", "libglib2.0-0",
		    gobject_syms, &lib_err) < 0 ||
	    dl_load(&glib_lib, "libglib-2.0.so.0", "libglib2.0-0", glib_syms,
		    &lib_err) < 0)
		return;
	if (p_vips_init("loramake") != 0) {
		vips_fail(&lib_err, "cannot start libvips");
		return;
	}
	p_g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE |
			    G_LOG_LEVEL_INFO, drop_log, NULL);
	p_vips_cache_set_max(0);
	/* engine outputs come from the internet: only well-fuzzed loaders */
	p_vips_block_untrusted_set(TRUE);
	if (!getenv("VIPS_CONCURRENCY"))
		p_vips_concurrency_set(1);
	lib_ok = true;
}

void
image_shutdown(void)
{
	if (lib_ok)
		p_vips_shutdown();
	lib_ok = false;
}

/* Make sure libvips is loaded and started; 0, or -1 with err. */
static int
lib_ready(struct error *err)
{
	pthread_once(&lib_once, lib_init);
	if (!lib_ok)
		return error_set(err, "%s", lib_err.msg);
	return 0;
}

/*
 * Open path for reading with the given access pattern, failing on
 * truncation, and check its sides are 1..IMAGE_MAX_SIDE. Only the header
 * is read here. Returns an image owned by r, or NULL with err.
 */
static VipsImage *
open_image(struct refs *r, const char *path, VipsAccess access,
	   struct error *err)
{
	VipsSource *src;
	VipsImage *im;

	src = refs_keep(r, p_vips_source_new_from_file(path));
	if (!src)
		return vips_fail_null(err, "cannot open '%s'", path);
	im = refs_keep(r, p_vips_image_new_from_source(src, "",
		"access", access, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL));
	if (!im)
		return vips_fail_null(err, "cannot read '%s'", path);
	if (im->Xsize < 1 || im->Ysize < 1 || im->Xsize > IMAGE_MAX_SIDE ||
	    im->Ysize > IMAGE_MAX_SIDE) {
		error_set(err, "'%s' is %dx%d: sides must be 1..%d pixels",
			  path, im->Xsize, im->Ysize, IMAGE_MAX_SIDE);
		return NULL;
	}
	return im;
}

/*
 * Apply in's embedded ICC profile, if it has one libvips can use, giving
 * 8-bit sRGB. A broken profile is ignored (the pixels are used as they
 * are) rather than failing the image. Never fails; may return in.
 */
static VipsImage *
apply_profile(struct refs *r, VipsImage *in)
{
	VipsImage *t = NULL;

	if (!p_vips_image_get_typeof(in, VIPS_META_ICC_NAME))
		return in;
	if (p_vips_icc_transform(in, &t, "srgb", "embedded", TRUE,
				 "intent", VIPS_INTENT_PERCEPTUAL, NULL)) {
		p_vips_error_clear();
		return in;
	}
	return refs_keep(r, t);
}

/* in flattened onto white if it has alpha; in must be 8-bit sRGB. */
static VipsImage *
flatten_white(struct refs *r, VipsImage *in, const char *path,
	      struct error *err)
{
	static const double white[3] = { 255, 255, 255 };
	VipsArrayDouble *bg;
	VipsImage *t = NULL;
	int rc;

	if (!p_vips_image_hasalpha(in))
		return in;
	bg = p_vips_array_double_new(white, 3);
	rc = p_vips_flatten(in, &t, "background", bg, NULL);
	p_vips_area_unref(VIPS_AREA(bg));
	if (rc)
		return vips_fail_null(err, "cannot flatten '%s'", path);
	return refs_keep(r, t);
}

/*
 * in as 8-bit sRGB with exactly 3 bands: profile applied, converted from
 * whatever colour space it is in, alpha flattened onto white. Orientation
 * is left alone. Returns an image owned by r (or in), or NULL with err.
 */
static VipsImage *
to_srgb8(struct refs *r, VipsImage *in, const char *path, struct error *err)
{
	VipsImage *t = NULL;

	in = apply_profile(r, in);
	if (p_vips_colourspace(in, &t, VIPS_INTERPRETATION_sRGB,
			       "source_space",
			       p_vips_image_guess_interpretation(in), NULL))
		return vips_fail_null(err, "cannot convert '%s' to sRGB",
				      path);
	in = refs_keep(r, t);
	if (in->BandFmt != VIPS_FORMAT_UCHAR) {
		if (p_vips_cast(in, &t, VIPS_FORMAT_UCHAR, NULL))
			return vips_fail_null(err, "cannot convert '%s'", path);
		in = refs_keep(r, t);
	}
	in = flatten_white(r, in, path, err);
	if (in && in->BandFmt != VIPS_FORMAT_UCHAR) {
		if (p_vips_cast(in, &t, VIPS_FORMAT_UCHAR, NULL))
			return vips_fail_null(err, "cannot convert '%s'", path);
		in = refs_keep(r, t);
	}
	if (in && in->Bands > 3) {
		if (p_vips_extract_band(in, &t, 0, "n", 3, NULL))
			return vips_fail_null(err, "cannot convert '%s'", path);
		in = refs_keep(r, t);
	}
	if (in && in->Bands != 3) {
		error_set(err, "'%s' has %d bands after conversion to sRGB",
			  path, in->Bands);
		return NULL;
	}
	return in;
}

/*
 * The target sides for op->size: the longest side (CROP_NONE) or the
 * shortest side (crops) becomes size, the other keeps the aspect ratio
 * (rounded, at least 1). A quarter turn still to come swaps the sides but
 * keeps which is longest, so this works on the stored sides.
 */
static void
target_sides(int w, int h, bool swap, const struct image_op *op, int *tw,
	     int *th)
{
	bool by_longest = op->crop == IMAGE_CROP_NONE;
	bool wide = w >= h;

	if (op->width) {
		/* cover width x height as displayed: the stored sides are
		 * the displayed ones turned when a quarter turn is to come */
		int cw = swap ? op->height : op->width;
		int ch = swap ? op->width : op->height;
		double f = (double)cw / w > (double)ch / h ? (double)cw / w
							   : (double)ch / h;

		*tw = (int)ceil(w * f - 1e-6);
		*th = (int)ceil(h * f - 1e-6);
		*tw = *tw < cw ? cw : *tw;
		*th = *th < ch ? ch : *th;
		return;
	}
	if (by_longest == wide) {
		*tw = op->size;
		*th = (int)lround((double)h * op->size / w);
	} else {
		*th = op->size;
		*tw = (int)lround((double)w * op->size / h);
	}
	if (*tw < 1)
		*tw = 1;
	if (*th < 1)
		*th = 1;
}

/*
 * in resized with kernel to exactly tw x th: vips_resize may round a side
 * one pixel off, which an embed with copied edges puts right. what names
 * the image in errors. Returns an image owned by r (or in when the size
 * is already right), or NULL with err.
 */
static VipsImage *
resize_to(struct refs *r, VipsImage *in, int tw, int th, VipsKernel kernel,
	  const char *what, struct error *err)
{
	VipsImage *t = NULL;

	if (tw == in->Xsize && th == in->Ysize)
		return in;
	if (p_vips_resize(in, &t, (double)tw / in->Xsize,
			  "vscale", (double)th / in->Ysize,
			  "kernel", kernel, NULL))
		return vips_fail_null(err, "cannot resize '%s'", what);
	in = refs_keep(r, t);
	if (in->Xsize == tw && in->Ysize == th)
		return in;
	if (p_vips_embed(in, &t, 0, 0, tw, th, "extend", VIPS_EXTEND_COPY,
			 NULL))
		return vips_fail_null(err, "cannot resize '%s'", what);
	return refs_keep(r, t);
}

/*
 * in resized (Lanczos3, up or down) to the sides target_sides() gives.
 * Returns an image owned by r (or in), or NULL with err.
 */
static VipsImage *
scale(struct refs *r, VipsImage *in, const struct image_op *op,
      const char *path, struct error *err)
{
	int tw, th;

	target_sides(in->Xsize, in->Ysize,
		     p_vips_image_get_orientation_swap(in), op, &tw, &th);
	if (tw > IMAGE_MAX_SIDE || th > IMAGE_MAX_SIDE) {
		error_set(err, "'%s' is %dx%d: too elongated to crop to %d",
			  path, in->Xsize, in->Ysize, op->size);
		return NULL;
	}
	return resize_to(r, in, tw, th, VIPS_KERNEL_LANCZOS3, path, err);
}

/*
 * The steps after scaling: bake the EXIF orientation, crop to a square
 * (op->crop, when op->size is set), mirror (op->flip). A turn or a crop
 * needs random access, so the (already small) image is first decoded
 * into memory. Returns an image owned by r (or in), or NULL with err.
 */
static VipsImage *
orient_crop_flip(struct refs *r, VipsImage *in, const struct image_op *op,
		 const char *path, struct error *err)
{
	bool turn = p_vips_image_get_orientation(in) != 1;
	/* a square of the size already is its own crop: smartcrop would
	 * spend a third of the time of a normalisation to find that out */
	int cw = op->width ? op->width : op->size;
	int ch = op->width ? op->height : op->size;
	bool crop = cw > 0 && (op->crop != IMAGE_CROP_NONE || op->width) &&
		    (in->Xsize != cw || in->Ysize != ch);
	VipsImage *t = NULL;

	if (turn || crop) {
		in = refs_keep(r, p_vips_image_copy_memory(in));
		if (!in)
			return vips_fail_null(err, "cannot read '%s'", path);
	}
	if (turn) {
		if (p_vips_autorot(in, &t, NULL))
			return vips_fail_null(err, "cannot rotate '%s'", path);
		in = refs_keep(r, t);
	}
	if (crop) {
		if (p_vips_smartcrop(in, &t, cw, ch, "interesting",
				     op->crop == IMAGE_CROP_CENTRE ?
				     VIPS_INTERESTING_CENTRE :
				     VIPS_INTERESTING_ATTENTION, NULL))
			return vips_fail_null(err, "cannot crop '%s'", path);
		in = refs_keep(r, t);
	}
	if (op->flip) {
		if (p_vips_flip(in, &t, VIPS_DIRECTION_HORIZONTAL, NULL))
			return vips_fail_null(err, "cannot flip '%s'", path);
		in = refs_keep(r, t);
	}
	return in;
}

/* fsync the file at path; 0, or -1 with err. */
static int
sync_file(const char *path, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_set(err, "cannot open '%s':", path);
	if (fsync(fd) < 0) {
		error_set(err, "cannot sync '%s':", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Write im as a PNG to out atomically: "<out>.tmp.<pid>.<n>" in the same
 * folder, fsync, rename, fsync the folder. Fixed settings (compression
 * 6, adaptive filters, no interlace, 8 bits, no metadata) so the same
 * pixels always give the same bytes. pngsave always writes a pHYs chunk
 * from the image's resolution, which comes from the input file, so the
 * resolution is set to 72 dpi first. The temp file never survives.
 * Returns 0, or -1 with err.
 */
static int
save_png(VipsImage *im, const char *out, struct error *err)
{
	unsigned n = __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED);
	char *tmp = xasprintf("%s.tmp.%ld.%u", out, (long)getpid(), n);
	VipsImage *t = NULL;
	int rc = -1;

	if (p_vips_copy(im, &t, "xres", 72 / 25.4, "yres", 72 / 25.4, NULL) ||
	    p_vips_pngsave(t, tmp, "compression", 6, "strip", TRUE,
			   "interlace", FALSE, "bitdepth", 8,
			   "filter", VIPS_FOREIGN_PNG_FILTER_ALL, NULL))
		vips_fail(err, "cannot write '%s'", out);
	else if (sync_file(tmp, err) == 0)
		rc = 0;
	if (t)
		p_g_object_unref(t);
	rc = path_rename_atomic(tmp, out, rc == 0, err);
	free(tmp);
	return rc;
}

/*
 * Report the sides as displayed, i.e. after the EXIF orientation is
 * applied (a photo stored 4000x3000 with orientation 6 is 3000x4000).
 * The whole image is decoded (vips_avg reads every pixel) so a truncated
 * or corrupt file fails here rather than later.
 */
int
image_probe(const char *path, int *w, int *h, struct error *err)
{
	struct refs r = { 0 };
	VipsImage *im;
	double avg;
	bool swap;
	int rc = -1;

	if (lib_ready(err) < 0)
		return -1;
	im = open_image(&r, path, VIPS_ACCESS_SEQUENTIAL, err);
	if (im && p_vips_avg(im, &avg, NULL) != 0) {
		vips_fail(err, "cannot read '%s'", path);
	} else if (im) {
		swap = p_vips_image_get_orientation_swap(im);
		if (w)
			*w = swap ? im->Ysize : im->Xsize;
		if (h)
			*h = swap ? im->Xsize : im->Ysize;
		rc = 0;
	}
	refs_drop(&r);
	return rc;
}

/* Is op one image_transform can do? 0, or -1 with err. */
static int
check_op(const struct image_op *op, struct error *err)
{
	if (op->size < 0 || op->size > IMAGE_MAX_SIDE)
		return error_set(err, "image size %d is not in 0..%d",
				 op->size, IMAGE_MAX_SIDE);
	if (op->width < 0 || op->width > IMAGE_MAX_SIDE || op->height < 0 ||
	    op->height > IMAGE_MAX_SIDE || (op->width > 0) != (op->height > 0))
		return error_set(err, "image sides %dx%d are not in 1..%d",
				 op->width, op->height, IMAGE_MAX_SIDE);
	if (op->crop != IMAGE_CROP_NONE && op->crop != IMAGE_CROP_CENTRE &&
	    op->crop != IMAGE_CROP_ATTENTION)
		return error_set(err, "unknown crop %d", (int)op->crop);
	return 0;
}

/*
 * Scaling happens before the turn and the crop so that the copy in
 * memory they need is already small (see orient_crop_flip).
 */
int
image_transform(const char *in, const char *out, const struct image_op *op,
		struct error *err)
{
	struct refs r = { 0 };
	VipsImage *im;
	int rc = -1;

	if (check_op(op, err) < 0 || lib_ready(err) < 0)
		return -1;
	im = open_image(&r, in, VIPS_ACCESS_SEQUENTIAL, err);
	if (im)
		im = to_srgb8(&r, im, in, err);
	if (im && (op->size > 0 || op->width > 0))
		im = scale(&r, im, op, in, err);
	if (im)
		im = orient_crop_flip(&r, im, op, in, err);
	if (im)
		rc = save_png(im, out, err);
	refs_drop(&r);
	return rc;
}

/*
 * A thumbnail of path fitting in w x h (force: exactly w x h, stretched),
 * upright, in 8-bit sRGB with 3 bands. Shrink-on-load makes this cheap
 * for big JPEGs. libvips 8.14's thumbnail_source does not pass its own
 * "fail_on" on to the loader (a cut PNG gives a half-grey thumbnail), so
 * it goes in the loader's option string. Returns an image owned by r, or
 * NULL with err.
 */
static VipsImage *
thumbnail(struct refs *r, const char *path, int w, int h, bool force,
	  struct error *err)
{
	VipsSource *src;
	VipsImage *t = NULL;

	if (!open_image(r, path, VIPS_ACCESS_SEQUENTIAL, err))
		return NULL; /* the side check, before any decoding */
	src = refs_keep(r, p_vips_source_new_from_file(path));
	if (!src)
		return vips_fail_null(err, "cannot open '%s'", path);
	if (p_vips_thumbnail_source(src, &t, w, "height", h,
				    "size", force ? VIPS_SIZE_FORCE :
				    VIPS_SIZE_BOTH,
				    "option_string", "fail_on=truncated",
				    NULL))
		return vips_fail_null(err, "cannot read '%s'", path);
	return to_srgb8(r, refs_keep(r, t), path, err);
}

/* in as one band of 8-bit grey; owned by r, or NULL with err. */
static VipsImage *
to_grey8(struct refs *r, VipsImage *in, const char *path, struct error *err)
{
	VipsImage *t = NULL;

	if (p_vips_colourspace(in, &t, VIPS_INTERPRETATION_B_W, NULL))
		return vips_fail_null(err, "cannot convert '%s' to grey",
				      path);
	return refs_keep(r, t);
}

/*
 * Bit 63 (the first) is pixel (0,0) vs (1,0); row by row, left to right,
 * a bit is set when a pixel is brighter than its right neighbour.
 */
int
image_dhash(const char *path, uint64_t *out, struct error *err)
{
	struct refs r = { 0 };
	VipsImage *im;
	unsigned char *px = NULL;
	size_t n = 0;
	uint64_t bits = 0;

	if (lib_ready(err) < 0)
		return -1;
	im = thumbnail(&r, path, 9, 8, true, err);
	if (im)
		im = to_grey8(&r, im, path, err);
	if (im)
		px = p_vips_image_write_to_memory(im, &n);
	if (im && !px)
		vips_fail(err, "cannot read '%s'", path);
	refs_drop(&r);
	if (!px)
		return -1;
	if (n != 72) {
		p_g_free(px);
		return error_set(err, "'%s': dhash thumbnail has %zu bytes, "
				 "not 72", path, n);
	}
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			bits = bits << 1 | (px[y * 9 + x] > px[y * 9 + x + 1]);
	p_g_free(px);
	*out = bits;
	return 0;
}

int
image_hamming(uint64_t a, uint64_t b)
{
	return __builtin_popcountll(a ^ b);
}

/* splitmix64's finaliser: spreads nearby seeds far apart. */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* HSL (h in degrees, s and l in 0..1) to 0..255 sRGB. */
static struct rgb
hsl(double h, double s, double l)
{
	static const int n[3] = { 0, 8, 4 };
	double a = s * fmin(l, 1 - l);
	struct rgb c;

	for (int i = 0; i < 3; i++) {
		double k = fmod(n[i] + h / 30, 12);

		c.v[i] = 255 * (l - a * fmax(-1, fmin(fmin(k - 3, 9 - k), 1)));
	}
	return c;
}

/*
 * The placeholder's colours for seed: a base of any hue at middle
 * saturation and lightness, and dark or light ink (whichever reads better
 * on it) of the same hue.
 */
static void
seed_palette(uint64_t seed, struct palette *p)
{
	uint64_t x = mix64(seed);
	double luma;

	p->hue = (double)(x % 3600) / 10;
	p->sat = 0.45 + (double)((x >> 16) % 20) / 100;
	p->light = 0.50 + (double)((x >> 24) % 12) / 100;
	p->bg = hsl(p->hue, p->sat, p->light);
	luma = 0.2126 * p->bg.v[0] + 0.7152 * p->bg.v[1] +
	       0.0722 * p->bg.v[2];
	p->fg = luma > 150 ? hsl(p->hue, 0.35, 0.12) : hsl(p->hue, 0.25, 0.97);
}

/*
 * The placeholder's background, size x size: MOSAIC x MOSAIC cells of the
 * base colour, each a little lighter or darker (+-0.045 lightness, from
 * seed), blended smoothly (bicubic). Besides looking less flat, this
 * gives placeholders of different seeds unrelated dHashes; on flat
 * backgrounds only the words would differ, and a dedup step could take
 * two placeholders for near duplicates. Owned by r, or NULL with err.
 */
static VipsImage *
mosaic(struct refs *r, int size, uint64_t seed, const struct palette *p,
       struct error *err)
{
	unsigned char px[MOSAIC * MOSAIC * 3];
	VipsImage *t;

	for (int i = 0; i < MOSAIC * MOSAIC; i++) {
		uint64_t x = mix64(mix64(seed) + (uint64_t)i);
		double d = (double)(x % 91) / 1000 - 0.045;
		struct rgb c = hsl(p->hue, p->sat, p->light + d);

		for (int b = 0; b < 3; b++)
			px[i * 3 + b] = (unsigned char)lround(c.v[b]);
	}
	t = refs_keep(r, p_vips_image_new_from_memory_copy(px, sizeof(px),
		MOSAIC, MOSAIC, 3, VIPS_FORMAT_UCHAR));
	if (!t)
		return vips_fail_null(err, "cannot make a background");
	return resize_to(r, t, size, size, VIPS_KERNEL_CUBIC, "background",
			 err);
}

/* A w x h image of one colour, 8-bit sRGB; owned by r, or NULL with err. */
static VipsImage *
flat(struct refs *r, int w, int h, const struct rgb *c, struct error *err)
{
	static const double zero[3] = { 0, 0, 0 };
	VipsImage *t = NULL, *u = NULL, *v = NULL;

	if (p_vips_black(&t, w, h, "bands", 3, NULL))
		return vips_fail_null(err, "cannot make a %dx%d image", w, h);
	refs_keep(r, t);
	if (p_vips_linear(t, &u, zero, c->v, 3, NULL))
		return vips_fail_null(err, "cannot make a %dx%d image", w, h);
	refs_keep(r, u);
	if (p_vips_cast(u, &v, VIPS_FORMAT_UCHAR, NULL))
		return vips_fail_null(err, "cannot make a %dx%d image", w, h);
	refs_keep(r, v);
	return v;
}

/*
 * s as Pango markup: valid UTF-8 (bad bytes become U+FFFD), at most
 * maxchars characters (then an ellipsis), '&' '<' '>' escaped, control
 * characters other than newline turned into spaces. Caller frees.
 */
static char *
markup_escape(const char *s, size_t maxchars)
{
	char *valid = p_g_utf8_make_valid(s, -1);
	size_t nchars = 0;
	struct buf b;

	buf_init(&b);
	for (const unsigned char *p = (unsigned char *)valid; *p; p++) {
		if ((*p & 0xc0) != 0x80 && nchars++ == maxchars) {
			buf_adds(&b, "\xe2\x80\xa6");
			break;
		}
		if (*p == '&')
			buf_adds(&b, "&amp;");
		else if (*p == '<')
			buf_adds(&b, "&lt;");
		else if (*p == '>')
			buf_adds(&b, "&gt;");
		else if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			buf_addc(&b, ' ');
		else
			buf_addc(&b, (char)*p);
	}
	p_g_free(valid);
	return buf_detach(&b);
}

/*
 * Type sizes text is laid out at, in pixels: each rendered size is a
 * font pattern pango keeps in its font map's cache (256 fontsets).
 *
 * Text is always laid out at vips_text's default 72 dpi, where a point is
 * a pixel, and scaled by the font size instead. A change of resolution
 * makes pango 1.50 (Debian 12) clear its font map while the matcher
 * threads it starts for every new font pattern may still hold one, and
 * such a thread then frees it into the cleared table: a SIGFPE in
 * g_hash_table_lookup that killed preview builds (vips_text's fit-the-box
 * search changes the resolution at every step, so it is not used).
 * Sizes from this one short ladder keep the patterns few, so pango never
 * evicts one either.
 */
static const int type_sizes[] = {
	4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40, 48,
	56, 64, 72, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
};

/* The index of the largest size in type_sizes not above px (0 if none). */
static int
type_size_index(int px)
{
	int i = 0;

	while (i + 1 < (int)(sizeof(type_sizes) / sizeof(type_sizes[0])) &&
	       type_sizes[i + 1] <= px)
		i++;
	return i;
}

/* markup laid out in family at size px, wrapped at w; NULL if it fails. */
static VipsImage *
lay_out(const char *markup, const char *family, int px, int w)
{
	VipsImage *t = NULL;
	char font[64];

	snprintf(font, sizeof(font), "%s %d", family, px);
	if (p_vips_text(&t, markup, "font", font, "width", w, "wrap",
			VIPS_TEXT_WRAP_WORD_CHAR, NULL))
		return NULL;
	return t;
}

/*
 * words as a 1-band text mask no bigger than w x h, in family at about
 * px pixels and wrapped at w; when that runs taller than h, the next
 * smaller sizes of type_sizes are tried until it fits (and what the
 * smallest still overflows is cut). NULL when there is nothing to draw
 * or libvips cannot render text here (no fonts): the placeholder then
 * goes without words rather than fail, so this never sets an error. The
 * mask is owned by r.
 */
static VipsImage *
render_text(struct refs *r, const char *words, const char *family, int px,
	    int w, int h)
{
	VipsImage *t = NULL, *u = NULL;
	char *markup;

	if (!words || !*words || w < 8 || h < 8)
		return NULL;
	markup = markup_escape(words, 300);
	for (int i = type_size_index(px); i >= 0; i--) {
		if (t)
			p_g_object_unref(t);
		t = lay_out(markup, family, type_sizes[i], w);
		if (!t || t->Ysize <= h)
			break;
	}
	free(markup);
	if (!refs_keep(r, t)) {
		p_vips_error_clear();
		return NULL;
	}
	if (t->Xsize <= w && t->Ysize <= h)
		return t;
	if (p_vips_extract_area(t, &u, 0, 0, t->Xsize < w ? t->Xsize : w,
				t->Ysize < h ? t->Ysize : h, NULL)) {
		p_vips_error_clear();
		return NULL;
	}
	return refs_keep(r, u);
}

/*
 * im (size x size) with title in large bold type at the top left and text
 * in smaller type wrapped below it, both in colour fg. reserve is the
 * height kept free at the bottom (for the thumbnail). Returns an image
 * owned by r, or NULL with err.
 */
static VipsImage *
draw_words(struct refs *r, VipsImage *im, const char *title,
	   const char *text, const struct rgb *fg, int reserve,
	   struct error *err)
{
	int size = im->Xsize, margin = size / 16, y = margin;
	VipsImage *mask = NULL, *t, *ink, *out = NULL;

	if (p_vips_black(&mask, size, size, NULL))
		return vips_fail_null(err, "cannot draw text");
	refs_keep(r, mask);
	t = render_text(r, title, "sans bold", size / 9,
			size - 2 * margin, size * 2 / 5);
	if (t && p_vips_insert(mask, t, &out, margin, y, NULL) == 0) {
		mask = refs_keep(r, out);
		y += t->Ysize + margin / 2;
	}
	t = render_text(r, text, "sans", size / 26, size - 2 * margin,
			size - y - margin - reserve);
	if (t && p_vips_insert(mask, t, &out, margin, y, NULL) == 0)
		mask = refs_keep(r, out);
	p_vips_error_clear(); /* a failed insert only loses words */
	ink = flat(r, size, size, fg, err);
	if (!ink)
		return NULL;
	out = NULL;
	if (p_vips_ifthenelse(mask, ink, im, &out, "blend", TRUE, NULL))
		return vips_fail_null(err, "cannot draw text");
	return refs_keep(r, out);
}

/*
 * im with a thumbnail of input (fitting in a quarter of its side, with a
 * thin white frame) in the bottom right corner. Returns an image owned by
 * r, or NULL with err (input unreadable).
 */
static VipsImage *
draw_thumb(struct refs *r, VipsImage *im, const char *input,
	   struct error *err)
{
	int size = im->Xsize, margin = size / 16, box = size / 4;
	int frame = size >= 256 ? size / 256 + 1 : 1;
	VipsImage *t, *u = NULL, *out = NULL;

	t = thumbnail(r, input, box, box, false, err);
	if (!t)
		return NULL;
	if (p_vips_embed(t, &u, frame, frame, t->Xsize + 2 * frame,
			 t->Ysize + 2 * frame, "extend", VIPS_EXTEND_WHITE,
			 NULL))
		return vips_fail_null(err, "cannot frame '%s'", input);
	refs_keep(r, u);
	if (p_vips_insert(im, u, &out, size - margin - u->Xsize,
			  size - margin - u->Ysize, NULL))
		return vips_fail_null(err, "cannot draw '%s'", input);
	return refs_keep(r, out);
}

/*
 * Layout for size S: a soft mosaic of the seed's colour (see mosaic);
 * margin S/16; the title at the top left, up to 2/5 of
 * S high; the text below it; the thumbnail (when input is given) in a
 * S/4 box at the bottom right, and the text stops above it.
 */
int
image_preview(const char *out, int size, uint64_t seed, const char *title,
	      const char *text, const char *input, struct error *err)
{
	struct refs r = { 0 };
	struct palette pal;
	VipsImage *im;
	int reserve = input ? size / 4 + size / 16 : 0;
	int rc = -1;

	if (size < 16 || size > IMAGE_MAX_SIDE)
		return error_set(err, "preview size %d is not in 16..%d", size,
				 IMAGE_MAX_SIDE);
	if (lib_ready(err) < 0)
		return -1;
	seed_palette(seed, &pal);
	im = mosaic(&r, size, seed, &pal, err);
	if (im)
		im = draw_words(&r, im, title, text, &pal.fg, reserve, err);
	if (im && input)
		im = draw_thumb(&r, im, input, err);
	if (im)
		rc = save_png(im, out, err);
	refs_drop(&r);
	return rc;
}

#ifdef LM_UNITTEST
/* Count one live object into *a; a vips_object_map() callback. */
static void *
count_object(void *obj, void *a, void *b)
{
	(*(int *)a)++;
	return NULL;
}

/*
 * Test hook, in LM_UNITTEST builds only (the test declares it): how many
 * VipsObjects (images, sources, operations) are alive. LSan cannot see
 * a missed unref, since libvips keeps every live object in a global
 * table; comparing this before and after a call can. -1 when libvips
 * cannot be loaded.
 */
int image_live_objects(void);

int
image_live_objects(void)
{
	int n = 0;

	if (lib_ready(NULL) < 0)
		return -1;
	p_vips_object_map(count_object, &n, NULL);
	return n;
}
#endif

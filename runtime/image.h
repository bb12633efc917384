#ifndef LM_IMAGE_H
#define LM_IMAGE_H
/*
 * image: every pixel operation of loramake, on libvips. This module is the
 * only includer of vips/vips.h, and it loads libvips with dlopen on first
 * use (base/dl.h), so commands that touch no image never pay for it.
 *
 * The API speaks in file paths. Every function is safe to call from
 * several threads at once. Outputs are always 8-bit sRGB PNG with no
 * alpha, with EXIF orientation baked in, and are written atomically
 * (a temp file beside out, then rename), so a half-written image is never
 * seen under its final name.
 */
#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

/* Largest image side loramake accepts on input (decompression bombs). */
#define IMAGE_MAX_SIDE 16384

enum image_crop {
	IMAGE_CROP_NONE,      /* keep the aspect ratio */
	IMAGE_CROP_CENTRE,    /* square, centred */
	IMAGE_CROP_ATTENTION, /* square, around the most salient region
				 (vips_smartcrop ATTENTION: skin tones,
				 saturation, edges; lands on the face) */
};

struct image_op {
	int size;             /* 0: keep; else the longest side (CROP_NONE)
				 or the square side, Lanczos3 up or down */
	enum image_crop crop;
	bool flip;            /* mirror horizontally */
	int width, height;    /* instead of size: these sides exactly,
				 scaled to cover them and cut by crop
				 (CROP_NONE: as ATTENTION) */
};

/*
 * Decode path fully and check it: a real image, sides 1..IMAGE_MAX_SIDE.
 * Fills *w and *h (either may be NULL). -1 with err (the decoder's words)
 * when the file is not a usable image (truncated, not an image, too big).
 */
int image_probe(const char *path, int *w, int *h, struct error *err);

/*
 * End libvips, if it was started, once no image work is left: its worker
 * threads are joined, so none is still exiting while the process ends.
 * (One was: LeakSanitizer's scan at exit crashed on it, "Tracer caught
 * signal 11", in t3400 under a clean-clone .ci/run.)
 */
void image_shutdown(void);

/*
 * Read in, bake EXIF orientation, flatten alpha onto white, convert to
 * sRGB 8-bit, apply op, and write a PNG to out. -1 with err.
 */
int image_transform(const char *in, const char *out, const struct image_op *op,
		    struct error *err);

/*
 * The preview engine's placeholder: a size x size PNG whose background
 * colour comes from seed (so nodes look visibly different), with title
 * (the node id) in large type and text (its prompt words) wrapped below.
 * When input is not NULL, a small thumbnail of it is drawn in a corner so
 * the lineage is visible. Deterministic: the same arguments give the same
 * bytes. -1 with err.
 */
int image_preview(const char *out, int size, uint64_t seed, const char *title,
		  const char *text, const char *input, struct error *err);

/*
 * A 64-bit difference hash (dHash) of path: greyscale 9x8 thumbnail,
 * one bit per horizontally adjacent pair. Near-duplicates differ in few
 * bits (see image_hamming). -1 with err.
 */
int image_dhash(const char *path, uint64_t *out, struct error *err);

/* Number of differing bits between two dHashes. */
int image_hamming(uint64_t a, uint64_t b);

#endif

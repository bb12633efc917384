#ifndef LM_NORMALISE_H
#define LM_NORMALISE_H
/*
 * normalise: an image made ready for a package, as a cached step. The
 * package's images are each cut to their sides around the subject (one
 * square size, or the bucket of the image's aspect: dag_package_sides),
 * turned upright, flattened onto white and written as an 8-bit sRGB PNG
 * (image_transform); the package itself only assembles what this made.
 *
 * The step is keyed by the image's bytes (its object hash, or a source
 * file's hash) and the settings (size, crop, format and the encoder's
 * settings, NORM_VERSION); its output is an object in the store and its
 * record a line of the action log like any node's (KEY OBJ 0 0 -), so
 * it shares the log's atomic, durable append. After a one-image edit a
 * package normalises that image and finds the others in the log. The
 * scheduler starts each as soon as its image is made (runtime/sched.c).
 *
 * What keeps a normalised image alive: gc marks the normalisations of
 * the recipe's current package (norm_key of its selected images, as the
 * scheduler computes them) and drops the rest with their log lines; a
 * dropped one is made again, locally, for free (docs/cache-format.md).
 */
#include <stdbool.h>

#include "base/hash.h"
#include "base/util.h"
#include "cache/actions.h"
#include "cache/store.h"
#include "compiler/dag.h"
#include "runtime/image.h"

/* Bump when image_transform or save_png make other bytes for the same
 * image and settings: every normalisation is then made again. */
#define NORM_VERSION "1"

struct norm_spec {
	int width, height;    /* the sides (dag_package_sides); equal sides
				 with IMAGE_CROP_NONE: the longest side
				 (review's thumbnails) */
	enum image_crop crop; /* IMAGE_CROP_ATTENTION */
};

/* The settings package node pkg normalises its image img with. */
void norm_spec_of(const struct node *pkg, const struct node *img,
		  struct norm_spec *spec);

/* The key of normalising the image whose bytes hash to image. */
struct hash norm_key(const struct hash *image, const struct norm_spec *spec);

/*
 * The bytes' hash of the image a package reads for its input in: a source
 * file's hash, else outs[pick - 1] (the node's cached candidates). False
 * when there is none.
 */
bool norm_image_hash(const struct node *in, const struct hash *outs,
		     size_t nouts, int pick, struct hash *out);

/* Is key's normalisation cached (its record and its object)? Fills *obj. */
bool norm_cached(const struct actions *a, const struct store *st,
		 const struct hash *key, struct hash *obj);

/*
 * Any thread: normalise the image at in by spec into the store (*obj)
 * and append key's record to the action log at actions_path, durably.
 * The caller adds the record to its table (norm_record) on its thread.
 * -1 with err (image_transform's words).
 */
int norm_make(struct store *st, const char *actions_path, const char *in,
	      const struct norm_spec *spec, const struct hash *key,
	      struct hash *obj, struct error *err);

/* The action record of key -> *obj (borrows obj). */
struct action norm_record(const struct hash *key, struct hash *obj);

#endif

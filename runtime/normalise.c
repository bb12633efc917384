/*
 * normalise: the package's per-image step, keyed and cached
 * (runtime/normalise.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "compiler/caption.h"
#include "runtime/normalise.h"

void
norm_spec_of(const struct node *pkg, const struct node *img,
	     struct norm_spec *spec)
{
	struct sides s = dag_package_sides(pkg, img);

	spec->width = s.w;
	spec->height = s.h;
	spec->crop = IMAGE_CROP_ATTENTION;
}

/*
 * Everything that decides the bytes, as text: a change of any of them is
 * another key. "png" is the format; image.c's PNG settings ride on
 * NORM_VERSION. A square is written as its side alone, as before sides
 * could differ, so no square normalisation is made again.
 */
struct hash
norm_key(const struct hash *image, const struct norm_spec *spec)
{
	char hex[HASH_HEX_LEN + 1];
	struct buf b;
	struct hash h;

	hash_hex(image, hex);
	buf_init(&b);
	buf_addf(&b, "loramake normalise %s\nimage %s\n", NORM_VERSION, hex);
	if (spec->width == spec->height)
		buf_addf(&b, "size %d\n", spec->width);
	else
		buf_addf(&b, "width %d\nheight %d\n", spec->width, spec->height);
	buf_addf(&b, "crop %d\nformat png\n", (int)spec->crop);
	h = hash_bytes(b.data, b.len);
	buf_release(&b);
	return h;
}

bool
norm_image_hash(const struct node *in, const struct hash *outs, size_t nouts,
		int pick, struct hash *out)
{
	if (in->file) {
		*out = in->file_hash;
		return true;
	}
	if (!outs || pick < 1 || (size_t)pick > nouts)
		return false;
	*out = outs[pick - 1];
	return true;
}

bool
norm_cached(const struct actions *a, const struct store *st,
	    const struct hash *key, struct hash *obj)
{
	const struct action *rec = actions_get(a, key);

	if (!rec || rec->nouts != 1 || !store_has(st, &rec->outs[0]))
		return false;
	*obj = rec->outs[0];
	return true;
}

struct action
norm_record(const struct hash *key, struct hash *obj)
{
	struct action rec = { .key = *key, .outs = obj, .nouts = 1 };

	return rec;
}

int
norm_make(struct store *st, const char *actions_path, const char *in,
	  const struct norm_spec *spec, const struct hash *key,
	  struct hash *obj, struct error *err)
{
	struct image_op op = { .crop = spec->crop };

	if (spec->width == spec->height)
		op.size = spec->width;
	else
		op.width = spec->width, op.height = spec->height;
	char *tmp = store_tmp_path(st, ".png");
	struct action rec;
	int rc = image_transform(in, tmp, &op, err);

	if (rc == 0)
		rc = store_put_file(st, tmp, obj, err); /* tmp is gone after */
	else
		unlink(tmp);
	free(tmp);
	if (rc == 0) {
		rec = norm_record(key, obj);
		rc = actions_write(actions_path, &rec, err);
	}
	return rc;
}

/*
 * builtin: the nodes loramake makes itself, captions and packages.
 *
 * A caption node writes its caption (compiled with the recipe) as one
 * UTF-8 line with no line break.
 *
 * A package node assembles its selected images, which the scheduler has
 * normalised already (runtime/normalise.h: the package's sides, size:
 * else the target's square, or those of the image's aspect at its area;
 * cropped around the subject; upright; alpha flattened;
 * a PNG, each a cached object), beside their captions, in the layout
 * package.format names, plus a manifest.json. Nothing is decoded or
 * encoded here: a folder layout hard-links each normalised image and each
 * caption's object into the workdir, and a ZIP streams them in, stored as
 * they are. It lists the files, one relative path a line, in
 * job->outs[0], a hard link followed by a tab and the object it links
 * (the scheduler checks the inode and neither hashes nor syncs it
 * again); the scheduler caches them as a tree (cache/tree.h).
 *
 *   fal-zip      STEM.zip: the pairs, flat, and manifest.json
 *   kohya        N_TRIGGER/ (pairs), dataset_config.toml, manifest.json
 *   ai-toolkit   images/ (pairs), dataset.yaml, manifest.json
 *   imagefolder  train/ (images, metadata.jsonl), manifest.json
 *
 * File names follow TRAINERS.md §0 item 7: STEM-0001-closeup-front-tired
 * (.png, .txt): ASCII, hyphens only (no `_` tokens for sd-scripts to
 * parse), zero-padded, unique stems, never ending in -mask, -masklabel or
 * -condlabel. docs/quality.md describes every layout.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/path.h"
#include "compiler/caption.h"
#include "runtime/engine.h"
#include "runtime/normalise.h"
#include "runtime/pack.h"

#define MANIFEST_FORMAT 1
#define SLUG_MAX 48

/* The caption compiled with the recipe, or written from the vision
 * answers the node takes (the CLI's writer: quality/vision.h). */
static int
caption_run(struct job *job, struct error *err)
{
	const char *text = job->node->caption;
	struct buf b;
	int rc;

	if (!job->node->nin)
		return write_file_atomic(job->outs[0], text, strlen(text), err);
	if (!job->captions)
		return error_set(err, "no caption writer for vision answers");
	buf_init(&b);
	rc = job->captions->write(job->captions, job->node,
				  (const char *const *)job->inputs, job->ninputs,
				  &b, err);
	if (rc == 0)
		rc = write_file_atomic(job->outs[0], b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* One image of the package and its caption. */
struct staged {
	const struct node *node; /* the dataset image */
	char *name;              /* "jinx-0001-front-tired.png" */
	char *image;             /* its path in the package */
	char *caption;           /* "....txt" in the package, or NULL */
	char *text;              /* the caption */
	size_t text_len;
	struct hash image_hash, caption_hash;
};

/* A file of the package: where it goes, and where its bytes are. */
struct pfile {
	char *rel;               /* its path in the package */
	char *src;               /* the file to read (a cached object), or
				    NULL: rel in the workdir, or data */
	char *data;              /* a ZIP's text, kept in memory, or NULL */
	bool linked;             /* rel in the workdir is a hard link to the
				    cached object obj: the listing says so */
	struct hash obj;
	size_t len;
	bool stored;             /* compressed already: a ZIP stores it */
};

struct pkg {
	struct job *job;
	const struct recipe *r;
	const char *format;
	char *stem;              /* "jinx" */
	char *dir;               /* the images' folder in the package, or "" */
	int size, repeats;       /* size: the square side, or the longer of */
	struct sides base;       /* the package's own sides (size: W x H) */
	struct staged *v;
	size_t n;
	struct pfile *files;     /* every file of the package */
	size_t nfiles, capfiles;
};

/* Copy s keeping [A-Za-z0-9-], other bytes as '-', runs of '-' as one. */
static char *
ascii_name(const char *s, bool lowercase, size_t max)
{
	char *out = xmalloc(strlen(s) + 1), *w = out;

	for (; *s && (size_t)(w - out) < max; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80 && isalnum(c))
			*w++ = lowercase ? (char)tolower(c) : (char)c;
		else if (w > out && w[-1] != '-')
			*w++ = '-';
	}
	while (w > out && w[-1] == '-')
		w--;
	*w = '\0';
	return out;
}

/* "jinx" stays; "my_char" becomes "my-char". */
static char *
package_stem(const struct node *pkg)
{
	const struct section *s = &pkg->recipe->sec[KIND_PACKAGE];
	char *stem = ascii_name(s->stem ? s->stem : pkg->recipe->name, false, 64);

	if (!*stem) {
		free(stem);
		stem = xstrdup("dataset");
	}
	return stem;
}

static bool
ends_with(const char *s, const char *end)
{
	size_t ls = strlen(s), le = strlen(end);

	return ls >= le && strcmp(s + ls - le, end) == 0;
}

/* "STEM-0007-closeup-front-tired" for the k-th image (1-based). */
static char *
file_stem(const struct pkg *p, const struct node *img, size_t k)
{
	char *slug = ascii_name(img->suffix[0] ? img->suffix : img->id, true,
				SLUG_MAX);
	char *name;

	if (ends_with(slug, "mask") || ends_with(slug, "masklabel") ||
	    ends_with(slug, "condlabel"))
		name = xasprintf("%s-%04zu-%s-img", p->stem, k, slug);
	else if (*slug)
		name = xasprintf("%s-%04zu-%s", p->stem, k, slug);
	else
		name = xasprintf("%s-%04zu", p->stem, k);
	free(slug);
	return name;
}

/* List rel, whose bytes are in src (NULL: written to the workdir). */
static void
add_file(struct pkg *p, const char *rel, const char *src, bool stored)
{
	LM_GROW(p->files, p->nfiles + 1, p->capfiles);
	p->files[p->nfiles++] = (struct pfile){ .rel = xstrdup(rel),
						.src = src ? xstrdup(src) : NULL,
						.stored = stored };
}

/* List rel, a hard link in the workdir to the cached object h. */
static void
add_linked(struct pkg *p, const char *rel, const struct hash *h, bool stored)
{
	add_file(p, rel, NULL, stored);
	p->files[p->nfiles - 1].linked = true;
	p->files[p->nfiles - 1].obj = *h;
}

/* "dir/name" or "name" when dir is the package's top. */
static char *
in_dir(const char *dir, const char *name)
{
	return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

/*
 * List text as rel: a ZIP's is kept in memory (the ZIP is the only file
 * written); a folder's is written to the workdir, plainly: the scheduler
 * syncs it as it moves it into the store. -1 with err.
 */
static int
put_text(struct pkg *p, const char *rel, const char *text, size_t len,
	 struct error *err)
{
	char *path;
	int rc;

	if (strcmp(p->format, "fal-zip") == 0) {
		add_file(p, rel, NULL, false);
		p->files[p->nfiles - 1].data = xmalloc(len + 1);
		memcpy(p->files[p->nfiles - 1].data, text, len);
		p->files[p->nfiles - 1].len = len;
		return 0;
	}
	path = path_join(p->job->workdir, rel);
	rc = write_file_new(path, text, len, err);
	free(path);
	if (rc == 0)
		add_file(p, rel, NULL, false);
	return rc;
}

/*
 * Put the normalised image of input i in the package as image number
 * k: a ZIP reads the cached object itself; a folder gets a hard link to
 * it in the workdir (the store is on the same filesystem), which the
 * scheduler finds already cached.
 */
static int
stage_image(struct pkg *p, size_t i, struct staged *st, struct error *err)
{
	const char *obj = p->job->inputs[i];
	char *path;
	int rc = 0;

	st->image_hash = p->job->input_objs[i];
	if (strcmp(p->format, "fal-zip") == 0) {
		add_file(p, st->image, obj, true);
		return 0;
	}
	path = path_join(p->job->workdir, st->image);
	if (link(obj, path) < 0)
		rc = error_set(err, "cannot link '%s' to '%s':", obj, path);
	else
		add_linked(p, st->image, &st->image_hash, true);
	free(path);
	return rc;
}

/*
 * A folder's caption file: a hard link to the caption node's cached
 * object (the same bytes as st->text), named in the listing so the
 * scheduler need not hash and sync it again; a ZIP keeps the text.
 */
static int
link_caption(struct pkg *p, struct staged *st, const char *obj,
	     struct error *err)
{
	char *path;
	int rc = -1;

	if (strcmp(p->format, "fal-zip") != 0) {
		path = path_join(p->job->workdir, st->caption);
		if ((rc = link(obj, path)) == 0)
			add_linked(p, st->caption, &st->caption_hash, false);
		free(path);
	}
	if (rc < 0) /* a ZIP, or no link here: the text is written */
		rc = put_text(p, st->caption, st->text, st->text_len, err);
	return rc;
}

/* Stage input i's image and its caption as the package's image k. */
static int
stage_one(struct pkg *p, size_t i, struct staged *st, size_t k,
	  struct error *err)
{
	struct job *job = p->job;
	char *stem = file_stem(p, job->node->in[i], k), *text;
	size_t len;
	int rc;

	st->node = job->node->in[i];
	st->name = xasprintf("%s.png", stem);
	st->image = in_dir(p->dir, st->name);
	rc = stage_image(p, i, st, err);
	if (rc == 0 && (rc = read_file(job->inputs[i + 1], &text, &len, err)) == 0) {
		st->text = text;
		st->text_len = len;
		st->caption_hash = hash_bytes(text, len);
		if (strcmp(p->format, "imagefolder") != 0) {
			char *name = xasprintf("%s.txt", stem);

			st->caption = in_dir(p->dir, name);
			free(name);
			rc = link_caption(p, st, job->inputs[i + 1], err);
		}
	}
	free(stem);
	return rc;
}

static int
stage_all(struct pkg *p, struct error *err)
{
	struct job *job = p->job;

	if (*p->dir) {
		char *d = path_join(job->workdir, p->dir);
		int rc = mkdirs(d, err);

		free(d);
		if (rc < 0)
			return -1;
	}
	if (!job->input_objs)
		return error_set(err, "the package's images were not normalised");
	p->v = xcalloc(job->ninputs / 2 + 1, sizeof(*p->v));
	for (size_t i = 0; i + 1 < job->ninputs; i += 2) {
		if (!job->inputs[i])
			continue; /* not selected */
		p->n++;
		if (stage_one(p, i, &p->v[p->n - 1], p->n, err) < 0)
			return -1;
	}
	return 0;
}

/* A double-quoted TOML / YAML string: both escape '"', '\' and controls. */
static void
add_quoted(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_addf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_addf(b, "\\u%04x", c);
		else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}

/* The bucket bound sd-scripts needs: twice the side, in steps of 64. */
static int
max_bucket(int size)
{
	return (size + 63) / 64 * 64 * 2;
}

/*
 * The bucket bounds sd-scripts needs for the package's images: at most
 * 256 and twice the package's side (so ~1 MP portrait buckets fit), and
 * widened to the smallest and largest side an image has (an aspect's
 * bucket: compiler/shape.h).
 */
static void
bucket_bounds(const struct pkg *p, int *minb, int *maxb)
{
	int side = p->base.w > p->base.h ? p->base.w : p->base.h;

	*minb = p->size >= 256 ? 256 : (p->size / 64 > 0 ? p->size / 64 * 64 : 64);
	*maxb = max_bucket(side);
	for (size_t i = 0; i < p->n; i++) {
		struct sides s = dag_package_sides(p->job->node, p->v[i].node);
		int lo = (s.w < s.h ? s.w : s.h) / 64 * 64, hi = s.w > s.h ? s.w : s.h;

		if (lo >= 64 && lo < *minb)
			*minb = lo;
		if ((hi + 63) / 64 * 64 > *maxb)
			*maxb = (hi + 63) / 64 * 64;
	}
}

/* kohya-ss/sd-scripts: dataset_config.toml (TRAINERS.md §1.1). */
static int
write_kohya(struct pkg *p, struct error *err)
{
	struct buf b;
	int minb, maxb;
	int rc;

	bucket_bounds(p, &minb, &maxb);
	buf_init(&b);
	buf_addf(&b, "# kohya-ss/sd-scripts dataset config, written by loramake for %s.\n"
		 "# image_dir is relative: run the trainer from this folder, or make\n"
		 "# it absolute. Captions already hold the trigger; class_tokens is\n"
		 "# only sd-scripts' fallback for an image without a caption.\n\n",
		 p->r->name);
	buf_adds(&b, "[general]\ncaption_extension = \".txt\"\n"
		 "shuffle_caption = false\nkeep_tokens = 0\n\n");
	buf_addf(&b, "[[datasets]]\nresolution = [%d, %d]\nbatch_size = 1\n"
		 "enable_bucket = true\nmin_bucket_reso = %d\nmax_bucket_reso = %d\n"
		 "bucket_reso_steps = 64\nbucket_no_upscale = true\n\n",
		 p->base.w, p->base.h, minb, maxb);
	buf_adds(&b, "  [[datasets.subsets]]\n  image_dir = ");
	add_quoted(&b, p->dir);
	buf_addf(&b, "\n  num_repeats = %d\n  class_tokens = ", p->repeats);
	add_quoted(&b, p->r->trigger ? p->r->trigger : p->r->name);
	buf_addc(&b, '\n');
	rc = put_text(p, "dataset_config.toml", b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* ostris/ai-toolkit: a dataset snippet for config.process[0]. */
static int
write_aitk(struct pkg *p, struct error *err)
{
	struct buf b;
	int rc;

	buf_init(&b);
	buf_addf(&b, "# ai-toolkit dataset snippet, written by loramake for %s: paste\n"
		 "# it under config.process[0] of a training config. folder_path is\n"
		 "# relative to this file's folder; make it absolute if ai-toolkit\n"
		 "# runs from elsewhere. Captions already hold the trigger.\n",
		 p->r->name);
	buf_adds(&b, "trigger_word: ");
	add_quoted(&b, p->r->trigger ? p->r->trigger : p->r->name);
	buf_adds(&b, "\ndatasets:\n  - folder_path: ");
	add_quoted(&b, p->dir);
	buf_addf(&b, "\n    caption_ext: \"txt\"\n    shuffle_tokens: false\n"
		 "    cache_latents_to_disk: true\n    num_repeats: %d\n"
		 "    resolution: [%d]\n", p->repeats, p->size);
	rc = put_text(p, "dataset.yaml", b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* Hugging Face imagefolder: train/metadata.jsonl, file_name and text. */
static int
write_jsonl(struct pkg *p, struct error *err)
{
	struct buf b;
	char *rel;
	int rc = 0;

	buf_init(&b);
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		json_t *o = json_pack("{s:s, s:s}", "file_name", p->v[i].name,
				      "text", p->v[i].text);
		char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)
			       : NULL;

		if (!line)
			rc = error_set(err, "cannot write the caption of %s as JSON "
				       "(not UTF-8?)", p->v[i].node->id);
		else
			buf_addf(&b, "%s\n", line);
		free(line);
		json_decref(o);
	}
	rel = in_dir(p->dir, "metadata.jsonl");
	if (rc == 0)
		rc = put_text(p, rel, b.data, b.len, err);
	free(rel);
	buf_release(&b);
	return rc;
}

/* A source file as a path from the recipe's folder, as the recipe says. */
static const char *
recipe_relative(const struct recipe *r, const char *file)
{
	size_t dl = strlen(r->dir);

	if (strcmp(r->dir, ".") && strncmp(file, r->dir, dl) == 0 && file[dl] == '/')
		return file + dl + 1;
	return file;
}

/* The nodes up the image's lineage: seeds of jobs, source files. */
static json_t *
lineage_json(const struct recipe *r, const struct node *img)
{
	json_t *a = json_array();

	for (const struct node *n = img; n; n = n->nin ? n->in[0] : NULL) {
		json_t *o = json_pack("{s:s}", "node", n->id);

		if (node_has_job(n))
			json_object_set_new(o, "seed", json_integer(n->seed));
		else if (n->file)
			json_object_set_new(o, "file",
					    json_string(recipe_relative(r, n->file)));
		json_array_append_new(a, o);
	}
	return a;
}

/* One file's manifest entry; NULL if its caption is not UTF-8. */
static json_t *
file_json(const struct recipe *r, const struct staged *st)
{
	char ih[HASH_HEX_LEN + 1], ch[HASH_HEX_LEN + 1];
	json_t *o = json_object(), *cap = json_string(st->text ? st->text : "");

	if (!cap) {
		json_decref(o);
		return NULL;
	}
	hash_hex(&st->image_hash, ih);
	hash_hex(&st->caption_hash, ch);
	json_object_set_new(o, "image", json_string(st->image));
	json_object_set_new(o, "image_xxh128", json_string(ih));
	if (st->caption)
		json_object_set_new(o, "caption_file", json_string(st->caption));
	json_object_set_new(o, "caption_xxh128", json_string(ch));
	json_object_set_new(o, "caption", cap);
	json_object_set_new(o, "node", json_string(st->node->id));
	json_object_set_new(o, "seed", json_integer(st->node->seed));
	json_object_set_new(o, "lineage", lineage_json(r, st->node));
	return o;
}

/*
 * manifest.json: what this package is and how to make it again. The
 * recipe hash is of the recipe file as it was when the package was built
 * (a comment edit rebuilds nothing, so it may lag); "key" is the package
 * node's key, which changes exactly when the package does.
 */
static int
write_manifest(struct pkg *p, struct error *err)
{
	const struct source *src = p->r->src;
	struct hash rh = hash_bytes(src ? src->text : "", src ? src->len : 0);
	char rhex[HASH_HEX_LEN + 1], khex[HASH_HEX_LEN + 1];
	json_t *m, *files = json_array();
	char *text;
	int rc;

	hash_hex(&rh, rhex);
	hash_hex(&p->job->node->key, khex);
	for (size_t i = 0; i < p->n; i++) {
		json_t *f = file_json(p->r, &p->v[i]);

		if (!f) {
			json_decref(files);
			return error_set(err, "cannot write the manifest entry of %s "
					 "(caption not UTF-8?)", p->v[i].node->id);
		}
		json_array_append_new(files, f);
	}
	m = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o}",
		      "manifest", MANIFEST_FORMAT, "recipe", p->r->name,
		      "recipe_xxh128", rhex, "key", khex, "trigger",
		      p->r->trigger ? p->r->trigger : "", "target", p->r->target,
		      "format", p->format, "size", p->size, "repeats", p->repeats,
		      "files", files);
	if (m && p->base.w != p->base.h) {
		json_object_set_new(m, "width", json_integer(p->base.w));
		json_object_set_new(m, "height", json_integer(p->base.h));
	}
	text = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(m);
	if (!text)
		return error_set(err, "cannot write manifest.json");
	char *nl = xasprintf("%s\n", text);

	free(text);
	rc = put_text(p, "manifest.json", nl, strlen(nl), err);
	free(nl);
	return rc;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct pfile *)a)->rel, ((const struct pfile *)b)->rel);
}

static void
drop_files(struct pkg *p)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].rel);
		free(p->files[i].src);
		free(p->files[i].data);
	}
	p->nfiles = 0;
}

/* fal-zip: zip every file listed so far into STEM.zip, which replaces
 * them in the listing (those written to the workdir are removed; cached
 * objects are only read). */
static int
zip_files(struct pkg *p, struct error *err)
{
	struct pack_entry *e = xcalloc(p->nfiles + 1, sizeof(*e));
	char **paths = xcalloc(p->nfiles + 1, sizeof(*paths));
	char *zipname = xasprintf("%s.zip", p->stem);
	char *zip = path_join(p->job->workdir, zipname);
	int rc;

	for (size_t i = 0; i < p->nfiles; i++) {
		const struct pfile *f = &p->files[i];

		if (!f->src && !f->data)
			paths[i] = path_join(p->job->workdir, f->rel);
		e[i] = (struct pack_entry){ .name = f->rel,
					    .path = f->data ? NULL : f->src ? f->src : paths[i],
					    .data = f->data, .len = f->len,
					    .stored = f->stored };
	}
	rc = pack_zip(zip, e, p->nfiles, err);
	for (size_t i = 0; i < p->nfiles; i++) {
		if (paths[i])
			unlink(paths[i]);
		free(paths[i]);
	}
	drop_files(p);
	if (rc == 0)
		add_file(p, zipname, NULL, false);
	free(paths);
	free(e);
	free(zip);
	free(zipname);
	return rc;
}

/*
 * Can s stand in a folder name as it is? Not when it is empty or long, or
 * holds a path separator, a control character or a character Windows
 * refuses (or ends in the dot or space it drops). (Recipe text is valid UTF-8: compiler/ytree.c checks.)
 */
static bool
folder_safe(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 100 || s[len - 1] == '.' || s[len - 1] == ' ')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("/\\:*?\"<>|", *p))
			return false;
	return true;
}

/*
 * The folder of the images: N_TRIGGER (kohya), images, train, or none.
 * sd-scripts reads a kohya folder name as repeats, "_", then the class
 * tokens (TRAINERS.md 1.1), so the trigger is kept as written,
 * underscores and all: "10_miyomi_trader". Only a trigger that cannot be
 * a folder name is reduced to ASCII letters, digits and hyphens.
 */
static char *
images_dir(const struct pkg *p)
{
	if (strcmp(p->format, "kohya") == 0) {
		const char *trigger = p->r->trigger ? p->r->trigger : p->r->name;
		char *t = folder_safe(trigger) ? xstrdup(trigger)
					       : ascii_name(trigger, false, 64);
		char *d = xasprintf("%d_%s", p->repeats, *t ? t : "dataset");

		free(t);
		return d;
	}
	if (strcmp(p->format, "ai-toolkit") == 0)
		return xstrdup("images");
	if (strcmp(p->format, "imagefolder") == 0)
		return xstrdup("train");
	return xstrdup("");
}

static void
pkg_init(struct pkg *p, struct job *job)
{
	const struct section *s = &job->node->recipe->sec[KIND_PACKAGE];

	memset(p, 0, sizeof(*p));
	p->job = job;
	p->r = job->node->recipe;
	p->format = s->format ? s->format : "fal-zip";
	p->stem = package_stem(job->node);
	p->base = dag_package_base(job->node);
	/* ai-toolkit's resolution and the manifest's size: the side of the
	 * package's area, in steps of 64 (the side itself for a square) */
	p->size = p->base.w == p->base.h ? p->base.w
		: (int)lround(sqrt((double)p->base.w * p->base.h) / 64) * 64;
	p->repeats = s->repeats ? s->repeats : RECIPE_DEFAULT_REPEATS;
	p->dir = images_dir(p);
}

static void
pkg_release(struct pkg *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].image);
		free(p->v[i].caption);
		free(p->v[i].text);
	}
	drop_files(p);
	free(p->files);
	free(p->v);
	free(p->stem);
	free(p->dir);
}

/* Write the listing, sorted, as outs[0]. */
static int
write_listing(struct pkg *p, struct error *err)
{
	struct buf b;
	int rc;

	qsort(p->files, p->nfiles, sizeof(*p->files), by_path);
	buf_init(&b);
	for (size_t i = 0; i < p->nfiles; i++) {
		char hex[HASH_HEX_LEN + 1];

		buf_adds(&b, p->files[i].rel);
		if (p->files[i].linked) {
			hash_hex(&p->files[i].obj, hex);
			buf_addf(&b, "\t%s", hex);
		}
		buf_addc(&b, '\n');
	}
	rc = write_file_atomic(p->job->outs[0], b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* After a failure: remove what was written, and the images' folder. */
static void
unstage(struct pkg *p)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		char *path;

		if (p->files[i].src || p->files[i].data)
			continue; /* a cached object, or in memory */
		path = path_join(p->job->workdir, p->files[i].rel);
		unlink(path);
		free(path);
	}
	if (*p->dir) {
		char *d = path_join(p->job->workdir, p->dir);

		rmdir(d);
		free(d);
	}
}

static int
package_run(struct job *job, struct error *err)
{
	struct pkg p;
	int rc;

	pkg_init(&p, job);
	rc = stage_all(&p, err);
	if (rc == 0 && strcmp(p.format, "kohya") == 0)
		rc = write_kohya(&p, err);
	else if (rc == 0 && strcmp(p.format, "ai-toolkit") == 0)
		rc = write_aitk(&p, err);
	else if (rc == 0 && strcmp(p.format, "imagefolder") == 0)
		rc = write_jsonl(&p, err);
	if (rc == 0)
		rc = write_manifest(&p, err);
	if (rc == 0 && strcmp(p.format, "fal-zip") == 0) {
		qsort(p.files, p.nfiles, sizeof(*p.files), by_path);
		rc = zip_files(&p, err);
	}
	if (rc == 0)
		rc = write_listing(&p, err);
	if (rc < 0)
		unstage(&p); /* the scheduler cleans only the workdir's top */
	pkg_release(&p);
	return rc;
}

static int
builtin_run(struct job *job, struct error *err)
{
	switch (job->node->kind) {
	case KIND_CAPTION:
		return caption_run(job, err);
	case KIND_PACKAGE:
		return package_run(job, err);
	default:
		return error_set(err, "loramake makes captions and packages, not %s",
				 kind_name(job->node->kind));
	}
}

const struct engine engine_loramake = {
	.type = "loramake",
	.exec = ENGINE_LOCAL,
	.run = builtin_run,
};

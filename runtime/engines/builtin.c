/*
 * builtin: the nodes loramake makes itself, captions and packages.
 *
 * A caption node writes its caption (compiled with the recipe) as one
 * UTF-8 line with no line break. A package node normalises every selected
 * image (one square size, crop around the face) into its workdir beside
 * its caption as NAME_001.png + NAME_001.txt, and packs them; the package
 * is cached as a tree (cache/tree.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/path.h"
#include "runtime/engine.h"
#include "runtime/image.h"
#include "runtime/pack.h"

#define PACKAGE_DEFAULT_SIZE 1024

static int
caption_run(struct job *job, struct error *err)
{
	const char *text = job->node->caption;

	return write_file_atomic(job->outs[0], text, strlen(text), err);
}

/* "jinx" stays; "my_char" becomes "my-char" (see TRAINERS.md §0 item 7:
 * names of five or more _-separated tokens confuse sd-scripts). */
static char *
package_stem(const struct node *pkg)
{
	const struct section *s = &pkg->recipe->sec[KIND_PACKAGE];
	char *stem = xstrdup(s->stem ? s->stem : pkg->recipe->name);

	for (char *p = stem; *p; p++)
		if (*p == '_')
			*p = '-';
	return stem;
}

struct pair {
	char *image, *caption; /* names inside the package */
};

/* Normalise and copy each selected image + caption into workdir. */
static int
stage_pairs(struct job *job, const char *stem, struct pair **out, size_t *n,
	    struct error *err)
{
	const struct node *pkg = job->node;
	struct image_op op = { .size = pkg->size ? pkg->size : PACKAGE_DEFAULT_SIZE,
			       .crop = IMAGE_CROP_ATTENTION };
	struct pair *v = xcalloc(job->ninputs / 2 + 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i + 1 < job->ninputs; i += 2) {
		char *text, *dst;
		size_t len;

		if (!job->inputs[i])
			continue; /* not selected */
		v[k].image = xasprintf("%s_%03zu.png", stem, k + 1);
		v[k].caption = xasprintf("%s_%03zu.txt", stem, k + 1);
		k++;
		dst = path_join(job->workdir, v[k - 1].image);
		int rc = image_transform(job->inputs[i], dst, &op, err);
		free(dst);
		if (rc < 0 || read_file(job->inputs[i + 1], &text, &len, err) < 0)
			goto fail;
		dst = path_join(job->workdir, v[k - 1].caption);
		rc = write_file_atomic(dst, text, len, err);
		free(dst);
		free(text);
		if (rc < 0)
			goto fail;
	}
	*out = v;
	*n = k;
	return 0;
fail:
	for (size_t i = 0; i < k; i++)
		free(v[i].image), free(v[i].caption);
	free(v);
	return -1;
}

static int
zip_pairs(struct job *job, const char *zipname, const struct pair *v,
	  size_t n, struct error *err)
{
	struct pack_entry *e = xcalloc(2 * n + 1, sizeof(*e));
	char **paths = xcalloc(2 * n + 1, sizeof(*paths));
	char *zip = path_join(job->workdir, zipname);
	int rc;

	for (size_t i = 0; i < n; i++) {
		paths[2 * i] = path_join(job->workdir, v[i].image);
		paths[2 * i + 1] = path_join(job->workdir, v[i].caption);
		e[2 * i] = (struct pack_entry){ v[i].image, paths[2 * i], NULL, 0 };
		e[2 * i + 1] = (struct pack_entry){ v[i].caption, paths[2 * i + 1],
						    NULL, 0 };
	}
	rc = pack_zip(zip, e, 2 * n, err);
	for (size_t i = 0; i < 2 * n; i++)
		free(paths[i]);
	free(paths);
	free(e);
	free(zip);
	return rc;
}

static int
package_run(struct job *job, struct error *err)
{
	char *stem = package_stem(job->node), *zipname;
	struct pair *v = NULL;
	size_t n = 0;
	int rc;

	if (stage_pairs(job, stem, &v, &n, err) < 0) {
		free(stem);
		return -1;
	}
	zipname = xasprintf("%s.zip", stem);
	rc = zip_pairs(job, zipname, v, n, err);
	if (rc == 0) {
		char *list = xasprintf("%s\n", zipname);

		rc = write_file_atomic(job->outs[0], list, strlen(list), err);
		free(list);
	}
	for (size_t i = 0; i < n; i++) {
		char *p = path_join(job->workdir, v[i].image);

		unlink(p); /* only the archive is kept */
		free(p);
		p = path_join(job->workdir, v[i].caption);
		unlink(p);
		free(p);
		free(v[i].image);
		free(v[i].caption);
	}
	free(v);
	free(zipname);
	free(stem);
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

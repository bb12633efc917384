/*
 * test_image: unit tests for runtime/image.c (cmocka).
 *
 * Inputs are the small PNGs in tests/data/images/ (regenerate them with
 * make.py there); broken inputs (a PNG cut in half, a text file) are made
 * by the tests. Each test gets a fresh folder from mkdtemp() and its
 * teardown checks two things for every test: no "<out>.tmp.*" file was
 * left behind, and no VipsObject outlived the test (image_live_objects,
 * an LM_UNITTEST hook: LSan cannot see a missed g_object_unref because
 * libvips keeps every live object in a global table).
 *
 * Outputs are checked by reading the PNG chunks directly (IHDR for the
 * size, bit depth and colour type; no chunk but IHDR, pHYs, IDAT and
 * IEND, so no EXIF, ICC profile or text survives), and by image_dhash for
 * coarse pixel content.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/image.h"
#include "base/path.h"

/* From runtime/image.c, compiled with -DLM_UNITTEST. */
int image_live_objects(void);

/* One test's folder; owned, removed in teardown. */
struct fixture {
	char dir[64];
	int live;     /* live VipsObjects when the test started */
};

/* What png_info() finds in a PNG file. */
struct png_info {
	unsigned w, h;
	int depth;         /* bits per sample */
	int colour;        /* 2 = RGB, 6 = RGBA, 0 = grey, ... */
	bool no_meta;      /* no chunk but IHDR, pHYs, IDAT, IEND */
};

static char *data_dir;

/*
 * Find tests/data/images: under $LM_SRCDIR, else the working folder (make
 * check runs from the top), else beside this binary (obj-san/tests/), else
 * from __FILE__.
 */
static int
find_data(void **state)
{
	const char *src = getenv("LM_SRCDIR");
	char *cand[4] = { NULL }, *exe = realpath("/proc/self/exe", NULL);
	char *dir;

	cand[0] = src ? path_join(src, "tests/data/images") : NULL;
	cand[1] = xstrdup("tests/data/images");
	if (exe) {
		dir = path_dir(exe);
		cand[2] = path_join(dir, "../../tests/data/images");
		free(dir);
		free(exe);
	}
	dir = path_dir(__FILE__);
	cand[3] = path_join(dir, "../data/images");
	free(dir);
	for (size_t i = 0; i < LM_ARRAY_LEN(cand); i++) {
		char *probe = cand[i] ? path_join(cand[i], "scene.png") : NULL;

		if (!data_dir && probe && path_exists(probe))
			data_dir = xstrdup(cand[i]);
		free(probe);
		free(cand[i]);
	}
	if (!data_dir)
		fprintf(stderr, "test_image: cannot find tests/data/images "
			"(set LM_SRCDIR to the source tree)\n");
	return data_dir ? 0 : -1;
}

static int
free_data(void **state)
{
	free(data_dir);
	return 0;
}

/* A fixture file's path; caller frees. */
static char *
data(const char *name)
{
	return path_join(data_dir, name);
}

/* name inside the test's folder; caller frees. */
static char *
tmp(struct fixture *f, const char *name)
{
	return path_join(f->dir, name);
}

/* How many entries DIR holds (not . and ..). */
static size_t
files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_image.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	f->live = image_live_objects();
	*state = f;
	return 0;
}

/* Remove the folder; fail if a temp file or a VipsObject was left. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int tmps = 0, live = image_live_objects();
	bool ok;
	char *p;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (strstr(e->d_name, ".tmp."))
			tmps++;
		p = tmp(f, e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	if (tmps)
		fprintf(stderr, "test_image: %d temp file(s) left\n", tmps);
	ok = tmps == 0 && live >= 0 && live == f->live;
	if (live != f->live)
		fprintf(stderr, "test_image: %d VipsObject(s) before, "
			"%d after\n", f->live, live);
	free(f);
	return ok ? 0 : -1;
}

/* The bytes of path; caller frees. Asserts the file can be read. */
static char *
slurp(const char *path, size_t *len)
{
	struct error err;
	char *buf = NULL;

	assert_int_equal(read_file(path, &buf, len, &err), 0);
	return buf;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Parse path's PNG chunks into *info; asserts it is a well-formed PNG. */
static void
png_info(const char *path, struct png_info *info)
{
	size_t len, off = 8;
	unsigned char *p = (unsigned char *)slurp(path, &len);
	bool end = false;

	memset(info, 0, sizeof(*info));
	info->no_meta = true;
	assert_true(len > 33);
	assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
	assert_memory_equal(p + 12, "IHDR", 4);
	info->w = be32(p + 16);
	info->h = be32(p + 20);
	info->depth = p[24];
	info->colour = p[25];
	while (!end && off + 12 <= len) {
		uint32_t n = be32(p + off);
		const char *type = (const char *)p + off + 4;

		if (memcmp(type, "IHDR", 4) && memcmp(type, "IDAT", 4) &&
		    memcmp(type, "IEND", 4) && memcmp(type, "pHYs", 4))
			info->no_meta = false;
		end = memcmp(type, "IEND", 4) == 0;
		off += 12 + (size_t)n;
	}
	assert_true(end);
	free(p);
}

/* Assert path is a w x h 8-bit RGB PNG with no metadata chunks. */
static void
assert_rgb_png(const char *path, unsigned w, unsigned h)
{
	struct png_info info;

	png_info(path, &info);
	assert_int_equal(info.w, w);
	assert_int_equal(info.h, h);
	assert_int_equal(info.depth, 8);
	assert_int_equal(info.colour, 2);
	assert_true(info.no_meta);
}

/* Do files a and b hold the same bytes? */
static bool
same_bytes(const char *a, const char *b)
{
	size_t na, nb;
	char *pa = slurp(a, &na), *pb = slurp(b, &nb);
	bool same = na == nb && memcmp(pa, pb, na) == 0;

	free(pa);
	free(pb);
	return same;
}

/* Write the first len bytes of from (or all if it is shorter) to to. */
static void
copy_head(const char *from, const char *to, size_t len)
{
	struct error err;
	size_t n;
	char *p = slurp(from, &n);

	assert_int_equal(write_file_atomic(to, p, n < len ? n : len, &err), 0);
	free(p);
}

static void
test_probe_good(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char *scene = data("scene.png"), *exif = data("exif6.png");
	char *grey = data("grey16a.png"), *odd = tmp(f, "odd[1]");
	int w = 0, h = 0;

	assert_int_equal(image_probe(scene, &w, &h, &err), 0);
	assert_int_equal(w, 128);
	assert_int_equal(h, 96);
	assert_int_equal(image_probe(grey, &w, NULL, &err), 0);
	assert_int_equal(w, 20);
	/* stored 40x20, orientation 6: displayed 20x40 */
	assert_int_equal(image_probe(exif, &w, &h, &err), 0);
	assert_int_equal(w, 20);
	assert_int_equal(h, 40);
	/* a name vips_image_new_from_file would read as "odd" + options */
	copy_head(scene, odd, SIZE_MAX);
	assert_int_equal(image_probe(odd, &w, &h, &err), 0);
	assert_int_equal(w, 128);
	free(scene);
	free(exif);
	free(grey);
	free(odd);
}

static void
test_probe_truncated(void **state)
{
	struct fixture *f = *state;
	struct error err = { "" };
	struct image_op op = { .size = 32, .crop = IMAGE_CROP_NONE, .flip = false };
	char *scene = data("scene.png"), *cut = tmp(f, "cut.png");
	char *out = tmp(f, "out.png");
	size_t len;
	uint64_t hash;

	free(slurp(scene, &len));
	copy_head(scene, cut, len / 2);
	assert_int_equal(image_probe(cut, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "cut.png"));
	assert_non_null(strstr(err.msg, "png")); /* libvips' own words */
	err.msg[0] = '\0';
	assert_int_equal(image_transform(cut, out, &op, &err), -1);
	assert_true(err.msg[0] != '\0');
	assert_false(path_exists(out));
	err.msg[0] = '\0';
	assert_int_equal(image_dhash(cut, &hash, &err), -1);
	assert_true(err.msg[0] != '\0');
	free(scene);
	free(cut);
	free(out);
}

static void
test_probe_not_image(void **state)
{
	struct fixture *f = *state;
	struct error err = { "" };
	char *txt = tmp(f, "notes.png"), *missing = tmp(f, "missing.png");
	char *wide = data("wide.png");
	static const char words[] = "this is not a picture\n";

	assert_int_equal(write_file_atomic(txt, words, sizeof(words) - 1,
					   &err), 0);
	assert_int_equal(image_probe(txt, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "notes.png"));
	assert_non_null(strstr(err.msg, "not a known file format"));
	assert_int_equal(image_probe(missing, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "missing.png"));
	/* one pixel wider than IMAGE_MAX_SIDE: refused before decoding */
	assert_int_equal(image_probe(wide, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "16385x1"));
	free(txt);
	free(missing);
	free(wide);
}

static void
test_transform_resize(void **state)
{
	struct fixture *f = *state;
	struct error err;
	struct image_op op = { .size = 64, .crop = IMAGE_CROP_NONE, .flip = false };
	char *scene = data("scene.png"), *rgba = data("rgba.png");
	char *exif = data("exif6.png"), *out = tmp(f, "out.png");

	/* down: 128x96 -> 64x48 */
	assert_int_equal(image_transform(scene, out, &op, &err), 0);
	assert_rgb_png(out, 64, 48);
	/* up: 48x32 -> 100x67 */
	op.size = 100;
	assert_int_equal(image_transform(rgba, out, &op, &err), 0);
	assert_rgb_png(out, 100, 67);
	/* orientation baked in: stored 40x20, displayed 20x40 */
	op.size = 0;
	assert_int_equal(image_transform(exif, out, &op, &err), 0);
	assert_rgb_png(out, 20, 40);
	op.size = 64;
	assert_int_equal(image_transform(exif, out, &op, &err), 0);
	assert_rgb_png(out, 32, 64);
	free(scene);
	free(rgba);
	free(exif);
	free(out);
}

static void
test_transform_crop(void **state)
{
	struct fixture *f = *state;
	struct error err;
	struct image_op op = { .size = 48, .crop = IMAGE_CROP_ATTENTION, .flip = false };
	char *scene = data("scene.png"), *exif = data("exif6.png");
	char *att = tmp(f, "att.png"), *cen = tmp(f, "cen.png");

	assert_int_equal(image_transform(scene, att, &op, &err), 0);
	assert_rgb_png(att, 48, 48);
	op.crop = IMAGE_CROP_CENTRE;
	assert_int_equal(image_transform(scene, cen, &op, &err), 0);
	assert_rgb_png(cen, 48, 48);
	/* the subject sits in the right third: attention moves the square */
	assert_false(same_bytes(att, cen));
	/* a crop after a quarter turn */
	op.size = 16;
	assert_int_equal(image_transform(exif, cen, &op, &err), 0);
	assert_rgb_png(cen, 16, 16);
	/* sides of an aspect: covered, then cut; upright after a turn too */
	op = (struct image_op){ .crop = IMAGE_CROP_ATTENTION, .width = 32,
				.height = 48 };
	assert_int_equal(image_transform(scene, att, &op, &err), 0);
	assert_rgb_png(att, 32, 48);
	op.width = 40, op.height = 24;
	assert_int_equal(image_transform(exif, cen, &op, &err), 0);
	assert_rgb_png(cen, 40, 24);
	op.crop = IMAGE_CROP_NONE; /* W x H always cuts to its sides */
	assert_int_equal(image_transform(scene, cen, &op, &err), 0);
	assert_rgb_png(cen, 40, 24);
	free(scene);
	free(exif);
	free(att);
	free(cen);
}

static void
test_transform_flatten(void **state)
{
	struct fixture *f = *state;
	struct error err;
	struct image_op op = { .size = 0, .crop = IMAGE_CROP_NONE, .flip = false };
	char *rgba = data("rgba.png"), *white = data("rgba_on_white.png");
	char *grey = data("grey16a.png"), *a = tmp(f, "a.png");
	char *b = tmp(f, "b.png");

	/*
	 * Transparent pixels become exactly white and opaque ones keep their
	 * colour: the same bytes as the picture flattened by hand. On black,
	 * or with alpha dropped (red), the right half would differ.
	 */
	assert_int_equal(image_transform(rgba, a, &op, &err), 0);
	assert_rgb_png(a, 48, 32);
	assert_int_equal(image_transform(white, b, &op, &err), 0);
	assert_true(same_bytes(a, b));
	/* 16-bit grey with alpha: 8-bit RGB too */
	assert_int_equal(image_transform(grey, a, &op, &err), 0);
	assert_rgb_png(a, 20, 20);
	free(rgba);
	free(white);
	free(grey);
	free(a);
	free(b);
}

static void
test_transform_flip(void **state)
{
	struct fixture *f = *state;
	struct error err;
	struct image_op op = { .size = 64, .crop = IMAGE_CROP_NONE, .flip = false };
	char *scene = data("scene.png"), *a = tmp(f, "a.png");
	char *b = tmp(f, "b.png"), *c = tmp(f, "c.png"), *d = tmp(f, "d.png");

	assert_int_equal(image_transform(scene, a, &op, &err), 0);
	assert_int_equal(image_transform(scene, d, &op, &err), 0);
	assert_true(same_bytes(a, d)); /* deterministic */
	op.flip = true;
	assert_int_equal(image_transform(scene, b, &op, &err), 0);
	assert_false(same_bytes(a, b));
	op.size = 0;
	assert_int_equal(image_transform(b, c, &op, &err), 0);
	assert_true(same_bytes(a, c)); /* flipped twice */
	free(scene);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void
test_transform_bad_args(void **state)
{
	struct fixture *f = *state;
	struct error err = { "" };
	struct image_op op = { .size = -1, .crop = IMAGE_CROP_NONE, .flip = false };
	char *scene = data("scene.png"), *out = tmp(f, "out.png");
	char *nodir = tmp(f, "no/such/dir/out.png");

	assert_int_equal(image_transform(scene, out, &op, &err), -1);
	assert_non_null(strstr(err.msg, "-1"));
	op.size = 8;
	op.crop = (enum image_crop)42;
	assert_int_equal(image_transform(scene, out, &op, &err), -1);
	op.crop = IMAGE_CROP_NONE;
	assert_int_equal(image_transform(scene, nodir, &op, &err), -1);
	assert_non_null(strstr(err.msg, "no/such/dir/out.png"));
	assert_false(path_exists(out));
	free(scene);
	free(out);
	free(nodir);
}

static void
test_preview(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char *a = tmp(f, "a.png"), *b = tmp(f, "b.png"), *c = tmp(f, "c.png");
	char *scene = data("scene.png"), *cut = tmp(f, "cut.png");
	char long_text[2001];

	assert_int_equal(image_preview(a, 256, 7, "hero_front",
				       "photo of sks woman, smiling", scene,
				       &err), 0);
	assert_rgb_png(a, 256, 256);
	assert_int_equal(image_preview(b, 256, 7, "hero_front",
				       "photo of sks woman, smiling", scene,
				       &err), 0);
	assert_true(same_bytes(a, b));
	assert_int_equal(image_preview(c, 256, 8, "hero_front",
				       "photo of sks woman, smiling", scene,
				       &err), 0);
	assert_false(same_bytes(a, c));
	/* markup, bad UTF-8, control characters, a long prompt, no input */
	memset(long_text, 'w', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_int_equal(image_preview(b, 64, 1, "<b>&amp", long_text, NULL,
				       &err), 0);
	assert_rgb_png(b, 64, 64);
	assert_int_equal(image_preview(b, 128, 1, "bad \xff\xfe utf8\x01",
				       "", NULL, &err), 0);
	assert_int_equal(image_preview(b, 128, 1, NULL, NULL, NULL, &err), 0);
	/* an unreadable input or a size too small is an error, and nothing
	 * is written: not the output, not a temporary beside it */
	char *none = tmp(f, "none.png");
	size_t before = files_in(f->dir);

	copy_head(scene, cut, 100);
	before++; /* cut.png */
	assert_int_equal(image_preview(none, 128, 1, "x", "y", cut, &err), -1);
	assert_int_equal(image_preview(none, 8, 1, "x", "y", NULL, &err), -1);
	assert_false(path_exists(none));
	assert_int_equal(files_in(f->dir), before);
	free(none);
	free(a);
	free(b);
	free(c);
	free(scene);
	free(cut);
}

static void
test_dhash(void **state)
{
	struct fixture *f = *state;
	struct error err;
	struct image_op op = { .size = 64, .crop = IMAGE_CROP_NONE, .flip = false };
	char *scene = data("scene.png"), *bright = data("scene_bright.png");
	char *small = tmp(f, "small.png"), *p1 = tmp(f, "p1.png");
	char *p2 = tmp(f, "p2.png"), *known = data("dhash9x8.png");
	uint64_t h0, h1, h2, h3;

	assert_int_equal(image_hamming(0, 0), 0);
	assert_int_equal(image_hamming(0, UINT64_MAX), 64);
	assert_int_equal(image_hamming(0x5, 0x3), 2);
	/* bit order and comparison direction, on a 9x8 fixture (make.py) */
	assert_int_equal(image_dhash(known, &h0, &err), 0);
	h1 = 0;
	for (int y = 0; y < 8; y++)
		h1 = h1 << 8 | (uint64_t)((y * 37 + 11) & 0xff);
	assert_int_equal(h0, h1);
	/* a near duplicate: brighter, smaller, re-encoded */
	assert_int_equal(image_transform(bright, small, &op, &err), 0);
	assert_int_equal(image_dhash(scene, &h0, &err), 0);
	assert_int_equal(image_dhash(small, &h1, &err), 0);
	assert_true(image_hamming(h0, h1) <= 10);
	/* two different placeholders */
	assert_int_equal(image_preview(p1, 256, 1, "hero_front",
				       "a photo of sks woman", NULL, &err), 0);
	assert_int_equal(image_preview(p2, 256, 2, "angle_left_03",
				       "profile view", NULL, &err), 0);
	assert_int_equal(image_dhash(p1, &h2, &err), 0);
	assert_int_equal(image_dhash(p2, &h3, &err), 0);
	assert_true(image_hamming(h2, h3) > 10);
	assert_true(image_hamming(h0, h2) > 10);
	free(scene);
	free(bright);
	free(small);
	free(p1);
	free(p2);
	free(known);
}

/* One thread of test_threads: its own outputs, the same operations. */
struct worker {
	const char *dir;
	int id;
	uint64_t hash;
	int failures;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct image_op op = { .size = 40, .crop = IMAGE_CROP_ATTENTION, .flip = true };
	struct error err;
	char *scene = data("scene.png");
	char *out = xasprintf("%s/t%d.png", w->dir, w->id);
	char *prev = xasprintf("%s/p%d.png", w->dir, w->id);

	for (int i = 0; i < 5; i++) {
		if (image_transform(scene, out, &op, &err) < 0 ||
		    image_preview(prev, 96, 3, "t", "text", out, &err) < 0 ||
		    image_dhash(prev, &w->hash, &err) < 0)
			w->failures++;
	}
	free(scene);
	free(out);
	free(prev);
	return NULL;
}

static void
test_threads(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];
	char *a, *b;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .dir = f->dir, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(w[i].failures, 0);
		assert_int_equal(w[i].hash, w[0].hash);
		a = xasprintf("%s/p0.png", f->dir);
		b = xasprintf("%s/p%d.png", f->dir, i);
		assert_true(same_bytes(a, b));
		free(a);
		free(b);
	}
}

/*
 * The serial of this thread's pango font map (the one vips_text lays out
 * with), which pango bumps each time it clears the map; -1 when libvips
 * has not loaded pango. Looked up in the already loaded library, so the
 * test links nothing new.
 */
static long
font_map_serial(void)
{
	void *lib = dlopen("libpangocairo-1.0.so.0", RTLD_LAZY | RTLD_NOLOAD);
	void *(*get_default)(void);
	unsigned (*get_serial)(void *);
	long serial = -1;

	if (!lib)
		return -1;
	*(void **)&get_default = dlsym(lib, "pango_cairo_font_map_get_default");
	*(void **)&get_serial = dlsym(lib, "pango_font_map_get_serial");
	if (get_default && get_serial)
		serial = (long)get_serial(get_default());
	dlclose(lib);
	return serial;
}

/*
 * Regression: preview builds died with SIGFPE in g_hash_table_lookup.
 * pango 1.50 clears its font map whenever the resolution changes, and a
 * matcher thread it started for an earlier font then frees that font into
 * the cleared table. Previews of every size, with text short and too long
 * for its box, must lay out text without pango clearing its map even once.
 */
static void
test_preview_keeps_font_map(void **state)
{
	struct fixture *f = *state;
	struct error err;
	char *out = xasprintf("%s/p.png", f->dir);
	char text[301];
	long before;

	assert_int_equal(image_preview(out, 256, 1, "warm", "up", NULL, &err),
			 0);
	before = font_map_serial();
	assert_true(before >= 0);
	for (int size = 48; size <= 1024; size += 61) {
		int n = size % 300;

		for (int j = 0; j < n; j++)
			text[j] = (j % 7 == 6) ? ' ' : (char)('a' + j % 26);
		text[n] = '\0';
		assert_int_equal(image_preview(out, size, (uint64_t)size,
					       "expression_front_tired", text,
					       NULL, &err), 0);
	}
	assert_int_equal(font_map_serial(), before);
	free(out);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_probe_good),
		T(test_probe_truncated),
		T(test_probe_not_image),
		T(test_transform_resize),
		T(test_transform_crop),
		T(test_transform_flatten),
		T(test_transform_flip),
		T(test_transform_bad_args),
		T(test_preview),
		T(test_dhash),
		T(test_threads),
		T(test_preview_keeps_font_map),
	};

	return cmocka_run_group_tests(tests, find_data, free_data);
}

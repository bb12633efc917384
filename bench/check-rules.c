/*
 * bench/check-rules.c: CPU time of check's rules (quality/check.c) over a
 * synthetic set of N images (random dHashes, a few values per attribute,
 * distinct captions), to see the pairwise near-duplicate search grow
 * (docs/bench.md, issue 18). From the repo root, after `make`:
 *
 *   cc -O2 -I. bench/check-rules.c obj/runtime/image.o \
 *      $(find obj/base obj/compiler obj/cache obj/quality -name '*.o') \
 *      $(pkg-config --libs yaml-0.1 libxxhash libpcre2-8 jansson) \
 *      -ldl -lpthread -lm -o bench/out/check-rules &&
 *   for n in 480 2000 5000 10000; do bench/out/check-rules $n; done
 *
 * Prints the lower of two runs' process CPU time (the machine's load
 * moves wall time, not this).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quality/check.h"

static const char *const angles[] = { "front", "left", "right", "below", "above", "behind" };
static const char *const framings[] = { "closeup", "medium", "full", "back" };
static const char *const expressions[] = { "neutral", "tired", "focused", "wary", "furious" };
static const char *const places[] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6" };
static const char *const wardrobes[] = { "w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7",
					 "w8", "w9", "w10" };
static const char *const lights[] = { "l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8",
				      "l9", "l10", "l11", "l12" };

#define PICK(a, i) a[(i) % (sizeof(a) / sizeof(a[0]))]

static double
cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* xorshift64: the same set on every run */
static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Image i of the synthetic set; ids and captions in the caller's buffers. */
static void
make_image(struct check_image *v, size_t i, char *id, char *caption, uint64_t *rng)
{
	snprintf(id, 48, "upscale/img%05zu", i);
	snprintf(caption, 200, "JINXCHAR looks number %zu, with a steady gaze and a "
		 "relaxed jaw, seen from the front, wearing a coat. A pine forest "
		 "at dawn.", i);
	v->id = id;
	v->attrs[ATTR_ANGLE] = PICK(angles, i);
	v->attrs[ATTR_FRAMING] = PICK(framings, i);
	v->attrs[ATTR_EXPRESSION] = PICK(expressions, i);
	v->attrs[ATTR_PLACE] = PICK(places, i);
	v->attrs[ATTR_WARDROBE] = PICK(wardrobes, i);
	v->attrs[ATTR_LIGHT] = PICK(lights, i);
	v->caption = caption;
	v->built = true;
	v->w = v->h = 1024;
	v->dhash = next_random(rng);
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 480;
	struct check_image *v = calloc(n + 1, sizeof(*v));
	char (*ids)[48] = calloc(n + 1, 48), (*captions)[200] = calloc(n + 1, 200);
	struct lint_opts o = { .trigger = "JINXCHAR", .profile = caption_profile("flux2") };
	struct error err;
	struct lint *lint = lint_new(&o, &err);
	uint64_t rng = 88172645463325252ULL;
	double best = 1e9;

	if (!lint) {
		fprintf(stderr, "check-rules: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		make_image(&v[i], i, ids[i], captions[i], &rng);
	struct check_input in = { .profile = o.profile, .size = 1024, .v = v, .n = n,
				  .lint = lint };
	for (int run = 0; run < 2; run++) {
		struct check_report rep;
		double t0 = cpu_seconds(), t;

		check_run(&in, &rep);
		t = cpu_seconds() - t0;
		best = t < best ? t : best;
		if (run == 1)
			printf("%zu images: the rules take %.1f ms of CPU; duplicates: %s\n",
			       n, best * 1000, check_find(&rep, "duplicates")->figure);
		check_report_release(&rep);
	}
	lint_free(lint);
	free(v);
	free(ids);
	free(captions);
	return 0;
}

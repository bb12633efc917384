/*
 * test_gate: unit tests for the identity gate's verdicts (cmocka): a
 * verdict holds only for the image as it was judged (its key), the lock's
 * gate lines round-trip and refuse what is not one, a failed image leaves
 * the package unless kept by hand (dag_selected), the recipe's min: as it
 * is now decides (an edited threshold, no call), and a gate answer is
 * read strictly (vision_read_verdict). The build side is
 * t3401-identity-gate against tests/fake/gemini_fake.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/path.h"
#include "cache/lock.h"
#include "compiler/dag.h"
#include "compiler/vision.h"
#include "quality/vision.h"

static struct node
image(const char *id, unsigned char first)
{
	struct node n = { .id = id, .kind = KIND_ANGLE, .image = true };

	n.key.b[0] = first;
	return n;
}

/* A verdict is about one image: another key (a reroll) has none. */
static void
test_verdict_follows_the_key(void **state)
{
	struct picks p;
	struct node img = image("angle/back", 0xab), again = image("angle/back", 0xcd);
	struct verdict v;

	(void)state;
	picks_init(&p);
	picks_set_verdict(&p, img.id, &img.key, true, 0.35, "jaw wider; eyes soft");
	assert_true(picks_verdict(&p, &img, &v));
	assert_true(v.failed);
	assert_true(v.score > 0.349 && v.score < 0.351);
	assert_string_equal(v.reasons, "jaw wider; eyes soft");
	assert_false(picks_verdict(&p, &again, &v));
	assert_false(picks_verdict(NULL, &img, &v));
	picks_release(&p);
}

/* What a lock's gate line may hold. */
static void
test_verdict_text(void **state)
{
	(void)state;
	assert_true(verdict_text_ok("0123456789abcdef fail 0.35 jaw wider"));
	assert_true(verdict_text_ok("0123456789abcdef pass 1.00 -"));
	assert_false(verdict_text_ok("0123456789abcde fail 0.35 x"));  /* 15 hex */
	assert_false(verdict_text_ok("0123456789abcdef maybe 0.35 x"));
	assert_false(verdict_text_ok("0123456789abcdef fail 1.5 x"));
	assert_false(verdict_text_ok("0123456789abcdef fail 0.35"));  /* no reasons */
	assert_false(verdict_text_ok("0123456789abcdef fail x y"));
}

/* gate lines round-trip; a damaged one is skipped, the rest read. */
static void
test_lock_gate_lines(void **state)
{
	char text[] = "# loramake lock v1: machine-written; commit it with the recipe\n"
		      "gate angle/back 0123456789abcdef fail 0.35 jaw wider; eyes soft\n"
		      "gate angle/front 0123456789abcdef maybe 0.9 -\n"
		      "gate angle/left 00000000000000aa pass 0.92 -\n";
	struct lock l = { 0 };
	struct buf b;

	(void)state;
	assert_int_equal(lock_parse(&l, "recipe.lock", text, strlen(text)), 0);
	assert_string_equal(picks_verdict_text(&l.picks, "angle/back"),
			    "0123456789abcdef fail 0.35 jaw wider; eyes soft");
	assert_null(picks_verdict_text(&l.picks, "angle/front"));
	buf_init(&b);
	lock_format(&l, &b);
	assert_non_null(strstr(b.data, "gate angle/back 0123456789abcdef fail 0.35 "
				       "jaw wider; eyes soft\n"
				       "gate angle/left 00000000000000aa pass 0.92 -\n"));
	buf_release(&b);
	lock_release(&l);
}

/* A failed image leaves the package, unless a pick keeps it. */
static void
test_failed_image_left_out(void **state)
{
	struct recipe r = { 0 };
	struct node pkg = { .id = "package", .kind = KIND_PACKAGE, .recipe = &r };
	struct node img = image("angle/back", 0x01), ok = image("angle/front", 0x02);
	struct picks p;

	(void)state;
	picks_init(&p);
	assert_true(dag_selected(&pkg, &img, &p));
	picks_set_verdict(&p, img.id, &img.key, true, 0.2, "eyes soft");
	picks_set_verdict(&p, ok.id, &ok.key, false, 0.9, "-");
	assert_false(dag_selected(&pkg, &img, &p));
	assert_true(dag_selected(&pkg, &ok, &p));
	picks_set(&p, img.id, 1); /* kept by hand */
	assert_true(dag_selected(&pkg, &img, &p));
	picks_release(&p);
}

/* The recipe's min: as it is now decides, not the word a build wrote:
 * an edited threshold is a new selection without judging again; a score
 * at the threshold is read as the lock holds it (two decimals). */
static void
test_min_decides_not_the_word_written(void **state)
{
	struct recipe r = { 0 };
	struct node pkg = { .id = "package", .kind = KIND_PACKAGE, .recipe = &r };
	struct node back = image("angle/back", 0x01), front = image("angle/front", 0x02);
	struct picks p;
	struct verdict v;

	(void)state;
	r.sec[KIND_GATE].min = -1; /* none given: 0.7 */
	back.recipe = front.recipe = &r;
	picks_init(&p);
	picks_set_verdict(&p, back.id, &back.key, true, 0.35, "jaw wider");
	picks_set_verdict(&p, front.id, &front.key, false, 0.92, "-");
	assert_true(picks_verdict(&p, &back, &v) && v.failed);
	assert_false(dag_selected(&pkg, &back, &p));
	r.sec[KIND_GATE].min = 0.3; /* lowered: the failed one passes */
	assert_true(picks_verdict(&p, &back, &v) && !v.failed);
	assert_true(dag_selected(&pkg, &back, &p));
	r.sec[KIND_GATE].min = 0.95; /* raised: the passed one fails */
	assert_true(picks_verdict(&p, &front, &v) && v.failed);
	assert_false(dag_selected(&pkg, &front, &p));
	/* 0.696 is written 0.70: it passes 0.7 when judged and when read */
	r.sec[KIND_GATE].min = 0.7;
	assert_false(verdict_fails(0.696, &r));
	picks_set_verdict(&p, front.id, &front.key, verdict_fails(0.696, &r), 0.696, "-");
	assert_true(picks_verdict(&p, &front, &v) && !v.failed);
	assert_true(verdict_fails(0.694, &r));
	picks_release(&p);
}

/* One reference or several: two questions of the same answer, each
 * saying which image is judged, a back view's note included. */
static void
test_gate_question_by_references(void **state)
{
	const struct vision_question *one = vision_gate(1), *more = vision_gate(3);

	(void)state;
	assert_ptr_not_equal(one, more);
	assert_ptr_equal(vision_gate(2), more);
	assert_non_null(strstr(one->prompt, "The first image is the reference"));
	assert_non_null(strstr(one->back_view, "The second image is meant as a back view"));
	assert_non_null(strstr(more->prompt, "Every image but the last is a reference"));
	assert_non_null(strstr(more->back_view, "The last image is meant as a back view"));
	assert_int_equal(one->nfields, more->nfields);
	for (size_t i = 0; i < one->nfields; i++) {
		assert_string_equal(one->fields[i].name, more->fields[i].name);
		assert_int_equal(one->fields[i].type, more->fields[i].type);
	}
}

static void
read_verdict(const char *json, int want, double *score, struct buf *reasons)
{
	char path[] = "/tmp/test_gate.XXXXXX";
	int fd = mkstemp(path);
	struct error err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (int)strlen(json));
	close(fd);
	assert_int_equal(vision_read_verdict(path, score, reasons, &err), want);
	unlink(path);
}

/* A gate answer read strictly; reasons joined. */
static void
test_read_verdict(void **state)
{
	struct buf b;
	double score = -1;

	(void)state;
	buf_init(&b);
	read_verdict("{\"reasons\":[\"jaw wider\",\"eyes soft\"],\"score\":0.35,"
		     "\"view\":\"front\"}", 0, &score, &b);
	assert_true(score > 0.349 && score < 0.351);
	assert_string_equal(b.data, "jaw wider; eyes soft");
	/* a C1 control (CSI) in a reason: the cache was written by hand */
	read_verdict("{\"reasons\":[\"eyes\\u009b soft\"],\"score\":0.35,"
		     "\"view\":\"front\"}", -1, &score, &b);
	read_verdict("{\"reasons\":[],\"score\":1,\"view\":\"back\"}", 0, &score, &b);
	assert_string_equal(b.data, "-");
	read_verdict("{\"score\":2,\"view\":\"back\"}", -1, &score, &b);
	read_verdict("{\"score\":0.5,\"who\":\"x\"}", -1, &score, &b);
	read_verdict("{\"view\":\"back\"}", -1, &score, &b);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_follows_the_key),
		cmocka_unit_test(test_verdict_text),
		cmocka_unit_test(test_lock_gate_lines),
		cmocka_unit_test(test_failed_image_left_out),
		cmocka_unit_test(test_min_decides_not_the_word_written),
		cmocka_unit_test(test_gate_question_by_references),
		cmocka_unit_test(test_read_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

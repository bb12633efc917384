/*
 * Unit tests of the cache's two advisory files: times (how long each kind
 * of job took, for the ETA) and check's facts (what check measured of
 * each image). Both come from a cache that may be damaged or a stranger's,
 * so every malformed line must be skipped, never trusted or crashed on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/hash.h"
#include "base/path.h"
#include "cache/facts.h"
#include "cache/times.h"

static char dir[] = "/tmp/lm-history-XXXXXX";

static char *
write_in(const char *name, const char *text, size_t len)
{
	char *p = path_join(dir, name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

static char *
slurp(const char *path)
{
	char *text;
	size_t len;

	assert_int_equal(read_file(path, &text, &len, NULL), 0);
	return text;
}

static void
test_times_reads_valid_rows_and_skips_every_malformed_one(void **state)
{
	static const char text[] =
		"# loramake times v1\n"
		"fal\tm\tangle\t2.5\t4\n"
		"fal\tm\texpression\tnan\t4\n"     /* not a number */
		"fal\tm\tupscale\t-1\t4\n"         /* negative */
		"fal\tm\tcaption\t1e7\t4\n"        /* beyond TIMES_MAX_SECONDS */
		"fal\tm\tpackage\t1\t0\n"          /* a count of 0 */
		"fal\tm m\thero\t1\t1\n"           /* a space in a name */
		"fal\t\thero\t1\t1\n"              /* an empty name */
		"fal\tm\tanchor\t1\n"              /* four fields */
		"fal\tm\tanchor\t1\t1\tx\n"        /* six */
		"local\t-\tupscale\t0.5\t2\n"
		"fal\tm\tangle\t3"                 /* torn: no newline */
		;
	char *p = write_in("times", text, sizeof(text) - 1);
	struct times t;
	double s;

	(void)state;
	times_load(&t, p);
	assert_true(times_get(&t, "fal", "m", "angle", &s));
	assert_true(s == 2.5);
	assert_true(times_get(&t, "local", NULL, "upscale", &s));
	assert_true(s == 0.5);
	assert_false(times_get(&t, "fal", "m", "expression", &s));
	assert_false(times_get(&t, "fal", "m", "upscale", &s));
	assert_false(times_get(&t, "fal", "m", "caption", &s));
	assert_false(times_get(&t, "fal", "m", "package", &s));
	assert_false(times_get(&t, "fal", "m m", "hero", &s));
	assert_false(times_get(&t, "fal", "m", "anchor", &s));
	assert_int_equal(t.n, 2);
	times_release(&t);
	free(p);
}

static void
test_times_of_another_version_are_not_read(void **state)
{
	static const char text[] = "# loramake times v2\nfal\tm\tangle\t2.5\t4\n";
	char *p = write_in("times-v2", text, sizeof(text) - 1);
	struct times t;
	double s;

	(void)state;
	times_load(&t, p);
	assert_false(times_get(&t, "fal", "m", "angle", &s));
	times_release(&t);
	free(p);
}

static void
test_times_save_weighs_the_past_as_at_most_twenty_jobs(void **state)
{
	/* 1000 jobs at 10 s, then one build of 5 jobs at 1 s: the mean moves
	 * to (10 * 20 + 5) / 25 = 8.2, not (10 * 1000 + 5) / 1005 */
	static const char text[] = "# loramake times v1\nfal\tm\tangle\t10\t1000\n";
	char *p = write_in("times-memory", text, sizeof(text) - 1), *got;
	struct times t;
	struct error err;
	double s;

	(void)state;
	times_load(&t, p);
	for (int i = 0; i < 5; i++)
		times_add(&t, "fal", "m", "angle", 1.0);
	times_add(&t, "preview", NULL, "hero", 0.25);
	assert_int_equal(times_save(&t, &err), 0);
	times_release(&t);
	got = slurp(p);
	assert_string_equal(got, "# loramake times v1\n"
				 "fal\tm\tangle\t8.200\t1005\n"
				 "preview\t-\thero\t0.250\t1\n");
	times_load(&t, p);
	assert_true(times_get(&t, "fal", "m", "angle", &s));
	assert_true(s == 8.2);
	times_release(&t);
	free(got);
	free(p);
}

static void
test_times_learn_nothing_from_an_impossible_measure(void **state)
{
	char *p = path_join(dir, "times-none");
	struct times t;
	struct error err;
	double s;

	(void)state;
	times_load(&t, p);
	times_add(&t, "fal", "m", "angle", -1);
	times_add(&t, "fal", "m", "angle", 1.0 / 0.0);
	times_add(&t, "fal", "a model", "angle", 1);
	times_add(&t, "fal", "m", "", 1);
	assert_int_equal(times_save(&t, &err), 0);
	assert_false(path_exists(p)); /* nothing learnt: nothing written */
	assert_false(times_get(&t, "fal", "m", "angle", &s));
	times_release(&t);
	free(p);
}

static struct hash
obj(const char *name)
{
	return hash_bytes(name, strlen(name));
}

static void
test_facts_round_trip_and_append(void **state)
{
	char *p = path_join(dir, "facts");
	struct image_facts a = { 512, 768, 0x0123456789abcdefULL };
	struct image_facts b = { 1024, 1024, 0xfedcba9876543210ULL };
	const struct image_facts *got;
	struct hash ha = obj("a"), hb = obj("b");
	struct facts f;
	struct error err;

	(void)state;
	assert_int_equal(facts_load(&f, p, &err), 0);
	facts_put(&f, &ha, &a);
	assert_int_equal(facts_save(&f, &err), 0);
	facts_release(&f);
	assert_int_equal(facts_load(&f, p, &err), 0);
	facts_put(&f, &hb, &b); /* appended */
	assert_int_equal(facts_save(&f, &err), 0);
	facts_release(&f);
	assert_int_equal(facts_load(&f, p, &err), 0);
	assert_non_null(got = facts_get(&f, &ha));
	assert_int_equal(got->w, 512);
	assert_int_equal(got->h, 768);
	assert_true(got->dhash == a.dhash);
	assert_non_null(got = facts_get(&f, &hb));
	assert_true(got->dhash == b.dhash);
	assert_int_equal(f.n, 2);
	facts_release(&f);
	free(p);
}

static void
test_facts_skip_malformed_lines_and_end_a_torn_one(void **state)
{
	char ha[HASH_HEX_LEN + 1], hb[HASH_HEX_LEN + 1], hc[HASH_HEX_LEN + 1];
	struct hash a = obj("a"), b = obj("b"), c = obj("c");
	struct image_facts v = { 64, 64, 1 };
	struct facts f;
	struct error err;
	char *text, *p, *got;

	(void)state;
	hash_hex(&a, ha);
	hash_hex(&b, hb);
	hash_hex(&c, hc);
	text = xasprintf("# loramake facts v1\n"
			 "%s\t10\t20\t0000000000000001\n"
			 "%s\t0\t20\t0000000000000001\n"      /* side 0 */
			 "%s\t70000\t20\t0000000000000001\n"  /* side too big */
			 "%s\t10\t20\t00000000000000zz\n"     /* not hex */
			 "%s\t10\t20\t0000000000000001\t9\n"  /* five fields */
			 "nothash\t10\t20\t0000000000000001\n"
			 "%s\t10\t20\t00000000000000", /* torn */
			 ha, hb, hb, hb, hb, hc);
	p = write_in("facts-bad", text, strlen(text));
	assert_int_equal(facts_load(&f, p, &err), 0);
	assert_non_null(facts_get(&f, &a));
	assert_null(facts_get(&f, &b));
	assert_null(facts_get(&f, &c));
	assert_int_equal(f.n, 1);
	facts_put(&f, &b, &v);
	assert_int_equal(facts_save(&f, &err), 0);
	facts_release(&f);
	/* the torn line was ended before the append: b's line is whole */
	assert_int_equal(facts_load(&f, p, &err), 0);
	assert_non_null(facts_get(&f, &b));
	assert_null(facts_get(&f, &c));
	facts_release(&f);
	got = slurp(p);
	assert_non_null(strstr(got, "00000000000000\n"));
	free(got);
	free(text);
	free(p);
}

static void
test_facts_of_another_version_start_over(void **state)
{
	char h[HASH_HEX_LEN + 1], *text, *p, *got;
	struct hash a = obj("a");
	struct image_facts v = { 8, 8, 2 };
	struct facts f;
	struct error err;

	(void)state;
	hash_hex(&a, h);
	text = xasprintf("# loramake facts v7\n%s\t10\t20\t0000000000000001\n", h);
	p = write_in("facts-v7", text, strlen(text));
	assert_int_equal(facts_load(&f, p, &err), 0);
	assert_null(facts_get(&f, &a));
	facts_put(&f, &a, &v);
	assert_int_equal(facts_save(&f, &err), 0);
	facts_release(&f);
	got = slurp(p);
	free(text);
	text = xasprintf("# loramake facts v1\n%s\t8\t8\t0000000000000002\n", h);
	assert_string_equal(got, text);
	free(got);
	free(text);
	free(p);
}

static bool
keep_only(const char *hex, void *ctx)
{
	return strcmp(hex, ctx) == 0;
}

static void
test_facts_compact_keeps_only_what_it_is_told(void **state)
{
	char *p = path_join(dir, "facts-compact");
	struct hash a = obj("a"), b = obj("b");
	struct image_facts v = { 8, 8, 3 };
	char ha[HASH_HEX_LEN + 1];
	struct facts f;
	struct error err;

	(void)state;
	hash_hex(&a, ha);
	assert_int_equal(facts_load(&f, p, &err), 0);
	facts_put(&f, &a, &v);
	facts_put(&f, &b, &v);
	assert_int_equal(facts_save(&f, &err), 0);
	assert_int_equal(facts_compact(&f, keep_only, ha, &err), 1);
	facts_release(&f);
	assert_int_equal(facts_load(&f, p, &err), 0);
	assert_non_null(facts_get(&f, &a));
	assert_null(facts_get(&f, &b));
	facts_release(&f);
	free(p);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd) == 0 ? 0 : -1;

	(void)state;
	free(cmd);
	return rc;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times_reads_valid_rows_and_skips_every_malformed_one),
		cmocka_unit_test(test_times_of_another_version_are_not_read),
		cmocka_unit_test(test_times_save_weighs_the_past_as_at_most_twenty_jobs),
		cmocka_unit_test(test_times_learn_nothing_from_an_impossible_measure),
		cmocka_unit_test(test_facts_round_trip_and_append),
		cmocka_unit_test(test_facts_skip_malformed_lines_and_end_a_torn_one),
		cmocka_unit_test(test_facts_of_another_version_start_over),
		cmocka_unit_test(test_facts_compact_keeps_only_what_it_is_told),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Unit tests of cache/failures.c: why each key's node last failed. The
 * file comes from a cache that may be damaged or a stranger's, so every
 * malformed line, and every message that would need escaping before it
 * reached a terminal, must be skipped, never shown or crashed on.
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
#include "cache/failures.h"

static char dir[] = "/tmp/lm-failures-XXXXXX";

#define KEY_A "0123456789abcdef0123456789abcdef"
#define KEY_B "fedcba9876543210fedcba9876543210"

static struct hash
key_of(const char *hex)
{
	struct hash h;

	assert_true(hash_parse(hex, &h));
	return h;
}

static char *
write_in(const char *name, const char *text)
{
	char *p = path_join(dir, name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
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

static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void
test_failures_read_valid_lines_and_skip_every_malformed_one(void **state)
{
	char *p = write_in("f1",
		"# loramake failures v1\n"
		KEY_A "\t1700000000\tfal: 422 prompt too long\n"
		"nothex\t1700000000\tx\n"                  /* not a key */
		KEY_B "\t-5\tx\n"                           /* a negative time */
		KEY_B "\t1700000000\n"                      /* two fields */
		KEY_B "\t1700000000\t\n"                    /* an empty message */
		KEY_B "\t1700000000\tred \033[31m text\n"   /* an escape sequence */
		KEY_B "\t1700000000\ta\tb\n");              /* four fields */
	struct failures f;
	const struct failure *x;
	struct hash a = key_of(KEY_A), b = key_of(KEY_B);

	(void)state;
	failures_load(&f, p);
	x = failures_get(&f, &a);
	assert_non_null(x);
	assert_string_equal(x->why, "fal: 422 prompt too long");
	assert_int_equal(x->when, 1700000000);
	assert_null(failures_get(&f, &b));
	failures_release(&f);
	free(p);
}

static void
test_failures_last_line_of_a_key_wins(void **state)
{
	char *p = write_in("f2",
		"# loramake failures v1\n"
		KEY_A "\t1\tfirst\n"
		KEY_A "\t2\tsecond\n");
	struct failures f;
	struct hash a = key_of(KEY_A);

	(void)state;
	failures_load(&f, p);
	assert_string_equal(failures_get(&f, &a)->why, "second");
	failures_release(&f);
	free(p);
}

static void
test_failures_of_another_version_are_not_read(void **state)
{
	char *p = write_in("f3", "# loramake failures v2\n" KEY_A "\t1\tx\n");
	struct failures f;
	struct hash a = key_of(KEY_A);

	(void)state;
	failures_load(&f, p);
	assert_null(failures_get(&f, &a));
	failures_release(&f);
	free(p);
}

static void
test_failures_add_appends_at_once_and_a_missing_file_is_made(void **state)
{
	char *p = path_join(dir, "f4"), *text;
	struct failures f, g;
	struct hash a = key_of(KEY_A), b = key_of(KEY_B);
	struct error err;

	(void)state;
	failures_load(&f, p); /* no file yet */
	assert_int_equal(failures_add(&f, &a, "engine said no", &err), 0);
	assert_int_equal(failures_add(&f, &b, "timed out", &err), 0);
	/* read back before any save: a review page sees it during the build */
	failures_load(&g, p);
	assert_string_equal(failures_get(&g, &a)->why, "engine said no");
	assert_string_equal(failures_get(&g, &b)->why, "timed out");
	failures_release(&g);
	text = slurp(p);
	assert_int_equal(count_lines(text), 3);
	free(text);
	failures_release(&f);
	free(p);
}

static void
test_failures_save_drops_what_succeeded_and_superseded_lines(void **state)
{
	char *p = write_in("f5",
		"# loramake failures v1\n"
		KEY_A "\t1\tfirst\n"
		KEY_A "\t2\tsecond\n"
		KEY_B "\t3\tb failed\n");
	struct failures f;
	struct hash a = key_of(KEY_A), b = key_of(KEY_B);
	struct error err;
	char *text;

	(void)state;
	failures_load(&f, p);
	failures_clear(&f, &b);
	assert_null(failures_get(&f, &b));
	assert_int_equal(failures_save(&f, &err), 0);
	failures_release(&f);
	text = slurp(p);
	assert_string_equal(text, "# loramake failures v1\n" KEY_A "\t2\tsecond\n");
	free(text);
	/* nothing to drop: the file is left as it is */
	failures_load(&f, p);
	assert_string_equal(failures_get(&f, &a)->why, "second");
	assert_int_equal(failures_save(&f, &err), 0);
	failures_release(&f);
	free(p);
}

static void
test_failures_drop_a_torn_line_before_appending(void **state)
{
	char *p = write_in("f6", "# loramake failures v1\n" KEY_A "\t1\tcut sho");
	struct failures f, g;
	struct hash a = key_of(KEY_A), b = key_of(KEY_B);
	struct error err;

	(void)state;
	failures_load(&f, p);
	assert_null(failures_get(&f, &a)); /* a torn line is never used */
	assert_int_equal(failures_add(&f, &b, "whole", &err), 0);
	failures_load(&g, p);
	assert_null(failures_get(&g, &a));
	assert_string_equal(failures_get(&g, &b)->why, "whole");
	failures_release(&g);
	failures_release(&f);
	free(p);
}

static void
test_failures_keep_a_message_that_would_need_escaping_out(void **state)
{
	char *p = path_join(dir, "f7");
	struct failures f, g;
	struct hash a = key_of(KEY_A);
	struct error err;

	(void)state;
	failures_load(&f, p);
	assert_int_equal(failures_add(&f, &a, "line one\nline two", &err), 0);
	failures_load(&g, p);
	assert_non_null(failures_get(&g, &a));
	assert_string_equal(failures_get(&g, &a)->why, "line one\\x0aline two");
	failures_release(&g);
	failures_release(&f);
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
		cmocka_unit_test(test_failures_read_valid_lines_and_skip_every_malformed_one),
		cmocka_unit_test(test_failures_last_line_of_a_key_wins),
		cmocka_unit_test(test_failures_of_another_version_are_not_read),
		cmocka_unit_test(test_failures_add_appends_at_once_and_a_missing_file_is_made),
		cmocka_unit_test(test_failures_save_drops_what_succeeded_and_superseded_lines),
		cmocka_unit_test(test_failures_drop_a_torn_line_before_appending),
		cmocka_unit_test(test_failures_keep_a_message_that_would_need_escaping_out),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

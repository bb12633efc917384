/*
 * test_pack: unit tests for runtime/pack.c (cmocka).
 *
 * Each test runs in a fresh folder from mkdtemp() holding two input files:
 * a.png (200 KiB of pseudo-random bytes, so it spans several 64 KiB
 * chunks) and b.png (a few bytes). The checks use unzip(1) when it is
 * installed (unzip -t, unzip -Z1, unzip -p); without it those assertions
 * are skipped and the rest still runs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/pack.h"
#include "base/buf.h"
#include "base/path.h"

#define BIG_LEN (200 * 1024)

static const char caption[] = "a cat, sitting on a mat, photo\n";

/* One test's folder and the paths in it; all owned, freed in teardown. */
struct fixture {
	char dir[64];
	char *a;   /* dir/a.png, BIG_LEN bytes */
	char *b;   /* dir/b.png, a few bytes */
	char *out; /* dir/out.zip, not created by setup */
};

/* Write len bytes to path, replacing it; asserts on failure. */
static void
put_file(const char *path, const void *data, size_t len)
{
	struct error err;

	assert_int_equal(write_file_atomic(path, data, len, &err), 0);
}

/* The bytes of path; caller frees. Asserts the file exists. */
static char *
get_file(const char *path, size_t *len)
{
	struct error err;
	char *data = NULL;

	assert_int_equal(read_file(path, &data, len, &err), 0);
	return data;
}

/* BIG_LEN bytes from a fixed LCG: same every run, poor for deflate. */
static char *
big_data(void)
{
	char *p = malloc(BIG_LEN);
	uint32_t x = 12345;

	assert_non_null(p);
	for (size_t i = 0; i < BIG_LEN; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (char)(x >> 16);
	}
	return p;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *big = big_data();

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_pack.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->a = path_join(f->dir, "a.png");
	f->b = path_join(f->dir, "b.png");
	f->out = path_join(f->dir, "out.zip");
	put_file(f->a, big, BIG_LEN);
	put_file(f->b, "\x89PNG tiny", 9);
	free(big);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(cmd);
	free(f->a);
	free(f->b);
	free(f->out);
	free(f);
	return 0;
}

static bool
have_unzip(void)
{
	return system("command -v unzip >/dev/null 2>&1") == 0;
}

/* Run a shell command built from fmt; returns its exit status. */
static int LM_PRINTF(1, 2)
run(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return rc;
}

/* How many names in dir contain ".tmp." (leftover temp files). */
static int
count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".tmp."))
			n++;
	}
	closedir(d);
	return n;
}

/* The three entries of the main test, deliberately not in sorted order. */
static void
three_entries(const struct fixture *f, struct pack_entry e[3])
{
	e[0] = (struct pack_entry){ .name = "b.png", .path = f->b };
	e[1] = (struct pack_entry){ .name = "a.png", .path = f->a };
	e[2] = (struct pack_entry){ .name = "a.txt", .data = caption,
				    .len = sizeof(caption) - 1 };
}

/* Does the file at path hold exactly data, len? */
static void
assert_file_is(const char *path, const void *data, size_t len)
{
	size_t got_len;
	char *got = get_file(path, &got_len);

	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	free(got);
}

static void
test_pack_valid_zip(void **state)
{
	struct fixture *f = *state;
	struct pack_entry e[3];
	struct error err = { "" };
	char *names = path_join(f->dir, "names.txt");
	char *x = path_join(f->dir, "x");
	char *big = big_data();

	three_entries(f, e);
	assert_int_equal(pack_zip(f->out, e, 3, &err), 0);
	assert_true(path_exists(f->out));
	assert_int_equal(count_temps(f->dir), 0);
	if (!have_unzip()) {
		fprintf(stderr, "# unzip not found: skipping its checks\n");
		goto out;
	}
	assert_int_equal(run("unzip -tq '%s' >/dev/null", f->out), 0);
	assert_int_equal(run("unzip -Z1 '%s' >'%s'", f->out, names), 0);
	assert_file_is(names, "b.png\na.png\na.txt\n", 18);
	assert_int_equal(run("unzip -p '%s' a.png >'%s'", f->out, x), 0);
	assert_file_is(x, big, BIG_LEN);
	assert_int_equal(run("unzip -p '%s' a.txt >'%s'", f->out, x), 0);
	assert_file_is(x, caption, sizeof(caption) - 1);
	assert_int_equal(run("unzip -Z -l '%s' | grep -c '^-rw-r--r--.*defN "
			     "80-Jan-01 00:00' | grep -qx 3", f->out), 0);
out:
	free(names);
	free(x);
	free(big);
}

/*
 * Build once; then change everything a careless writer would leak into
 * the archive: the input files' mtimes and modes, the wall clock, the
 * time zone (east of UTC, where a DOS time made with localtime() moves),
 * and the locale (for a non-ASCII name). Build again: same bytes.
 */
static void
test_pack_reproducible(void **state)
{
	struct fixture *f = *state;
	struct pack_entry e[4];
	struct error err = { "" };
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char *first, *second;
	size_t len1, len2;

	three_entries(f, e);
	e[3] = (struct pack_entry){ .name = "caf\xc3\xa9.txt", .data = "x",
				    .len = 1 };
	setenv("TZ", "UTC0", 1);
	tzset();
	setlocale(LC_ALL, "C");
	assert_int_equal(pack_zip(f->out, e, 4, &err), 0);
	first = get_file(f->out, &len1);
	assert_true(len1 > 22);

	sleep(1);
	assert_int_equal(utimensat(AT_FDCWD, f->a, ts, 0), 0);
	assert_int_equal(chmod(f->b, 0600), 0);
	setenv("TZ", "JST-9", 1);
	tzset();
	setlocale(LC_ALL, "C.UTF-8");
	assert_int_equal(pack_zip(f->out, e, 4, &err), 0);
	second = get_file(f->out, &len2);
	setlocale(LC_ALL, "C");
	unsetenv("TZ");
	tzset();

	assert_int_equal(len1, len2);
	assert_memory_equal(first, second, len1);
	free(first);
	free(second);
}

/* A missing input fails, leaves no temp file and does not touch out. */
static void
test_pack_missing_input(void **state)
{
	struct fixture *f = *state;
	struct pack_entry e[3];
	struct error err = { "" };
	char *gone = path_join(f->dir, "gone.png");

	three_entries(f, e);
	e[1].path = gone;
	assert_int_equal(pack_zip(f->out, e, 3, &err), -1);
	assert_non_null(strstr(err.msg, "gone.png"));
	assert_false(path_exists(f->out));
	assert_int_equal(count_temps(f->dir), 0);

	put_file(f->out, "old", 3);
	assert_int_equal(pack_zip(f->out, e, 3, &err), -1);
	assert_file_is(f->out, "old", 3);
	assert_int_equal(count_temps(f->dir), 0);
	free(gone);
}

static void
test_pack_duplicate_name(void **state)
{
	struct fixture *f = *state;
	struct pack_entry e[3];
	struct error err = { "" };

	three_entries(f, e);
	e[2].name = "b.png";
	assert_int_equal(pack_zip(f->out, e, 3, &err), -1);
	assert_non_null(strstr(err.msg, "duplicate"));
	assert_non_null(strstr(err.msg, "b.png"));
	assert_false(path_exists(f->out));
	assert_int_equal(count_temps(f->dir), 0);
}

/* Each bad name alone is refused before anything is written. */
static void
test_pack_bad_names(void **state)
{
	static const char *const bad[] = {
		"../a.png", "x/../../a.png", "x/..", "..", "/etc/passwd", "",
		"x//y", "x/", "./a", "a\\b", "tab\there", "\xff.png",
	};
	struct fixture *f = *state;
	struct pack_entry e[3];
	struct error err;

	three_entries(f, e);
	for (size_t i = 0; i < LM_ARRAY_LEN(bad); i++) {
		err.msg[0] = '\0';
		e[0].name = bad[i];
		if (pack_zip(f->out, e, 3, &err) != -1)
			fail_msg("name '%s' was accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	e[0].name = NULL;
	assert_int_equal(pack_zip(f->out, e, 3, &err), -1);
	assert_false(path_exists(f->out));
	assert_int_equal(count_temps(f->dir), 0);
	e[0].name = "sub/ok.png";
	assert_int_equal(pack_zip(f->out, e, 3, &err), 0);
}

/* An empty in-memory entry and an empty archive are both fine. */
static void
test_pack_empty(void **state)
{
	struct fixture *f = *state;
	struct pack_entry e = { .name = "empty.txt" };
	struct error err = { "" };

	assert_int_equal(pack_zip(f->out, &e, 1, &err), 0);
	if (have_unzip())
		assert_int_equal(run("unzip -tq '%s' >/dev/null", f->out), 0);
	assert_int_equal(pack_zip(f->out, NULL, 0, &err), 0);
	assert_true(path_exists(f->out));
}

#define NTHREADS 4

/* One thread's job in test_pack_threads. */
struct job {
	const struct fixture *f;
	char *out;
	int rc;
};

static void *
pack_job(void *arg)
{
	struct job *j = arg;
	struct pack_entry e[3];
	struct error err;

	three_entries(j->f, e);
	j->rc = pack_zip(j->out, e, 3, &err);
	return NULL;
}

/*
 * Several threads pack at once, the first call in the process among
 * them if this test runs alone: libarchive is loaded once, every archive
 * is written, and all are the same bytes.
 */
static void
test_pack_threads(void **state)
{
	struct fixture *f = *state;
	struct job jobs[NTHREADS];
	pthread_t tid[NTHREADS];
	char *first, *other;
	size_t len1, len2;

	for (int i = 0; i < NTHREADS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "out%d.zip", i);
		jobs[i] = (struct job){ .f = f, .out = path_join(f->dir, name),
					.rc = -2 };
		assert_int_equal(pthread_create(&tid[i], NULL, pack_job,
						&jobs[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	first = get_file(jobs[0].out, &len1);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(jobs[i].rc, 0);
		other = get_file(jobs[i].out, &len2);
		assert_int_equal(len1, len2);
		assert_memory_equal(first, other, len1);
		free(other);
		free(jobs[i].out);
	}
	free(first);
}

/* One entry read back (explain's manifest): its bytes; a missing entry
 * is 1; a cap (a ZIP is not trusted) is an error; not a ZIP, -1. */
static void
test_pack_read_entry(void **state)
{
	struct fixture *f = *state;
	struct pack_entry e[3];
	struct error err = { "" };
	struct buf b;
	char *big = big_data();

	three_entries(f, e);
	assert_int_equal(pack_zip(f->out, e, 3, &err), 0);
	buf_init(&b);
	assert_int_equal(pack_read_entry(f->out, "a.txt", &b, &err), 0);
	assert_int_equal(b.len, sizeof(caption) - 1);
	assert_memory_equal(b.data, caption, b.len);
	buf_reset(&b);
	assert_int_equal(pack_read_entry(f->out, "a.png", &b, &err), 0);
	assert_int_equal(b.len, BIG_LEN);
	assert_memory_equal(b.data, big, BIG_LEN);
	buf_reset(&b);
	assert_int_equal(pack_read_entry(f->out, "c.txt", &b, &err), 1);
	b.max = 100;
	assert_int_equal(pack_read_entry(f->out, "a.png", &b, &err), -1);
	assert_non_null(strstr(err.msg, "too big"));
	buf_release(&b);
	buf_init(&b);
	assert_int_equal(pack_read_entry(f->a, "a.txt", &b, &err), -1);
	buf_release(&b);
	free(big);
}

/* A trainer's weights: the first .safetensors of a tar, written to a new
 * file chunk by chunk; none is 1 (and no file is left); the file exists
 * already: -1. */
static void
test_pack_extract_suffix_from_a_tar(void **state)
{
	struct fixture *f = *state;
	struct error err = { "" };
	char *tar = path_join(f->dir, "w.tar"), *out = path_join(f->dir, "lora.st");
	char *big = big_data();

	assert_int_equal(run("cd '%s' && mkdir -p o/x && cp a.png o/x/lora.safetensors && "
			     "echo c >o/config.yaml && tar cf w.tar o/config.yaml "
			     "o/x/lora.safetensors", f->dir), 0);
	assert_int_equal(pack_extract_suffix(tar, ".safetensors", out, &err), 0);
	assert_file_is(out, big, BIG_LEN);
	assert_int_equal(pack_extract_suffix(tar, ".safetensors", out, &err), -1);
	unlink(out);
	assert_int_equal(pack_extract_suffix(tar, ".ckpt", out, &err), 1);
	assert_false(path_exists(out));
	free(tar);
	free(out);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pack_threads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pack_valid_zip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pack_read_entry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pack_extract_suffix_from_a_tar,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_reproducible, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pack_missing_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pack_duplicate_name,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_bad_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pack_empty, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

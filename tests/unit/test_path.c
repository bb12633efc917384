/*
 * Unit tests of base/path.c: the walk below a confined root (no link
 * followed, ".." by spelling), atomic writes with unpredictable temps,
 * stale-temp recognition, rm -r that never leaves the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/path.h"

static char dir[] = "/tmp/lm-path-XXXXXX";
static char outside[] = "/tmp/lm-path-out-XXXXXX";

static char *
at(const char *name)
{
	return path_join(dir, name);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* How many entries folder d holds (. and .. aside). */
static int
entries(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	int n = 0;

	assert_non_null(dd);
	while ((e = readdir(dd)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dd);
	return n;
}

static int
setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir) || !mkdtemp(outside))
		return -1;
	path_confine(dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	path_confine(NULL);
	path_remove_tree(dir);
	path_remove_tree(outside);
	return 0;
}

static void
test_a_link_below_the_root_is_never_written_through(void **state)
{
	char *link = at("dist"), *file = at("dist/x.zip"), *dotdot = at("a/../../x");
	struct error err;

	(void)state;
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(write_file_atomic(file, "zip", 3, &err), -1);
	assert_non_null(strstr(err.msg, "is a symbolic link"));
	assert_int_equal(mkdirs(file, &err), -1);
	assert_int_equal(path_open(file, O_WRONLY | O_CREAT, 0666, &err), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(entries(outside), 0);
	/* rm -r of a path through the link removes nothing outside */
	assert_int_equal(path_remove_tree(file), -1);
	assert_int_equal(write_file_atomic(dotdot, "x", 1, &err), -1);
	assert_non_null(strstr(err.msg, "outside the recipe's folder"));
	assert_int_equal(write_file_atomic("/etc/lm-never", "x", 1, &err), -1);
	unlink(link);
	free(link);
	free(file);
	free(dotdot);
}

static void
test_a_state_file_planted_as_a_link_is_refused(void **state)
{
	char *target = path_join(outside, "bashrc"), *lock = at("recipe.lock");
	char *text = NULL;
	struct error err;

	(void)state;
	put(target, "keep me");
	assert_int_equal(symlink(target, lock), 0);
	assert_int_equal(read_file(lock, &text, NULL, &err), -1);
	assert_int_equal(path_open(lock, O_WRONLY | O_APPEND, 0, &err), -1);
	/* a rewrite replaces the link itself, never its target */
	assert_int_equal(write_file_atomic(lock, "new", 3, &err), 0);
	assert_int_equal(read_file(target, &text, NULL, &err), -1); /* outside */
	path_confine(NULL);
	assert_int_equal(read_file(target, &text, NULL, &err), 0);
	assert_string_equal(text, "keep me");
	path_confine(dir);
	free(text);
	unlink(lock);
	free(target);
	free(lock);
}

static void
test_atomic_write_leaves_no_temp_and_names_are_unpredictable(void **state)
{
	char *sub = at("sub"), *p = at("sub/state"), *t1, *t2;
	int fd1, fd2;

	(void)state;
	assert_int_equal(write_file_atomic(p, "one", 3, NULL), 0);
	assert_int_equal(write_file_atomic(p, "two", 3, NULL), 0);
	assert_int_equal(entries(sub), 1);
	fd1 = path_tmp_create(p, &t1, NULL);
	fd2 = path_tmp_create(p, &t2, NULL);
	assert_true(fd1 >= 0 && fd2 >= 0);
	assert_string_not_equal(t1, t2);
	assert_non_null(strstr(t1, "/state.tmp."));
	close(fd1);
	close(fd2);
	assert_int_equal(path_rename_atomic(t1, p, false, NULL), -1);
	assert_int_equal(path_rename_atomic(t2, p, true, NULL), 0);
	assert_int_equal(entries(sub), 1);
	free(t1);
	free(t2);
	free(p);
	free(sub);
}

static void
test_stale_temps_are_only_loramakes_of_dead_processes(void **state)
{
	pid_t child = fork();
	char name[128], *p;

	(void)state;
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0); /* its pid is now gone */
	snprintf(name, sizeof(name), "recipe.lock.tmp.%ld.Ab12Cd", (long)child);
	assert_true(path_is_stale_tmp(name));
	snprintf(name, sizeof(name), "recipe.lock.tmp.%ld", (long)child);
	assert_true(path_is_stale_tmp(name)); /* the old name, beside a lock */
	snprintf(name, sizeof(name), "notes.tmp.%ld", (long)child);
	assert_false(path_is_stale_tmp(name)); /* not a name loramake makes */
	snprintf(name, sizeof(name), "recipe.lock.tmp.%ld.Ab12C!", (long)child);
	assert_false(path_is_stale_tmp(name));
	snprintf(name, sizeof(name), "recipe.lock.tmp.%ld.Ab12Cd", (long)getpid());
	assert_false(path_is_stale_tmp(name)); /* alive */
	snprintf(name, sizeof(name), "recipe.lock.tmp.%ld.Ab12Cd", (long)child);
	p = at(name);
	put(p, "partial");
	assert_int_equal(path_clean_stale_tmps(dir), 1);
	assert_false(path_exists(p));
	free(p);
}

static void
test_normal_resolves_by_spelling(void **state)
{
	char *n;

	(void)state;
	n = path_normal("./dist/../dist//k/");
	assert_string_equal(n, "dist/k");
	free(n);
	n = path_normal(".");
	assert_string_equal(n, "");
	free(n);
	assert_null(path_normal("a/../.."));
	assert_null(path_normal("/etc"));
	assert_true(path_within("photos/a.jpg", "photos"));
	assert_true(path_within("photos", ""));
	assert_false(path_within("photos2/a.jpg", "photos"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_link_below_the_root_is_never_written_through),
		cmocka_unit_test(test_a_state_file_planted_as_a_link_is_refused),
		cmocka_unit_test(test_atomic_write_leaves_no_temp_and_names_are_unpredictable),
		cmocka_unit_test(test_stale_temps_are_only_loramakes_of_dead_processes),
		cmocka_unit_test(test_normal_resolves_by_spelling),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

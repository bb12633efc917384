/*
 * Unit tests of the cache: the object store, the action log (torn
 * appends), the pending log, and the lock file round trip.
 */
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

#include "base/path.h"
#include "cache/actions.h"
#include "cache/lock.h"
#include "cache/pending.h"
#include "cache/store.h"
#include "cache/tree.h"

static char dir[] = "/tmp/lm-cache-XXXXXX";

static char *
in_dir(const char *name)
{
	return path_join(dir, name);
}

static void
test_store_put_is_content_addressed(void **state)
{
	struct store s;
	struct hash h1, h2;
	struct stat st;
	char *p;

	(void)state;
	assert_int_equal(store_open(&s, dir, true, NULL), 0);
	assert_int_equal(store_put_bytes(&s, "hello", 5, &h1, NULL), 0);
	assert_int_equal(store_put_bytes(&s, "hello", 5, &h2, NULL), 0);
	assert_true(hash_eq(&h1, &h2));
	struct hash want = hash_bytes("hello", 5);
	assert_true(hash_eq(&h1, &want));
	p = store_object_path(&s, &h1);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0222, 0); /* read-only */
	free(p);
	/* nothing is left in tmp/ */
	assert_int_equal(rmdir(s.tmp), 0);
	assert_int_equal(mkdir(s.tmp, 0777), 0);
	/* what a killed build leaves there, files and workdirs, is cleaned */
	p = path_join(s.tmp, "9-1.d/10_X");
	assert_int_equal(mkdirs(p, NULL), 0);
	free(p);
	p = path_join(s.tmp, "9-2.png");
	assert_int_equal(write_file_atomic(p, "x", 1, NULL), 0);
	free(p);
	store_clean_tmp(&s);
	assert_int_equal(rmdir(s.tmp), 0);
	assert_int_equal(mkdir(s.tmp, 0777), 0);
	store_close(&s);
}

static void
test_actions_survive_a_torn_append(void **state)
{
	char *path = in_dir("actions");
	struct actions a;
	struct hash outs[2] = { hash_bytes("x", 1), hash_bytes("y", 1) };
	struct action rec = { .key = hash_bytes("k1", 2), .outs = outs, .nouts = 2,
			      .usd = 0.035, .seed = 42, .request = (char *)"req-1" };
	FILE *f;

	(void)state;
	unlink(path);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	assert_int_equal(actions_append(&a, &rec, NULL), 0);
	actions_release(&a);
	/* a crash mid-append leaves half a line */
	f = fopen(path, "a");
	fputs("0123456789abcdef0123456789abcdef\tdeadbe", f);
	fclose(f);
	assert_int_equal(actions_load(&a, path, NULL), 0);
	const struct action *got = actions_get(&a, &rec.key);
	assert_non_null(got);
	assert_int_equal(got->nouts, 2);
	assert_true(hash_eq(&got->outs[1], &outs[1]));
	assert_int_equal(got->seed, 42);
	assert_string_equal(got->request, "req-1");
	assert_int_equal(a.n, 1);
	actions_release(&a);
	free(path);
}

static void
test_pending_compacts_finished(void **state)
{
	char *ppath = in_dir("pending"), *apath = in_dir("actions2");
	struct pending p;
	struct actions a;
	struct hash k1 = hash_bytes("a", 1), k2 = hash_bytes("b", 1), o = k1;
	struct action rec = { .key = k1, .outs = &o, .nouts = 1 };
	const struct pending_entry *v[4];

	(void)state;
	unlink(ppath);
	unlink(apath);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(pending_add(&p, &k1, 1, "r1 http://x/1", NULL), 0);
	assert_int_equal(pending_add(&p, &k2, 2, "r2 http://x/2", NULL), 0);
	pending_release(&p);
	assert_int_equal(actions_load(&a, apath, NULL), 0);
	assert_int_equal(actions_append(&a, &rec, NULL), 0);
	assert_int_equal(pending_load(&p, ppath, NULL), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(pending_compact(&p, &a, NULL), 0);
	assert_int_equal(pending_for(&p, &k1, v, 4), 0);
	assert_int_equal(pending_for(&p, &k2, v, 4), 1);
	assert_int_equal(v[0]->candidate, 2);
	assert_string_equal(v[0]->info, "r2 http://x/2");
	pending_release(&p);
	actions_release(&a);
	free(ppath);
	free(apath);
}

static void
test_lock_round_trip_sorted(void **state)
{
	char *path = in_dir("r.lock");
	struct lock l;
	struct node a = { .id = "b/node", .key = hash_bytes("1", 1), .seed = 5 };
	struct node b = { .id = "a/node", .key = hash_bytes("2", 1), .seed = 6 };
	struct hash out = hash_bytes("o", 1);
	char *text;

	(void)state;
	unlink(path);
	assert_int_equal(lock_load(&l, path, NULL), 0);
	lock_set(&l, &a, &out, 1, 0.065, "req");
	lock_set(&l, &b, &out, 1, 0, NULL);
	lock_set(&l, &a, &out, 1, 0.07, "req2"); /* replaces in place */
	picks_set(&l.picks, "anchor/front", 3);
	assert_int_equal(lock_write(&l, NULL), 0);
	lock_release(&l);
	assert_int_equal(read_file(path, &text, NULL, NULL), 0);
	char *pa = strstr(text, "node a/node"), *pb = strstr(text, "node b/node");
	assert_non_null(pa);
	assert_non_null(pb);
	assert_true(pa < pb);
	assert_non_null(strstr(text, "pick anchor/front 3\n"));
	assert_non_null(strstr(pb, "request=req2"));
	free(text);
	assert_int_equal(lock_load(&l, path, NULL), 0);
	const struct lock_node *e = lock_get(&l, "b/node");
	assert_non_null(e);
	assert_true(hash_eq(&e->key, &a.key));
	assert_int_equal(e->seed, 5);
	assert_int_equal((int)(uintptr_t)htab_get(&l.picks.byid, "anchor/front", 12), 3);
	lock_release(&l);
	free(path);
}

static void
test_lock_path_for(void **state)
{
	char *p;

	(void)state;
	p = lock_path_for("recipes/jinx/recipe.yaml");
	assert_string_equal(p, "recipes/jinx/recipe.lock");
	free(p);
	p = lock_path_for("a.b/recipe");
	assert_string_equal(p, "a.b/recipe.lock");
	free(p);
}

static void
test_tree_parse(void **state)
{
	struct tree_entry *v;
	size_t n;
	char ok[128], bad[] = "xyz\tfile\n";

	(void)state;
	snprintf(ok, sizeof(ok), "%032d\tjinx.zip\n%032d\tsub/a.txt\n", 0, 1);
	assert_int_equal(tree_parse(ok, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].path, "sub/a.txt");
	tree_free(v, n);
	assert_int_equal(tree_parse(bad, &v, &n), -1);
	snprintf(ok, sizeof(ok), "%032d\t../escape\n", 0);
	assert_int_equal(tree_parse(ok, &v, &n), -1);
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

	(void)state;
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_put_is_content_addressed),
		cmocka_unit_test(test_actions_survive_a_torn_append),
		cmocka_unit_test(test_pending_compacts_finished),
		cmocka_unit_test(test_lock_round_trip_sorted),
		cmocka_unit_test(test_lock_path_for),
		cmocka_unit_test(test_tree_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
